// Native pass-through of the Anthropic Messages API through the real server:
// an Anthropic client (Claude Code's request shape) -> gateway -> a fake
// Anthropic upstream. The upstream must receive the client's body as it was
// (only the model changed) with its anthropic-beta and anthropic-version, and
// the client must receive the upstream's answer unchanged, while the gateway
// still reads usage, falls back before the first byte and ends a broken
// stream with one error event.
#include <fstream>
#include <sstream>

#include "providers/sse_parser.h"
#include "server/gateway_fixture.h"

namespace tollgate::test {
namespace {

using nlohmann::json;

constexpr const char* kClientKey = "sk-claude-code-client-7";
constexpr const char* kProviderKey = "sk-ant-provider-secret-99";
constexpr const char* kBetas = "claude-code-20250219,interleaved-thinking-2025-05-14,context-management-2025-06-27";

std::string native_yaml() {
  return R"(
server: {listen: "127.0.0.1:0", threads: 1, timeouts: {drain_ms: 5000}}
logging: {level: warn}
providers:
  - {name: ant, type: anthropic, base_url: "{UPSTREAM}", api_key: ")" + std::string(kProviderKey) + R"(", api_version: "2023-06-01"}
  - {name: oai, type: openai_compatible, base_url: "{UPSTREAM}", api_key: "sk-openai-secret-5"}
keys:
  - {name: cc, key: ")" + std::string(kClientKey) + R"(", models: [sonnet, gpt]}
models:
  - name: sonnet
    deployments: [{provider: ant, model: claude-sonnet-4-5-20250929}]
    price: {input_per_million: 1.0, output_per_million: 2.0, cached_input_per_million: 0.1}
    fallbacks: [gpt]
  - name: gpt
    deployments: [{provider: oai, model: gpt-upstream}]
router: {retries: 0, timeouts: {connect_ms: 2000, first_byte_ms: 5000, total_ms: 20000}}
)";
}

std::map<std::string, std::string> claude_code_headers() {
  return {{"x-api-key", kClientKey}, {"anthropic-version", "2023-06-01"}, {"anthropic-beta", kBetas}};
}

// What Claude Code sends in a tool round, in small.
json claude_code_body(bool stream) {
  return json::parse(R"J({
    "model": "sonnet", "max_tokens": 32000, "stream": )J" + std::string(stream ? "true" : "false") + R"J(,
    "system": [{"type":"text","text":"You are Claude Code.","cache_control":{"type":"ephemeral"}}],
    "messages": [
      {"role":"user","content":[{"type":"text","text":"Write hi to file.txt"}]},
      {"role":"system","content":[{"type":"text","text":"# Environment\ncwd /w"}]},
      {"role":"assistant","content":[
        {"type":"thinking","thinking":"I should run it.","signature":"EqQBCkgIAR-signature=="},
        {"type":"redacted_thinking","data":"opaque-redacted"},
        {"type":"tool_use","id":"toolu_01","name":"Bash","input":{"command":"echo hi > file.txt"}}]},
      {"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_01","content":"(no output)","cache_control":{"type":"ephemeral"}}]}],
    "tools": [{"name":"Bash","description":"Run a command","input_schema":{"type":"object","properties":{"command":{"type":"string"}}}},
              {"name":"Later","description":"Deferred","input_schema":{"type":"object"},"defer_loading":true}],
    "thinking": {"type":"adaptive","display":"omitted"},
    "context_management": {"edits":[{"type":"clear_thinking_20251015","keep":"all"}]},
    "output_config": {"effort":"xhigh"},
    "metadata": {"user_id":"{\"session_id\":\"s\"}"}
  })J");
}

std::string sse(const std::string& name, const json& data) { return "event: " + name + "\ndata: " + data.dump() + "\n\n"; }

std::vector<std::pair<std::string, std::string>> upstream_events() {
  const json start = json::parse(R"({"type":"message_start","message":{"id":"msg_n1","type":"message","role":"assistant",
    "model":"claude-sonnet-4-5-20250929","content":[],"stop_reason":null,"stop_sequence":null,
    "usage":{"input_tokens":100,"cache_read_input_tokens":1000,"cache_creation_input_tokens":0,"output_tokens":1}}})");
  return {
      {"message_start", start.dump()},
      {"content_block_start", R"({"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":"","signature":""}})"},
      {"ping", R"({"type": "ping"})"},
      {"content_block_delta", R"({"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"Done."}})"},
      {"content_block_delta", R"({"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"sig-xyz=="}})"},
      {"content_block_stop", R"({"type":"content_block_stop","index":0})"},
      {"content_block_start", R"({"type":"content_block_start","index":1,"content_block":{"type":"text","text":""}})"},
      {"content_block_delta", R"({"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"Wrote it."}})"},
      {"content_block_stop", R"({"type":"content_block_stop","index":1})"},
      {"message_delta", R"({"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":50}})"},
      {"message_stop", R"({"type":"message_stop"})"},
  };
}

FakeResponse stream_of(const std::vector<std::pair<std::string, std::string>>& events) {
  auto r = FakeResponse::chunked();
  for (const auto& [name, data] : events) r.send("event: " + name + "\ndata: " + data + "\n\n");
  return r;
}

std::vector<std::pair<std::string, std::string>> events_of(const std::string& body) {
  SseParser parser;
  std::vector<SseEvent> raw;
  parser.feed(body, raw);
  parser.finish(raw);
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& e : raw) out.emplace_back(e.event, e.data);
  return out;
}

// The upstream got the client's request: same body but the model, the
// client's betas and version, the provider's key and never the client's.
void expect_passed_through(const RecordedRequest& up, const json& client_body, const std::string& target) {
  EXPECT_EQ(up.target, target);
  json expected = client_body;
  expected["model"] = "claude-sonnet-4-5-20250929";
  EXPECT_EQ(up.json(), expected);
  EXPECT_EQ(up.header("anthropic-beta"), kBetas);
  EXPECT_EQ(up.header("anthropic-version"), "2023-06-01");
  EXPECT_EQ(up.header("x-api-key"), kProviderKey);
  for (const auto& [k, v] : up.headers) EXPECT_EQ(v.find(kClientKey), std::string::npos) << k;
}

TEST_F(GatewayTest, NativeMessagesNonStreamingPassesThroughBothWays) {
  start(native_yaml());
  // Content the chat shape cannot carry: thinking with its signature.
  const std::string answer = R"({"id":"msg_n0","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929",)"
                             R"("content":[{"type":"thinking","thinking":"hm","signature":"sig-0=="},{"type":"text","text":"Done."}],)"
                             R"("stop_reason":"end_turn","stop_sequence":null,"container":null,)"
                             R"("usage":{"input_tokens":100,"cache_read_input_tokens":1000,"cache_creation_input_tokens":0,"output_tokens":50}})";
  upstream.enqueue(FakeResponse::text(200, answer, "application/json"));
  TestClient client(port);
  const json body = claude_code_body(false);
  auto res = client.post_json("/v1/messages?beta=true", body, claude_code_headers());
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(res.body, answer);  // byte for byte
  EXPECT_EQ(res.header("request-id"), res.header("x-request-id"));
  // Usage read on the way: 100 uncached + 1000 cached input, 50 output.
  EXPECT_NEAR(std::stod(res.header("x-tollgate-cost-usd")), 100e-6 + 1000 * 0.1e-6 + 50 * 2e-6, 1e-12);
  EXPECT_EQ(res.header("x-tollgate-notes"), "");  // nothing was dropped or ignored
  ASSERT_EQ(upstream.request_count(), 1u);
  expect_passed_through(upstream.requests()[0], body, "/v1/messages");
}

TEST_F(GatewayTest, NativeMessagesStreamIsRelayedUnchanged) {
  start(native_yaml());
  const auto events = upstream_events();
  upstream.enqueue(stream_of(events));
  TestClient client(port);
  const json body = claude_code_body(true);
  auto res = client.post_json("/v1/messages?beta=true", body, claude_code_headers());
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(res.header("content-type"), "text/event-stream");
  EXPECT_EQ(events_of(res.body), events);
  ASSERT_EQ(upstream.request_count(), 1u);
  expect_passed_through(upstream.requests()[0], body, "/v1/messages");
  EXPECT_EQ(upstream.requests()[0].header("accept"), "text/event-stream");
}

TEST_F(GatewayTest, NativeMessagesStreamErrorEndsWithOneErrorEvent) {
  start(native_yaml());
  auto events = upstream_events();
  events.resize(4);
  events.emplace_back("error", R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})");
  upstream.enqueue(stream_of(events));
  TestClient client(port);
  auto res = client.post_json("/v1/messages", claude_code_body(true), claude_code_headers());
  ASSERT_EQ(res.status, 200);
  auto got = events_of(res.body);
  ASSERT_EQ(got.size(), 5u) << res.body;
  for (std::size_t i = 0; i < 4; ++i) EXPECT_EQ(got[i], events[i]);
  EXPECT_EQ(got[4].first, "error");
  const json error = json::parse(got[4].second);
  EXPECT_EQ(error["type"], "error");
  EXPECT_NE(error["error"]["message"].get<std::string>().find("Overloaded"), std::string::npos) << got[4].second;
}

TEST_F(GatewayTest, NativeMessagesTruncatedStreamEndsWithAnErrorEvent) {
  start(native_yaml());
  auto events = upstream_events();
  events.resize(3);
  auto script = stream_of(events);
  script.close();
  upstream.enqueue(script);
  TestClient client(port);
  auto res = client.post_json("/v1/messages", claude_code_body(true), claude_code_headers());
  auto got = events_of(res.body);
  ASSERT_FALSE(got.empty()) << res.body;
  EXPECT_EQ(got.back().first, "error");
  for (const auto& e : got) EXPECT_NE(e.first, "message_stop");
}

// Before the first byte the router may still fall back, to a model on an
// OpenAI-shaped upstream: that one gets the translated request.
TEST_F(GatewayTest, NativeMessagesFallBackToATranslatedUpstream) {
  start(native_yaml());
  upstream.enqueue(FakeResponse::json(529, json::parse(R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})")));
  upstream.enqueue(FakeResponse::json(200, completion_json("From the fallback")));
  TestClient client(port);
  auto res = client.post_json("/v1/messages", claude_code_body(false), claude_code_headers());
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(res.json()["type"], "message");
  EXPECT_EQ(res.json()["content"][0]["text"], "From the fallback");
  ASSERT_EQ(upstream.request_count(), 2u);
  EXPECT_EQ(upstream.requests()[0].target, "/v1/messages");
  const auto second = upstream.requests()[1];
  EXPECT_EQ(second.target, "/v1/chat/completions");
  const json chat = second.json();
  EXPECT_EQ(chat["model"], "gpt-upstream");
  EXPECT_EQ(chat["reasoning_effort"], "high");
  EXPECT_EQ(chat["messages"][2], json::parse(R"({"role":"system","content":"# Environment\ncwd /w"})"));
  EXPECT_FALSE(second.has_header("anthropic-beta"));
  EXPECT_NE(res.header("x-tollgate-notes").find("ignored context_management"), std::string::npos);
}

// An upstream's error before any byte reaches the client in Anthropic's shape.
TEST_F(GatewayTest, NativeMessagesUpstreamErrorHasTheAnthropicShape) {
  start(native_yaml());
  upstream.enqueue(FakeResponse::json(400, json::parse(R"({"type":"error","error":{"type":"invalid_request_error","message":"messages.1: bad"}})")));
  TestClient client(port);
  auto res = client.post_json("/v1/messages", claude_code_body(false), claude_code_headers());
  EXPECT_EQ(res.status, 400) << res.body;
  EXPECT_EQ(res.json()["type"], "error");
  EXPECT_EQ(res.json()["error"]["type"], "invalid_request_error");
  EXPECT_NE(res.json()["error"]["message"].get<std::string>().find("messages.1: bad"), std::string::npos);
  EXPECT_EQ(upstream.request_count(), 1u);  // a client error: no fallback
}

TEST_F(GatewayTest, NativeCountTokensAsksTheUpstream) {
  start(native_yaml());
  upstream.enqueue(FakeResponse::text(200, R"({"input_tokens":4242})", "application/json"));
  TestClient client(port);
  json body = claude_code_body(false);
  body.erase("max_tokens");
  body.erase("stream");
  auto res = client.post_json("/v1/messages/count_tokens?beta=true", body, claude_code_headers());
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(res.body, R"({"input_tokens":4242})");
  ASSERT_EQ(upstream.request_count(), 1u);
  expect_passed_through(upstream.requests()[0], body, "/v1/messages/count_tokens");

  // A failed count falls back to the estimate; an OpenAI-shaped model is estimated.
  upstream.enqueue(FakeResponse::json(500, json::parse(R"({"type":"error","error":{"type":"api_error","message":"x"}})")));
  res = client.post_json("/v1/messages/count_tokens", body, claude_code_headers());
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_GT(res.json()["input_tokens"].get<int64_t>(), 20);
  body["model"] = "gpt";
  res = client.post_json("/v1/messages/count_tokens", body, claude_code_headers());
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_GT(res.json()["input_tokens"].get<int64_t>(), 20);
  EXPECT_EQ(upstream.request_count(), 2u);
}

// The request Claude Code 2.1.337 really sent (tests/data), through the
// native path: the upstream gets it whole, thinking signature included.
TEST_F(GatewayTest, CapturedClaudeCodeRequestPassesThroughNatively) {
  std::ifstream in(TOLLGATE_TEST_DATA_DIR "/claude_code_messages_request.json");
  ASSERT_TRUE(in) << "missing fixture";
  std::stringstream text;
  text << in.rdbuf();
  const json capture = json::parse(text.str());
  start(native_yaml());
  upstream.enqueue(stream_of(upstream_events()));
  TestClient client(port);
  json body = capture["body"];
  body["model"] = "sonnet";
  std::map<std::string, std::string> headers = {{"x-api-key", kClientKey}};
  for (const char* h : {"anthropic-beta", "anthropic-version", "user-agent", "x-app"}) headers[h] = capture["headers"][h];
  auto res = client.post_json(capture["url"].get<std::string>(), body, headers);
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(events_of(res.body), upstream_events());
  ASSERT_EQ(upstream.request_count(), 1u);
  const auto up = upstream.requests()[0];
  json expected = body;
  expected["model"] = "claude-sonnet-4-5-20250929";
  EXPECT_EQ(up.json(), expected);
  EXPECT_EQ(up.json()["messages"][2]["content"][0]["signature"], "sig-abc123");
  EXPECT_EQ(up.header("anthropic-beta"), capture["headers"]["anthropic-beta"]);
}

}  // namespace
}  // namespace tollgate::test
