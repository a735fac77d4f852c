// End to end: OpenAI client -> gateway -> fake Gemini API speaking the native
// protocol (CRLF-framed SSE, x-goog-api-key, Google error bodies).
#include "server/gateway_fixture.h"

namespace tollgate::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

constexpr const char* kKey = "AIzaSy-test-gateway-key-0123456789abcdef";

class GeminiGatewayTest : public GatewayTest {
 protected:
  void start_gemini(int retries = 0) {
    std::string yaml = R"(
server: {listen: "127.0.0.1:0", threads: 1, timeouts: {drain_ms: 5000}}
logging: {level: warn}
providers:
  - {name: gem, type: gemini, base_url: "{BASE}", api_key: "{KEY}"}
models:
  - name: chat
    deployments: [{provider: gem, model: gemini-2.5-flash}]
  - name: emb
    deployments: [{provider: gem, model: text-embedding-004}]
router: {circuit_breaker: {failures: 0}, retries: {RETRIES}, timeouts: {connect_ms: 2000, first_byte_ms: 5000, total_ms: 20000}}
)";
    replace(yaml, "{BASE}", upstream.base_url());
    replace(yaml, "{KEY}", kKey);
    replace(yaml, "{RETRIES}", std::to_string(retries));
    start(yaml);
  }

  static void replace(std::string& s, const std::string& from, const std::string& to) {
    for (std::size_t p; (p = s.find(from)) != std::string::npos;) s.replace(p, from.size(), to);
  }

  // A CRLF-framed Gemini SSE response.
  static FakeResponse gemini_sse(const std::vector<json>& events) {
    auto r = FakeResponse::chunked();
    for (const auto& e : events) r.send("data: " + e.dump() + "\r\n\r\n");
    return r;
  }

  static FakeResponse google_error(int status, const std::string& grpc, const std::string& message, json details = json()) {
    json e = {{"code", status}, {"message", message}, {"status", grpc}};
    if (!details.is_null()) e["details"] = details;
    return FakeResponse::json(status, {{"error", e}});
  }

  static json events_of(const ClientResponse& res) {
    json out = json::array();
    for (const auto& d : res.sse_data()) out.push_back(d == "[DONE]" ? json("[DONE]") : json::parse(d));
    return out;
  }
};

TEST_F(GeminiGatewayTest, NonStreamingChat) {
  start_gemini();
  upstream.enqueue(FakeResponse::json(200, json::parse(R"({"candidates":[{"content":{"role":"model","parts":[{"text":"Bonjour!"}]},
      "finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":1000,"candidatesTokenCount":300,"thoughtsTokenCount":200,
      "totalTokenCount":1500},"modelVersion":"gemini-2.5-flash","responseId":"r-1"})")));
  TestClient client(port);
  json body = {{"model", "chat"},
               {"messages", json::array({{{"role", "system"}, {"content", "Be brief."}}, {{"role", "user"}, {"content", "Hello"}}})},
               {"temperature", 0.2}, {"max_tokens", 100}};
  auto res = client.post_json("/v1/chat/completions", body, {{"authorization", "Bearer client-key-must-not-leak"}});
  ASSERT_EQ(res.status, 200) << res.body;
  auto out = res.json();
  EXPECT_EQ(out["object"], "chat.completion");
  EXPECT_EQ(out["choices"][0]["message"]["content"], "Bonjour!");
  EXPECT_EQ(out["choices"][0]["finish_reason"], "stop");
  EXPECT_EQ(out["usage"], json::parse(R"({"prompt_tokens":1000,"completion_tokens":500,"total_tokens":1500,
      "completion_tokens_details":{"reasoning_tokens":200}})"));
  // gemini-2.5-flash: $0.30/M in, $2.50/M out (reasoning billed once, as output).
  EXPECT_NEAR(std::stod(res.header("x-tollgate-cost-usd")), 0.0003 + 0.00125, 1e-9);

  ASSERT_EQ(upstream.request_count(), 1u);
  auto up = upstream.requests()[0];
  EXPECT_EQ(up.target, "/v1beta/models/gemini-2.5-flash:generateContent");
  EXPECT_EQ(up.header("x-goog-api-key"), kKey);
  EXPECT_FALSE(up.has_header("authorization"));
  EXPECT_EQ(up.target.find(kKey), std::string::npos) << "keys stay out of URLs";
  for (const auto& [k, v] : up.headers) EXPECT_EQ(v.find("client-key-must-not-leak"), std::string::npos) << k;
  EXPECT_EQ(up.json(), json::parse(R"({"systemInstruction":{"parts":[{"text":"Be brief."}]},
      "contents":[{"role":"user","parts":[{"text":"Hello"}]}],"generationConfig":{"temperature":0.2,"maxOutputTokens":100}})"));
}

TEST_F(GeminiGatewayTest, StreamingTextWithCrlfFraming) {
  start_gemini();
  upstream.enqueue(gemini_sse({json::parse(R"({"candidates":[{"content":{"role":"model","parts":[{"text":"Hel"}]}}],"responseId":"r-2"})"),
                               json::parse(R"({"candidates":[{"content":{"role":"model","parts":[{"text":"lo"}]},"finishReason":"STOP"}],
                                   "usageMetadata":{"promptTokenCount":5,"candidatesTokenCount":2,"totalTokenCount":7}})")}));
  TestClient client(port);
  auto res = client.post_json("/v1/chat/completions", chat_body(true));
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(res.header("content-type"), "text/event-stream");
  auto ev = events_of(res);
  ASSERT_EQ(ev.size(), 5u) << res.body;
  EXPECT_EQ(ev[0]["choices"][0]["delta"], json::parse(R"({"role":"assistant","content":""})"));
  EXPECT_EQ(ev[1]["choices"][0]["delta"]["content"], "Hel");
  EXPECT_EQ(ev[2]["choices"][0]["delta"]["content"], "lo");
  EXPECT_EQ(ev[3]["choices"][0]["finish_reason"], "stop");
  EXPECT_EQ(ev[4], "[DONE]");
  for (int i = 0; i < 4; ++i) EXPECT_EQ(ev[i]["id"], "r-2");
  EXPECT_EQ(upstream.requests()[0].target, "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse");
}

TEST_F(GeminiGatewayTest, StreamingUsageWithCacheAndThoughtsWhenAsked) {
  start_gemini();
  upstream.enqueue(gemini_sse({json::parse(R"({"candidates":[{"content":{"parts":[{"text":"ok"}]}}],"usageMetadata":{"promptTokenCount":300}})"),
                               json::parse(R"({"candidates":[{"content":{"parts":[{"text":"."}]},"finishReason":"STOP"}],
                                   "usageMetadata":{"promptTokenCount":300,"cachedContentTokenCount":200,"candidatesTokenCount":20,
                                                    "thoughtsTokenCount":80,"totalTokenCount":400}})")}));
  TestClient client(port);
  auto body = chat_body(true);
  body["stream_options"] = {{"include_usage", true}};
  auto ev = events_of(client.post_json("/v1/chat/completions", body));
  ASSERT_EQ(ev.size(), 6u);
  EXPECT_TRUE(ev[0]["usage"].is_null());
  EXPECT_TRUE(ev[4]["choices"].empty());
  EXPECT_EQ(ev[4]["usage"], json::parse(R"({"prompt_tokens":300,"completion_tokens":100,"total_tokens":400,
      "prompt_tokens_details":{"cached_tokens":200},"completion_tokens_details":{"reasoning_tokens":80}})"));
  EXPECT_EQ(ev[5], "[DONE]");
}

TEST_F(GeminiGatewayTest, ToolsInStreamingModeAndTheFollowUpTurn) {
  start_gemini();
  upstream.enqueue(gemini_sse({json::parse(R"({"candidates":[{"content":{"role":"model","parts":[
      {"functionCall":{"name":"get_weather","args":{"city":"Paris"}},"thoughtSignature":"SIG-1"}]},"finishReason":"STOP"}],
      "usageMetadata":{"promptTokenCount":40,"candidatesTokenCount":8,"totalTokenCount":48}})")}));
  TestClient client(port);
  json tools = json::parse(R"([{"type":"function","function":{"name":"get_weather","description":"Current weather","strict":true,
      "parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"],"additionalProperties":false}}}])");
  json body = {{"model", "chat"}, {"stream", true}, {"tools", tools}, {"tool_choice", "auto"},
               {"messages", json::array({{{"role", "user"}, {"content", "Weather in Paris?"}}})}};
  auto ev = events_of(client.post_json("/v1/chat/completions", body));
  ASSERT_EQ(ev.size(), 4u);
  auto call = ev[1]["choices"][0]["delta"]["tool_calls"][0];
  EXPECT_EQ(call["index"], 0);
  EXPECT_EQ(call["type"], "function");
  EXPECT_EQ(call["function"]["name"], "get_weather");
  EXPECT_EQ(call["function"]["arguments"], R"({"city":"Paris"})");
  const std::string id = call["id"];
  EXPECT_TRUE(id.starts_with("call_")) << id;
  EXPECT_EQ(ev[2]["choices"][0]["finish_reason"], "tool_calls");
  EXPECT_EQ(ev[3], "[DONE]");

  auto first = upstream.requests()[0].json();
  EXPECT_EQ(first["tools"], json::parse(R"([{"functionDeclarations":[{"name":"get_weather","description":"Current weather",
      "parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}]}])"));
  EXPECT_EQ(first["toolConfig"], json::parse(R"({"functionCallingConfig":{"mode":"AUTO"}})"));

  // The client replays the call and its result: the name is recovered from the
  // id and the signature the client never saw goes back upstream.
  upstream.enqueue(FakeResponse::json(200, json::parse(R"({"candidates":[{"content":{"parts":[{"text":"18C in Paris."}]},"finishReason":"STOP"}]})")));
  json follow = {{"model", "chat"}, {"tools", tools},
                 {"messages", json::array({{{"role", "user"}, {"content", "Weather in Paris?"}},
                                           {{"role", "assistant"}, {"content", nullptr}, {"tool_calls", json::array({call})}},
                                           {{"role", "tool"}, {"tool_call_id", id}, {"content", "18C"}}})}};
  follow["messages"][1]["tool_calls"][0].erase("index");
  auto res = client.post_json("/v1/chat/completions", follow);
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(res.json()["choices"][0]["message"]["content"], "18C in Paris.");
  auto second = upstream.requests()[1].json();
  EXPECT_EQ(second["contents"][1], json::parse(R"({"role":"model","parts":[
      {"functionCall":{"name":"get_weather","args":{"city":"Paris"}},"thoughtSignature":"SIG-1"}]})"));
  EXPECT_EQ(second["contents"][2], json::parse(R"({"role":"user","parts":[
      {"functionResponse":{"name":"get_weather","response":{"output":"18C"}}}]})"));
}

TEST_F(GeminiGatewayTest, NonStreamingToolCall) {
  start_gemini();
  upstream.enqueue(FakeResponse::json(200, json::parse(R"({"candidates":[{"content":{"parts":[{"text":"Checking."},
      {"functionCall":{"name":"get_time","args":{"tz":"CET"}}}]},"finishReason":"STOP"}]})")));
  TestClient client(port);
  json body = chat_body();
  body["tools"] = json::parse(R"([{"type":"function","function":{"name":"get_time"}}])");
  auto res = client.post_json("/v1/chat/completions", body);
  ASSERT_EQ(res.status, 200) << res.body;
  auto msg = res.json()["choices"][0]["message"];
  EXPECT_EQ(msg["content"], "Checking.");
  EXPECT_EQ(msg["tool_calls"][0]["function"], json::parse(R"({"name":"get_time","arguments":"{\"tz\":\"CET\"}"})"));
  EXPECT_EQ(res.json()["choices"][0]["finish_reason"], "tool_calls");
}

TEST_F(GeminiGatewayTest, MidStreamErrorEventReachesTheClientWithoutDone) {
  start_gemini();
  upstream.enqueue(gemini_sse({json::parse(R"({"candidates":[{"content":{"parts":[{"text":"Par"}]}}]})"),
                               json::parse(R"({"error":{"code":503,"message":"The model is overloaded.","status":"UNAVAILABLE"}})")}));
  TestClient client(port);
  auto res = client.post_json("/v1/chat/completions", chat_body(true));
  ASSERT_EQ(res.status, 200);
  auto ev = events_of(res);
  ASSERT_EQ(ev.size(), 3u) << res.body;
  EXPECT_EQ(ev[1]["choices"][0]["delta"]["content"], "Par");
  EXPECT_EQ(ev[2]["error"]["code"], "service_unavailable");
  EXPECT_NE(ev[2]["error"]["message"].get<std::string>().find("overloaded"), std::string::npos);
  for (const auto& e : ev) EXPECT_NE(e, "[DONE]");
}

TEST_F(GeminiGatewayTest, StreamCutBeforeFinishReasonIsAnHonestError) {
  start_gemini();
  auto script = gemini_sse({json::parse(R"({"candidates":[{"content":{"parts":[{"text":"Par"}]}}]})")});
  script.close();
  upstream.enqueue(script);
  TestClient client(port);
  auto ev = events_of(client.post_json("/v1/chat/completions", chat_body(true)));
  ASSERT_FALSE(ev.empty());
  EXPECT_TRUE(ev.back().contains("error")) << ev.dump();
}

TEST_F(GeminiGatewayTest, ErrorClassesMapToOpenAIStatuses) {
  start_gemini();
  const json key_details = json::parse(R"([{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID","domain":"googleapis.com"}])");
  struct Case {
    FakeResponse response;
    int status;
    const char* code;
  };
  std::vector<Case> cases = {
      {google_error(400, "INVALID_ARGUMENT", "Invalid value at 'generation_config.temperature'"), 400, "upstream_bad_request"},
      {google_error(400, "INVALID_ARGUMENT", std::string("API key not valid: ") + kKey, key_details), 502, "upstream_auth_error"},
      {google_error(403, "PERMISSION_DENIED", std::string("Permission denied for ") + kKey), 502, "upstream_auth_error"},
      {google_error(404, "NOT_FOUND", "models/gemini-x is not found"), 502, "upstream_not_found"},
      {google_error(500, "INTERNAL", "An internal error has occurred."), 502, "upstream_error"},
      {google_error(503, "UNAVAILABLE", "The model is overloaded."), 503, "service_unavailable"},
      {google_error(504, "DEADLINE_EXCEEDED", "Deadline expired."), 504, "upstream_timeout"},
  };
  TestClient client(port);
  for (auto& c : cases) {
    upstream.enqueue(c.response);
    auto res = client.post_json("/v1/chat/completions", chat_body());
    EXPECT_EQ(res.status, c.status) << res.body;
    auto err = res.json()["error"];
    EXPECT_EQ(err["code"], c.code) << res.body;
    for (const char* key : {"message", "type", "param", "code"}) EXPECT_TRUE(err.contains(key)) << key;
    EXPECT_EQ(res.body.find(kKey), std::string::npos) << "the provider key leaked: " << res.body;
  }
  EXPECT_EQ(upstream.request_count(), cases.size()) << "retries: 0";
}

TEST_F(GeminiGatewayTest, RateLimitsKeepRetryAfterFromHeaderOrRetryInfo) {
  start_gemini();
  upstream.enqueue(google_error(429, "RESOURCE_EXHAUSTED", "Quota exceeded").header("retry-after", "7"));
  upstream.enqueue(google_error(429, "RESOURCE_EXHAUSTED", "Quota exceeded",
                                json::parse(R"([{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"17s"}])")));
  upstream.enqueue(google_error(503, "UNAVAILABLE", "The model is overloaded."));
  TestClient client(port);
  auto header = client.post_json("/v1/chat/completions", chat_body());
  EXPECT_EQ(header.status, 429);
  EXPECT_EQ(header.header("retry-after"), "7");
  EXPECT_EQ(header.json()["error"]["type"], "rate_limit_error");
  auto body = client.post_json("/v1/chat/completions", chat_body());
  EXPECT_EQ(body.status, 429);
  EXPECT_EQ(body.header("retry-after"), "17");
  auto overloaded = client.post_json("/v1/chat/completions", chat_body());
  EXPECT_EQ(overloaded.status, 503);
  EXPECT_EQ(overloaded.header("retry-after"), "1");
}

TEST_F(GeminiGatewayTest, RetriesHonourRetryAfterThenSucceed) {
  start_gemini(/*retries=*/1);
  upstream.enqueue(google_error(429, "RESOURCE_EXHAUSTED", "Quota exceeded").header("retry-after", "3"));
  upstream.enqueue(FakeResponse::json(200, json::parse(R"({"candidates":[{"content":{"parts":[{"text":"ok"}]},"finishReason":"STOP"}]})")));
  TestClient client(port);
  auto res = client.post_json("/v1/chat/completions", chat_body());
  ASSERT_EQ(res.status, 200) << res.body;
  ASSERT_EQ(recorded_sleeps().size(), 1u);
  EXPECT_EQ(recorded_sleeps()[0], 3000ms);
}

TEST_F(GeminiGatewayTest, InvalidArgumentIsNotRetried) {
  start_gemini(/*retries=*/2);
  upstream.set_default_response(google_error(400, "INVALID_ARGUMENT", "Please ensure that multiturn requests alternate"));
  TestClient client(port);
  auto res = client.post_json("/v1/chat/completions", chat_body());
  EXPECT_EQ(res.status, 400);
  EXPECT_EQ(res.json()["error"]["message"], "Please ensure that multiturn requests alternate");
  EXPECT_EQ(upstream.request_count(), 1u);
}

TEST_F(GeminiGatewayTest, TranslationErrorsAre400sWithoutAnUpstreamCall) {
  start_gemini();
  TestClient client(port);
  json body = chat_body();
  body["messages"].push_back({{"role", "tool"}, {"tool_call_id", "call_unknown"}, {"content", "x"}});
  auto res = client.post_json("/v1/chat/completions", body);
  EXPECT_EQ(res.status, 400);
  EXPECT_EQ(res.json()["error"]["param"], "messages[1].tool_call_id");
  EXPECT_EQ(upstream.request_count(), 0u);
}

TEST_F(GeminiGatewayTest, EmbeddingsBatchKeepsOrderAndDimensions) {
  start_gemini();
  upstream.enqueue(FakeResponse::json(200, json::parse(R"({"embeddings":[{"values":[0.1,0.2]},{"values":[0.3,0.4]}]})")));
  TestClient client(port);
  auto res = client.post_json("/v1/embeddings", {{"model", "emb"}, {"input", {"first", "second"}}, {"dimensions", 2}});
  ASSERT_EQ(res.status, 200) << res.body;
  auto out = res.json();
  EXPECT_EQ(out["object"], "list");
  EXPECT_EQ(out["data"][0]["index"], 0);
  EXPECT_EQ(out["data"][1]["embedding"], json::parse("[0.3,0.4]"));
  EXPECT_GT(out["usage"]["prompt_tokens"].get<int>(), 0);
  auto up = upstream.requests()[0];
  EXPECT_EQ(up.target, "/v1beta/models/text-embedding-004:batchEmbedContents");
  EXPECT_EQ(up.json()["requests"][1]["outputDimensionality"], 2);
  EXPECT_EQ(up.json()["requests"][1]["content"]["parts"][0]["text"], "second");
}

TEST_F(GeminiGatewayTest, LegacyCompletionsAreEmulated) {
  start_gemini();
  upstream.enqueue(FakeResponse::json(200, json::parse(R"({"candidates":[{"content":{"parts":[{"text":"done"}]},"finishReason":"STOP"}]})")));
  TestClient client(port);
  auto res = client.post_json("/v1/completions", {{"model", "chat"}, {"prompt", "say done"}});
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(res.json()["object"], "text_completion");
  EXPECT_EQ(res.json()["choices"][0]["text"], "done");
}

}  // namespace
}  // namespace tollgate::test
