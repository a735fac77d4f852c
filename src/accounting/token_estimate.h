#pragma once
// Token estimates for when an upstream sends no usage (wire formats §6.2),
// for rate-limit admission, budget reservations, count_tokens and context
// window checks. There is no real BPE here, so these are approximations,
// good to about ±25% on English prose and code. Callers mark such usage
// UsageSource::estimated. Every estimate is iterative over a bounded
// document and saturates instead of overflowing; none throws.

#include <cstdint>
#include <string_view>

#include "tollgate/json_view.h"

namespace tollgate {

// max(ceil(bytes / 4), runs), where runs counts each run of letters/digits
// (including 2-byte UTF-8 letters such as é or я), each run of ASCII
// punctuation, and each 3- or 4-byte UTF-8 character (CJK, emoji) on its
// own. 0 for empty or all-whitespace text.
int64_t estimate_tokens(std::string_view text);

// Chat-format prompt estimate (OpenAI cookbook method): per message 3 +
// tokens(role) + tokens(content), +1 + tokens(name) when a name is present,
// plus 3 for the reply primer. Content may be a string or an array of parts:
// text/refusal parts are counted; image_url parts count 85 tokens at
// detail:"low" and 765 otherwise (a 1024x1024 image at high detail, since the
// size is unknown here); other parts (audio, files) count 0. Assistant
// tool_calls count 3 + tokens(name) + tokens(arguments) each. Non-array input
// counts only the primer.
int64_t estimate_chat_prompt_tokens(JsonView messages);

// Estimated prompt tokens of a chat request: estimate_chat_prompt_tokens over
// its messages plus, per tool, the tokens of its compact JSON definition and
// a fixed overhead of 8. What count_tokens answers and what an Anthropic
// stream's message_start reports before the upstream's usage is known.
int64_t estimate_request_input_tokens(JsonView chat_body);

// The prompt of any LLM request: chat messages, or a completions `prompt` /
// embeddings `input` (strings, token arrays, arrays of either).
int64_t estimate_prompt_tokens(JsonView body);

}  // namespace tollgate
