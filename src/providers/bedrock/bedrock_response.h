#pragma once
// Bedrock native answers -> what OpenAI clients see (wire formats §4.1, §8):
// Converse responses, usage, stop reasons and errors. Pure.

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "providers/provider_adapter.h"
#include "tollgate/error.h"
#include "tollgate/usage.h"

namespace tollgate::bedrock {

// end_turn/stop_sequence -> stop, max_tokens/model_context_window_exceeded ->
// length, tool_use -> tool_calls, guardrail_intervened/content_filtered ->
// content_filter; anything else -> stop.
std::string finish_reason_from(std::string_view stop_reason);

// Bedrock usage -> normalised usage (§8): prompt = inputTokens +
// cacheReadInputTokens + cacheWriteInputTokens (inputTokens excludes both),
// cached = cacheReadInputTokens, cache_write = cacheWriteInputTokens,
// completion = outputTokens; Bedrock's totalTokens is not trusted. Source is
// provider_final, or none when `usage` is not an object.
Usage usage_from_bedrock(const nlohmann::json& usage);

// A Converse response as an OpenAI chat.completion for `model`. Text blocks
// are concatenated into message.content (null when there are only tool
// calls), toolUse blocks become tool_calls with JSON-string arguments,
// reasoningContent text becomes the reasoning_content extension. A toolUse
// of `structured_tool` (response_format emulation) is unwrapped into
// content with finish_reason "stop".
Result<nlohmann::json> from_converse_response(const nlohmann::json& native, std::string_view model,
                                              std::string_view structured_tool, Usage& usage);

// "ValidationException" from an x-amzn-errortype header value
// ("ValidationException:http://..."), a body __type
// ("com.amazon.coral...#ValidationException") or a stream :exception-type
// ("validationException"); empty if none names one.
std::string error_type_name(std::string_view errortype_header, std::string_view body);

// A Bedrock error as the client sees it. `status` is the upstream HTTP
// status, or 0 for a mid-stream exception (the type decides). Credential
// failures become 502 without upstream text; throttling 429 and overload
// 503 keep retry_after (503 defaults to 1 s); model timeouts become 504.
UpstreamFailure map_bedrock_error(int status, std::string_view type, std::string_view message,
                                  std::optional<int> retry_after_seconds);

// The `message` (or `Message`) of an error body; empty if none.
std::string error_message(std::string_view body);

// "chatcmpl-" + 24 random alphanumerics.
std::string random_completion_id();

}  // namespace tollgate::bedrock
