// The Anthropic-compatible API (/v1/messages, /v1/messages/count_tokens)
// through the real server: an Anthropic-shaped client -> gateway -> a fake
// OpenAI-compatible upstream (or the mock provider), checking both what the
// upstream received and the bytes the client saw.
#include "accounting/token_estimate.h"
#include "api/anthropic_messages_request.h"
#include "providers/sse_parser.h"
#include "server/gateway_fixture.h"

namespace tollgate::test {
namespace {

using nlohmann::json;

constexpr const char* kClientKey = "sk-anthropic-client-key-42";

std::string messages_yaml(const std::string& router = "router: {retries: 0}") {
  return R"(
server: {listen: "127.0.0.1:0", threads: 1, timeouts: {drain_ms: 5000}}
logging: {level: warn}
providers:
  - {name: up, type: openai_compatible, base_url: "{UPSTREAM}", api_key: "sk-provider-secret-1234"}
  - {name: local-mock, type: mock, mock: {chunks: 3}}
keys:
  - {name: agent, key: ")" + std::string(kClientKey) + R"(", models: [claude-sonnet, mocked]}
models:
  - name: claude-sonnet
    deployments: [{provider: up, model: upstream-model}]
    price: {input_per_million: 1.0, output_per_million: 2.0}
  - name: mocked
    deployments: [{provider: local-mock, model: mock-gpt}]
  - name: forbidden
    deployments: [{provider: local-mock, model: mock-gpt}]
)" + router + "\n";
}

// What Anthropic SDKs send: x-api-key and anthropic-version.
std::map<std::string, std::string> anthropic_headers(const std::string& key = kClientKey) {
  return {{"x-api-key", key}, {"anthropic-version", "2023-06-01"}};
}

json message_body(bool stream = false) {
  json b = {{"model", "claude-sonnet"}, {"max_tokens", 1024}, {"system", "Be brief."},
            {"messages", json::array({{{"role", "user"}, {"content", "Hello"}}})}};
  if (stream) b["stream"] = true;
  return b;
}

json weather_tools() {
  return json::parse(R"([{"name":"get_weather","description":"Current weather",
    "input_schema":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}])");
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

std::vector<std::string> names(const std::vector<Event>& events) {
  std::vector<std::string> n;
  for (const auto& e : events) n.push_back(e.name);
  return n;
}

std::string chunk(json delta, const char* finish = nullptr) {
  return json({{"id", "chatcmpl-up"}, {"object", "chat.completion.chunk"}, {"created", 1700000000}, {"model", "upstream-model"},
               {"choices", json::array({{{"index", 0}, {"delta", delta},
                                         {"finish_reason", finish ? json(finish) : json(nullptr)}}})}})
      .dump();
}

std::string tool_chunk(json call) { return chunk({{"tool_calls", json::array({call})}}); }

void expect_anthropic_error(const ClientResponse& res, int status, const char* type) {
  EXPECT_EQ(res.status, status) << res.body;
  auto j = res.json();
  EXPECT_EQ(j["type"], "error") << res.body;
  EXPECT_EQ(j["error"]["type"], type) << res.body;
  EXPECT_TRUE(j["error"]["message"].is_string() && !j["error"]["message"].get<std::string>().empty()) << res.body;
  EXPECT_FALSE(j.contains("param"));
  EXPECT_EQ(j["request_id"], res.header("x-request-id"));
}

TEST_F(GatewayTest, MessagesNonStreaming) {
  start(messages_yaml());
  upstream.enqueue(FakeResponse::json(200, completion_json("Hi there")));
  TestClient client(port);
  auto res = client.post_json("/v1/messages", message_body(), anthropic_headers());
  ASSERT_EQ(res.status, 200) << res.body;
  auto m = res.json();
  EXPECT_EQ(m, json::parse(R"({"id":"msg_up","type":"message","role":"assistant","model":"upstream-model",
    "content":[{"type":"text","text":"Hi there"}],"stop_reason":"end_turn","stop_sequence":null,
    "usage":{"input_tokens":1000,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":500}})"));
  EXPECT_EQ(res.header("request-id"), res.header("x-request-id"));
  EXPECT_DOUBLE_EQ(std::stod(res.header("x-tollgate-cost-usd")), 0.002);

  ASSERT_EQ(upstream.request_count(), 1u);
  auto up = upstream.requests()[0];
  EXPECT_EQ(up.target, "/v1/chat/completions");
  EXPECT_EQ(up.header("authorization"), "Bearer sk-provider-secret-1234");
  EXPECT_EQ(up.json(), json::parse(R"({"model":"upstream-model","max_tokens":1024,
    "messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hello"}]})"));
  for (const auto& [k, v] : up.headers) {
    EXPECT_EQ(v.find(kClientKey), std::string::npos) << k;
    EXPECT_NE(k, "anthropic-version");
  }
}

TEST_F(GatewayTest, MessagesStreamText) {
  start(messages_yaml());
  upstream.enqueue(FakeResponse::sse({chunk({{"role", "assistant"}, {"content", ""}}), chunk({{"content", "Hel"}}),
                                      chunk({{"content", "lo"}}), chunk(json::object(), "stop"), usage_chunk(12, 2)}));
  TestClient client(port);
  auto res = client.post_json("/v1/messages", message_body(true), anthropic_headers());
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(res.header("content-type"), "text/event-stream");
  auto ev = events_of(res);
  ASSERT_EQ(names(ev), (std::vector<std::string>{"message_start", "content_block_start", "content_block_delta",
                                                  "content_block_delta", "content_block_stop", "message_delta", "message_stop"}))
      << res.body;
  EXPECT_EQ(ev[0].data["message"]["id"], "msg_up");
  EXPECT_EQ(ev[0].data["message"]["content"], json::array());
  EXPECT_GT(ev[0].data["message"]["usage"]["input_tokens"], 0);  // an estimate until the upstream reports
  EXPECT_EQ(ev[2].data["delta"], json::parse(R"({"type":"text_delta","text":"Hel"})"));
  EXPECT_EQ(ev[3].data["delta"]["text"], "lo");
  EXPECT_EQ(ev[5].data, json::parse(R"({"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},
    "usage":{"input_tokens":12,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":2}})"));
  // Neither OpenAI chunks nor [DONE] reach an Anthropic client.
  EXPECT_EQ(res.body.find("[DONE]"), std::string::npos);
  EXPECT_EQ(res.body.find("chat.completion.chunk"), std::string::npos);
  auto up = upstream.requests()[0].json();
  EXPECT_EQ(up["stream"], true);
  EXPECT_EQ(up["stream_options"]["include_usage"], true);
}

// The tool call must survive the round trip in streaming mode: a tool_use
// block with input {} then input_json_delta fragments that parse to the input.
TEST_F(GatewayTest, MessagesStreamToolUse) {
  start(messages_yaml());
  upstream.enqueue(FakeResponse::sse(
      {chunk({{"role", "assistant"}, {"content", "Let me check."}}),
       tool_chunk({{"index", 0}, {"id", "call_1"}, {"type", "function"}, {"function", {{"name", "get_weather"}, {"arguments", ""}}}}),
       tool_chunk({{"index", 0}, {"function", {{"arguments", "{\"city\":"}}}}),
       tool_chunk({{"index", 0}, {"function", {{"arguments", "\"Paris\"}"}}}}), chunk(json::object(), "tool_calls"),
       usage_chunk(40, 17)}));
  TestClient client(port);
  json body = message_body(true);
  body["tools"] = weather_tools();
  body["tool_choice"] = {{"type", "auto"}};
  auto res = client.post_json("/v1/messages", body, anthropic_headers());
  ASSERT_EQ(res.status, 200) << res.body;
  auto ev = events_of(res);
  ASSERT_EQ(names(ev), (std::vector<std::string>{"message_start", "content_block_start", "content_block_delta", "content_block_stop",
                                                  "content_block_start", "content_block_delta", "content_block_delta",
                                                  "content_block_stop", "message_delta", "message_stop"}))
      << res.body;
  EXPECT_EQ(ev[1].data["content_block"]["type"], "text");
  EXPECT_EQ(ev[3].data["index"], 0);  // the text block is closed before the tool block starts
  EXPECT_EQ(ev[4].data, json::parse(R"({"type":"content_block_start","index":1,
    "content_block":{"type":"tool_use","id":"call_1","name":"get_weather","input":{}}})"));
  std::string partial;
  for (int i : {5, 6}) {
    EXPECT_EQ(ev[i].data["index"], 1);
    EXPECT_EQ(ev[i].data["delta"]["type"], "input_json_delta");
    partial += ev[i].data["delta"]["partial_json"].get<std::string>();
  }
  EXPECT_EQ(json::parse(partial), json::parse(R"({"city":"Paris"})"));
  EXPECT_EQ(ev[8].data["delta"]["stop_reason"], "tool_use");
  EXPECT_EQ(ev[8].data["usage"]["output_tokens"], 17);

  auto up = upstream.requests()[0].json();
  EXPECT_EQ(up["tools"], json::parse(R"([{"type":"function","function":{"name":"get_weather","description":"Current weather",
    "parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}])"));
  EXPECT_EQ(up["tool_choice"], "auto");
}

// The next turn of the same conversation: tool_use and tool_result go
// upstream as tool_calls and a tool message; the answer comes back as text.
TEST_F(GatewayTest, MessagesToolResultTurn) {
  start(messages_yaml());
  upstream.enqueue(FakeResponse::json(200, completion_json("It is 18C in Paris.")));
  TestClient client(port);
  json body = message_body();
  body["tools"] = weather_tools();
  body["messages"] = json::parse(R"([
    {"role":"user","content":"Weather in Paris?"},
    {"role":"assistant","content":[{"type":"tool_use","id":"call_1","name":"get_weather","input":{"city":"Paris"}}]},
    {"role":"user","content":[{"type":"tool_result","tool_use_id":"call_1","content":"18C"}]}])");
  auto res = client.post_json("/v1/messages", body, anthropic_headers());
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(res.json()["content"][0]["text"], "It is 18C in Paris.");
  auto up = upstream.requests()[0].json();
  EXPECT_EQ(up["messages"], json::parse(R"([{"role":"system","content":"Be brief."},
    {"role":"user","content":"Weather in Paris?"},
    {"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},
    {"role":"tool","tool_call_id":"call_1","content":"18C"}])"));
}

TEST_F(GatewayTest, MessagesNonStreamingToolUseAndCacheUsage) {
  start(messages_yaml());
  json completion = completion_json("");
  completion["choices"][0]["message"] = json::parse(R"({"role":"assistant","content":null,
    "tool_calls":[{"id":"call_9","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Oslo\"}"}}]})");
  completion["choices"][0]["finish_reason"] = "tool_calls";
  completion["usage"] = json::parse(R"({"prompt_tokens":1200,"completion_tokens":20,"total_tokens":1220,
    "prompt_tokens_details":{"cached_tokens":1000}})");
  upstream.enqueue(FakeResponse::json(200, completion));
  TestClient client(port);
  json body = message_body();
  body["tools"] = weather_tools();
  auto res = client.post_json("/v1/messages", body, anthropic_headers());
  ASSERT_EQ(res.status, 200) << res.body;
  auto m = res.json();
  EXPECT_EQ(m["content"], json::parse(R"([{"type":"tool_use","id":"call_9","name":"get_weather","input":{"city":"Oslo"}}])"));
  EXPECT_EQ(m["stop_reason"], "tool_use");
  EXPECT_EQ(m["usage"], json::parse(R"({"input_tokens":200,"cache_creation_input_tokens":0,"cache_read_input_tokens":1000,"output_tokens":20})"));
}

TEST_F(GatewayTest, MessagesMidStreamErrorIsAnErrorEvent) {
  start(messages_yaml());
  auto script = FakeResponse::chunked();
  script.sse_data(chunk({{"role", "assistant"}, {"content", "Par"}}))
      .sse_data(R"({"error":{"message":"model crashed","type":"server_error"}})");
  upstream.enqueue(script);
  TestClient client(port);
  auto res = client.post_json("/v1/messages", message_body(true), anthropic_headers());
  ASSERT_EQ(res.status, 200);
  auto ev = events_of(res);
  ASSERT_EQ(names(ev), (std::vector<std::string>{"message_start", "content_block_start", "content_block_delta", "error"})) << res.body;
  EXPECT_EQ(ev[3].data["type"], "error");
  EXPECT_EQ(ev[3].data["error"]["type"], "api_error");
  EXPECT_NE(ev[3].data["error"]["message"].get<std::string>().find("model crashed"), std::string::npos);
}

TEST_F(GatewayTest, MessagesTruncatedStreamIsAnErrorEvent) {
  start(messages_yaml());
  upstream.enqueue(FakeResponse::chunked().sse_data(chunk({{"content", "Par"}})).close());
  TestClient client(port);
  auto res = client.post_json("/v1/messages", message_body(true), anthropic_headers());
  auto ev = events_of(res);
  ASSERT_FALSE(ev.empty()) << res.body;
  EXPECT_EQ(ev.back().name, "error");
  EXPECT_EQ(ev.back().data["error"]["type"], "api_error");
  for (const auto& e : ev) EXPECT_NE(e.name, "message_stop");
}

TEST_F(GatewayTest, MessagesServedByTheMockBackend) {
  start(messages_yaml());
  TestClient client(port);
  json body = message_body(true);
  body["model"] = "mocked";
  auto res = client.post_json("/v1/messages", body, anthropic_headers());
  ASSERT_EQ(res.status, 200) << res.body;
  auto ev = events_of(res);
  ASSERT_GE(ev.size(), 6u) << res.body;
  EXPECT_EQ(ev.front().name, "message_start");
  EXPECT_EQ(ev.back().name, "message_stop");
  std::string text;
  for (const auto& e : ev) {
    if (e.name == "content_block_delta") text += e.data["delta"]["text"].get<std::string>();
  }
  EXPECT_EQ(text, "Hello from the Tollgate mock provider. You said: Hello");
  EXPECT_GT(ev[ev.size() - 2].data["usage"]["output_tokens"], 0);
  EXPECT_EQ(upstream.request_count(), 0u);
}

// Claude Code posts to /v1/messages?beta=true; routes also work without /v1.
TEST_F(GatewayTest, MessagesRouteVariantsAndNotes) {
  start(messages_yaml());
  TestClient client(port);
  json body = message_body();
  body["model"] = "mocked";
  body["top_k"] = 5;
  auto res = client.post_json("/v1/messages?beta=true", body, anthropic_headers());
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(res.json()["type"], "message");
  EXPECT_EQ(res.header("x-tollgate-notes"), "dropped top_k");
  res = client.post_json("/messages", body, anthropic_headers());
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(res.json()["content"][0]["text"], "Hello from the Tollgate mock provider. You said: Hello");
  EXPECT_EQ(client.post_json("/messages/count_tokens", body, anthropic_headers()).status, 200);
}

TEST_F(GatewayTest, MessagesErrorsHaveTheAnthropicShape) {
  start(messages_yaml());
  TestClient client(port);
  expect_anthropic_error(client.post_json("/v1/messages", message_body()), 401, "authentication_error");
  expect_anthropic_error(client.post_json("/v1/messages", message_body(), anthropic_headers("sk-wrong")), 401,
                         "authentication_error");
  json body = message_body();
  body["model"] = "no-such-model";
  expect_anthropic_error(client.post_json("/v1/messages", body, anthropic_headers()), 404, "not_found_error");
  body["model"] = "forbidden";
  expect_anthropic_error(client.post_json("/v1/messages", body, anthropic_headers()), 403, "permission_error");
  body = message_body();
  body.erase("max_tokens");
  auto res = client.post_json("/v1/messages", body, anthropic_headers());
  expect_anthropic_error(res, 400, "invalid_request_error");
  EXPECT_EQ(res.json()["error"]["message"], "max_tokens: Field required");
  expect_anthropic_error(client.request("POST", "/v1/messages", "{not json", anthropic_headers()), 400, "invalid_request_error");
  expect_anthropic_error(client.request("GET", "/v1/messages", "", anthropic_headers()), 405, "invalid_request_error");
  EXPECT_EQ(upstream.request_count(), 0u);
  // The OpenAI routes keep the OpenAI shape.
  EXPECT_EQ(client.post_json("/v1/chat/completions", chat_body()).json()["error"]["type"], "invalid_request_error");
}

TEST_F(GatewayTest, MessagesUpstreamErrorClasses) {
  start(messages_yaml());
  TestClient client(port);

  // The provider key the gateway owns was refused: a gateway problem (502),
  // never a client 401, and the upstream's text is not echoed.
  upstream.enqueue(FakeResponse::json(401, {{"error", {{"message", "Incorrect API key provided: sk-provi***1234"}}}}));
  auto res = client.post_json("/v1/messages", message_body(), anthropic_headers());
  expect_anthropic_error(res, 502, "api_error");
  EXPECT_EQ(res.body.find("sk-provi"), std::string::npos);

  upstream.enqueue(FakeResponse::json(429, {{"error", {{"message", "slow down"}}}}).header("retry-after", "7"));
  res = client.post_json("/v1/messages", message_body(), anthropic_headers());
  expect_anthropic_error(res, 429, "rate_limit_error");
  EXPECT_EQ(res.header("retry-after"), "7");

  upstream.enqueue(FakeResponse::json(503, {{"error", {{"message", "overloaded"}}}}).header("retry-after", "2"));
  res = client.post_json("/v1/messages", message_body(), anthropic_headers());
  expect_anthropic_error(res, 503, "overloaded_error");
  EXPECT_EQ(res.header("retry-after"), "2");

  upstream.enqueue(FakeResponse::json(400, {{"error", {{"message", "maximum context length exceeded"},
                                                       {"type", "invalid_request_error"}, {"code", "context_length_exceeded"}}}}));
  res = client.post_json("/v1/messages", message_body(true), anthropic_headers());
  expect_anthropic_error(res, 400, "invalid_request_error");
  EXPECT_EQ(res.json()["error"]["message"], "maximum context length exceeded");

  upstream.enqueue(FakeResponse::json(500, {{"error", {{"message", "boom"}}}}));
  expect_anthropic_error(client.post_json("/v1/messages", message_body(), anthropic_headers()), 502, "api_error");
}

TEST_F(GatewayTest, CountTokens) {
  start(messages_yaml());
  TestClient client(port);
  json body = {{"model", "claude-sonnet"}, {"system", "Be brief."}, {"tools", weather_tools()},
               {"messages", json::array({{{"role", "user"}, {"content", "What is the weather in Paris today?"}}})}};
  auto res = client.post_json("/v1/messages/count_tokens", body, anthropic_headers());
  ASSERT_EQ(res.status, 200) << res.body;
  auto translated = translate_messages_request(body, MessagesCall::count_tokens);
  ASSERT_TRUE(translated.ok());
  EXPECT_EQ(res.json(), json({{"input_tokens", estimate_request_input_tokens(translated->body)}}));
  EXPECT_GT(res.json()["input_tokens"], 20);
  EXPECT_EQ(upstream.request_count(), 0u);

  expect_anthropic_error(client.post_json("/v1/messages/count_tokens", body), 401, "authentication_error");
  body["model"] = "no-such-model";
  expect_anthropic_error(client.post_json("/v1/messages/count_tokens", body, anthropic_headers()), 404, "not_found_error");
}

}  // namespace
}  // namespace tollgate::test
