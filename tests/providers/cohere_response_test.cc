// Cohere Chat v2 / Embed v2 responses, usage and errors -> OpenAI shapes.
#include <cstring>

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include "providers/cohere/cohere_translate.h"

namespace tollgate::cohere {
namespace {

using nlohmann::json;

TEST(CohereResponse, TextReply) {
  json native = json::parse(R"({"id":"5f2a","finish_reason":"COMPLETE",
    "message":{"role":"assistant","content":[{"type":"text","text":"Hello"},{"type":"text","text":" there"}],"citations":[]},
    "usage":{"billed_units":{"input_tokens":5,"output_tokens":2},"tokens":{"input_tokens":71,"output_tokens":2}}})");
  Usage usage;
  auto out = chat_response(native, "command-a-03-2025", 1700000000, usage);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(*out, json::parse(R"({"id":"chatcmpl-5f2a","object":"chat.completion","created":1700000000,"model":"command-a-03-2025",
    "choices":[{"index":0,"message":{"role":"assistant","content":"Hello there","refusal":null},"logprobs":null,"finish_reason":"stop"}],
    "usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7}})")) << out->dump(1);
  EXPECT_EQ(usage.source, UsageSource::provider_final);
}

TEST(CohereResponse, ToolCallsWithPlan) {
  json native = json::parse(R"({"id":"t1","finish_reason":"TOOL_CALL",
    "message":{"role":"assistant","tool_plan":"I will look up the weather.","tool_calls":[
      {"id":"wx_abc","type":"function","function":{"name":"wx","arguments":"{\"city\":\"Paris\"}"}},
      {"id":"tm_def","type":"function","function":{"name":"tm","arguments":{}}}]},
    "usage":{"tokens":{"input_tokens":30,"output_tokens":12}}})");
  Usage usage;
  auto out = chat_response(native, "command-r", 1, usage);
  ASSERT_TRUE(out.ok());
  const auto& choice = (*out)["choices"][0];
  EXPECT_EQ(choice["finish_reason"], "tool_calls");
  EXPECT_EQ(choice["message"]["content"], "I will look up the weather.");
  EXPECT_EQ(choice["message"]["tool_calls"], json::parse(R"([
    {"id":"wx_abc","type":"function","function":{"name":"wx","arguments":"{\"city\":\"Paris\"}"}},
    {"id":"tm_def","type":"function","function":{"name":"tm","arguments":"{}"}}])"));
  EXPECT_EQ(usage.prompt_tokens, 30) << "tokens when billed_units are absent";
  EXPECT_EQ(usage.completion_tokens, 12);
}

TEST(CohereResponse, FinishReasons) {
  EXPECT_EQ(finish_reason("COMPLETE", false), "stop");
  EXPECT_EQ(finish_reason("STOP_SEQUENCE", false), "stop");
  EXPECT_EQ(finish_reason("MAX_TOKENS", false), "length");
  EXPECT_EQ(finish_reason("TOOL_CALL", true), "tool_calls");
  EXPECT_EQ(finish_reason("SOMETHING_NEW", false), "stop");
  EXPECT_EQ(finish_reason("SOMETHING_NEW", true), "tool_calls");
  EXPECT_TRUE(is_error_reason("ERROR"));
  EXPECT_TRUE(is_error_reason("TIMEOUT"));
  EXPECT_FALSE(is_error_reason("COMPLETE"));

  Usage usage;
  auto length = chat_response(json::parse(R"({"id":"x","finish_reason":"MAX_TOKENS","message":{"content":[{"type":"text","text":"cut"}]}})"), "m", 1, usage);
  ASSERT_TRUE(length.ok());
  EXPECT_EQ((*length)["choices"][0]["finish_reason"], "length");
  EXPECT_FALSE(length->contains("usage"));
  EXPECT_EQ(usage.source, UsageSource::none) << "the transport estimates instead";

  auto error = chat_response(json::parse(R"({"id":"x","finish_reason":"ERROR","message":{"content":[]}})"), "m", 1, usage);
  ASSERT_FALSE(error.ok());
  EXPECT_EQ(error.error().status, 502) << "an error is never disguised as a finish reason";
  EXPECT_FALSE(chat_response(json::parse(R"({"id":"x"})"), "m", 1, usage).ok());
}

TEST(CohereResponse, ThinkingBecomesReasoningContent) {
  Usage usage;
  auto out = chat_response(json::parse(R"({"id":"r","finish_reason":"COMPLETE","message":{"content":[
      {"type":"thinking","thinking":"Let me think."},{"type":"text","text":"42"}]}})"), "command-a-reasoning", 1, usage);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ((*out)["choices"][0]["message"]["content"], "42");
  EXPECT_EQ((*out)["choices"][0]["message"]["reasoning_content"], "Let me think.");
}

TEST(CohereResponse, UsageBilledUnitsWinAndCachedIsASubset) {
  auto u = usage_from_cohere(json::parse(R"({"billed_units":{"input_tokens":100,"output_tokens":20},"tokens":{"input_tokens":160,"output_tokens":20},"cached_tokens":64})"));
  EXPECT_EQ(u.prompt_tokens, 100);
  EXPECT_EQ(u.completion_tokens, 20);
  EXPECT_EQ(u.cached_tokens, 64);
  EXPECT_EQ(u.total_tokens(), 120);
  auto json_usage = u.to_openai_json();
  EXPECT_EQ(json_usage["prompt_tokens_details"]["cached_tokens"], 64);
  auto clamped = usage_from_cohere(json::parse(R"({"billed_units":{"input_tokens":10.0,"output_tokens":1},"cached_tokens":50})"));
  EXPECT_EQ(clamped.prompt_tokens, 10) << "floats are read";
  EXPECT_EQ(clamped.cached_tokens, 10);
  EXPECT_EQ(usage_from_cohere(json::object()).source, UsageSource::none);
  EXPECT_EQ(usage_from_cohere(json("x")).source, UsageSource::none);
}

std::vector<float> unpack(const std::string& b64) {
  std::string raw(b64.size(), '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(raw.data()), reinterpret_cast<const unsigned char*>(b64.data()),
                          static_cast<int>(b64.size()));
  std::vector<float> out(static_cast<std::size_t>(n) / 4);
  std::memcpy(out.data(), raw.data(), out.size() * 4);
  return out;
}

TEST(CohereResponse, Embeddings) {
  json native = json::parse(R"({"id":"e1","embeddings":{"float":[[0.5,-0.25],[1.0,0.0]]},"texts":["a","b"],
    "meta":{"api_version":{"version":"2"},"billed_units":{"input_tokens":4}},"response_type":"embeddings_by_type"})");
  Usage usage;
  auto out = embed_response(native, "embed-english-v3.0", false, usage);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(*out, json::parse(R"({"object":"list","model":"embed-english-v3.0","data":[
    {"object":"embedding","index":0,"embedding":[0.5,-0.25]},{"object":"embedding","index":1,"embedding":[1.0,0.0]}],
    "usage":{"prompt_tokens":4,"total_tokens":4}})"));
  EXPECT_EQ(usage.prompt_tokens, 4);

  auto packed = embed_response(native, "e", true, usage);
  ASSERT_TRUE(packed.ok());
  ASSERT_TRUE((*packed)["data"][0]["embedding"].is_string());
  auto floats = unpack((*packed)["data"][0]["embedding"].get<std::string>());
  ASSERT_GE(floats.size(), 2u);
  EXPECT_FLOAT_EQ(floats[0], 0.5f);
  EXPECT_FLOAT_EQ(floats[1], -0.25f);

  auto bare = embed_response(json::parse(R"({"embeddings":[[0.1]],"response_type":"embeddings_floats"})"), "e", false, usage);
  ASSERT_TRUE(bare.ok());
  EXPECT_EQ((*bare)["data"][0]["embedding"][0], 0.1);
  EXPECT_FALSE(embed_response(json::parse(R"({"embeddings":{"int8":[[1]]}})"), "e", false, usage).ok());
}

TEST(CohereResponse, ErrorClasses) {
  for (int status : {401, 403, 498}) {
    auto f = map_error(status, R"({"id":"x","message":"invalid api token co-secret-key"})", std::nullopt);
    EXPECT_EQ(f.error.status, 502) << status;
    EXPECT_EQ(f.error.body().find("co-secret"), std::string::npos);
    EXPECT_EQ(f.failure, FailureClass::server);
  }
  auto bad = map_error(400, R"({"id":"x","message":"invalid request: message must be at least 1 token long"})", std::nullopt);
  EXPECT_EQ(bad.error.status, 400);
  EXPECT_NE(bad.error.message.find("at least 1 token"), std::string::npos);
  EXPECT_EQ(bad.failure, FailureClass::client);
  EXPECT_EQ(map_error(422, R"({"message":"unprocessable"})", std::nullopt).error.status, 400);
  auto limited = map_error(429, R"({"message":"You are using a Trial key, which is limited to 10 API calls / minute."})", 12);
  EXPECT_EQ(limited.error.status, 429);
  EXPECT_EQ(limited.error.retry_after_seconds, 12);
  EXPECT_EQ(limited.failure, FailureClass::rate_limited);
  auto quota = map_error(402, R"({"message":"Please add a payment method"})", std::nullopt);
  EXPECT_EQ(quota.error.status, 429);
  EXPECT_EQ(quota.error.code, "insufficient_quota");
  EXPECT_EQ(quota.failure, FailureClass::server);
  auto busy = map_error(503, R"({"message":"overloaded"})", std::nullopt);
  EXPECT_EQ(busy.error.status, 503);
  EXPECT_TRUE(busy.error.retry_after_seconds.has_value());
  EXPECT_EQ(map_error(500, R"({"message":"internal"})", std::nullopt).error.status, 502);
  EXPECT_EQ(map_error(504, "", std::nullopt).error.status, 504);
  EXPECT_EQ(map_error(404, R"({"message":"model 'x' not found"})", std::nullopt).failure, FailureClass::server);
}

}  // namespace
}  // namespace tollgate::cohere
