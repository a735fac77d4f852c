// Gemini responses and errors -> OpenAI (wire formats §3.3, §3.5, §8;
// conformance cases T22, T23, T25, T26).
#include "providers/gemini/gemini_response.h"

#include <gtest/gtest.h>

#include "providers/gemini/gemini_errors.h"
#include "providers/gemini/thought_signatures.h"

namespace tollgate::gemini {
namespace {

using nlohmann::json;

ResponseOptions options(ThoughtSignatureStore* store = nullptr) {
  ResponseOptions o;
  o.model = "gemini-2.5-flash";
  o.signature_model = "gemini-2.5-flash";
  o.signatures = store;
  o.created = 1700000000;
  int n = 0;
  o.tool_call_id = [n]() mutable { return "call_gen" + std::to_string(++n); };
  return o;
}

json translate(const json& native, Usage* usage_out = nullptr, ThoughtSignatureStore* store = nullptr) {
  Usage usage;
  auto r = translate_generate_response(native, options(store), usage);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  if (usage_out) *usage_out = usage;
  return r.ok() ? r.value() : json();
}

TEST(GeminiResponse, TextResponse) {
  auto out = translate(json::parse(R"({"candidates":[{"content":{"role":"model","parts":[{"text":"It is "},{"text":"18C."}]},
      "finishReason":"STOP","index":0}],"modelVersion":"gemini-2.5-flash-001","responseId":"resp-1",
      "usageMetadata":{"promptTokenCount":10,"candidatesTokenCount":4,"totalTokenCount":14}})"));
  EXPECT_EQ(out["id"], "resp-1");
  EXPECT_EQ(out["object"], "chat.completion");
  EXPECT_EQ(out["created"], 1700000000);
  EXPECT_EQ(out["model"], "gemini-2.5-flash-001");
  EXPECT_EQ(out["choices"], json::parse(R"([{"index":0,"finish_reason":"stop","logprobs":null,
      "message":{"role":"assistant","content":"It is 18C.","refusal":null}}])"));
  EXPECT_EQ(out["usage"], json::parse(R"({"prompt_tokens":10,"completion_tokens":4,"total_tokens":14})"));
}

TEST(GeminiResponse, T22_FunctionCallWithStopIsToolCallsAndItsSignatureIsKept) {
  ThoughtSignatureStore store;
  auto out = translate(json::parse(R"({"candidates":[{"content":{"role":"model","parts":[
      {"functionCall":{"name":"wx","args":{"city":"Paris"}},"thoughtSignature":"SIG"}]},"finishReason":"STOP"}]})"),
                       nullptr, &store);
  EXPECT_EQ(out["choices"][0]["finish_reason"], "tool_calls");
  EXPECT_TRUE(out["choices"][0]["message"]["content"].is_null());
  EXPECT_EQ(out["choices"][0]["message"]["tool_calls"], json::parse(R"([{"id":"call_gen1","type":"function",
      "function":{"name":"wx","arguments":"{\"city\":\"Paris\"}"}}])"));
  EXPECT_EQ(store.find("call_gen1", "gemini-2.5-flash"), "SIG");
  EXPECT_FALSE(out.contains("usage"));
}

TEST(GeminiResponse, ParallelCallsGetDistinctIdsAndUpstreamIdsAreKept) {
  auto out = translate(json::parse(R"({"candidates":[{"content":{"parts":[
      {"functionCall":{"name":"a"}},{"functionCall":{"name":"b","args":{},"id":"fc-9"}},{"functionCall":{"name":"c","args":{"x":1}}}]},
      "finishReason":"STOP"}]})"));
  auto calls = out["choices"][0]["message"]["tool_calls"];
  ASSERT_EQ(calls.size(), 3u);
  EXPECT_EQ(calls[0]["id"], "call_gen1");
  EXPECT_EQ(calls[0]["function"]["arguments"], "{}");
  EXPECT_EQ(calls[1]["id"], "fc-9");
  EXPECT_EQ(calls[2]["id"], "call_gen2");
}

TEST(GeminiResponse, RealIdsAreUniqueAndPrefixed) {
  auto a = make_tool_call_id(), b = make_tool_call_id();
  EXPECT_TRUE(a.starts_with("call_"));
  EXPECT_EQ(a.size(), 29u);
  EXPECT_NE(a, b);
}

TEST(GeminiResponse, ThoughtPartsBecomeReasoningContent) {
  auto out = translate(json::parse(R"({"candidates":[{"content":{"parts":[{"text":"Let me think","thought":true},{"text":"42"}]},
      "finishReason":"STOP"}]})"));
  EXPECT_EQ(out["choices"][0]["message"]["content"], "42");
  EXPECT_EQ(out["choices"][0]["message"]["reasoning_content"], "Let me think");
}

TEST(GeminiResponse, T23_UsageWithThoughtsAndCache) {
  Usage usage;
  auto out = translate(json::parse(R"({"candidates":[{"content":{"parts":[{"text":"x"}]},"finishReason":"STOP"}],
      "usageMetadata":{"promptTokenCount":300,"cachedContentTokenCount":200,"candidatesTokenCount":20,"thoughtsTokenCount":80,"totalTokenCount":400}})"),
                       &usage);
  EXPECT_EQ(out["usage"], json::parse(R"({"prompt_tokens":300,"completion_tokens":100,"total_tokens":400,
      "prompt_tokens_details":{"cached_tokens":200},"completion_tokens_details":{"reasoning_tokens":80}})"));
  EXPECT_EQ(usage.prompt_tokens, 300);
  EXPECT_EQ(usage.completion_tokens, 100);
  EXPECT_EQ(usage.cached_tokens, 200);
  EXPECT_EQ(usage.reasoning_tokens, 80);
  EXPECT_EQ(usage.source, UsageSource::provider_final);
}

TEST(GeminiResponse, ToolUsePromptTokensCountAsPrompt) {
  Usage u = usage_from_gemini(json::parse(R"({"promptTokenCount":10,"toolUsePromptTokenCount":5,"candidatesTokenCount":3})"));
  EXPECT_EQ(u.prompt_tokens, 15);
  EXPECT_EQ(u.total_tokens(), 18);
  EXPECT_EQ(usage_from_gemini(json()).source, UsageSource::none);
}

TEST(GeminiResponse, T25_SafetyFinishAndBlockedPrompt) {
  auto partial = translate(json::parse(R"({"candidates":[{"content":{"parts":[{"text":"partial"}]},"finishReason":"SAFETY"}]})"));
  EXPECT_EQ(partial["choices"][0]["message"]["content"], "partial");
  EXPECT_EQ(partial["choices"][0]["finish_reason"], "content_filter");
  auto blocked = translate(json::parse(R"({"promptFeedback":{"blockReason":"PROHIBITED_CONTENT"}})"));
  ASSERT_EQ(blocked["choices"].size(), 1u);
  EXPECT_EQ(blocked["choices"][0]["message"]["role"], "assistant");
  EXPECT_TRUE(blocked["choices"][0]["message"]["content"].is_null());
  EXPECT_EQ(blocked["choices"][0]["finish_reason"], "content_filter");
}

TEST(GeminiResponse, FinishReasonCrosswalk) {
  EXPECT_EQ(map_finish_reason("STOP", false), "stop");
  EXPECT_EQ(map_finish_reason("STOP", true), "tool_calls");
  EXPECT_EQ(map_finish_reason("MAX_TOKENS", false), "length");
  for (const char* r : {"SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "IMAGE_SAFETY", "LANGUAGE"}) {
    EXPECT_EQ(map_finish_reason(r, false), "content_filter") << r;
  }
  for (const char* r : {"OTHER", "FINISH_REASON_UNSPECIFIED", "MALFORMED_FUNCTION_CALL", "SOMETHING_NEW"}) {
    EXPECT_EQ(map_finish_reason(r, false), "stop") << r;
  }
}

TEST(GeminiResponse, MultipleCandidatesBecomeChoices) {
  auto out = translate(json::parse(R"({"candidates":[{"content":{"parts":[{"text":"a"}]},"finishReason":"STOP","index":0},
      {"content":{"parts":[{"text":"b"}]},"finishReason":"MAX_TOKENS","index":1}]})"));
  ASSERT_EQ(out["choices"].size(), 2u);
  EXPECT_EQ(out["choices"][1]["index"], 1);
  EXPECT_EQ(out["choices"][1]["message"]["content"], "b");
  EXPECT_EQ(out["choices"][1]["finish_reason"], "length");
}

TEST(GeminiResponse, NoCandidatesWithoutFeedbackIsAProtocolError) {
  Usage usage;
  auto r = translate_generate_response(json::parse(R"({"usageMetadata":{}})"), options(), usage);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().status, 502);
}

TEST(GeminiResponse, LegacyCompletionShape) {
  Usage usage;
  auto o = options();
  o.endpoint = Endpoint::completions;
  auto r = translate_generate_response(json::parse(R"({"candidates":[{"content":{"parts":[{"text":"done"}]},"finishReason":"STOP"}]})"),
                                       o, usage);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)["object"], "text_completion");
  EXPECT_EQ((*r)["choices"][0]["text"], "done");
}

TEST(GeminiEmbeddings, OrderKeptAndBase64Packed) {
  Usage usage;
  auto r = translate_embed_response(json::parse(R"({"embeddings":[{"values":[1.0,0.5]},{"values":[0.25,-1]}]})"),
                                    {"first", "second"}, "text-embedding-004", false, usage);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)["object"], "list");
  EXPECT_EQ((*r)["data"][1], json::parse(R"({"object":"embedding","index":1,"embedding":[0.25,-1]})"));
  EXPECT_EQ(usage.source, UsageSource::estimated);
  EXPECT_GT(usage.prompt_tokens, 0);

  auto b64 = translate_embed_response(json::parse(R"({"embedding":{"values":[1.0]}})"), {"x"}, "m", true, usage);
  ASSERT_TRUE(b64.ok());
  EXPECT_EQ((*b64)["data"][0]["embedding"], "AACAPw==");  // 1.0f little-endian: 00 00 80 3f
}

TEST(GeminiEmbeddings, VertexPredictionsCarryTokenCounts) {
  Usage usage;
  auto r = translate_embed_response(json::parse(R"({"predictions":[
      {"embeddings":{"values":[0.1],"statistics":{"token_count":3,"truncated":false}}},
      {"embeddings":{"values":[0.2],"statistics":{"token_count":4,"truncated":false}}}]})"),
                                    {"a", "b"}, "text-embedding-005", false, usage);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)["data"][1]["embedding"], json::array({0.2}));
  EXPECT_EQ(usage.prompt_tokens, 7);
  EXPECT_EQ(usage.source, UsageSource::provider_final);
  EXPECT_EQ((*r)["usage"], json::parse(R"({"prompt_tokens":7,"total_tokens":7})"));
}

TEST(GeminiEmbeddings, CountMismatchIsAProtocolError) {
  Usage usage;
  EXPECT_FALSE(translate_embed_response(json::parse(R"({"embeddings":[{"values":[1]}]})"), {"a", "b"}, "m", false, usage).ok());
}

// --- errors (§3.5) ---------------------------------------------------------

TEST(GeminiErrors, T26_ApiKeyInvalidOnA400IsAGateway502WithoutUpstreamText) {
  auto f = map_error(400, R"({"error":{"code":400,"message":"API key not valid. Key AIzaSyD-abcdefghijklmnopqrstuvwxyz01234 rejected","status":"INVALID_ARGUMENT",
      "details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID","domain":"googleapis.com"}]}})",
                     std::nullopt);
  EXPECT_EQ(f.error.status, 502);
  EXPECT_EQ(f.error.code, "upstream_auth_error");
  EXPECT_EQ(f.failure, FailureClass::server);
  EXPECT_EQ(f.error.body().find("AIza"), std::string::npos);
  EXPECT_EQ(f.error.body().find("not valid"), std::string::npos);
}

TEST(GeminiErrors, EachClass) {
  struct Case {
    int status;
    const char* grpc;
    int out;
    FailureClass cls;
  };
  for (const Case& c : {Case{400, "INVALID_ARGUMENT", 400, FailureClass::client}, Case{401, "UNAUTHENTICATED", 502, FailureClass::server},
                        Case{403, "PERMISSION_DENIED", 502, FailureClass::server}, Case{404, "NOT_FOUND", 502, FailureClass::server},
                        Case{429, "RESOURCE_EXHAUSTED", 429, FailureClass::rate_limited}, Case{500, "INTERNAL", 502, FailureClass::server},
                        Case{503, "UNAVAILABLE", 503, FailureClass::server}, Case{504, "DEADLINE_EXCEEDED", 504, FailureClass::timeout},
                        Case{400, "FAILED_PRECONDITION", 503, FailureClass::server}}) {
    const std::string body = std::string(R"({"error":{"code":)") + std::to_string(c.status) + R"(,"message":"m","status":")" + c.grpc + R"("}})";
    auto f = map_error(c.status, body, std::nullopt);
    EXPECT_EQ(f.error.status, c.out) << c.grpc;
    EXPECT_EQ(f.failure, c.cls) << c.grpc;
    EXPECT_FALSE(f.error.body().empty());
  }
}

TEST(GeminiErrors, InvalidArgumentKeepsTheUpstreamMessage) {
  auto f = map_error(400, R"({"error":{"code":400,"message":"The input token count (2000000) exceeds the maximum number of tokens allowed (1048576).","status":"INVALID_ARGUMENT"}})",
                     std::nullopt);
  EXPECT_EQ(f.error.status, 400);
  EXPECT_EQ(f.error.type, "invalid_request_error");
  EXPECT_EQ(f.error.code, "context_length_exceeded");
  EXPECT_NE(f.error.message.find("exceeds the maximum"), std::string::npos);
}

TEST(GeminiErrors, RetryAfterFromHeaderOrRetryInfo) {
  auto header = map_error(429, R"({"error":{"code":429,"status":"RESOURCE_EXHAUSTED","message":"quota"}})", 7);
  EXPECT_EQ(header.error.retry_after_seconds, 7);
  auto body = map_error(429, R"({"error":{"code":429,"status":"RESOURCE_EXHAUSTED","message":"quota",
      "details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"16.2s"}]}})", std::nullopt);
  EXPECT_EQ(body.error.retry_after_seconds, 17);
  auto unavailable = map_error(503, R"({"error":{"code":503,"status":"UNAVAILABLE","message":"The model is overloaded."}})", std::nullopt);
  EXPECT_EQ(unavailable.error.status, 503);
  EXPECT_EQ(unavailable.error.retry_after_seconds, 1);
}

TEST(GeminiErrors, ConfiguredKeyIsRedactedFromPassedOnMessages) {
  auto f = map_error(400, R"({"error":{"code":400,"message":"bad request for my-secret-key-123","status":"INVALID_ARGUMENT"}})",
                     std::nullopt, "my-secret-key-123");
  EXPECT_EQ(f.error.body().find("my-secret-key-123"), std::string::npos);
}

TEST(GeminiErrors, GarbageBodyStillMaps) {
  EXPECT_EQ(map_error(500, "<html>oops</html>", std::nullopt).error.status, 502);
  EXPECT_EQ(map_error(400, "", std::nullopt).error.status, 400);
  // streamGenerateContent without alt=sse wraps the error in an array.
  EXPECT_EQ(map_error(429, R"([{"error":{"code":429,"status":"RESOURCE_EXHAUSTED","message":"q"}}])", std::nullopt).error.status, 429);
}

}  // namespace
}  // namespace tollgate::gemini
