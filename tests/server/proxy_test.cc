// End-to-end through the real server: client -> gateway -> fake upstream.
#include "server/gateway_fixture.h"

namespace tollgate::test {
namespace {

using nlohmann::json;

TEST_F(GatewayTest, NonStreamingChatIsForwardedAndPriced) {
  start(basic_yaml());
  upstream.enqueue(FakeResponse::json(200, completion_json("Hi there")));
  TestClient client(port);
  auto res = client.post_json("/v1/chat/completions", chat_body(), {{"authorization", "Bearer client-key-should-not-leak"}});
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(res.json()["choices"][0]["message"]["content"], "Hi there");
  EXPECT_TRUE(res.header("x-request-id").starts_with("req_"));
  // 1000 prompt tokens at $1/M + 500 completion tokens at $2/M = $0.002.
  EXPECT_DOUBLE_EQ(std::stod(res.header("x-tollgate-cost-usd")), 0.002);

  ASSERT_EQ(upstream.request_count(), 1u);
  auto up = upstream.requests()[0];
  EXPECT_EQ(up.target, "/v1/chat/completions");
  EXPECT_EQ(up.header("authorization"), "Bearer sk-provider-secret-1234");
  EXPECT_EQ(up.json()["model"], "upstream-model");
  for (const auto& [k, v] : up.headers) EXPECT_EQ(v.find("client-key-should-not-leak"), std::string::npos) << k;
}

TEST_F(GatewayTest, RoutesWorkWithoutTheV1Prefix) {
  start(basic_yaml());
  upstream.enqueue(FakeResponse::json(200, completion_json("ok")));
  TestClient client(port);
  EXPECT_EQ(client.post_json("/chat/completions", chat_body()).status, 200);
  EXPECT_EQ(client.request("GET", "/models").status, 200);
}

TEST_F(GatewayTest, StreamIsNormalizedAndInjectedUsageStripped) {
  start(basic_yaml());
  upstream.enqueue(FakeResponse::sse({content_chunk("Hel"), content_chunk("lo"), content_chunk("", "stop"), usage_chunk(12, 2)}));
  TestClient client(port);
  auto res = client.post_json("/v1/chat/completions", chat_body(true));
  ASSERT_EQ(res.status, 200);
  EXPECT_EQ(res.header("content-type"), "text/event-stream");
  auto events = res.sse_data();
  ASSERT_EQ(events.size(), 4u) << res.body;
  EXPECT_EQ(json::parse(events[0])["choices"][0]["delta"]["role"], "assistant");
  EXPECT_EQ(json::parse(events[1])["choices"][0]["delta"]["content"], "lo");
  EXPECT_EQ(json::parse(events[2])["choices"][0]["finish_reason"], "stop");
  EXPECT_EQ(events[3], "[DONE]");
  // The gateway asked for usage although the client did not.
  EXPECT_EQ(upstream.requests()[0].json()["stream_options"]["include_usage"], true);
}

TEST_F(GatewayTest, StreamKeepsUsageChunkWhenClientAsks) {
  start(basic_yaml());
  upstream.enqueue(FakeResponse::sse({content_chunk("Hi", "stop"), usage_chunk(12, 2)}));
  TestClient client(port);
  auto body = chat_body(true);
  body["stream_options"] = {{"include_usage", true}};
  auto events = client.post_json("/v1/chat/completions", body).sse_data();
  ASSERT_EQ(events.size(), 3u);
  auto usage = json::parse(events[1]);
  EXPECT_TRUE(usage["choices"].empty());
  EXPECT_EQ(usage["usage"]["total_tokens"], 14);
  EXPECT_EQ(events[2], "[DONE]");
}

TEST_F(GatewayTest, EachEventReachesTheClientBeforeTheUpstreamContinues) {
  start(basic_yaml());
  auto gate = Gate::make();
  auto script = FakeResponse::chunked();
  script.sse_data(content_chunk("first")).wait(gate).sse_data(content_chunk("second", "stop")).send("data: [DONE]\n\n");
  upstream.enqueue(script);
  TestClient client(port);
  client.send_raw("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " +
                  std::to_string(chat_body(true).dump().size()) + "\r\n\r\n" + chat_body(true).dump());
  // The upstream is parked at the gate: the first event must already be here.
  auto got = client.read_until("first");
  EXPECT_NE(got.find("first"), std::string::npos);
  EXPECT_TRUE(gate->wait_for_waiters(1));
  EXPECT_EQ(got.find("second"), std::string::npos);
  gate->open();
  auto rest = client.read_until("[DONE]");
  EXPECT_NE(rest.find("second"), std::string::npos);
}

TEST_F(GatewayTest, UpstreamConnectionsAreReused) {
  start(basic_yaml());
  upstream.set_default_response(FakeResponse::json(200, completion_json("ok")));
  TestClient client(port);
  for (int i = 0; i < 5; ++i) ASSERT_EQ(client.post_json("/v1/chat/completions", chat_body()).status, 200);
  EXPECT_EQ(upstream.request_count(), 5u);
  EXPECT_EQ(upstream.connection_count(), 1u);
}

TEST_F(GatewayTest, EmbeddingsAndCompletionsAreForwarded) {
  start(basic_yaml());
  upstream.enqueue(FakeResponse::json(200, {{"object", "list"}, {"model", "upstream-model"},
                                            {"data", json::array({{{"object", "embedding"}, {"index", 0}, {"embedding", {0.1, 0.2}}}})},
                                            {"usage", {{"prompt_tokens", 2}, {"total_tokens", 2}}}}));
  upstream.enqueue(FakeResponse::json(200, {{"id", "cmpl-1"}, {"object", "text_completion"}, {"created", 1}, {"model", "upstream-model"},
                                            {"choices", json::array({{{"index", 0}, {"text", "done"}, {"finish_reason", "stop"}}})}}));
  TestClient client(port);
  auto emb = client.post_json("/v1/embeddings", {{"model", "chat"}, {"input", "hello"}});
  ASSERT_EQ(emb.status, 200) << emb.body;
  EXPECT_EQ(emb.json()["data"][0]["embedding"][1], 0.2);
  EXPECT_EQ(upstream.requests()[0].target, "/v1/embeddings");
  auto cmpl = client.post_json("/v1/completions", {{"model", "chat"}, {"prompt", "say done"}});
  ASSERT_EQ(cmpl.status, 200) << cmpl.body;
  EXPECT_EQ(cmpl.json()["choices"][0]["text"], "done");
  EXPECT_EQ(upstream.requests()[1].target, "/v1/completions");
}

TEST_F(GatewayTest, ModelsListAndLookup) {
  start(basic_yaml());
  TestClient client(port);
  auto list = client.request("GET", "/v1/models");
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(list.json()["object"], "list");
  ASSERT_EQ(list.json()["data"].size(), 2u);
  EXPECT_EQ(list.json()["data"][0]["id"], "chat");
  EXPECT_EQ(list.json()["data"][0]["object"], "model");
  auto one = client.request("GET", "/v1/models/backup");
  ASSERT_EQ(one.status, 200);
  EXPECT_EQ(one.json()["id"], "backup");
  auto missing = client.request("GET", "/v1/models/nope");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.json()["error"]["code"], "model_not_found");
}

TEST_F(GatewayTest, MockProviderStreamsConfiguredChunks) {
  start(basic_yaml());
  TestClient client(port);
  auto body = chat_body(true);
  body["model"] = "backup";
  body["stream_options"] = {{"include_usage", true}};
  auto events = client.post_json("/v1/chat/completions", body).sse_data();
  // 3 content chunks, finish, usage, [DONE].
  ASSERT_EQ(events.size(), 6u);
  std::string text;
  for (int i = 0; i < 3; ++i) text += json::parse(events[i])["choices"][0]["delta"]["content"].get<std::string>();
  EXPECT_EQ(text, "Hello from the Tollgate mock provider. You said: Hello");
  EXPECT_GT(json::parse(events[4])["usage"]["completion_tokens"].get<int>(), 0);
}

TEST_F(GatewayTest, HealthEndpoints) {
  start(basic_yaml());
  TestClient client(port);
  EXPECT_EQ(client.request("GET", "/health/liveliness").status, 200);
  auto ready = client.request("GET", "/health/readiness");
  EXPECT_EQ(ready.status, 200);
  EXPECT_EQ(ready.json()["status"], "ready");
}

TEST_F(GatewayTest, ShutdownDrainsAnInFlightStream) {
  start(basic_yaml());
  auto gate = Gate::make();
  auto script = FakeResponse::chunked();
  script.sse_data(content_chunk("before")).wait(gate).sse_data(content_chunk("after", "stop")).send("data: [DONE]\n\n");
  upstream.enqueue(script);
  TestClient client(port);
  client.send_raw("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: " +
                  std::to_string(chat_body(true).dump().size()) + "\r\n\r\n" + chat_body(true).dump());
  ASSERT_NE(client.read_until("before").find("before"), std::string::npos);
  ASSERT_TRUE(gate->wait_for_waiters(1));
  std::thread stopper([&] { gateway->shutdown(); });
  // Readiness would now say draining; the stream in flight still completes.
  gate->open();
  auto rest = client.read_until("[DONE]");
  stopper.join();
  EXPECT_NE(rest.find("after"), std::string::npos);
  EXPECT_NE(rest.find("[DONE]"), std::string::npos);
}

}  // namespace
}  // namespace tollgate::test

namespace tollgate::test {
namespace {

TEST_F(GatewayTest, SilentUpstreamGetsKeepAliveCommentsOnceStreaming) {
  start(R"(
server: {listen: "127.0.0.1:0", threads: 1, timeouts: {keepalive_ms: 50}}
logging: {level: warn}
providers: [{name: up, type: openai_compatible, base_url: "{UPSTREAM}", api_key: "k"}]
models: [{name: chat, deployments: [{provider: up, model: m}]}]
)");
  auto gate = Gate::make();
  auto script = FakeResponse::chunked();
  script.sse_data(content_chunk("thinking...")).wait(gate).sse_data(content_chunk("done", "stop")).send("data: [DONE]\n\n");
  upstream.enqueue(script);
  TestClient client(port);
  client.send_raw("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: " +
                  std::to_string(chat_body(true).dump().size()) + "\r\n\r\n" + chat_body(true).dump());
  auto got = client.read_until(": keep-alive");
  EXPECT_NE(got.find(": keep-alive\n\n"), std::string::npos) << got;
  gate->open();
  auto rest = client.read_until("[DONE]");
  EXPECT_NE(rest.find("done"), std::string::npos);
}

}  // namespace
}  // namespace tollgate::test

namespace tollgate::test {
namespace {

TEST_F(GatewayTest, StreamCostArrivesAsATrailer) {
  start(basic_yaml());
  upstream.enqueue(FakeResponse::sse({content_chunk("Hi", "stop"), usage_chunk(1000, 500)}));
  TestClient client(port);
  client.send_raw("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: " +
                  std::to_string(chat_body(true).dump().size()) + "\r\n\r\n" + chat_body(true).dump());
  auto raw = client.read_until("\r\n0\r\nx-tollgate-cost-usd: 0.0020000000\r\n\r\n");
  EXPECT_NE(raw.find("Trailer: x-tollgate-cost-usd"), std::string::npos);
  auto pos = raw.find("\r\n0\r\nx-tollgate-cost-usd: 0.0020000000\r\n\r\n");
  EXPECT_NE(pos, std::string::npos) << raw.substr(raw.size() > 300 ? raw.size() - 300 : 0);
}

TEST_F(GatewayTest, MockEmbeddingsHonourBase64Encoding) {
  start(basic_yaml());
  TestClient client(port);
  auto floats = client.post_json("/v1/embeddings", {{"model", "backup"}, {"input", "hello"}});
  ASSERT_EQ(floats.status, 200);
  auto vec = floats.json()["data"][0]["embedding"];
  ASSERT_TRUE(vec.is_array());
  auto b64 = client.post_json("/v1/embeddings", {{"model", "backup"}, {"input", "hello"}, {"encoding_format", "base64"}});
  ASSERT_EQ(b64.status, 200);
  auto s = b64.json()["data"][0]["embedding"];
  ASSERT_TRUE(s.is_string());
  // 4 bytes per float32, base64 expands 3 -> 4.
  EXPECT_EQ(s.get<std::string>().size(), 4 * ((vec.size() * 4 + 2) / 3));
}

}  // namespace
}  // namespace tollgate::test

namespace tollgate::test {
namespace {

TEST_F(GatewayTest, StreamedResponsesReturnTheirUpstreamConnectionToThePool) {
  start(basic_yaml());
  upstream.set_default_response(FakeResponse::sse({content_chunk("Hi", "stop"), usage_chunk(1, 1)}));
  TestClient client(port);
  for (int i = 0; i < 4; ++i) {
    auto events = client.post_json("/v1/chat/completions", chat_body(true)).sse_data();
    ASSERT_EQ(events.back(), "[DONE]");
  }
  EXPECT_EQ(upstream.request_count(), 4u);
  EXPECT_EQ(upstream.connection_count(), 1u) << "each stream opened a new upstream connection";
}

}  // namespace
}  // namespace tollgate::test
