#pragma once
// Price table: bundled data/prices.json (compiled in), optionally replaced by
// Config::price_file, with per-model overrides from the YAML `price:` field.

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "tollgate/config.h"
#include "tollgate/error.h"
#include "tollgate/usage.h"

namespace tollgate {

struct ModelPrice {
  double input_per_million = 0;
  double output_per_million = 0;
  double cached_input_per_million = 0;       // defaults to input price when unknown
  double cache_write_per_million = 0;        // defaults to input price when unknown
};

// Immutable after construction; safe to share between threads.
class PriceTable {
 public:
  // Parses a JSON price table (format: docs/pricing.md). On error returns a
  // message naming the offending entry.
  static Result<std::shared_ptr<const PriceTable>> from_json(std::string_view text);
  // The bundled table.
  static std::shared_ptr<const PriceTable> bundled();

  // Looks up an upstream model id; tries "provider/model" then "model".
  std::optional<ModelPrice> find(const std::string& provider_type,
                                 const std::string& model) const;
  std::size_t size() const { return prices_.size(); }

 private:
  std::map<std::string, ModelPrice> prices_;
};

ModelPrice price_from_config(const PriceConfig& p);

// Cost in USD. Cached reads are billed at their own price and never also at the
// input price; reasoning tokens are part of completion and billed once.
double cost_usd(const Usage& usage, const ModelPrice& price);

}  // namespace tollgate
