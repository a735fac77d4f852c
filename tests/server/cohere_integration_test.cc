// Cohere through the real server: the fake speaks Chat v2 / Embed v2 (named
// SSE events with a `type`) and checks what the gateway sent.
#include "server/gateway_fixture.h"

namespace tollgate::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

class CohereTest : public GatewayTest {
 protected:
  void start_cohere() {
    std::string yaml = R"(
server: {listen: "127.0.0.1:0", threads: 1, timeouts: {drain_ms: 5000}}
logging: {level: warn}
providers:
  - {name: co, type: cohere, base_url: "{BASE}", api_key: "co-secret-key-0123456789"}
models:
  - name: command
    deployments: [{provider: co, model: command-r-08-2024}]
  - name: embed
    deployments: [{provider: co, model: embed-english-v3.0}]
# The error-class tests fail one deployment many times on purpose: no circuit breaker.
router: {circuit_breaker: {failures: 0}, retries: 2, timeouts: {connect_ms: 2000, first_byte_ms: 5000, total_ms: 20000}}
)";
    yaml.replace(yaml.find("{BASE}"), 6, upstream.base_url());
    start(yaml);
  }

  static json body(bool stream = false) {
    json b = {{"model", "command"}, {"messages", json::array({{{"role", "system"}, {"content", "Be brief."}}, {{"role", "user"}, {"content", "Hello"}}})}};
    if (stream) b["stream"] = true;
    return b;
  }

  // A chunked SSE response of named events (event: <type>).
  static FakeResponse events(const std::vector<std::string>& payloads) {
    auto r = FakeResponse::chunked();
    for (const auto& p : payloads) r.send("event: " + json::parse(p)["type"].get<std::string>() + "\ndata: " + p + "\n\n");
    return r;
  }
};

constexpr const char* kStart = R"({"id":"co-1","type":"message-start","delta":{"message":{"role":"assistant","content":[],"tool_plan":"","tool_calls":[],"citations":[]}}})";

TEST_F(CohereTest, NonStreamingChat) {
  start_cohere();
  upstream.enqueue(FakeResponse::json(200, json::parse(R"({"id":"co-1","finish_reason":"COMPLETE",
    "message":{"role":"assistant","content":[{"type":"text","text":"Hi there"}]},
    "usage":{"billed_units":{"input_tokens":1000,"output_tokens":500},"tokens":{"input_tokens":1100,"output_tokens":500}}})")));
  TestClient client(port);
  auto b = body();
  b["max_tokens"] = 64;
  b["top_p"] = 0.5;
  b["stop"] = "END";
  auto res = client.post_json("/v1/chat/completions", b, {{"authorization", "Bearer client-key-must-not-leak"}});
  ASSERT_EQ(res.status, 200) << res.body;
  auto j = res.json();
  EXPECT_EQ(j["object"], "chat.completion");
  EXPECT_EQ(j["model"], "command-r-08-2024");
  EXPECT_EQ(j["choices"][0]["message"]["content"], "Hi there");
  EXPECT_EQ(j["choices"][0]["finish_reason"], "stop");
  EXPECT_EQ(j["usage"]["prompt_tokens"], 1000);
  EXPECT_EQ(j["usage"]["total_tokens"], 1500);
  // Bundled price for command-r-08-2024: $0.15/M in, $0.60/M out.
  EXPECT_NEAR(std::stod(res.header("x-tollgate-cost-usd")), 0.00045, 1e-9);

  auto up = upstream.requests()[0];
  EXPECT_EQ(up.target, "/v2/chat");
  EXPECT_EQ(up.header("authorization"), "Bearer co-secret-key-0123456789");
  auto sent = up.json();
  EXPECT_EQ(sent["model"], "command-r-08-2024");
  EXPECT_EQ(sent["messages"], json::parse(R"([{"role":"system","content":"Be brief."},{"role":"user","content":"Hello"}])"));
  EXPECT_EQ(sent["max_tokens"], 64);
  EXPECT_EQ(sent["p"], 0.5);
  EXPECT_EQ(sent["stop_sequences"], json::array({"END"}));
  EXPECT_FALSE(sent.contains("stream"));
}

TEST_F(CohereTest, StreamingTextWithUsage) {
  start_cohere();
  upstream.enqueue(events({kStart,
                           R"({"type":"content-start","index":0,"delta":{"message":{"content":{"type":"text","text":""}}}})",
                           R"({"type":"content-delta","index":0,"delta":{"message":{"content":{"text":"Hel"}}}})",
                           R"({"type":"content-delta","index":0,"delta":{"message":{"content":{"text":"lo"}}}})",
                           R"({"type":"content-end","index":0})",
                           R"({"type":"message-end","delta":{"finish_reason":"COMPLETE","usage":{"billed_units":{"input_tokens":12,"output_tokens":2},"tokens":{"input_tokens":80,"output_tokens":2},"cached_tokens":4}}})"}));
  TestClient client(port);
  auto b = body(true);
  b["stream_options"] = {{"include_usage", true}};
  auto res = client.post_json("/v1/chat/completions", b);
  ASSERT_EQ(res.status, 200);
  EXPECT_EQ(res.header("content-type"), "text/event-stream");
  auto ev = res.sse_data();
  ASSERT_EQ(ev.size(), 6u) << res.body;
  EXPECT_EQ(json::parse(ev[0])["choices"][0]["delta"]["role"], "assistant");
  EXPECT_EQ(json::parse(ev[1])["choices"][0]["delta"]["content"], "Hel");
  EXPECT_EQ(json::parse(ev[2])["choices"][0]["delta"]["content"], "lo");
  EXPECT_EQ(json::parse(ev[3])["choices"][0]["finish_reason"], "stop");
  auto usage = json::parse(ev[4]);
  EXPECT_TRUE(usage["choices"].empty());
  EXPECT_EQ(usage["usage"], json::parse(R"({"prompt_tokens":12,"completion_tokens":2,"total_tokens":14,"prompt_tokens_details":{"cached_tokens":4}})"));
  EXPECT_EQ(ev[5], "[DONE]");
  EXPECT_EQ(upstream.requests()[0].json()["stream"], true);
  EXPECT_EQ(upstream.requests()[0].header("accept"), "text/event-stream");
}

TEST_F(CohereTest, StreamingToolCall) {
  start_cohere();
  upstream.enqueue(events({kStart,
                           R"({"type":"tool-plan-delta","delta":{"message":{"tool_plan":"Checking."}}})",
                           R"({"type":"tool-call-start","index":0,"delta":{"message":{"tool_calls":{"id":"get_weather_x1","type":"function","function":{"name":"get_weather","arguments":""}}}}})",
                           R"({"type":"tool-call-delta","index":0,"delta":{"message":{"tool_calls":{"function":{"arguments":"{\"city\":"}}}}})",
                           R"({"type":"tool-call-delta","index":0,"delta":{"message":{"tool_calls":{"function":{"arguments":"\"Paris\"}"}}}}})",
                           R"({"type":"tool-call-end","index":0})",
                           R"({"type":"message-end","delta":{"finish_reason":"TOOL_CALL","usage":{"billed_units":{"input_tokens":30,"output_tokens":12}}}})"}));
  TestClient client(port);
  auto b = body(true);
  b["tools"] = json::parse(R"([{"type":"function","function":{"name":"get_weather","description":"Weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}])");
  b["tool_choice"] = "required";
  auto res = client.post_json("/v1/chat/completions", b);
  auto ev = res.sse_data();
  ASSERT_EQ(ev.size(), 7u) << res.body;
  EXPECT_EQ(json::parse(ev[1])["choices"][0]["delta"]["content"], "Checking.");
  auto start = json::parse(ev[2])["choices"][0]["delta"]["tool_calls"][0];
  EXPECT_EQ(start, json::parse(R"({"index":0,"id":"get_weather_x1","type":"function","function":{"name":"get_weather","arguments":""}})"));
  std::string args;
  for (int i = 3; i <= 4; ++i) args += json::parse(ev[i])["choices"][0]["delta"]["tool_calls"][0]["function"]["arguments"].get<std::string>();
  EXPECT_EQ(json::parse(args), json({{"city", "Paris"}}));
  EXPECT_EQ(json::parse(ev[5])["choices"][0]["finish_reason"], "tool_calls");
  EXPECT_EQ(ev[6], "[DONE]");
  auto sent = upstream.requests()[0].json();
  EXPECT_EQ(sent["tools"][0]["function"]["name"], "get_weather");
  EXPECT_EQ(sent["tool_choice"], "REQUIRED");
}

TEST_F(CohereTest, ToolResultRoundTrip) {
  start_cohere();
  upstream.enqueue(FakeResponse::json(200, json::parse(R"({"id":"co-2","finish_reason":"COMPLETE","message":{"role":"assistant","content":[{"type":"text","text":"18C in Paris."}]}})")));
  TestClient client(port);
  json b = json::parse(R"({"model":"command","messages":[
    {"role":"user","content":"Weather in Paris?"},
    {"role":"assistant","content":"Checking.","tool_calls":[{"id":"get_weather_x1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},
    {"role":"tool","tool_call_id":"get_weather_x1","content":"18C"}]})");
  auto res = client.post_json("/v1/chat/completions", b);
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(res.json()["choices"][0]["message"]["content"], "18C in Paris.");
  auto sent = upstream.requests()[0].json()["messages"];
  EXPECT_EQ(sent[1]["tool_plan"], "Checking.");
  EXPECT_EQ(sent[1]["tool_calls"][0]["id"], "get_weather_x1");
  EXPECT_EQ(sent[2], json::parse(R"({"role":"tool","tool_call_id":"get_weather_x1","content":"18C"})"));
}

TEST_F(CohereTest, Embeddings) {
  start_cohere();
  upstream.enqueue(FakeResponse::json(200, json::parse(R"({"id":"e1","embeddings":{"float":[[0.5,-0.25],[1.0,0.0]]},"texts":["a","b"],"meta":{"billed_units":{"input_tokens":4}},"response_type":"embeddings_by_type"})")));
  TestClient client(port);
  auto res = client.post_json("/v1/embeddings", {{"model", "embed"}, {"input", {"a", "b"}}});
  ASSERT_EQ(res.status, 200) << res.body;
  auto j = res.json();
  EXPECT_EQ(j["object"], "list");
  ASSERT_EQ(j["data"].size(), 2u);
  EXPECT_EQ(j["data"][1]["index"], 1);
  EXPECT_EQ(j["data"][0]["embedding"], json::array({0.5, -0.25}));
  EXPECT_EQ(j["usage"]["prompt_tokens"], 4);
  auto up = upstream.requests()[0];
  EXPECT_EQ(up.target, "/v2/embed");
  EXPECT_EQ(up.json(), json::parse(R"({"model":"embed-english-v3.0","texts":["a","b"],"input_type":"search_document","embedding_types":["float"]})"));
}

TEST_F(CohereTest, MidStreamErrorEndsWithAnErrorEvent) {
  start_cohere();
  upstream.enqueue(events({kStart, R"({"type":"content-delta","index":0,"delta":{"message":{"content":{"text":"Par"}}}})",
                           R"({"type":"message-end","delta":{"finish_reason":"ERROR","error":"internal error"}})"}));
  TestClient client(port);
  auto res = client.post_json("/v1/chat/completions", body(true));
  auto ev = res.sse_data();
  ASSERT_EQ(ev.size(), 3u) << res.body;
  EXPECT_EQ(json::parse(ev[1])["choices"][0]["delta"]["content"], "Par");
  EXPECT_EQ(json::parse(ev[2])["error"]["code"], "upstream_stream_error");
  EXPECT_EQ(res.body.find("[DONE]"), std::string::npos);
  EXPECT_EQ(res.body.find("\"finish_reason\":\"stop\""), std::string::npos);
}

TEST_F(CohereTest, StreamCutBeforeMessageEndIsAnError) {
  start_cohere();
  auto r = events({kStart, R"({"type":"content-delta","index":0,"delta":{"message":{"content":{"text":"half"}}}})"});
  upstream.enqueue(r);
  TestClient client(port);
  auto ev = client.post_json("/v1/chat/completions", body(true)).sse_data();
  ASSERT_EQ(ev.size(), 3u);
  EXPECT_EQ(json::parse(ev[2])["error"]["code"], "upstream_stream_truncated");
}

TEST_F(CohereTest, ErrorClasses) {
  start_cohere();
  TestClient client(port);
  upstream.set_default_response(FakeResponse::json(401, {{"id", "x"}, {"message", "invalid api token co-secret-key-0123456789"}}));
  auto auth = client.post_json("/v1/chat/completions", body());
  EXPECT_EQ(auth.status, 502);
  EXPECT_EQ(auth.body.find("co-secret"), std::string::npos);

  upstream.set_default_response(FakeResponse::json(400, {{"id", "x"}, {"message", "invalid request: temperature must be between 0 and 1"}}));
  auto bad = client.post_json("/v1/chat/completions", body());
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.json()["error"]["message"].get<std::string>().find("temperature must be"), std::string::npos);

  const auto before = upstream.request_count();
  upstream.set_default_response(FakeResponse::json(429, {{"message", "too many requests"}}).header("retry-after", "4"));
  auto limited = client.post_json("/v1/chat/completions", body());
  EXPECT_EQ(limited.status, 429);
  EXPECT_EQ(limited.header("retry-after"), "4");
  EXPECT_EQ(upstream.request_count() - before, 3u) << "retried";
  EXPECT_EQ(recorded_sleeps().back(), 4000ms);

  upstream.set_default_response(FakeResponse::json(503, {{"message", "service unavailable"}}));
  EXPECT_EQ(client.post_json("/v1/chat/completions", body()).status, 503);
}

}  // namespace
}  // namespace tollgate::test
