#pragma once
// Normalised token usage, the unit of accounting. Invariants (wire formats §1.7):
// total = prompt + completion; cached and cache_write are subsets of prompt;
// reasoning is a subset of completion.

#include <cstdint>
#include <string>

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
Usage usage_from_openai(const nlohmann::json& usage);

const char* to_string(UsageSource s);

}  // namespace tollgate
