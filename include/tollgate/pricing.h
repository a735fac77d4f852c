#pragma once
// Price table: bundled data/prices.json (compiled in), optionally replaced by
// Config::price_file, with per-model overrides from the YAML `price:` field.
// File format and cost formula: docs/pricing.md.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "tollgate/config.h"
#include "tollgate/error.h"
#include "tollgate/usage.h"

namespace tollgate {

// USD per million tokens. The struct holds effective prices: from_json and
// price_from_config fill cached_input_per_million and cache_write_per_million
// with the input price when the source omits them, and cost_usd uses the
// fields as they are.
struct ModelPrice {
  double input_per_million = 0;
  double output_per_million = 0;
  double cached_input_per_million = 0;       // defaults to input price when unknown
  double cache_write_per_million = 0;        // defaults to input price when unknown
  // Model limits, when the table knows them (for worst-case budget reservations).
  std::optional<int64_t> max_output_tokens;
  std::optional<int64_t> context_window;
};

// Immutable after construction; safe to share between threads.
class PriceTable {
 public:
  // Parses a JSON price table (format: docs/pricing.md). On error returns a
  // message naming the offending entry, every problem at once, one per line:
  //   prices.json: models["gpt-x"].input_per_million: expected a non-negative number
  // `source_name` is the prefix of those messages (the file name).
  static Result<std::shared_ptr<const PriceTable>> from_json(
      std::string_view text, std::string_view source_name = "prices.json");
  // Reads and parses a price file (Config::price_file). Errors name the path.
  static Result<std::shared_ptr<const PriceTable>> from_file(const std::string& path);
  // The bundled table, parsed once (thread-safe). Throws std::logic_error if
  // the compiled-in file is malformed, which is a build defect.
  static std::shared_ptr<const PriceTable> bundled();

  // Looks up an upstream model id. `provider_type` is the upstream family:
  // "openai", "mock", or an OpenAI-compatible profile name ("groq",
  // "together", "fireworks", "deepseek", ...). Tries, in order:
  //   "provider/model", "model", then both again with a trailing date
  //   ("-2024-08-06" or "-20240620") removed, then for Bedrock-style ids a
  //   cross-region prefix ("us.", "eu.", "apac.", "global.", ...) removed.
  // Names listed under an entry's "aliases" match like keys.
  std::optional<ModelPrice> find(const std::string& provider_type,
                                 const std::string& model) const;
  // Number of entries (aliases not counted).
  std::size_t size() const { return prices_.size(); }

 private:
  const ModelPrice* lookup(const std::string& key) const;

  std::map<std::string, ModelPrice> prices_;
  std::map<std::string, std::string> aliases_;  // alias -> key in prices_
};

// cached_input_per_million defaults to the input price; cache writes are
// billed at the input price (the YAML has no field for them).
ModelPrice price_from_config(const PriceConfig& p);

// Cost in USD. Cached reads are billed at their own price and never also at the
// input price; reasoning tokens are part of completion and billed once.
//   ((prompt - cached - cache_write) * input + cached * cached_input
//    + cache_write * cache_write_price + completion * output) / 1e6
// Counts that break the Usage invariants are clamped first (negative -> 0,
// cached <= prompt, cache_write <= prompt - cached), so no token is billed twice.
double cost_usd(const Usage& usage, const ModelPrice& price);

}  // namespace tollgate
