// The anthropic adapter through the real server: OpenAI client -> gateway ->
// a fake upstream speaking the Messages API (named SSE events), which checks
// what the gateway sent.
#include "server/gateway_fixture.h"

namespace tollgate::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;
using Events = std::vector<std::pair<std::string, json>>;

constexpr const char* kProviderKey = "sk-ant-provider-secret-1234";

std::string anthropic_yaml(int retries = 0) {
  return R"(
server: {listen: "127.0.0.1:0", threads: 1, timeouts: {drain_ms: 5000}}
logging: {level: warn}
providers:
  - {name: claude-up, type: anthropic, base_url: "{UPSTREAM}", api_key: ")" + std::string(kProviderKey) + R"(", api_version: "2023-06-01"}
models:
  - name: claude
    deployments: [{provider: claude-up, model: claude-sonnet-4-5-20250929}]
    price: {input_per_million: 1.0, output_per_million: 2.0, cached_input_per_million: 0.1}
  - name: claude-old
    deployments: [{provider: claude-up, model: claude-3-5-haiku-20241022}]
router: {retries: )" + std::to_string(retries) + R"(, timeouts: {connect_ms: 2000, first_byte_ms: 5000, total_ms: 20000}}
)";
}

json claude_body(bool stream = false, const std::string& model = "claude") {
  json b = {{"model", model}, {"messages", json::array({{{"role", "system"}, {"content", "Be brief."}},
                                                        {{"role", "user"}, {"content", "Hello"}}})}};
  if (stream) b["stream"] = true;
  return b;
}

json message_json(json content, const char* stop_reason, json usage) {
  return {{"id", "msg_01XYZ"}, {"type", "message"}, {"role", "assistant"}, {"model", "claude-sonnet-4-5-20250929"},
          {"content", std::move(content)}, {"stop_reason", stop_reason}, {"stop_sequence", nullptr}, {"usage", std::move(usage)}};
}

std::string sse(const std::string& name, json data) {
  if (!data.contains("type")) data["type"] = name;
  return "event: " + name + "\ndata: " + data.dump() + "\n\n";
}

FakeResponse anthropic_stream(const Events& events) {
  auto r = FakeResponse::chunked();
  for (const auto& [name, data] : events) r.send(sse(name, data));
  return r;
}

json message_start(json usage = {{"input_tokens", 10}, {"output_tokens", 1}}) {
  return {{"message", {{"id", "msg_s1"}, {"type", "message"}, {"role", "assistant"}, {"model", "claude-sonnet-4-5-20250929"},
                       {"content", json::array()}, {"usage", std::move(usage)}}}};
}

json text_delta(int index, const std::string& text) {
  return {{"index", index}, {"delta", {{"type", "text_delta"}, {"text", text}}}};
}

class AnthropicGatewayTest : public GatewayTest {};

TEST_F(AnthropicGatewayTest, NonStreamingChatIsTranslatedBothWays) {
  start(anthropic_yaml());
  upstream.enqueue(FakeResponse::json(200, message_json(json::parse(R"([{"type":"text","text":"Hi there"}])"), "end_turn",
                                                        {{"input_tokens", 50}, {"output_tokens", 20},
                                                         {"cache_creation_input_tokens", 100}, {"cache_read_input_tokens", 1000}}))
                       .header("request-id", "req_up_1"));
  TestClient client(port);
  auto res = client.post_json("/v1/chat/completions", claude_body(), {{"authorization", "Bearer client-key-should-not-leak"}});
  ASSERT_EQ(res.status, 200) << res.body;
  auto out = res.json();
  EXPECT_EQ(out["object"], "chat.completion");
  EXPECT_EQ(out["choices"][0]["message"]["content"], "Hi there");
  EXPECT_EQ(out["choices"][0]["finish_reason"], "stop");
  EXPECT_EQ(out["usage"], json::parse(R"({"prompt_tokens":1150,"completion_tokens":20,"total_tokens":1170,"prompt_tokens_details":{"cached_tokens":1000,"cache_write_tokens":100}})"));
  EXPECT_EQ(res.header("x-upstream-request-id"), "req_up_1");
  // Cache reads at their own price, writes and uncached input at the input
  // price: (50 + 100) * 1 + 1000 * 0.1 + 20 * 2 = 290 per million.
  EXPECT_NEAR(std::stod(res.header("x-tollgate-cost-usd")), 0.00029, 1e-12);

  ASSERT_EQ(upstream.request_count(), 1u);
  auto up = upstream.requests()[0];
  EXPECT_EQ(up.method, "POST");
  EXPECT_EQ(up.target, "/v1/messages");
  EXPECT_EQ(up.header("x-api-key"), kProviderKey);
  EXPECT_EQ(up.header("anthropic-version"), "2023-06-01");
  EXPECT_EQ(up.header("content-type"), "application/json");
  EXPECT_FALSE(up.has_header("authorization"));
  for (const auto& [k, v] : up.headers) EXPECT_EQ(v.find("client-key-should-not-leak"), std::string::npos) << k;
  auto body = up.json();
  EXPECT_EQ(body["model"], "claude-sonnet-4-5-20250929");
  EXPECT_EQ(body["max_tokens"], 64000);
  EXPECT_EQ(body["system"], json::parse(R"([{"type":"text","text":"Be brief."}])"));
  EXPECT_EQ(body["messages"], json::parse(R"([{"role":"user","content":[{"type":"text","text":"Hello"}]}])"));
  EXPECT_FALSE(body.contains("stream"));
}

TEST_F(AnthropicGatewayTest, StreamingTextWithUsage) {
  start(anthropic_yaml());
  upstream.enqueue(anthropic_stream({{"message_start", message_start({{"input_tokens", 10}, {"output_tokens", 1}, {"cache_read_input_tokens", 4}})},
                                     {"content_block_start", {{"index", 0}, {"content_block", {{"type", "text"}, {"text", ""}}}}},
                                     {"ping", json::object()},
                                     {"content_block_delta", text_delta(0, "Hel")},
                                     {"content_block_delta", text_delta(0, "lo")},
                                     {"content_block_stop", {{"index", 0}}},
                                     {"message_delta", {{"delta", {{"stop_reason", "end_turn"}}}, {"usage", {{"output_tokens", 2}}}}},
                                     {"message_stop", json::object()}}));
  TestClient client(port);
  auto body = claude_body(true);
  body["stream_options"] = {{"include_usage", true}};
  auto res = client.post_json("/v1/chat/completions", body);
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(res.header("content-type"), "text/event-stream");
  auto events = res.sse_data();
  ASSERT_EQ(events.size(), 6u) << res.body;
  EXPECT_EQ(json::parse(events[0])["choices"][0]["delta"], json::parse(R"({"role":"assistant","content":""})"));
  EXPECT_EQ(json::parse(events[1])["choices"][0]["delta"]["content"], "Hel");
  EXPECT_EQ(json::parse(events[2])["choices"][0]["delta"]["content"], "lo");
  EXPECT_EQ(json::parse(events[3])["choices"][0]["finish_reason"], "stop");
  auto usage = json::parse(events[4]);
  EXPECT_TRUE(usage["choices"].empty());
  EXPECT_EQ(usage["usage"], json::parse(R"({"prompt_tokens":14,"completion_tokens":2,"total_tokens":16,"prompt_tokens_details":{"cached_tokens":4}})"));
  EXPECT_EQ(events[5], "[DONE]");
  for (int i = 0; i < 5; ++i) EXPECT_EQ(json::parse(events[i])["id"], "chatcmpl-msg_s1");

  auto up = upstream.requests()[0].json();
  EXPECT_EQ(up["stream"], true);
  EXPECT_FALSE(up.contains("stream_options"));
  EXPECT_EQ(upstream.requests()[0].header("accept"), "text/event-stream");
}

TEST_F(AnthropicGatewayTest, ToolCallsStreamWithToolOnlyIndexesAndEmptyFirstArguments) {
  start(anthropic_yaml());
  upstream.enqueue(anthropic_stream({
      {"message_start", message_start()},
      {"content_block_start", {{"index", 0}, {"content_block", {{"type", "text"}, {"text", ""}}}}},
      {"content_block_delta", text_delta(0, "Let me check.")},
      {"content_block_stop", {{"index", 0}}},
      {"content_block_start", {{"index", 1}, {"content_block", {{"type", "tool_use"}, {"id", "toolu_01A"}, {"name", "get_weather"}, {"input", json::object()}}}}},
      {"content_block_delta", {{"index", 1}, {"delta", {{"type", "input_json_delta"}, {"partial_json", ""}}}}},
      {"content_block_delta", {{"index", 1}, {"delta", {{"type", "input_json_delta"}, {"partial_json", "{\"city\": \"Pa"}}}}},
      {"content_block_delta", {{"index", 1}, {"delta", {{"type", "input_json_delta"}, {"partial_json", "ris\"}"}}}}},
      {"content_block_stop", {{"index", 1}}},
      {"content_block_start", {{"index", 2}, {"content_block", {{"type", "tool_use"}, {"id", "toolu_01B"}, {"name", "get_time"}, {"input", json::object()}}}}},
      {"content_block_delta", {{"index", 2}, {"delta", {{"type", "input_json_delta"}, {"partial_json", "{\"tz\":\"CET\"}"}}}}},
      {"content_block_stop", {{"index", 2}}},
      {"message_delta", {{"delta", {{"stop_reason", "tool_use"}}}, {"usage", {{"output_tokens", 41}}}}},
      {"message_stop", json::object()}}));
  TestClient client(port);
  auto body = claude_body(true);
  body["tools"] = json::parse(R"([{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}},{"type":"function","function":{"name":"get_time"}}])");
  body["parallel_tool_calls"] = true;
  auto res = client.post_json("/v1/chat/completions", body);
  ASSERT_EQ(res.status, 200) << res.body;

  // Reassemble as an OpenAI SDK does: by tool_calls[].index, concatenating arguments.
  std::map<int, json> calls;
  std::string text, finish;
  for (const auto& e : res.sse_data()) {
    if (e == "[DONE]") continue;
    auto c = json::parse(e);
    const auto& choice = c["choices"][0];
    if (choice["finish_reason"].is_string()) finish = choice["finish_reason"];
    const auto& d = choice["delta"];
    if (d.contains("content") && d["content"].is_string()) text += d["content"].get<std::string>();
    if (!d.contains("tool_calls")) continue;
    for (const auto& tc : d["tool_calls"]) {
      auto& call = calls[tc["index"].get<int>()];
      if (tc.contains("id")) {
        EXPECT_FALSE(call.contains("id")) << "a tool call started twice";
        EXPECT_EQ(tc["function"]["arguments"], "") << "first fragment must carry empty arguments";
        call = {{"id", tc["id"]}, {"name", tc["function"]["name"]}, {"arguments", ""}};
      } else {
        call["arguments"] = call["arguments"].get<std::string>() + tc["function"]["arguments"].get<std::string>();
      }
    }
  }
  EXPECT_EQ(text, "Let me check.");
  EXPECT_EQ(finish, "tool_calls");
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls.begin()->first, 0);
  EXPECT_EQ(calls[0]["id"], "toolu_01A");
  EXPECT_EQ(calls[0]["name"], "get_weather");
  EXPECT_EQ(json::parse(calls[0]["arguments"].get<std::string>()), json::parse(R"({"city":"Paris"})"));
  EXPECT_EQ(calls[1]["id"], "toolu_01B");
  EXPECT_EQ(json::parse(calls[1]["arguments"].get<std::string>()), json::parse(R"({"tz":"CET"})"));

  auto up = upstream.requests()[0].json();
  EXPECT_EQ(up["tools"][1], json::parse(R"({"name":"get_time","input_schema":{"type":"object","properties":{}}})"));
  EXPECT_FALSE(up.contains("tool_choice"));
}

TEST_F(AnthropicGatewayTest, ToolResultsFollowUpIsOneUserTurn) {
  start(anthropic_yaml());
  upstream.enqueue(FakeResponse::json(200, message_json(json::parse(R"([{"type":"text","text":"18C and 14:05."}])"), "end_turn",
                                                        {{"input_tokens", 80}, {"output_tokens", 9}})));
  TestClient client(port);
  auto body = json::parse(R"({"model":"claude","messages":[
    {"role":"user","content":"Weather and time in Paris?"},
    {"role":"assistant","content":null,"tool_calls":[
      {"id":"toolu_01A","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}},
      {"id":"toolu_01B","type":"function","function":{"name":"get_time","arguments":"{\"tz\":\"CET\"}"}}]},
    {"role":"tool","tool_call_id":"toolu_01A","content":"18C, cloudy"},
    {"role":"tool","tool_call_id":"toolu_01B","content":"14:05"}],
    "tools":[{"type":"function","function":{"name":"get_weather"}},{"type":"function","function":{"name":"get_time"}}]})");
  auto res = client.post_json("/v1/chat/completions", body);
  ASSERT_EQ(res.status, 200) << res.body;
  auto up = upstream.requests()[0].json();
  ASSERT_EQ(up["messages"].size(), 3u);
  EXPECT_EQ(up["messages"][1]["content"][1], json::parse(R"({"type":"tool_use","id":"toolu_01B","name":"get_time","input":{"tz":"CET"}})"));
  EXPECT_EQ(up["messages"][2], json::parse(R"({"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_01A","content":"18C, cloudy"},{"type":"tool_result","tool_use_id":"toolu_01B","content":"14:05"}]})"));
}

TEST_F(AnthropicGatewayTest, MidStreamErrorEventEndsTheStreamHonestly) {
  start(anthropic_yaml());
  upstream.enqueue(anthropic_stream({{"message_start", message_start()},
                                     {"content_block_start", {{"index", 0}, {"content_block", {{"type", "text"}, {"text", ""}}}}},
                                     {"content_block_delta", text_delta(0, "Par")},
                                     {"error", {{"type", "error"}, {"error", {{"type", "overloaded_error"}, {"message", "Overloaded"}}}}}}));
  TestClient client(port);
  auto res = client.post_json("/v1/chat/completions", claude_body(true));
  ASSERT_EQ(res.status, 200);
  auto events = res.sse_data();
  ASSERT_EQ(events.size(), 3u) << res.body;
  EXPECT_EQ(json::parse(events[1])["choices"][0]["delta"]["content"], "Par");
  EXPECT_EQ(json::parse(events[2]), json::parse(R"({"error":{"message":"Overloaded","type":"service_unavailable","param":null,"code":"overloaded"}})"));
  // No fake finish_reason, no [DONE].
  for (const auto& e : events) EXPECT_EQ(e.find("finish_reason\":\"stop"), std::string::npos);
  EXPECT_EQ(upstream.request_count(), 1u);
}

TEST_F(AnthropicGatewayTest, StreamCutBeforeMessageStopIsReportedAsAnError) {
  start(anthropic_yaml());
  // The chunked body ends cleanly, but without message_stop.
  upstream.enqueue(anthropic_stream({{"message_start", message_start()}, {"content_block_delta", text_delta(0, "Par")}}));
  TestClient client(port);
  auto events = client.post_json("/v1/chat/completions", claude_body(true)).sse_data();
  ASSERT_FALSE(events.empty());
  auto last = json::parse(events.back(), nullptr, false);
  ASSERT_TRUE(last.is_object()) << events.back();
  EXPECT_EQ(last["error"]["code"], "upstream_stream_truncated");
}

TEST_F(AnthropicGatewayTest, OverloadedBecomes503WithRetryAfterAndIsRetried) {
  start(anthropic_yaml(/*retries=*/1));
  upstream.set_default_response(FakeResponse::json(529, json::parse(R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"},"request_id":"req_1"})")));
  TestClient client(port);
  auto res = client.post_json("/v1/chat/completions", claude_body());
  EXPECT_EQ(res.status, 503);
  EXPECT_EQ(res.header("retry-after"), "1");
  EXPECT_EQ(res.json()["error"]["type"], "service_unavailable");
  EXPECT_EQ(res.json()["error"]["code"], "overloaded");
  EXPECT_EQ(upstream.request_count(), 2u);
}

TEST_F(AnthropicGatewayTest, RateLimitKeepsRetryAfter) {
  start(anthropic_yaml(/*retries=*/1));
  upstream.enqueue(FakeResponse::json(429, json::parse(R"({"type":"error","error":{"type":"rate_limit_error","message":"slow down"}})")).header("retry-after", "7"));
  upstream.enqueue(FakeResponse::json(429, json::parse(R"({"type":"error","error":{"type":"rate_limit_error","message":"slow down"}})")).header("retry-after", "7"));
  TestClient client(port);
  auto res = client.post_json("/v1/chat/completions", claude_body());
  EXPECT_EQ(res.status, 429);
  EXPECT_EQ(res.header("retry-after"), "7");
  EXPECT_EQ(res.json()["error"]["type"], "rate_limit_error");
  EXPECT_EQ(res.json()["error"]["code"], "rate_limit_exceeded");
  ASSERT_EQ(recorded_sleeps().size(), 1u);
  EXPECT_EQ(recorded_sleeps()[0], 7000ms);
}

TEST_F(AnthropicGatewayTest, UpstreamAuthErrorsAre502AndNeverEchoTheKey) {
  start(anthropic_yaml());
  for (int status : {401, 403}) {
    upstream.enqueue(FakeResponse::json(status, {{"type", "error"},
                                                 {"error", {{"type", status == 401 ? "authentication_error" : "permission_error"},
                                                            {"message", std::string("invalid x-api-key: ") + kProviderKey}}}}));
    TestClient client(port);
    auto res = client.post_json("/v1/chat/completions", claude_body());
    EXPECT_EQ(res.status, 502) << status;
    EXPECT_EQ(res.json()["error"]["type"], "server_error");
    EXPECT_EQ(res.body.find(kProviderKey), std::string::npos) << res.body;
    EXPECT_EQ(res.body.find("x-api-key"), std::string::npos) << res.body;
  }
}

TEST_F(AnthropicGatewayTest, EachErrorClassMapsToItsOpenAiStatus) {
  start(anthropic_yaml());
  struct Case {
    int upstream_status;
    const char* type;
    int client_status;
    const char* client_type;
  };
  const Case cases[] = {
      {400, "invalid_request_error", 400, "invalid_request_error"},
      {402, "billing_error", 503, "insufficient_quota"},
      {404, "not_found_error", 502, "server_error"},
      {413, "request_too_large", 413, "invalid_request_error"},
      {500, "api_error", 502, "server_error"},
      {504, "timeout_error", 504, "timeout_error"},
  };
  for (const auto& c : cases) {
    upstream.enqueue(FakeResponse::json(c.upstream_status, {{"type", "error"}, {"error", {{"type", c.type}, {"message", "detail"}}}}));
    TestClient client(port);
    auto res = client.post_json("/v1/chat/completions", claude_body());
    EXPECT_EQ(res.status, c.client_status) << c.upstream_status << " " << res.body;
    EXPECT_EQ(res.json()["error"]["type"], c.client_type) << c.upstream_status;
    for (const char* key : {"message", "type", "param", "code"}) EXPECT_TRUE(res.json()["error"].contains(key)) << key;
  }
  EXPECT_EQ(upstream.request_count(), std::size(cases));
}

TEST_F(AnthropicGatewayTest, ClientErrorsAreNotRetriedAndKeepTheUpstreamMessage) {
  start(anthropic_yaml(/*retries=*/2));
  upstream.set_default_response(FakeResponse::json(400, json::parse(R"({"type":"error","error":{"type":"invalid_request_error","message":"prompt is too long: 250000 tokens > 200000 maximum"}})")));
  TestClient client(port);
  auto res = client.post_json("/v1/chat/completions", claude_body());
  EXPECT_EQ(res.status, 400);
  EXPECT_EQ(res.json()["error"]["code"], "context_length_exceeded");
  EXPECT_EQ(res.json()["error"]["message"], "prompt is too long: 250000 tokens > 200000 maximum");
  EXPECT_EQ(upstream.request_count(), 1u);
}

TEST_F(AnthropicGatewayTest, UntranslatableRequestsAre400WithoutAnUpstreamCall) {
  start(anthropic_yaml());
  TestClient client(port);
  auto n2 = claude_body();
  n2["n"] = 2;
  auto res = client.post_json("/v1/chat/completions", n2);
  EXPECT_EQ(res.status, 400);
  EXPECT_EQ(res.json()["error"]["param"], "n");

  auto tiff = json::parse(R"({"model":"claude","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/tiff;base64,AAAA"}}]}]})");
  res = client.post_json("/v1/chat/completions", tiff);
  EXPECT_EQ(res.status, 400);
  EXPECT_EQ(res.json()["error"]["param"], "messages[0].content[0].image_url");
  EXPECT_EQ(res.json()["error"]["code"], "unsupported_image_type");

  auto bad_args = json::parse(R"({"model":"claude","messages":[{"role":"user","content":"q"},{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"{bad"}}]}]})");
  res = client.post_json("/v1/chat/completions", bad_args);
  EXPECT_EQ(res.status, 400);
  EXPECT_EQ(res.json()["error"]["param"], "messages[1].tool_calls[0].function.arguments");

  res = client.post_json("/v1/embeddings", {{"model", "claude"}, {"input", "hello"}});
  EXPECT_EQ(res.status, 400);
  EXPECT_NE(res.json()["error"]["message"].get<std::string>().find("/v1/embeddings"), std::string::npos);
  EXPECT_EQ(upstream.request_count(), 0u);
}

TEST_F(AnthropicGatewayTest, DroppedParametersAreNotedInAHeader) {
  start(anthropic_yaml());
  upstream.enqueue(FakeResponse::json(200, message_json(json::parse(R"([{"type":"text","text":"ok"}])"), "end_turn",
                                                        {{"input_tokens", 5}, {"output_tokens", 1}})));
  TestClient client(port);
  auto body = claude_body();
  body["seed"] = 7;
  body["temperature"] = 1.5;
  auto res = client.post_json("/v1/chat/completions", body);
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_NE(res.header("x-tollgate-notes").find("dropped seed"), std::string::npos);
  EXPECT_NE(res.header("x-tollgate-notes").find("temperature clamped to 1"), std::string::npos);
  auto up = upstream.requests()[0].json();
  EXPECT_FALSE(up.contains("seed"));
  EXPECT_EQ(up["temperature"], 1);
}

TEST_F(AnthropicGatewayTest, JsonSchemaIsEmulatedAndUnwrappedOnOlderModels) {
  start(anthropic_yaml());
  upstream.enqueue(FakeResponse::json(200, message_json(json::parse(R"([{"type":"tool_use","id":"toolu_9","name":"json_response","input":{"n":3}}])"),
                                                        "tool_use", {{"input_tokens", 5}, {"output_tokens", 4}})));
  TestClient client(port);
  auto body = claude_body(false, "claude-old");
  body["response_format"] = json::parse(R"({"type":"json_schema","json_schema":{"name":"p","schema":{"type":"object","properties":{"n":{"type":"integer"}}}}})");
  auto res = client.post_json("/v1/chat/completions", body);
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(res.json()["choices"][0]["message"]["content"], "{\"n\":3}");
  EXPECT_EQ(res.json()["choices"][0]["finish_reason"], "stop");
  EXPECT_FALSE(res.json()["choices"][0]["message"].contains("tool_calls"));
  auto up = upstream.requests()[0].json();
  EXPECT_EQ(up["tool_choice"]["name"], "json_response");
  EXPECT_EQ(up["max_tokens"], 8192);
}

TEST_F(AnthropicGatewayTest, LegacyCompletionsAreEmulated) {
  start(anthropic_yaml());
  upstream.enqueue(FakeResponse::json(200, message_json(json::parse(R"([{"type":"text","text":"hi!"}])"), "max_tokens",
                                                        {{"input_tokens", 3}, {"output_tokens", 2}})));
  TestClient client(port);
  auto res = client.post_json("/v1/completions", {{"model", "claude"}, {"prompt", "Say hi"}, {"max_tokens", 2}});
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(res.json()["object"], "text_completion");
  EXPECT_EQ(res.json()["choices"][0]["text"], "hi!");
  EXPECT_EQ(res.json()["choices"][0]["finish_reason"], "length");
  auto up = upstream.requests()[0].json();
  EXPECT_EQ(up["messages"], json::parse(R"([{"role":"user","content":[{"type":"text","text":"Say hi"}]}])"));
  EXPECT_EQ(up["max_tokens"], 2);
}

}  // namespace
}  // namespace tollgate::test
