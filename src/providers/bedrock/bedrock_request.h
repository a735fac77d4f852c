#pragma once
// OpenAI request -> Bedrock native request (wire formats §4.1, §4.4, T27).
// Pure: no I/O, deterministic, tested with fixtures.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "tollgate/config.h"
#include "tollgate/error.h"
#include "tollgate/json_view.h"

namespace tollgate::bedrock {

struct ConverseOptions {
  // Parameters Converse has no field for (logit_bias, seed, ...): dropped
  // with a note, or a 400 naming them.
  ParamPolicy params = ParamPolicy::drop;
  // maxTokens when the client sets neither max_completion_tokens nor
  // max_tokens (the model's output limit from the price table); unset: omitted
  // and Bedrock applies the model's default.
  std::optional<int64_t> default_max_tokens;
};

// The Converse (and ConverseStream: same body) request for an OpenAI chat
// request body that passed the gateway's validation.
//  - system/developer messages, wherever they are, become `system` blocks in
//    order of appearance;
//  - user/assistant/tool messages become content blocks (text, image from a
//    base64 data URL, document, toolUse, toolResult); consecutive turns of
//    the same role are merged (tool results count as user turns), so roles
//    alternate; a conversation opening with an assistant turn gets a
//    placeholder user turn first (noted);
//  - max_completion_tokens ?? max_tokens -> inferenceConfig.maxTokens,
//    temperature (clamped to [0, 1]), top_p, stop;
//  - tools -> toolConfig; tool_choice auto/required/named -> auto/any/tool;
//    "none" drops toolConfig, unless the history has tool blocks, which
//    Bedrock refuses without one: then the tools stay and toolChoice is
//    omitted (T27, T27b);
//  - response_format json_schema -> a forced tool named by
//    structured_output_tool(), unwrapped again on the way back.
// Untranslatable input (n > 1, remote image URLs, audio, invalid tool-call
// arguments) is a 400 naming the parameter. `notes` collects adjustments.
// `body` is read through the view; only values forwarded as they are (tool
// schemas, tool-call arguments, sampling parameters) are copied.
Result<nlohmann::json> to_converse_request(JsonView body, const ConverseOptions& options,
                                           std::vector<std::string>& notes);

// The name of the synthetic tool that carries response_format json_schema
// output, or empty when the request does not ask for one.
std::string structured_output_tool(JsonView body);

// "/model/{id}/{action}" with the model id percent-encoded (':' -> %3A and,
// inside ARNs, '/' -> %2F).
std::string model_path(std::string_view model_id, std::string_view action);

}  // namespace tollgate::bedrock
