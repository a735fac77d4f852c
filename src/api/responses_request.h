#pragma once
// The OpenAI Responses API, request side: a Responses request (POST
// /v1/responses) becomes the gateway's canonical OpenAI chat completions
// request, which then goes through the middleware chain and the router like
// /v1/chat/completions, for every provider. Pure: no I/O, deterministic,
// tested with fixtures.
//
// Mapping:
//  - instructions                      -> the first `system` message
//  - input (a string)                  -> one user message
//  - input items:
//    message (role user/system/developer/assistant; content a string or parts)
//                                      -> a chat message of that role; input_text/output_text
//                                         parts -> text; input_image (image_url) -> image_url
//                                         part; input_file (file_data) -> file part;
//                                         refusal parts -> text. file_id references -> 400
//                                         (the gateway stores no files)
//    function_call                     -> a tool call on an assistant message: appended to
//                                         the assistant message just before it, so a text
//                                         answer and consecutive calls make one message
//    function_call_output              -> a `tool` message (text parts joined; images follow
//                                         in a user message)
//    reasoning                         -> dropped (chat upstreams cannot take it back; its
//                                         encrypted content never leaves the gateway)
//    item_reference                    -> the item the ResponseItemResolver finds, translated
//                                         as if sent inline; none found -> 400
//  - tools of type function (flat)     -> chat's nested function tools; any other tool type
//                                         (web_search, file_search, custom, ...) -> 400 naming
//                                         tools[i].type
//  - tool_choice auto/none/required/{type:function,name} -> the chat equivalent
//  - parallel_tool_calls               -> the same (only with tools)
//  - text.format json_schema/json_object -> response_format; text -> nothing
//  - reasoning.effort                  -> reasoning_effort (reasoning.summary is ignored)
//  - max_output_tokens                 -> max_completion_tokens
//  - temperature, top_p                -> the same
//  - user, safety_identifier           -> user
//  - stream                            -> stream + stream_options.include_usage (the sink
//                                         needs the usage chunk for the terminal event)
//  - previous_response_id              -> the resolver's stored conversation before the input;
//                                         without one, 400
// Accepted and not forwarded: store (kept for the storage seam), include,
// truncation, metadata (echoed in the Response only), prompt_cache_key,
// service_tier, text.verbosity, max_tool_calls, top_logprobs, background:false.
// Refused with a 400: background:true, prompt, conversation.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "tollgate/error.h"
#include "tollgate/json_view.h"

namespace tollgate {

// Finds stored Responses items (the seam for stored responses). Calls are
// synchronous and made while the request is translated.
class ResponseItemResolver {
 public:
  virtual ~ResponseItemResolver() = default;
  // An input or output item by its id ("msg_...", "fc_...", "rs_..."), as
  // the Responses API writes it; nullopt when the caller may not see it or
  // it does not exist.
  virtual std::optional<nlohmann::json> find_item(std::string_view id) const = 0;
  // The items of a stored response's conversation (its inputs and outputs,
  // in order), continued by previous_response_id; nullopt when not found.
  virtual std::optional<nlohmann::json> conversation_before(std::string_view response_id) const = 0;
};

struct TranslatedResponsesRequest {
  nlohmann::json body;             // an OpenAI chat completions request
  std::vector<std::string> notes;  // adjustments for x-tollgate-notes
  bool store = true;               // the client's `store` (the Responses API defaults to true)
  // The request parameters a Response object repeats (instructions, tools,
  // tool_choice, parallel_tool_calls, temperature, top_p, max_output_tokens,
  // metadata, text, reasoning, store, previous_response_id, truncation,
  // user), filled with the API's defaults where the client sent nothing.
  nlohmann::json echo;
};

// Errors are 400 invalid_request_error whose message starts with the field
// path ("input[2].content[0].type: ...") and whose param is that path.
// `resolver` may be null: item_reference and previous_response_id are then
// refused.
Result<TranslatedResponsesRequest> translate_responses_request(JsonView body,
                                                               const ResponseItemResolver* resolver = nullptr);

}  // namespace tollgate
