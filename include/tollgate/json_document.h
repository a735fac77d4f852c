#pragma once
// The one JSON parser for bytes from outside: client request bodies,
// upstream responses and stream events, tool-call arguments. simdjson (the
// DOM API) parses and validates in one pass: UTF-8, grammar, nesting depth
// (the limit is enforced by the parser, before anything recursive can run),
// numbers (an integer beyond 64 bits or a float beyond double's range is an
// error, never a silent infinity). On top of that, duplicate keys in any
// object are refused: the gateway and an upstream must never read different
// values for the same request.
//
// A failure is located afterwards by a small validator over the same bytes
// (json_error_locator.cc), so the client learns the byte offset and the
// reason; only the error path pays for it.

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "tollgate/error.h"
#include "tollgate/json_view.h"

namespace tollgate {

struct JsonLimits {
  // Deepest nesting of arrays and objects accepted (the root container is 1).
  std::size_t max_depth = 64;
};

// Depth allowed in upstream bodies and in JSON carried inside strings
// (tool-call arguments): deeper than clients may send, still bounded.
inline constexpr std::size_t kUpstreamJsonDepth = 128;

struct JsonError {
  static constexpr std::size_t npos = static_cast<std::size_t>(-1);
  std::size_t offset = npos;  // byte offset of the problem; npos when unknown
  std::string reason;         // "nesting deeper than 64 levels", "number out of range", ...

  // "<reason> at byte <offset>" (or just the reason).
  std::string describe() const;
};

// A parsed document that owns its bytes. Immutable; share it freely.
class JsonDocument {
 public:
  // A top-level member of an object root, in document order, with its byte
  // span in text(): [begin, value_begin) is `"key":` (with any whitespace),
  // [value_begin, value_end) the value's text.
  struct Member {
    std::string_view key;  // decoded
    std::size_t begin = 0;
    std::size_t value_begin = 0;
    std::size_t value_end = 0;
  };

  // Parses `text`, which it keeps (moved in; padded in place when its
  // capacity allows, which avoids a copy: reserve size + 64 beforehand).
  static Result<std::shared_ptr<const JsonDocument>, JsonError> parse(std::string text, const JsonLimits& limits);

  ~JsonDocument();
  JsonDocument(const JsonDocument&) = delete;
  JsonDocument& operator=(const JsonDocument&) = delete;

  JsonView root() const noexcept;
  std::string_view text() const noexcept { return text_; }
  // Top-level members when the root is an object; empty otherwise.
  const std::vector<Member>& members() const noexcept { return members_; }

 private:
  struct Tape;
  JsonDocument();

  std::string text_;
  std::unique_ptr<Tape> tape_;
  std::vector<Member> members_;
};

// Parses outside bytes that a translator needs as a tree (upstream bodies,
// tool-call arguments): the same parser and checks, then built as
// nlohmann::json.
Result<nlohmann::json, JsonError> parse_json_tree(std::string_view text,
                                                  const JsonLimits& limits = JsonLimits{kUpstreamJsonDepth});

// The same, for code that tests the result with is_discarded(): a
// discarded value when `text` is not acceptable JSON.
nlohmann::json parse_json_or_discarded(std::string_view text,
                                       const JsonLimits& limits = JsonLimits{kUpstreamJsonDepth});

// Finds where and why `text` is not acceptable JSON under `limits` (the
// diagnostic pass). nullopt-like result (offset npos, empty reason) when it
// finds nothing wrong.
JsonError locate_json_error(std::string_view text, const JsonLimits& limits);

}  // namespace tollgate
