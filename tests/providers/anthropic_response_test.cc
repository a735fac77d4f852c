// Anthropic -> OpenAI non-streaming responses and errors: wire formats §2.6,
// §2.8, §2.10, §8; conformance cases T12, T13, T19.
#include "providers/anthropic/anthropic_errors.h"
#include "providers/anthropic/anthropic_response.h"

#include <gtest/gtest.h>

namespace tollgate::anthropic {
namespace {

using nlohmann::json;

json translate(const json& native, Usage& usage, ResponseOptions options = {}) {
  if (options.created == 0) options.created = 1735689600;
  auto r = translate_message(native, options, usage);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  return r.ok() ? *r : json();
}

TEST(AnthropicResponse, T12_TextToolUseAndCacheUsage) {
  Usage usage;
  auto out = translate(json::parse(R"({"id":"msg_1","type":"message","role":"assistant","model":"claude-x","content":[{"type":"text","text":"Checking."},{"type":"tool_use","id":"toolu_1","name":"f","input":{"a":1}}],"stop_reason":"tool_use","usage":{"input_tokens":50,"output_tokens":20,"cache_creation_input_tokens":100,"cache_read_input_tokens":1000}})"),
                       usage);
  EXPECT_EQ(out["object"], "chat.completion");
  EXPECT_EQ(out["id"], "chatcmpl-msg_1");
  EXPECT_EQ(out["created"], 1735689600);
  EXPECT_EQ(out["model"], "claude-x");
  ASSERT_EQ(out["choices"].size(), 1u);
  const auto& choice = out["choices"][0];
  EXPECT_EQ(choice["index"], 0);
  EXPECT_EQ(choice["finish_reason"], "tool_calls");
  EXPECT_EQ(choice["message"]["role"], "assistant");
  EXPECT_EQ(choice["message"]["content"], "Checking.");
  EXPECT_EQ(choice["message"]["tool_calls"],
            json::parse(R"([{"id":"toolu_1","type":"function","function":{"name":"f","arguments":"{\"a\":1}"}}])"));
  EXPECT_EQ(out["usage"], json::parse(R"({"prompt_tokens":1150,"completion_tokens":20,"total_tokens":1170,"prompt_tokens_details":{"cached_tokens":1000,"cache_write_tokens":100}})"));
  EXPECT_EQ(usage.prompt_tokens, 1150);
  EXPECT_EQ(usage.cached_tokens, 1000);
  EXPECT_EQ(usage.cache_write_tokens, 100);
  EXPECT_EQ(usage.completion_tokens, 20);
  EXPECT_EQ(usage.total_tokens(), 1170);
  EXPECT_EQ(usage.source, UsageSource::provider_final);
}

TEST(AnthropicResponse, ToolOnlyAnswerHasNullContent) {
  Usage usage;
  auto out = translate(json::parse(R"({"id":"m","model":"c","content":[{"type":"tool_use","id":"t","name":"f","input":{}}],"stop_reason":"tool_use","usage":{"input_tokens":1,"output_tokens":1}})"), usage);
  EXPECT_TRUE(out["choices"][0]["message"]["content"].is_null());
  EXPECT_EQ(out["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"], "{}");
}

TEST(AnthropicResponse, T13_StopReasonMapping) {
  const std::map<std::string, std::string> expected = {
      {"end_turn", "stop"},       {"stop_sequence", "stop"},  {"max_tokens", "length"},
      {"tool_use", "tool_calls"}, {"refusal", "content_filter"}, {"pause_turn", "stop"},
      {"model_context_window_exceeded", "length"}, {"something_new", "stop"}, {"", "stop"}};
  for (const auto& [in, out] : expected) EXPECT_EQ(finish_reason_for(in), out) << in;
  Usage usage;
  auto res = translate(json::parse(R"({"id":"m","model":"c","content":[{"type":"text","text":"partial"}],"stop_reason":"max_tokens","usage":{"input_tokens":1,"output_tokens":9}})"), usage);
  EXPECT_EQ(res["choices"][0]["finish_reason"], "length");
}

TEST(AnthropicResponse, ThinkingBecomesReasoningContentWithReplayableBlocks) {
  Usage usage;
  auto out = translate(json::parse(R"({"id":"m","model":"c","content":[{"type":"thinking","thinking":"Let me think.","signature":"SIG1"},{"type":"redacted_thinking","data":"ENC"},{"type":"text","text":"42"}],"stop_reason":"end_turn","usage":{"input_tokens":10,"output_tokens":30,"output_tokens_details":{"thinking_tokens":25}}})"), usage);
  const auto& m = out["choices"][0]["message"];
  EXPECT_EQ(m["content"], "42");
  EXPECT_EQ(m["reasoning_content"], "Let me think.");
  EXPECT_EQ(m["thinking_blocks"], json::parse(R"([{"type":"thinking","thinking":"Let me think.","signature":"SIG1"},{"type":"redacted_thinking","data":"ENC"}])"));
  // Thinking is part of output_tokens: a subset, never added on top.
  EXPECT_EQ(usage.completion_tokens, 30);
  EXPECT_EQ(usage.reasoning_tokens, 25);
  EXPECT_EQ(out["usage"]["completion_tokens_details"]["reasoning_tokens"], 25);
  EXPECT_EQ(out["usage"]["total_tokens"], 40);
}

TEST(AnthropicResponse, EmulatedJsonToolIsUnwrappedIntoContent) {
  Usage usage;
  ResponseOptions options;
  options.json_tool = true;
  auto out = translate(json::parse(R"({"id":"m","model":"c","content":[{"type":"tool_use","id":"t","name":"json_response","input":{"n":3}}],"stop_reason":"tool_use","usage":{"input_tokens":1,"output_tokens":1}})"),
                       usage, options);
  EXPECT_EQ(out["choices"][0]["message"]["content"], "{\"n\":3}");
  EXPECT_FALSE(out["choices"][0]["message"].contains("tool_calls"));
  EXPECT_EQ(out["choices"][0]["finish_reason"], "stop");
  // Without the option a tool of that name is an ordinary tool call.
  auto plain = translate(json::parse(R"({"id":"m","model":"c","content":[{"type":"tool_use","id":"t","name":"json_response","input":{"n":3}}],"stop_reason":"tool_use"})"), usage);
  EXPECT_EQ(plain["choices"][0]["finish_reason"], "tool_calls");
}

TEST(AnthropicResponse, CompletionShapeForEmulatedCompletions) {
  Usage usage;
  ResponseOptions options;
  options.completion = true;
  auto out = translate(json::parse(R"({"id":"msg_9","model":"c","content":[{"type":"text","text":"hi"}],"stop_reason":"end_turn","usage":{"input_tokens":3,"output_tokens":1}})"), usage, options);
  EXPECT_EQ(out["object"], "text_completion");
  EXPECT_EQ(out["id"], "cmpl-msg_9");
  EXPECT_EQ(out["choices"][0]["text"], "hi");
  EXPECT_EQ(out["choices"][0]["finish_reason"], "stop");
  EXPECT_EQ(out["usage"]["total_tokens"], 4);
}

TEST(AnthropicResponse, MissingUsageLeavesItToTheEstimator) {
  Usage usage;
  auto out = translate(json::parse(R"({"id":"m","model":"c","content":[],"stop_reason":"end_turn"})"), usage);
  EXPECT_EQ(usage.source, UsageSource::none);
  EXPECT_FALSE(out.contains("usage"));
  EXPECT_EQ(out["choices"][0]["message"]["content"], "");
}

TEST(AnthropicResponse, MalformedBodyIsABadGateway) {
  Usage usage;
  auto r = translate_message(json::parse(R"({"type":"message"})"), {}, usage);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().status, 502);
}

TEST(AnthropicUsageTest, LaterValuesReplaceEarlierOnes) {
  AnthropicUsage u;
  u.update(json::parse(R"({"input_tokens":10,"output_tokens":1,"cache_read_input_tokens":5})"));
  u.update(json::parse(R"({"output_tokens":40})"));
  u.update(json::parse(R"({"output_tokens":55})"));
  auto n = u.normalized();
  EXPECT_EQ(n.prompt_tokens, 15);
  EXPECT_EQ(n.cached_tokens, 5);
  EXPECT_EQ(n.completion_tokens, 55);
  EXPECT_EQ(n.total_tokens(), 70);
}

// ---- errors (§2.8, T19) ----

std::string body(const char* type, const char* message) {
  return json{{"type", "error"}, {"error", {{"type", type}, {"message", message}}}, {"request_id", "req_011"}}.dump();
}

TEST(AnthropicErrors, T19_OverloadedBecomes503WithRetryAfter) {
  auto f = map_http_error(529, body("overloaded_error", "Overloaded"), std::nullopt);
  EXPECT_EQ(f.error.status, 503);
  EXPECT_EQ(f.error.type, "service_unavailable");
  EXPECT_EQ(f.error.code, "overloaded");
  ASSERT_TRUE(f.error.retry_after_seconds.has_value());
  EXPECT_EQ(*f.error.retry_after_seconds, 1);
  EXPECT_EQ(f.failure, FailureClass::server);
  EXPECT_EQ(*map_http_error(529, body("overloaded_error", "Overloaded"), 9).error.retry_after_seconds, 9);
}

TEST(AnthropicErrors, T19_RateLimitKeepsRetryAfter) {
  auto f = map_http_error(429, body("rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit"), 7);
  EXPECT_EQ(f.error.status, 429);
  EXPECT_EQ(f.error.type, "rate_limit_error");
  EXPECT_EQ(f.error.code, "rate_limit_exceeded");
  EXPECT_EQ(f.error.retry_after_seconds, 7);
  EXPECT_EQ(f.failure, FailureClass::rate_limited);
}

TEST(AnthropicErrors, T19_CredentialErrorsOnTheGatewayKeyAre502WithoutUpstreamText) {
  for (int status : {401, 403}) {
    auto f = map_http_error(status, body(status == 401 ? "authentication_error" : "permission_error",
                                         "invalid x-api-key sk-ant-api03-abcdef"),
                            std::nullopt);
    EXPECT_EQ(f.error.status, 502) << status;
    EXPECT_EQ(f.error.type, "server_error");
    EXPECT_EQ(f.error.message.find("sk-ant"), std::string::npos);
    EXPECT_EQ(f.error.body().find("sk-ant"), std::string::npos);
    EXPECT_EQ(f.failure, FailureClass::server);
  }
}

TEST(AnthropicErrors, EachStatusClass) {
  struct Case {
    int status;
    const char* type;
    int want_status;
    const char* want_type;
    FailureClass want_class;
  };
  const Case cases[] = {
      {400, "invalid_request_error", 400, "invalid_request_error", FailureClass::client},
      {402, "billing_error", 503, "insufficient_quota", FailureClass::server},
      {404, "not_found_error", 502, "server_error", FailureClass::server},
      {413, "request_too_large", 413, "invalid_request_error", FailureClass::client},
      {500, "api_error", 502, "server_error", FailureClass::server},
      {504, "timeout_error", 504, "timeout_error", FailureClass::timeout},
      {503, "overloaded_error", 503, "service_unavailable", FailureClass::server},
  };
  for (const auto& c : cases) {
    auto f = map_http_error(c.status, body(c.type, "detail"), std::nullopt);
    EXPECT_EQ(f.error.status, c.want_status) << c.status;
    EXPECT_EQ(f.error.type, c.want_type) << c.status;
    EXPECT_EQ(f.failure, c.want_class) << c.status;
  }
  auto bad = map_http_error(400, body("invalid_request_error", "max_tokens: Field required"), std::nullopt);
  EXPECT_EQ(bad.error.message, "max_tokens: Field required");
  auto long_prompt = map_http_error(400, body("invalid_request_error", "prompt is too long: 250000 tokens > 200000 maximum"), std::nullopt);
  EXPECT_EQ(long_prompt.error.code, "context_length_exceeded");
  // A CDN's HTML 413 is not echoed.
  auto html = map_http_error(413, "<html>Request Entity Too Large</html>", std::nullopt);
  EXPECT_EQ(html.error.status, 413);
  EXPECT_EQ(html.error.message.find("<html>"), std::string::npos);
  EXPECT_EQ(map_http_error(502, "garbage", std::nullopt).error.status, 502);
}

TEST(AnthropicErrors, StreamErrorEventsMapByType) {
  auto e = map_stream_error(R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})");
  EXPECT_EQ(json::parse(e.stream_event()),
            json::parse(R"({"error":{"message":"Overloaded","type":"service_unavailable","param":null,"code":"overloaded"}})"));
  EXPECT_EQ(map_stream_error(R"({"type":"error","error":{"type":"api_error","message":"Internal"}})").status, 502);
  EXPECT_EQ(map_stream_error(R"({"type":"error","error":{"type":"rate_limit_error","message":"slow"}})").status, 429);
  EXPECT_EQ(map_stream_error("not json").status, 502);
}

}  // namespace
}  // namespace tollgate::anthropic
