#pragma once
// The parameter policy (issue 3): a per-model capability table, kept as data
// (data/model_capabilities.json), says which request parameters a model does
// not accept; the provider's `params:` setting chooses to drop them (noted in
// x-tollgate-notes) or to answer 400 naming the first one. Pure: no I/O.

#include <map>
#include <optional>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "tollgate/config.h"
#include "tollgate/error.h"
#include "tollgate/request_body.h"

namespace tollgate {

// One rule of the table.
struct ModelCapabilities {
  std::vector<std::string> match;                  // globs over the upstream model id
  std::vector<std::string> unsupported;            // parameters the model does not take
  std::map<std::string, double> max;               // numeric parameters with an upper bound (n: 1)
  std::map<std::string, std::string> rename;       // taken under another name (always applied)
};

// Immutable after construction; safe to share between threads.
class ModelCapabilityTable {
 public:
  // The bundled table, parsed once. Throws std::runtime_error if the
  // compiled-in file is malformed (a build defect), at start-up only.
  static const ModelCapabilityTable& bundled();
  // Parses the table format above; throws std::runtime_error naming the
  // offending rule.
  static ModelCapabilityTable parse(std::string_view json_text);

  // The first rule whose globs match `model` or the part after its last '/'
  // (so "openrouter-style/gemini-2.0-flash" matches "gemini-*"), or null.
  // Answers from a small per-thread memo: deployments name few models, and
  // the scan tries every pattern of every rule.
  const ModelCapabilities* find(std::string_view model) const;
  std::size_t size() const { return rules_.size(); }

  // Every table, copies and moved-to ones included, gets its own serial.
  ModelCapabilityTable();
  ModelCapabilityTable(const ModelCapabilityTable& other);
  ModelCapabilityTable(ModelCapabilityTable&& other) noexcept;
  ModelCapabilityTable& operator=(const ModelCapabilityTable& other);
  ModelCapabilityTable& operator=(ModelCapabilityTable&& other) noexcept;

 private:
  const ModelCapabilities* scan(std::string_view model) const;

  std::vector<ModelCapabilities> rules_;
  std::uint64_t serial_;  // tells tables apart in the memo (an address may be reused)
};

// Case-insensitive glob: '*' matches any run (also empty), '?' one character.
bool glob_match(std::string_view pattern, std::string_view text);

// Applies the table's rule for `model` to a request body in place:
//  - renames (o-series max_tokens -> max_completion_tokens; a value already
//    under the new name wins) are always applied and noted;
//  - an unsupported parameter whose value is null or false means "not asked
//    for" and is removed silently;
//  - otherwise, for an unsupported parameter or one above its `max`:
//    ParamPolicy::drop removes it and appends "dropped <param> (not supported
//    by <model>)" to `notes` (once per text); ParamPolicy::reject leaves the
//    body unchanged and returns a 400 invalid_request_error with code
//    unsupported_parameter and `param` set to the first offending parameter
//    (in the table's order).
// Returns std::nullopt when the request may proceed.
std::optional<ApiError> apply_param_policy(RequestBody& body, const std::string& model, ParamPolicy policy,
                                           std::vector<std::string>& notes);
// The same against another table (tests).
std::optional<ApiError> apply_param_policy(RequestBody& body, const std::string& model, ParamPolicy policy,
                                           std::vector<std::string>& notes, const ModelCapabilityTable& table);

// True when apply_param_policy could change `body` or reject it, so callers
// change a copy of the request body only when needed.
bool param_policy_applies(JsonView body, const std::string& model,
                          const ModelCapabilityTable& table = ModelCapabilityTable::bundled());

}  // namespace tollgate
