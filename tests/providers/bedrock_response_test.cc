// Bedrock answers -> OpenAI responses, usage and errors (wire formats §4.1,
// §8, §1.9).
#include "providers/bedrock/bedrock_embeddings.h"
#include "providers/bedrock/bedrock_response.h"

#include <gtest/gtest.h>

namespace tollgate::bedrock {
namespace {

using nlohmann::json;

TEST(BedrockResponse, TextToolUseAndCacheUsage) {
  Usage usage;
  auto r = from_converse_response(json::parse(R"({
      "output":{"message":{"role":"assistant","content":[{"text":"Checking."},
        {"toolUse":{"toolUseId":"tooluse_1","name":"f","input":{"a":1}}}]}},
      "stopReason":"tool_use",
      "usage":{"inputTokens":50,"outputTokens":20,"totalTokens":70,"cacheReadInputTokens":1000,"cacheWriteInputTokens":100},
      "metrics":{"latencyMs":812}})"),
                                  "anthropic.claude-x", "", usage);
  ASSERT_TRUE(r.ok()) << r.error().message;
  const json& out = *r;
  EXPECT_EQ(out["object"], "chat.completion");
  EXPECT_EQ(out["model"], "anthropic.claude-x");
  EXPECT_TRUE(out["id"].get<std::string>().starts_with("chatcmpl-"));
  const json& choice = out["choices"][0];
  EXPECT_EQ(choice["finish_reason"], "tool_calls");
  EXPECT_EQ(choice["message"]["content"], "Checking.");
  EXPECT_EQ(choice["message"]["tool_calls"], json::parse(R"([{"id":"tooluse_1","type":"function","function":{"name":"f","arguments":"{\"a\":1}"}}])"));
  EXPECT_EQ(out["usage"], json::parse(R"({"prompt_tokens":1150,"completion_tokens":20,"total_tokens":1170,
                                          "prompt_tokens_details":{"cached_tokens":1000,"cache_write_tokens":100}})"));
  EXPECT_EQ(usage.prompt_tokens, 1150);
  EXPECT_EQ(usage.cached_tokens, 1000);
  EXPECT_EQ(usage.cache_write_tokens, 100);
  EXPECT_EQ(usage.source, UsageSource::provider_final);
}

TEST(BedrockResponse, ToolCallsOnlyGiveNullContentAndReasoningIsAnExtension) {
  Usage usage;
  auto r = from_converse_response(json::parse(R"({
      "output":{"message":{"role":"assistant","content":[
        {"reasoningContent":{"reasoningText":{"text":"think","signature":"sig"}}},
        {"toolUse":{"toolUseId":"t1","name":"f","input":{}}}]}},
      "stopReason":"tool_use","usage":{"inputTokens":5,"outputTokens":3}})"),
                                  "m", "", usage);
  ASSERT_TRUE(r.ok());
  const json& msg = (*r)["choices"][0]["message"];
  EXPECT_TRUE(msg["content"].is_null());
  EXPECT_EQ(msg["reasoning_content"], "think");
  EXPECT_EQ(msg["tool_calls"][0]["function"]["arguments"], "{}");
}

TEST(BedrockResponse, StructuredOutputToolIsUnwrappedIntoContent) {
  Usage usage;
  auto r = from_converse_response(json::parse(R"({
      "output":{"message":{"role":"assistant","content":[{"toolUse":{"toolUseId":"t1","name":"person","input":{"n":1}}}]}},
      "stopReason":"tool_use","usage":{"inputTokens":5,"outputTokens":3}})"),
                                  "m", "person", usage);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)["choices"][0]["message"]["content"], R"({"n":1})");
  EXPECT_FALSE((*r)["choices"][0]["message"].contains("tool_calls"));
  EXPECT_EQ((*r)["choices"][0]["finish_reason"], "stop");
}

TEST(BedrockResponse, MissingOutputIsAnUpstreamProtocolError) {
  Usage usage;
  auto r = from_converse_response(json::parse(R"({"stopReason":"end_turn"})"), "m", "", usage);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().status, 502);
  EXPECT_EQ(r.error().code, "upstream_protocol_error");
}

TEST(BedrockResponse, StopReasonMapping) {
  EXPECT_EQ(finish_reason_from("end_turn"), "stop");
  EXPECT_EQ(finish_reason_from("stop_sequence"), "stop");
  EXPECT_EQ(finish_reason_from("max_tokens"), "length");
  EXPECT_EQ(finish_reason_from("model_context_window_exceeded"), "length");
  EXPECT_EQ(finish_reason_from("tool_use"), "tool_calls");
  EXPECT_EQ(finish_reason_from("guardrail_intervened"), "content_filter");
  EXPECT_EQ(finish_reason_from("content_filtered"), "content_filter");
  EXPECT_EQ(finish_reason_from("something_new"), "stop");
}

TEST(BedrockResponse, UsageIgnoresBedrocksTotalAndKeepsDetailsSubsets) {
  auto u = usage_from_bedrock(json::parse(R"({"inputTokens":10,"outputTokens":4,"totalTokens":999,"cacheReadInputTokens":90})"));
  EXPECT_EQ(u.prompt_tokens, 100);
  EXPECT_EQ(u.completion_tokens, 4);
  EXPECT_EQ(u.total_tokens(), 104);
  EXPECT_EQ(u.cached_tokens, 90);
  EXPECT_EQ(usage_from_bedrock(json()).source, UsageSource::none);
}

TEST(BedrockErrors, ErrorTypeFromHeaderOrBody) {
  EXPECT_EQ(error_type_name("ValidationException:http://internal.amazon.com/coral/com.amazon.bedrock/", ""), "ValidationException");
  EXPECT_EQ(error_type_name("", R"({"__type":"com.amazon.coral.service#UnrecognizedClientException","message":"x"})"),
            "UnrecognizedClientException");
  EXPECT_EQ(error_type_name("throttlingException", ""), "ThrottlingException");
  EXPECT_EQ(error_type_name("", R"({"message":"x"})"), "");
  EXPECT_EQ(error_message(R"({"Message":"Bad"})"), "Bad");
}

struct Case {
  int status;
  const char* type;
  int client_status;
  FailureClass failure;
  const char* code;
};

TEST(BedrockErrors, EachErrorClassMapsToItsOpenAiStatus) {
  const Case cases[] = {
      {400, "ValidationException", 400, FailureClass::client, "upstream_bad_request"},
      {403, "AccessDeniedException", 502, FailureClass::server, "upstream_auth_error"},
      {403, "UnrecognizedClientException", 502, FailureClass::server, "upstream_auth_error"},
      {400, "IncompleteSignatureException", 502, FailureClass::server, "upstream_auth_error"},
      {404, "ResourceNotFoundException", 502, FailureClass::server, "upstream_not_found"},
      {429, "ThrottlingException", 429, FailureClass::rate_limited, "rate_limit_exceeded"},
      {429, "ModelNotReadyException", 429, FailureClass::rate_limited, "rate_limit_exceeded"},
      {400, "ServiceQuotaExceededException", 429, FailureClass::server, "insufficient_quota"},
      {503, "ServiceUnavailableException", 503, FailureClass::server, "service_unavailable"},
      {408, "ModelTimeoutException", 504, FailureClass::timeout, "upstream_timeout"},
      {424, "ModelErrorException", 502, FailureClass::server, "upstream_error"},
      {500, "InternalServerException", 502, FailureClass::server, "upstream_error"},
      {503, "", 503, FailureClass::server, "service_unavailable"},
      {401, "", 502, FailureClass::server, "upstream_auth_error"},
      {0, "modelStreamErrorException", 502, FailureClass::server, "upstream_stream_error"},
      {0, "throttlingException", 429, FailureClass::rate_limited, "rate_limit_exceeded"},
  };
  for (const auto& c : cases) {
    auto f = map_bedrock_error(c.status, error_type_name(c.type, ""), "detail", std::nullopt);
    EXPECT_EQ(f.error.status, c.client_status) << c.type << " " << c.status;
    EXPECT_EQ(f.failure, c.failure) << c.type << " " << c.status;
    EXPECT_EQ(f.error.code, c.code) << c.type << " " << c.status;
  }
}

TEST(BedrockErrors, CredentialFailuresNeverEchoUpstreamText) {
  auto f = map_bedrock_error(403, "UnrecognizedClientException",
                             "The security token included in the request is invalid. AKIAIOSFODNN7EXAMPLE", std::nullopt);
  EXPECT_EQ(f.error.status, 502);
  EXPECT_EQ(f.error.body().find("AKIA"), std::string::npos);
  EXPECT_EQ(f.error.body().find("security token"), std::string::npos);
}

TEST(BedrockErrors, RetryAfterIsKeptAndOverloadDefaultsToOneSecond) {
  EXPECT_EQ(map_bedrock_error(503, "ServiceUnavailableException", "", std::nullopt).error.retry_after_seconds, 1);
  EXPECT_EQ(map_bedrock_error(503, "ServiceUnavailableException", "", 9).error.retry_after_seconds, 9);
  EXPECT_EQ(map_bedrock_error(429, "ThrottlingException", "", 4).error.retry_after_seconds, 4);
}

TEST(BedrockErrors, ValidationMessagesPassThroughAndContextLengthIsRecognised) {
  auto f = map_bedrock_error(400, "ValidationException", "Input is too long for requested model.", std::nullopt);
  EXPECT_EQ(f.error.message, "Input is too long for requested model.");
  EXPECT_EQ(f.error.code, "context_length_exceeded");
  EXPECT_EQ(f.error.type, "invalid_request_error");
}

TEST(BedrockEmbeddingsResponse, TitanVectorAndTokenCount) {
  Usage usage;
  auto r = from_embedding_response(json::parse(R"({"embedding":[0.5,-0.25],"inputTextTokenCount":3})"), json{{"input", "hi"}},
                                   "amazon.titan-embed-text-v2:0", usage);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, json::parse(R"({"object":"list","model":"amazon.titan-embed-text-v2:0",
      "data":[{"object":"embedding","index":0,"embedding":[0.5,-0.25]}],"usage":{"prompt_tokens":3,"total_tokens":3}})"));
  EXPECT_EQ(usage.source, UsageSource::provider_final);
}

TEST(BedrockEmbeddingsResponse, CohereBatchInOrderWithBase64AndEstimatedUsage) {
  Usage usage;
  auto r = from_embedding_response(json::parse(R"({"id":"x","embeddings":[[1.0,0.0],[0.5,2.0]],"response_type":"embeddings_floats"})"),
                                   json{{"input", json::array({"first", "second"})}, {"encoding_format", "base64"}},
                                   "cohere.embed-english-v3", usage);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ((*r)["data"].size(), 2u);
  EXPECT_EQ((*r)["data"][1]["index"], 1);
  // 1.0f, 0.0f little-endian: 00 00 80 3f 00 00 00 00
  EXPECT_EQ((*r)["data"][0]["embedding"], "AACAPwAAAAA=");
  EXPECT_EQ(usage.source, UsageSource::estimated);
  EXPECT_GT(usage.prompt_tokens, 0);

  auto typed = from_embedding_response(json::parse(R"({"embeddings":{"float":[[1.5]]}})"), json{{"input", "a"}}, "cohere.embed-v4:0", usage);
  ASSERT_TRUE(typed.ok());
  EXPECT_EQ((*typed)["data"][0]["embedding"], json::parse("[1.5]"));
  EXPECT_FALSE(from_embedding_response(json::parse("{}"), json{{"input", "a"}}, "cohere.embed-v4:0", usage).ok());
}

}  // namespace
}  // namespace tollgate::bedrock
