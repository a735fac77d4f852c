// POST /v1/responses through the real server: a Responses client -> gateway
// -> a fake OpenAI-compatible upstream (or the mock provider), checking what
// the upstream received and the bytes the client saw.
#include "providers/sse_parser.h"
#include "server/gateway_fixture.h"

namespace tollgate::test {
namespace {

using nlohmann::json;

constexpr const char* kClientKey = "sk-responses-client-key-42";

std::string responses_yaml() {
  return R"(
server: {listen: "127.0.0.1:0", threads: 1, timeouts: {drain_ms: 5000}}
logging: {level: warn}
providers:
  - {name: up, type: openai_compatible, base_url: "{UPSTREAM}", api_key: "sk-provider-secret-1234"}
  - {name: local-mock, type: mock, mock: {chunks: 3}}
keys:
  - {name: agent, key: ")" + std::string(kClientKey) + R"(", models: [gpt-test, mocked]}
models:
  - name: gpt-test
    deployments: [{provider: up, model: upstream-model}]
  - name: mocked
    deployments: [{provider: local-mock, model: mock-gpt}]
router: {retries: 0}
)";
}

std::map<std::string, std::string> auth() { return {{"authorization", std::string("Bearer ") + kClientKey}}; }

json body(bool stream = false) {
  json b = {{"model", "gpt-test"}, {"instructions", "Be brief."}, {"input", "Hello"}};
  if (stream) b["stream"] = true;
  return b;
}

struct Event {
  std::string name;
  json data;
};

std::vector<Event> events_of(const ClientResponse& res) {
  SseParser parser;
  std::vector<SseEvent> raw;
  parser.feed(res.body, raw);
  parser.finish(raw);
  std::vector<Event> out;
  for (const auto& e : raw) out.push_back({e.event, json::parse(e.data, nullptr, false)});
  return out;
}

std::string chunk(json delta, const char* finish = nullptr) {
  return json({{"id", "chatcmpl-up"}, {"object", "chat.completion.chunk"}, {"created", 1700000000}, {"model", "upstream-model"},
               {"choices", json::array({{{"index", 0}, {"delta", delta},
                                         {"finish_reason", finish ? json(finish) : json(nullptr)}}})}})
      .dump();
}

TEST_F(GatewayTest, ResponsesNonStreaming) {
  start(responses_yaml());
  upstream.enqueue(FakeResponse::json(200, completion_json("Hi there")));
  TestClient client(port);
  auto res = client.post_json("/v1/responses", body(), auth());
  ASSERT_EQ(res.status, 200) << res.body;
  auto r = res.json();
  EXPECT_EQ(r["object"], "response");
  EXPECT_EQ(r["status"], "completed");
  EXPECT_TRUE(r["id"].get<std::string>().starts_with("resp_"));
  EXPECT_EQ(r["output"][0]["content"][0]["text"], "Hi there");
  EXPECT_EQ(r["usage"]["input_tokens"], 1000);
  EXPECT_EQ(r["instructions"], "Be brief.");
  ASSERT_EQ(upstream.request_count(), 1u);
  auto up = upstream.requests()[0];
  EXPECT_EQ(up.target, "/v1/chat/completions");
  EXPECT_EQ(up.json(), json::parse(R"({"model":"upstream-model",
    "messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hello"}]})"));
}

TEST_F(GatewayTest, ResponsesStreamText) {
  start(responses_yaml());
  upstream.enqueue(FakeResponse::sse({chunk({{"role", "assistant"}, {"content", ""}}), chunk({{"content", "Hel"}}),
                                      chunk({{"content", "lo"}}), chunk(json::object(), "stop"), usage_chunk(12, 2)}));
  TestClient client(port);
  auto res = client.post_json("/v1/responses", body(true), auth());
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(res.header("content-type"), "text/event-stream");
  auto ev = events_of(res);
  ASSERT_EQ(ev.size(), 10u) << res.body;
  EXPECT_EQ(ev.front().name, "response.created");
  EXPECT_EQ(ev.back().name, "response.completed");
  EXPECT_EQ(ev.back().data["response"]["usage"]["input_tokens"], 12);
  EXPECT_EQ(ev.back().data["response"]["usage"]["output_tokens"], 2);
  for (std::size_t i = 0; i < ev.size(); ++i) EXPECT_EQ(ev[i].data["sequence_number"], i);
  EXPECT_EQ(res.body.find("[DONE]"), std::string::npos);
  EXPECT_EQ(res.body.find("chat.completion.chunk"), std::string::npos);
  EXPECT_EQ(upstream.requests()[0].json()["stream_options"], json::parse(R"({"include_usage":true})"));
}

TEST_F(GatewayTest, ResponsesMidStreamErrorAndTruncationFail) {
  start(responses_yaml());
  auto script = FakeResponse::chunked();
  script.sse_data(chunk({{"role", "assistant"}, {"content", "Par"}}))
      .sse_data(R"({"error":{"message":"model crashed","type":"server_error"}})");
  upstream.enqueue(script);
  upstream.enqueue(FakeResponse::chunked().sse_data(chunk({{"content", "Par"}})).close());
  for (int i = 0; i < 2; ++i) {
    TestClient client(port);  // a failed stream closes its connection
    auto res = client.post_json("/v1/responses", body(true), auth());
    ASSERT_EQ(res.status, 200);
    auto ev = events_of(res);
    ASSERT_FALSE(ev.empty()) << res.body;
    EXPECT_EQ(ev.back().name, "response.failed") << res.body;
    EXPECT_EQ(ev.back().data["response"]["error"]["code"], "server_error");
    for (const auto& e : ev) EXPECT_NE(e.name, "response.completed");
  }
}

TEST_F(GatewayTest, ResponsesServedByTheMockBackendAndRouteVariants) {
  start(responses_yaml());
  TestClient client(port);
  json b = body(true);
  b["model"] = "mocked";
  b["prompt_cache_key"] = "k";
  auto res = client.post_json("/responses", b, auth());
  ASSERT_EQ(res.status, 200) << res.body;
  auto ev = events_of(res);
  ASSERT_FALSE(ev.empty());
  EXPECT_EQ(ev.back().name, "response.completed");
  EXPECT_EQ(ev.back().data["response"]["output"][0]["content"][0]["text"],
            "Hello from the Tollgate mock provider. You said: Hello");
  EXPECT_EQ(res.header("x-tollgate-notes"), "ignored prompt_cache_key");
  EXPECT_EQ(upstream.request_count(), 0u);
}

TEST_F(GatewayTest, ResponsesErrorsKeepTheOpenAIShape) {
  start(responses_yaml());
  TestClient client(port);
  auto res = client.post_json("/v1/responses", body());
  EXPECT_EQ(res.status, 401);
  EXPECT_EQ(res.json()["error"]["code"], "invalid_api_key");
  json b = body();
  b["tools"] = json::parse(R"([{"type":"web_search"}])");
  res = client.post_json("/v1/responses", b, auth());
  EXPECT_EQ(res.status, 400);
  EXPECT_EQ(res.json()["error"]["param"], "tools[0].type");
  EXPECT_EQ(res.json()["error"]["type"], "invalid_request_error");
  res = client.request("GET", "/v1/responses", {}, auth());
  EXPECT_EQ(res.status, 405);
  EXPECT_EQ(upstream.request_count(), 0u);
}

}  // namespace
}  // namespace tollgate::test
