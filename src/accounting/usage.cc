#include "tollgate/usage.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

#include <nlohmann/json.hpp>

namespace tollgate {
namespace {

using nlohmann::json;

// Upstreams are not trusted to send well-formed counts; a bad field must not
// fail a request that already succeeded, so anything unusable reads as absent.
std::optional<int64_t> count_field(const json& obj, const char* key) {
  if (!obj.is_object()) return std::nullopt;
  auto it = obj.find(key);
  if (it == obj.end()) return std::nullopt;
  if (it->is_number_unsigned()) {
    const auto v = it->get<uint64_t>();
    if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
    return static_cast<int64_t>(v);
  }
  if (it->is_number_integer()) {
    const auto v = it->get<int64_t>();
    return v >= 0 ? std::optional<int64_t>(v) : std::nullopt;
  }
  if (it->is_number_float()) {
    const double v = it->get<double>();
    // 2^62: far above any real count, and safely representable as int64.
    if (!std::isfinite(v) || v < 0 || v > 4.6e18) return std::nullopt;
    return static_cast<int64_t>(v);
  }
  return std::nullopt;
}

const json& child(const json& obj, const char* key) {
  static const json null_json;
  if (!obj.is_object()) return null_json;
  auto it = obj.find(key);
  return it == obj.end() ? null_json : *it;
}

}  // namespace

nlohmann::json Usage::to_openai_json() const {
  json j = {{"prompt_tokens", prompt_tokens},
            {"completion_tokens", completion_tokens},
            {"total_tokens", total_tokens()}};
  if (cached_tokens != 0 || cache_write_tokens != 0) {
    json details = json::object();
    details["cached_tokens"] = cached_tokens;
    if (cache_write_tokens != 0) details["cache_write_tokens"] = cache_write_tokens;
    j["prompt_tokens_details"] = std::move(details);
  }
  if (reasoning_tokens != 0) {
    j["completion_tokens_details"] = {{"reasoning_tokens", reasoning_tokens}};
  }
  return j;
}

Usage usage_from_openai(const nlohmann::json& usage) {
  Usage u;
  if (!usage.is_object()) return u;
  u.source = UsageSource::provider_final;

  u.completion_tokens = count_field(usage, "completion_tokens").value_or(0);
  if (auto p = count_field(usage, "prompt_tokens")) {
    u.prompt_tokens = *p;
  } else if (auto t = count_field(usage, "total_tokens"); t && *t >= u.completion_tokens) {
    u.prompt_tokens = *t - u.completion_tokens;
  }

  const json& prompt_details = child(usage, "prompt_tokens_details");
  auto cached = count_field(prompt_details, "cached_tokens");
  if (!cached) cached = count_field(usage, "prompt_cache_hit_tokens");  // DeepSeek
  u.cached_tokens = cached.value_or(0);
  u.cache_write_tokens = count_field(prompt_details, "cache_write_tokens").value_or(0);
  u.reasoning_tokens =
      count_field(child(usage, "completion_tokens_details"), "reasoning_tokens").value_or(0);

  // Details are subsets of their parent (§1.7); a detail larger than its parent
  // would otherwise be billed as tokens that were never sent.
  u.cached_tokens = std::min(u.cached_tokens, u.prompt_tokens);
  u.cache_write_tokens = std::min(u.cache_write_tokens, u.prompt_tokens - u.cached_tokens);
  u.reasoning_tokens = std::min(u.reasoning_tokens, u.completion_tokens);
  return u;
}

const char* to_string(UsageSource s) {
  switch (s) {
    case UsageSource::none: return "none";
    case UsageSource::provider_final: return "provider_final";
    case UsageSource::provider_partial: return "provider_partial";
    case UsageSource::estimated: return "estimated";
  }
  return "none";
}

}  // namespace tollgate
