#pragma once
// Normalised token usage, the unit of accounting. Invariants (wire formats §1.7):
// total = prompt + completion; cached and cache_write are subsets of prompt;
// reasoning is a subset of completion.

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

namespace tollgate {

enum class UsageSource { none, provider_final, provider_partial, estimated };

struct Usage {
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  int64_t cached_tokens = 0;       // prompt tokens read from a cache
  int64_t cache_write_tokens = 0;  // prompt tokens written to a cache
  int64_t reasoning_tokens = 0;    // completion tokens spent on hidden reasoning
  UsageSource source = UsageSource::none;

  int64_t total_tokens() const { return prompt_tokens + completion_tokens; }
  // OpenAI usage object; details only when non-zero.
  nlohmann::json to_openai_json() const;
};

// Reads an OpenAI-shaped usage object, including the variants of the
// OpenAI-compatible family (DeepSeek prompt_cache_hit_tokens, Groq x_groq
// wrapper handled by the caller). Clamps details so they stay subsets.
// Never throws: missing, null, negative or non-numeric fields read as 0 (a
// float such as 12.0 is truncated). When prompt_tokens is missing but
// total_tokens is present, prompt = total - completion. Upstream total_tokens
// is otherwise ignored, so the result always satisfies total = prompt +
// completion. source is provider_final, or none when `usage` is not an object.
Usage usage_from_openai(const nlohmann::json& usage);

// "none", "provider_final", "provider_partial", "estimated".
const char* to_string(UsageSource s);

// Token estimates: accounting/token_estimate.h.

}  // namespace tollgate
