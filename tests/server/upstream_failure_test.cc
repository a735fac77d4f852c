// Failure paths on purpose: retries, fallbacks, timeouts, resets, garbage, and
// honest streams.
#include <boost/asio/ip/tcp.hpp>

#include "server/gateway_fixture.h"

namespace tollgate::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

TEST_F(GatewayTest, RetriesA5xxThenSucceeds) {
  start(basic_yaml());
  upstream.enqueue(FakeResponse::json(500, {{"error", {{"message", "boom"}}}}));
  upstream.enqueue(FakeResponse::json(200, completion_json("second time lucky")));
  TestClient client(port);
  auto res = client.post_json("/v1/chat/completions", chat_body());
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(res.json()["choices"][0]["message"]["content"], "second time lucky");
  EXPECT_EQ(res.header("x-tollgate-attempts"), "2");
  EXPECT_EQ(upstream.request_count(), 2u);
  ASSERT_EQ(recorded_sleeps().size(), 1u);  // one backoff between the attempts
}

TEST_F(GatewayTest, HonoursRetryAfterOn429) {
  start(basic_yaml());
  upstream.enqueue(FakeResponse::json(429, {{"error", {{"message", "slow down"}}}}).header("retry-after", "3"));
  upstream.enqueue(FakeResponse::json(200, completion_json("ok")));
  TestClient client(port);
  ASSERT_EQ(client.post_json("/v1/chat/completions", chat_body()).status, 200);
  ASSERT_EQ(recorded_sleeps().size(), 1u);
  EXPECT_EQ(recorded_sleeps()[0], 3000ms);
}

TEST_F(GatewayTest, ExhaustedRetriesReturnTheUpstreamClassWithRetryAfter) {
  start(basic_yaml());
  upstream.set_default_response(FakeResponse::json(503, {{"error", {{"message", "overloaded"}}}}).header("retry-after", "1"));
  TestClient client(port);
  auto res = client.post_json("/v1/chat/completions", chat_body());
  EXPECT_EQ(res.status, 503);
  EXPECT_EQ(res.header("retry-after"), "1");
  EXPECT_EQ(res.json()["error"]["type"], "server_error");
  EXPECT_EQ(upstream.request_count(), 3u);  // retries: 2
}

TEST_F(GatewayTest, FallsBackToAnotherModelAfterRetries) {
  start(R"(
server: {listen: "127.0.0.1:0", threads: 1}
logging: {level: warn}
providers:
  - {name: up, type: openai_compatible, base_url: "{UPSTREAM}", api_key: "k"}
  - {name: local-mock, type: mock}
models:
  - name: chat
    deployments: [{provider: up, model: upstream-model}]
    fallbacks: [backup]
  - name: backup
    deployments: [{provider: local-mock, model: mock-gpt}]
router: {retries: 1}
)");
  upstream.set_default_response(FakeResponse::json(502, {{"error", {{"message", "bad gateway upstream"}}}}));
  TestClient client(port);
  auto res = client.post_json("/v1/chat/completions", chat_body());
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(res.json()["model"], "mock-gpt");
  EXPECT_EQ(upstream.request_count(), 2u);
  EXPECT_EQ(res.header("x-tollgate-attempts"), "3");
}

TEST_F(GatewayTest, ClientErrorsAreNotRetried) {
  start(basic_yaml());
  upstream.set_default_response(FakeResponse::json(400, {{"error", {{"message", "maximum context length exceeded"},
                                                                     {"type", "invalid_request_error"},
                                                                     {"code", "context_length_exceeded"}}}}));
  TestClient client(port);
  auto res = client.post_json("/v1/chat/completions", chat_body());
  EXPECT_EQ(res.status, 400);
  EXPECT_EQ(res.json()["error"]["code"], "context_length_exceeded");
  EXPECT_EQ(res.json()["error"]["message"], "maximum context length exceeded");
  EXPECT_EQ(upstream.request_count(), 1u);
}

TEST_F(GatewayTest, UpstreamAuthFailureIsA502NotA401) {
  start(basic_yaml());
  upstream.set_default_response(FakeResponse::json(401, {{"error", {{"message", "Incorrect API key provided: sk-prov***1234"}}}}));
  TestClient client(port);
  auto res = client.post_json("/v1/chat/completions", chat_body());
  EXPECT_EQ(res.status, 502);
  EXPECT_EQ(res.body.find("sk-prov"), std::string::npos);
}

TEST_F(GatewayTest, FirstByteTimeoutIs504) {
  start(R"(
server: {listen: "127.0.0.1:0", threads: 1}
logging: {level: warn}
providers: [{name: up, type: openai_compatible, base_url: "{UPSTREAM}", api_key: "k"}]
models: [{name: chat, deployments: [{provider: up, model: m}]}]
router: {retries: 0, timeouts: {connect_ms: 1000, first_byte_ms: 150, total_ms: 5000}}
)");
  upstream.enqueue(FakeResponse::hang());
  TestClient client(port);
  auto res = client.post_json("/v1/chat/completions", chat_body());
  EXPECT_EQ(res.status, 504);
  EXPECT_EQ(res.json()["error"]["type"], "timeout_error");
}

TEST_F(GatewayTest, UnreachableUpstreamIs502) {
  // A port that was free a moment ago and has no listener now.
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::acceptor a(ioc, {boost::asio::ip::make_address("127.0.0.1"), 0});
  auto dead_port = a.local_endpoint().port();
  a.close();
  start(R"(
server: {listen: "127.0.0.1:0", threads: 1}
logging: {level: warn}
providers: [{name: up, type: openai_compatible, base_url: "http://127.0.0.1:)" + std::to_string(dead_port) + R"(/v1", api_key: "k"}]
models: [{name: chat, deployments: [{provider: up, model: m}]}]
router: {retries: 1}
)");
  TestClient client(port);
  auto res = client.post_json("/v1/chat/completions", chat_body());
  EXPECT_EQ(res.status, 502);
  EXPECT_EQ(res.json()["error"]["code"], "upstream_unreachable");
  EXPECT_EQ(recorded_sleeps().size(), 1u) << "a connect error is retried";
}

TEST_F(GatewayTest, GarbageAndTruncatedUpstreamResponsesAre502) {
  start(basic_yaml());
  upstream.enqueue(FakeResponse::raw("this is not http\r\n\r\n"));
  upstream.enqueue(FakeResponse::raw("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"short"));
  upstream.enqueue(FakeResponse::text(200, "<html>not json</html>", "text/html"));
  TestClient client(port);
  auto res = client.post_json("/v1/chat/completions", chat_body());
  EXPECT_EQ(res.status, 502);
  EXPECT_EQ(res.json()["error"]["code"], "upstream_protocol_error");
  EXPECT_EQ(upstream.request_count(), 3u) << "each garbage answer is a retryable server failure";
}

TEST_F(GatewayTest, MidStreamResetEndsWithAnErrorEventNotAFakeFinish) {
  start(basic_yaml());
  auto script = FakeResponse::chunked();
  script.sse_data(content_chunk("partial")).reset();
  upstream.enqueue(script);
  upstream.set_default_response(FakeResponse::json(200, completion_json("must not be used")));
  TestClient client(port);
  auto res = client.post_json("/v1/chat/completions", chat_body(true));
  ASSERT_EQ(res.status, 200);
  auto events = res.sse_data();
  ASSERT_EQ(events.size(), 2u) << res.body;
  EXPECT_EQ(json::parse(events[0])["choices"][0]["delta"]["content"], "partial");
  auto err = json::parse(events[1]);
  ASSERT_TRUE(err.contains("error")) << events[1];
  EXPECT_FALSE(err["error"]["message"].get<std::string>().empty());
  EXPECT_EQ(res.body.find("\"finish_reason\":\"stop\""), std::string::npos);
  EXPECT_EQ(res.body.find("[DONE]"), std::string::npos);
  EXPECT_EQ(upstream.request_count(), 1u) << "no retry after the first byte reached the client";
  client.read_to_eof();
  EXPECT_TRUE(client.saw_eof()) << "the gateway closes a stream that ended in an error";
}

TEST_F(GatewayTest, MalformedJsonInStreamEndsWithAnErrorEvent) {
  start(basic_yaml());
  auto script = FakeResponse::chunked();
  script.sse_data(content_chunk("ok")).sse_data("{not json");
  upstream.enqueue(script);
  TestClient client(port);
  auto events = client.post_json("/v1/chat/completions", chat_body(true)).sse_data();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(json::parse(events[1])["error"]["code"], "upstream_protocol_error");
}

TEST_F(GatewayTest, StreamCutWithoutDoneOrFinishIsAnError) {
  start(basic_yaml());
  auto script = FakeResponse::chunked();
  script.sse_data(content_chunk("half"));  // then the chunked body ends cleanly, no [DONE]
  upstream.enqueue(script);
  TestClient client(port);
  auto events = client.post_json("/v1/chat/completions", chat_body(true)).sse_data();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(json::parse(events[1])["error"]["code"], "upstream_stream_truncated");
}

TEST_F(GatewayTest, UpstreamErrorEventMidStreamIsForwardedAsError) {
  start(basic_yaml());
  upstream.enqueue(FakeResponse::sse({content_chunk("a"), R"({"error":{"message":"model overloaded","type":"server_error"}})"}, false));
  TestClient client(port);
  auto events = client.post_json("/v1/chat/completions", chat_body(true)).sse_data();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_NE(json::parse(events[1])["error"]["message"].get<std::string>().find("model overloaded"), std::string::npos);
}

TEST_F(GatewayTest, ClientDisconnectCancelsTheUpstreamAtOnce) {
  start(basic_yaml());
  auto gate = Gate::make();
  auto script = FakeResponse::chunked();
  script.sse_data(content_chunk("first")).wait(gate).sse_data(content_chunk("never", "stop"));
  upstream.enqueue(script);
  {
    TestClient client(port);
    client.send_raw("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: " +
                    std::to_string(chat_body(true).dump().size()) + "\r\n\r\n" + chat_body(true).dump());
    ASSERT_NE(client.read_until("first").find("first"), std::string::npos);
  }  // the client goes away while the upstream is still generating
  EXPECT_TRUE(upstream.wait_for_aborted_responses(1, 5s)) << "the gateway kept the upstream request open";
  EXPECT_FALSE(gate->is_open());
}

}  // namespace
}  // namespace tollgate::test
