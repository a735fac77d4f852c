// Azure OpenAI through the real server: the fake speaks Azure's protocol
// (deployment URLs, api-version, api-key, filter annotations) and checks what
// the gateway sent.
#include "server/gateway_fixture.h"

namespace tollgate::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

class AzureTest : public GatewayTest {
 protected:
  void start_azure(const std::string& provider_extra = "") {
    std::string yaml = R"(
server: {listen: "127.0.0.1:0", threads: 1, timeouts: {drain_ms: 5000}}
logging: {level: warn}
providers:
  - {name: az, type: azure, base_url: "{BASE}", api_key: "az-secret-key-0123456789")" + provider_extra + R"(}
models:
  - name: gpt4o
    deployments: [{provider: az, model: gpt4o-prod}]
    price: {input_per_million: 1.0, output_per_million: 2.0}
  - name: emb
    deployments: [{provider: az, model: embed-prod}]
# The error-class tests fail one deployment many times on purpose: no circuit breaker.
router: {circuit_breaker: {failures: 0}, retries: 2, timeouts: {connect_ms: 2000, first_byte_ms: 5000, total_ms: 20000}}
)";
    yaml.replace(yaml.find("{BASE}"), 6, upstream.base_url());
    start(yaml);
  }

  static json body(bool stream = false) {
    json b = {{"model", "gpt4o"}, {"messages", json::array({{{"role", "user"}, {"content", "Hello"}}})}};
    if (stream) b["stream"] = true;
    return b;
  }

  static std::string chunk(const std::string& choices_json, const std::string& extra = "") {
    return R"({"id":"chatcmpl-az","object":"chat.completion.chunk","created":1735689600,"model":"gpt-4o-2024-11-20","choices":)" +
           choices_json + extra + "}";
  }
};

constexpr const char* kAnnotation =
    R"({"id":"","object":"","created":0,"model":"","choices":[],"prompt_filter_results":[{"prompt_index":0,"content_filter_results":{"hate":{"filtered":false,"severity":"safe"}}}]})";

TEST_F(AzureTest, NonStreamingChatUsesTheDeploymentUrlAndKeepsFilterResults) {
  start_azure();
  upstream.enqueue(FakeResponse::json(200, json::parse(R"({
    "id":"chatcmpl-az","object":"chat.completion","created":1735689600,"model":"gpt-4o-2024-11-20",
    "prompt_filter_results":[{"prompt_index":0,"content_filter_results":{"hate":{"filtered":false,"severity":"safe"}}}],
    "choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"Hi there"},
                "content_filter_results":{"hate":{"filtered":false,"severity":"safe"}}}],
    "usage":{"prompt_tokens":1000,"completion_tokens":500,"total_tokens":1500,"prompt_tokens_details":{"cached_tokens":0}}})")));
  TestClient client(port);
  auto res = client.post_json("/v1/chat/completions", body(), {{"authorization", "Bearer client-key-must-not-leak"}});
  ASSERT_EQ(res.status, 200) << res.body;
  auto j = res.json();
  EXPECT_EQ(j["choices"][0]["message"]["content"], "Hi there");
  EXPECT_EQ(j["model"], "gpt-4o-2024-11-20");
  EXPECT_TRUE(j["prompt_filter_results"].is_array()) << "passed through";
  EXPECT_EQ(j["choices"][0]["content_filter_results"]["hate"]["severity"], "safe");
  EXPECT_DOUBLE_EQ(std::stod(res.header("x-tollgate-cost-usd")), 0.002);

  ASSERT_EQ(upstream.request_count(), 1u);
  auto up = upstream.requests()[0];
  EXPECT_EQ(up.target, "/openai/deployments/gpt4o-prod/chat/completions?api-version=2024-10-21");
  EXPECT_EQ(up.header("api-key"), "az-secret-key-0123456789");
  EXPECT_FALSE(up.has_header("authorization"));
  EXPECT_EQ(up.json()["messages"][0]["content"], "Hello");
  for (const auto& [k, v] : up.headers) EXPECT_EQ(v.find("client-key-must-not-leak"), std::string::npos) << k;
}

TEST_F(AzureTest, ConfiguredApiVersionAndBearerToken) {
  start_azure(R"(, api_version: "2025-01-01-preview", bearer_token: "entra-token-abc")");
  upstream.enqueue(FakeResponse::json(200, completion_json("ok")));
  TestClient client(port);
  ASSERT_EQ(client.post_json("/v1/chat/completions", body()).status, 200);
  auto up = upstream.requests()[0];
  EXPECT_EQ(up.target, "/openai/deployments/gpt4o-prod/chat/completions?api-version=2025-01-01-preview");
  EXPECT_EQ(up.header("authorization"), "Bearer entra-token-abc");
  EXPECT_FALSE(up.has_header("api-key"));
}

TEST_F(AzureTest, T30_StreamWithoutAnnotationChunks) {
  start_azure();
  upstream.enqueue(FakeResponse::sse({
      kAnnotation,
      chunk(R"([{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}])"),
      chunk(R"([{"index":0,"delta":{"content":"Hi"},"finish_reason":null,"content_filter_results":{"hate":{"filtered":false,"severity":"safe"}}}])"),
      chunk(R"([{"index":0,"delta":{},"finish_reason":"stop"}])"),
      chunk("[]", R"(,"usage":{"prompt_tokens":12,"completion_tokens":2,"total_tokens":14,"prompt_tokens_details":{"cached_tokens":8},"completion_tokens_details":{"reasoning_tokens":1}})"),
  }));
  TestClient client(port);
  auto b = body(true);
  b["stream_options"] = {{"include_usage", true}};
  auto res = client.post_json("/v1/chat/completions", b);
  ASSERT_EQ(res.status, 200);
  auto events = res.sse_data();
  ASSERT_EQ(events.size(), 5u) << res.body;
  EXPECT_EQ(json::parse(events[0])["choices"][0]["delta"]["role"], "assistant");
  EXPECT_EQ(json::parse(events[1])["choices"][0]["delta"]["content"], "Hi");
  EXPECT_EQ(json::parse(events[2])["choices"][0]["finish_reason"], "stop");
  auto usage = json::parse(events[3]);
  EXPECT_TRUE(usage["choices"].empty());
  EXPECT_EQ(usage["usage"]["prompt_tokens_details"]["cached_tokens"], 8);
  EXPECT_EQ(usage["usage"]["completion_tokens_details"]["reasoning_tokens"], 1);
  EXPECT_EQ(usage["usage"]["total_tokens"], 14);
  EXPECT_EQ(events[4], "[DONE]");
  for (int i = 0; i < 3; ++i) {
    auto e = json::parse(events[i]);
    EXPECT_EQ(e["id"], "chatcmpl-az") << "the annotation chunk's empty id is not the stream's";
    EXPECT_EQ(e["model"], "gpt-4o-2024-11-20");
  }
  EXPECT_EQ(res.body.find("filter_results"), std::string::npos) << res.body;
  EXPECT_EQ(upstream.requests()[0].json()["stream_options"]["include_usage"], true);
}

TEST_F(AzureTest, ToolCallsStream) {
  start_azure();
  upstream.enqueue(FakeResponse::sse({
      kAnnotation,
      chunk(R"([{"index":0,"delta":{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_a1","type":"function","function":{"name":"get_weather","arguments":""}}]},"finish_reason":null}])"),
      chunk(R"([{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"city\":\"Paris\"}"}}]},"finish_reason":null}])"),
      chunk(R"([{"index":0,"delta":{},"finish_reason":"tool_calls"}])"),
      chunk("[]", R"(,"usage":{"prompt_tokens":30,"completion_tokens":10,"total_tokens":40})"),
  }));
  TestClient client(port);
  auto b = body(true);
  b["tools"] = json::parse(R"([{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}])");
  auto res = client.post_json("/v1/chat/completions", b);
  auto events = res.sse_data();
  ASSERT_EQ(events.size(), 4u) << res.body;
  auto first = json::parse(events[0])["choices"][0]["delta"]["tool_calls"][0];
  EXPECT_EQ(first["id"], "call_a1");
  EXPECT_EQ(first["function"]["name"], "get_weather");
  EXPECT_EQ(json::parse(events[1])["choices"][0]["delta"]["tool_calls"][0]["function"]["arguments"], "{\"city\":\"Paris\"}");
  EXPECT_EQ(json::parse(events[2])["choices"][0]["finish_reason"], "tool_calls");
  EXPECT_EQ(events[3], "[DONE]");
  EXPECT_EQ(upstream.requests()[0].json()["tools"][0]["function"]["name"], "get_weather");
}

TEST_F(AzureTest, FilteredPromptIs400ContentFilterWithoutRetry) {
  start_azure();
  upstream.set_default_response(FakeResponse::json(400, json::parse(R"({"error":{"code":"content_filter","message":"The response was filtered due to the prompt triggering Azure OpenAI's content management policy.","param":"prompt","status":400,"innererror":{"code":"ResponsibleAIPolicyViolation","content_filter_result":{"violence":{"filtered":true,"severity":"high"}}}}})")));
  TestClient client(port);
  auto res = client.post_json("/v1/chat/completions", body());
  EXPECT_EQ(res.status, 400);
  EXPECT_EQ(res.json()["error"]["code"], "content_filter");
  EXPECT_EQ(res.json()["error"]["type"], "invalid_request_error");
  EXPECT_EQ(res.json()["error"]["param"], "prompt");
  EXPECT_EQ(upstream.request_count(), 1u);
}

TEST_F(AzureTest, CompletionFilteredMidStreamKeepsFinishReason) {
  start_azure();
  upstream.enqueue(FakeResponse::sse({
      chunk(R"([{"index":0,"delta":{"role":"assistant","content":"Sure"},"finish_reason":null}])"),
      chunk(R"([{"index":0,"delta":{},"finish_reason":"content_filter","content_filter_results":{"violence":{"filtered":true,"severity":"high"}}}])"),
  }));
  TestClient client(port);
  auto events = client.post_json("/v1/chat/completions", body(true)).sse_data();
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(json::parse(events[1])["choices"][0]["finish_reason"], "content_filter");
}

TEST_F(AzureTest, ErrorClasses) {
  start_azure();
  TestClient client(port);
  upstream.set_default_response(FakeResponse::json(401, json::parse(R"({"error":{"code":"401","message":"Access denied due to invalid subscription key az-secret-key-0123456789."}})")));
  auto auth = client.post_json("/v1/chat/completions", body());
  EXPECT_EQ(auth.status, 502);
  EXPECT_EQ(auth.body.find("az-secret"), std::string::npos);

  upstream.set_default_response(FakeResponse::json(429, json::parse(R"({"error":{"code":"429","message":"Rate limit is exceeded. Try again in 7 seconds."}})")).header("retry-after", "7"));
  auto limited = client.post_json("/v1/chat/completions", body());
  EXPECT_EQ(limited.status, 429);
  EXPECT_EQ(limited.header("retry-after"), "7");
  auto sleeps = recorded_sleeps();
  ASSERT_FALSE(sleeps.empty());
  EXPECT_EQ(sleeps.back(), 7000ms) << "retry-after is honoured between attempts";

  upstream.set_default_response(FakeResponse::json(503, json::parse(R"({"error":{"message":"The service is temporarily unable to process your request."}})")).header("retry-after", "2"));
  auto busy = client.post_json("/v1/chat/completions", body());
  EXPECT_EQ(busy.status, 503);
  EXPECT_EQ(busy.header("retry-after"), "2");
}

TEST_F(AzureTest, MidStreamErrorEvent) {
  start_azure();
  upstream.enqueue(FakeResponse::sse({kAnnotation, chunk(R"([{"index":0,"delta":{"content":"Par"},"finish_reason":null}])"),
                                      R"({"error":{"message":"The server had an error while processing your request.","type":"server_error"}})"},
                                     false));
  TestClient client(port);
  auto res = client.post_json("/v1/chat/completions", body(true));
  auto events = res.sse_data();
  ASSERT_EQ(events.size(), 2u) << res.body;
  EXPECT_EQ(json::parse(events[0])["choices"][0]["delta"]["content"], "Par");
  EXPECT_EQ(json::parse(events[1])["error"]["code"], "upstream_stream_error");
  EXPECT_EQ(res.body.find("[DONE]"), std::string::npos);
}

TEST_F(AzureTest, EmbeddingsUseTheirDeployment) {
  start_azure();
  upstream.enqueue(FakeResponse::json(200, {{"object", "list"}, {"model", "text-embedding-3-small"},
                                            {"data", json::array({{{"object", "embedding"}, {"index", 0}, {"embedding", {0.1, 0.2}}}})},
                                            {"usage", {{"prompt_tokens", 2}, {"total_tokens", 2}}}}));
  TestClient client(port);
  auto res = client.post_json("/v1/embeddings", {{"model", "emb"}, {"input", "hello"}});
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(res.json()["data"][0]["embedding"][1], 0.2);
  EXPECT_EQ(upstream.requests()[0].target, "/openai/deployments/embed-prod/embeddings?api-version=2024-10-21");
}

}  // namespace
}  // namespace tollgate::test
