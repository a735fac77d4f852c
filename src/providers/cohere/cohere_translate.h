#pragma once
// Pure translation between the gateway's OpenAI-shaped requests and Cohere's
// Chat v2 (POST /v2/chat) and Embed v2 (POST /v2/embed) APIs. No I/O; the
// clock is a parameter. Tested with fixtures (tests/providers/cohere_*).

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "providers/provider_adapter.h"
#include "providers/sse_parser.h"
#include "tollgate/error.h"
#include "tollgate/json_view.h"
#include "tollgate/usage.h"

namespace tollgate::cohere {

// OpenAI chat request -> Chat v2 body for `model`:
//  - system and developer messages become system messages; user content parts
//    (text, image_url) keep their OpenAI shape; assistant tool_calls pass
//    through and text beside them becomes `tool_plan`; tool messages keep
//    tool_call_id;
//  - tools pass through (a function's `strict` becomes top-level
//    strict_tools); tool_choice "required"/"none" -> "REQUIRED"/"NONE", a
//    named function -> REQUIRED with only that tool offered;
//  - max_completion_tokens (wins) or max_tokens -> max_tokens; stop ->
//    stop_sequences; top_p -> p; top_k -> k; temperature, seed,
//    frequency_penalty, presence_penalty unchanged; response_format json_object
//    as is, json_schema -> {type: json_object, json_schema: schema};
//  - n > 1 is a 400 (Cohere returns one choice); logit_bias, logprobs,
//    top_logprobs, parallel_tool_calls are dropped and noted; user,
//    stream_options and unknown fields are not sent.
// `client` is read through the view; only values forwarded as they are
// (content parts, tool schemas, sampling parameters) are copied.
Result<nlohmann::json> chat_request(JsonView client, const std::string& model,
                                    std::vector<std::string>& notes);

// OpenAI embeddings request -> Embed v2 body: {model, texts, input_type,
// embedding_types: ["float"]}. input_type is "search_document" unless the
// client sent Cohere's own `input_type`; `dimensions` -> output_dimension.
// Token-array input is a 400 (Cohere takes text only).
Result<nlohmann::json> embed_request(JsonView client, const std::string& model);

// Cohere usage ({billed_units, tokens, cached_tokens}) -> normalised usage.
// billed_units are what Cohere charges, so they win; tokens (which include
// Cohere's own prompt template) are the fallback. cached_tokens, when present,
// is a subset of the prompt.
Usage usage_from_cohere(const nlohmann::json& usage);

// COMPLETE/STOP_SEQUENCE -> stop, MAX_TOKENS -> length, TOOL_CALL ->
// tool_calls; an unknown reason -> tool_calls if tools were called, else
// stop. ERROR and TIMEOUT are not finish reasons: callers report an error.
std::string finish_reason(std::string_view cohere_reason, bool had_tool_calls);
bool is_error_reason(std::string_view cohere_reason);

// Chat v2 response -> chat.completion. Text parts are joined into content
// (thinking parts into reasoning_content); tool_calls pass through; a
// tool_plan beside tool calls becomes content when there is no text.
Result<nlohmann::json> chat_response(const nlohmann::json& native, const std::string& model, int64_t created,
                                     Usage& usage);

// Embed v2 response -> OpenAI list; `base64` packs each vector as
// little-endian float32 (encoding_format: "base64").
Result<nlohmann::json> embed_response(const nlohmann::json& native, const std::string& model, bool base64,
                                      Usage& usage);

// Cohere errors ({"message": ...}, sometimes {"id","message"}) -> the client
// view: 401/403/498 -> 502 (the gateway's key), 402 -> 429
// insufficient_quota (fails over), 429 -> 429 with retry-after, 503 -> 503,
// 4xx -> 400 with Cohere's message, 5xx -> 502.
UpstreamFailure map_error(int status, std::string_view body, std::optional<int> retry_after_seconds);

// Chat v2 stream (SSE; each event's JSON has a `type`) -> OpenAI chunks:
// message-start -> role chunk; content-delta -> content (thinking ->
// reasoning_content); tool-plan-delta -> content; tool-call-start -> a tool
// call's first fragment (index counted over tool calls, arguments ""),
// tool-call-delta -> argument fragments; message-end -> the finish chunk and
// a usage-only chunk; a message-end with finish_reason ERROR, or an error
// event, ends the stream with an error.
class ChatStreamDecoder final : public StreamDecoder {
 public:
  ChatStreamDecoder(std::string model, int64_t created) : model_(std::move(model)), created_(created) {}

  std::optional<ApiError> feed(std::string_view bytes, std::vector<nlohmann::json>& out) override;
  std::optional<ApiError> finish(std::vector<nlohmann::json>& out) override;
  bool complete() const override { return done_; }

 private:
  std::optional<ApiError> take(std::vector<nlohmann::json>& out);
  std::optional<ApiError> on_event(const std::string& name, const nlohmann::json& event,
                                   std::vector<nlohmann::json>& out);
  nlohmann::json chunk(nlohmann::json delta, nlohmann::json finish = nullptr) const;

  std::string model_;
  int64_t created_;
  std::string id_;
  SseParser parser_;
  std::vector<SseEvent> events_;
  std::map<int64_t, int> tool_index_;  // Cohere tool-call index -> OpenAI tool_calls index
  bool done_ = false;
};

}  // namespace tollgate::cohere
