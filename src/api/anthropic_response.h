#pragma once
// The Anthropic-compatible inbound API, non-streaming response side: what a
// provider wrote in the OpenAI shape (a chat.completion or an OpenAI error
// body) becomes an Anthropic message or error (wire formats §2.6, §2.8,
// §2.12). Pure: no I/O.

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "tollgate/usage.h"

namespace tollgate {

// Anthropic's error type for an HTTP status: 400 and other 4xx
// invalid_request_error, 401 authentication_error, 403 permission_error,
// 404 not_found_error, 413 request_too_large, 429 rate_limit_error,
// 503 and 529 overloaded_error, 504 timeout_error, other 5xx api_error.
const char* anthropic_error_type(int status);

// {"type":"error","error":{"type","message"},"request_id"} for an error
// response. The message is taken from the OpenAI error body the gateway
// produced (never upstream credentials: ApiError messages do not carry them).
nlohmann::json anthropic_error(int status, std::string_view openai_error_body, const std::string& request_id);

// The `event: error` payload for an OpenAI mid-stream error event
// ({"error":{"message","type","code"}}); there is no status, so the type
// follows the OpenAI type and code (overloaded/service_unavailable ->
// overloaded_error, rate limits -> rate_limit_error, ...; else api_error).
nlohmann::json anthropic_stream_error(const nlohmann::json& openai_error_event);

// stop -> end_turn, length -> max_tokens, tool_calls/function_call ->
// tool_use, content_filter -> refusal; anything else (null, unknown) ->
// end_turn. With tool calls present, a plain stop is reported as tool_use:
// agents run tools only on that reason, and some upstreams say "stop".
std::string anthropic_stop_reason(const nlohmann::json& finish_reason, bool has_tool_use);

// Anthropic usage: input_tokens is the uncached part of the prompt;
// cache_read_input_tokens and cache_creation_input_tokens the cached parts;
// output_tokens the completion (reasoning included).
nlohmann::json anthropic_usage(const Usage& usage);

// "msg_" + the OpenAI id without its "chatcmpl-" prefix; `fallback` when the
// id is missing or empty.
std::string anthropic_message_id(const nlohmann::json& openai_id, const std::string& fallback);

struct AnthropicReply {
  int status = 200;
  std::string body;
};

// A response as a provider sent it to the sink -> what the Anthropic client
// sees. 200: the chat.completion becomes a message (content: thinking from
// reasoning_content, text, tool_use with the arguments parsed to an object;
// arguments that are not a JSON object become {}). `usage` is the request's
// normalised usage; when its source is none, the body's usage is read.
// A 200 body that is not a chat.completion becomes a 502 api_error.
// Other statuses: the same status with an Anthropic error body.
AnthropicReply anthropic_reply(int status, std::string_view body, const Usage& usage, const std::string& request_id);

}  // namespace tollgate
