// Bad input gets a clear OpenAI-shaped error with the right status, and the
// connection keeps working where HTTP allows it.
#include "server/gateway_fixture.h"

namespace tollgate::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

void expect_openai_error(const ClientResponse& res, int status, const std::string& code = "") {
  EXPECT_EQ(res.status, status) << res.body;
  auto j = res.json();
  ASSERT_TRUE(j.is_object() && j.contains("error")) << res.body;
  for (const char* k : {"message", "type", "param", "code"}) EXPECT_TRUE(j["error"].contains(k)) << k << " in " << res.body;
  EXPECT_FALSE(j["error"]["message"].get<std::string>().empty());
  if (!code.empty()) EXPECT_EQ(j["error"]["code"], code) << res.body;
  EXPECT_FALSE(res.header("x-request-id").empty());
}

TEST_F(GatewayTest, InvalidJsonIs400AndConnectionStaysUsable) {
  start(basic_yaml());
  TestClient client(port);
  expect_openai_error(client.request("POST", "/v1/chat/completions", "{\"model\": \"chat\", "), 400, "invalid_json");
  expect_openai_error(client.request("POST", "/v1/chat/completions", ""), 400, "invalid_json");
  EXPECT_EQ(client.request("GET", "/health/liveliness").status, 200);
  EXPECT_EQ(upstream.request_count(), 0u);
}

TEST_F(GatewayTest, InvalidUtf8Is400) {
  start(basic_yaml());
  TestClient client(port);
  auto res = client.request("POST", "/v1/chat/completions",
                            "{\"model\":\"chat\",\"messages\":[{\"role\":\"user\",\"content\":\"\xff\xfe\"}]}");
  expect_openai_error(res, 400, "invalid_json");
  EXPECT_NE(res.json()["error"]["message"].get<std::string>().find("UTF-8"), std::string::npos);
}

TEST_F(GatewayTest, MissingAndMistypedFieldsNameTheParameter) {
  start(basic_yaml());
  TestClient client(port);
  auto no_model = client.post_json("/v1/chat/completions", {{"messages", json::array({{{"role", "user"}, {"content", "x"}}})}});
  expect_openai_error(no_model, 400, "missing_required_parameter");
  EXPECT_EQ(no_model.json()["error"]["param"], "model");
  auto no_messages = client.post_json("/v1/chat/completions", {{"model", "chat"}});
  EXPECT_EQ(no_messages.json()["error"]["param"], "messages");
  auto wrong_type = client.post_json("/v1/chat/completions", {{"model", "chat"}, {"messages", "hello"}});
  expect_openai_error(wrong_type, 400, "invalid_type");
  auto bad_temp = chat_body();
  bad_temp["temperature"] = "hot";
  EXPECT_EQ(client.post_json("/v1/chat/completions", bad_temp).json()["error"]["param"], "temperature");
  auto not_object = client.request("POST", "/v1/chat/completions", "[1,2,3]");
  expect_openai_error(not_object, 400, "invalid_body");
  auto bad_role = client.post_json("/v1/chat/completions", {{"model", "chat"}, {"messages", json::array({{{"role", "wizard"}, {"content", "x"}}})}});
  EXPECT_EQ(bad_role.json()["error"]["param"], "messages[0].role");
  auto opts_without_stream = chat_body();
  opts_without_stream["stream_options"] = {{"include_usage", true}};
  EXPECT_EQ(client.post_json("/v1/chat/completions", opts_without_stream).json()["error"]["param"], "stream_options");
  EXPECT_EQ(upstream.request_count(), 0u);
}

TEST_F(GatewayTest, UnknownModelIs404) {
  start(basic_yaml());
  TestClient client(port);
  auto body = chat_body();
  body["model"] = "gpt-nonexistent";
  expect_openai_error(client.post_json("/v1/chat/completions", body), 404, "model_not_found");
}

TEST_F(GatewayTest, OversizedBodyIs413) {
  start(R"(
server: {listen: "127.0.0.1:0", threads: 1, max_body_bytes: 1024}
logging: {level: warn}
providers: [{name: m, type: mock}]
models: [{name: chat, deployments: [{provider: m, model: mock-gpt}]}]
)");
  TestClient client(port);
  auto body = chat_body();
  body["messages"][0]["content"] = std::string(4096, 'x');
  expect_openai_error(client.post_json("/v1/chat/completions", body), 413, "request_too_large");
  // A chunked body without Content-Length hits the same limit while streaming in.
  TestClient chunked(port);
  std::string big(2048, 'y');
  char size_line[16];
  std::snprintf(size_line, sizeof size_line, "%zx\r\n", big.size());
  chunked.send_raw("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" +
                   std::string(size_line) + big + "\r\n0\r\n\r\n");
  auto raw = chunked.read_to_eof();
  EXPECT_NE(raw.find("413"), std::string::npos) << raw.substr(0, 200);
}

TEST_F(GatewayTest, OversizedHeadersAre431) {
  start(basic_yaml());
  TestClient client(port);
  client.send_raw("GET /v1/models HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(70000, 'a') + "\r\n\r\n");
  auto raw = client.read_to_eof();
  EXPECT_TRUE(raw.starts_with("HTTP/1.1 431")) << raw.substr(0, 100);
  EXPECT_NE(raw.find("\"error\""), std::string::npos);
}

TEST_F(GatewayTest, UnknownRouteAndWrongMethod) {
  start(basic_yaml());
  TestClient client(port);
  expect_openai_error(client.request("POST", "/v1/nope", "{}"), 404, "unknown_url");
  auto wrong = client.request("GET", "/v1/chat/completions");
  expect_openai_error(wrong, 405, "method_not_allowed");
}

TEST_F(GatewayTest, PipelinedRequestsAreAnsweredInOrder) {
  start(basic_yaml());
  TestClient client(port);
  client.send_raw("GET /health/liveliness HTTP/1.1\r\nHost: x\r\n\r\nGET /v1/models/backup HTTP/1.1\r\nHost: x\r\n\r\n"
                  "GET /v1/models/chat HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  auto raw = client.read_to_eof();
  auto a = raw.find("healthy"), b = raw.find("\"id\":\"backup\""), c = raw.find("\"id\":\"chat\"");
  ASSERT_NE(a, std::string::npos) << raw;
  ASSERT_NE(b, std::string::npos) << raw;
  ASSERT_NE(c, std::string::npos) << raw;
  EXPECT_LT(a, b);
  EXPECT_LT(b, c);
}

TEST_F(GatewayTest, HeaderInjectionAttemptIsRejected) {
  start(basic_yaml());
  TestClient client(port);
  // A bare CR inside a header value is not valid HTTP.
  client.send_raw("GET /v1/models HTTP/1.1\r\nHost: x\r\nX-Evil: a\rInjected: yes\r\n\r\n");
  auto raw = client.read_to_eof();
  EXPECT_TRUE(raw.starts_with("HTTP/1.1 400")) << raw.substr(0, 100);
  EXPECT_EQ(raw.find("Injected"), std::string::npos);
}

TEST_F(GatewayTest, SlowClientIsDisconnected) {
  start(R"(
server: {listen: "127.0.0.1:0", threads: 1, timeouts: {idle_ms: 200, header_ms: 200}}
logging: {level: warn}
providers: [{name: m, type: mock}]
models: [{name: chat, deployments: [{provider: m, model: mock-gpt}]}]
)");
  TestClient client(port, 5s);
  client.send_raw("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"model\"");
  // The body never completes: the gateway drops the connection after
  // header_ms instead of holding it forever (the client waits up to 5 s).
  auto raw = client.read_to_eof();
  EXPECT_TRUE(client.saw_eof()) << "the gateway kept a stalled connection open";
  EXPECT_EQ(upstream.request_count(), 0u);
}

TEST_F(GatewayTest, ExpectContinueIsHonoured) {
  start(basic_yaml());
  TestClient client(port);
  std::string body = R"({"model":"backup","messages":[{"role":"user","content":"hi"}]})";
  client.send_raw("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: " +
                  std::to_string(body.size()) + "\r\n\r\n");
  auto first = client.read_until("\r\n\r\n");
  EXPECT_TRUE(first.starts_with("HTTP/1.1 100 Continue")) << first;
  client.send_raw(body);
  auto rest = client.read_until("mock provider");
  EXPECT_NE(rest.find("200 OK"), std::string::npos);
}

}  // namespace
}  // namespace tollgate::test
