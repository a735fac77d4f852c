#pragma once
// The OpenAI Responses API, non-streaming response side, and the pieces the
// stream translator shares: a canonical chat.completion becomes a Response
// object (`object: "response"`), errors stay as the gateway wrote them
// (already OpenAI-shaped). Pure except new_response_id (random).

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "tollgate/usage.h"

namespace tollgate {

// The one place Response ids are made: "resp_" + 48 hex digits. Output item
// ids derive from it (response_item_id), so a stored response's items are
// unique and stable.
std::string new_response_id();

// "msg_" / "fc_" / "rs_" + the response id's digits + "_" + the output index.
std::string response_item_id(std::string_view prefix, std::string_view response_id, std::size_t output_index);

// What every Response object of one request repeats.
struct ResponseEnvelope {
  std::string id;          // new_response_id()
  int64_t created_at = 0;  // Unix seconds
  nlohmann::json echo;     // TranslatedResponsesRequest::echo
};

// {input_tokens, input_tokens_details.cached_tokens, output_tokens,
//  output_tokens_details.reasoning_tokens, total_tokens}
nlohmann::json responses_usage(const Usage& usage);

// A Response object: the envelope, `status` ("in_progress", "completed",
// "incomplete", "failed"), `model`, `output`, `usage` (null when usage is
// null), incomplete_details and error (null or an object), and the echoed
// request parameters.
nlohmann::json response_object(const ResponseEnvelope& env, std::string_view status, const std::string& model,
                               nlohmann::json output, const Usage* usage, nlohmann::json incomplete_details = nullptr,
                               nlohmann::json error = nullptr);

// The Response error ({code, message}) for an OpenAI error body or
// mid-stream error event ({"error":{message,type,code}}), with a code Codex
// and the SDKs act on: context_length_exceeded, rate_limit_exceeded,
// insufficient_quota (budgets too), invalid_prompt (other client errors),
// else server_error.
nlohmann::json responses_error(const nlohmann::json& openai_error);

// finish_reason -> incomplete_details, or null when the response completed:
// length -> {"reason":"max_output_tokens"}, content_filter ->
// {"reason":"content_filter"}.
nlohmann::json incomplete_details_for(const nlohmann::json& finish_reason);

struct ResponsesReply {
  int status = 200;
  std::string body;
};

// A response as a provider sent it to the sink -> what the Responses client
// sees. 200: the chat.completion becomes a Response (a reasoning item from
// reasoning_content, a message item with one output_text part, function_call
// items); `usage` is the request's normalised usage (when its source is none
// the body's usage is read). A 200 body that is not a chat.completion becomes
// a 502 OpenAI error. Other statuses pass through unchanged.
ResponsesReply responses_reply(int status, std::string_view body, const Usage& usage, const ResponseEnvelope& env);

}  // namespace tollgate
