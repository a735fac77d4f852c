#pragma once
// OpenAI chat request -> Anthropic Messages request body (wire formats §2.2,
// §2.5, §2.9). Pure and deterministic; `notes` collects every adjustment for
// the x-tollgate-notes header ("dropped seed", "temperature clamped to 1").
//
// Parameter policy (ProviderConfig::params): with `drop`, parameters
// Anthropic has no equivalent for (logprobs, top_logprobs, logit_bias, seed,
// presence_penalty, frequency_penalty, service_tier, and any field this
// adapter does not know) are dropped and noted; temperature above 1 is
// clamped to 1; top_p sent together with temperature is dropped (several
// Claude models reject the pair); sampling parameters that extended thinking
// forbids are dropped. With `reject`, each of these is a 400 naming the
// parameter instead. Untranslatable requests are always a 400: n > 1,
// invalid tool-call arguments, unsupported images or content, tool_choice
// that forces a tool together with reasoning_effort.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "tollgate/config.h"
#include "tollgate/error.h"
#include "tollgate/json_view.h"
#include "tollgate/request_body.h"

namespace tollgate::anthropic {

// reasoning_effort -> thinking.budget_tokens. "none" disables thinking;
// "xhigh" and "max" use `xhigh`.
struct ThinkingBudgets {
  int64_t minimal = 1024;
  int64_t low = 1024;
  int64_t medium = 4096;
  int64_t high = 16384;
  int64_t xhigh = 32768;
};

struct RequestOptions {
  std::string model;                         // upstream model id
  std::optional<int64_t> max_output_tokens;  // the model's limit, when the price table knows it
  ParamPolicy policy = ParamPolicy::drop;
  ThinkingBudgets budgets;
};

// max_tokens when the client sets none and the model is unknown.
inline constexpr int64_t kDefaultMaxTokens = 4096;
// The forced tool that emulates response_format json_schema on models
// without native structured outputs; its input is un-wrapped into content.
inline constexpr std::string_view kJsonToolName = "json_response";

// `chat_body` is read, never copied: only the values forwarded as they are
// (tool schemas, sampling parameters, content parts) go into the result.
Result<nlohmann::json> build_messages_body(JsonView chat_body, const RequestOptions& options,
                                           std::vector<std::string>& notes);

// /v1/completions emulated on the Messages API: the prompt (one string)
// becomes a single user message. echo, suffix, best_of, logprobs and token
// or multi-prompt arrays cannot be emulated and are a 400. The result shares
// the client's document: prompt and the completion-only members are removed
// and `messages` added as changes of its top-level members.
Result<RequestBody> completion_to_chat(const RequestBody& completion_body);

// Models that accept output_config.format (native structured outputs) and
// tools[].strict: Claude 4.5 and later, and Opus 4.1.
bool supports_structured_outputs(std::string_view model);

// True when an answer to `chat_body` may contain the synthetic json tool,
// which must then be un-wrapped into message content.
bool expects_json_tool(JsonView chat_body);

}  // namespace tollgate::anthropic
