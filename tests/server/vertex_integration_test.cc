// End to end against a fake Vertex AI: the same fake server plays the OAuth
// token endpoint (checking the service-account JWT's signature with the test
// key's public key) and the Vertex generateContent routes.
#include "server/gateway_fixture.h"
#include "support/service_account.h"

namespace tollgate::test {
namespace {

using nlohmann::json;

constexpr const char* kModelPath = "/v1/projects/proj-1/locations/europe-west4/publishers/google/models/gemini-2.5-flash";

class VertexGatewayTest : public GatewayTest {
 protected:
  void start_vertex() {
    account = make_test_service_account();
    std::string yaml = R"(
server: {listen: "127.0.0.1:0", threads: 1, timeouts: {drain_ms: 5000}}
logging: {level: warn}
providers:
  - name: vx
    type: vertex
    base_url: "{BASE}"
    project: proj-1
    location: europe-west4
    credentials_file: "{CREDS}"
    token_url: "{BASE}/oauth/token"
models:
  - name: chat
    deployments: [{provider: vx, model: gemini-2.5-flash}]
  - name: emb
    deployments: [{provider: vx, model: text-embedding-005}]
router: {retries: 0, timeouts: {connect_ms: 2000, first_byte_ms: 5000, total_ms: 20000}}
)";
    for (auto [from, to] : {std::pair<std::string, std::string>{"{BASE}", upstream.base_url()}, {"{CREDS}", account.file}}) {
      for (std::size_t p; (p = yaml.find(from)) != std::string::npos;) yaml.replace(p, from.size(), to);
    }
    start(yaml);
  }

  static FakeResponse token(const std::string& access_token) {
    return FakeResponse::json(200, {{"access_token", access_token}, {"expires_in", 3599}, {"token_type", "Bearer"}});
  }

  static FakeResponse answer(const std::string& text) {
    return FakeResponse::json(200, {{"candidates", json::array({{{"content", {{"role", "model"}, {"parts", json::array({{{"text", text}}})}}},
                                                                 {"finishReason", "STOP"}}})},
                                    {"usageMetadata", {{"promptTokenCount", 10}, {"candidatesTokenCount", 2}, {"totalTokenCount", 12}}}});
  }

  // What a real token endpoint checks before it issues a token.
  void expect_valid_token_request(const RecordedRequest& req) {
    EXPECT_EQ(req.method, "POST");
    EXPECT_EQ(req.target, "/oauth/token");
    EXPECT_EQ(req.header("content-type"), "application/x-www-form-urlencoded");
    EXPECT_EQ(form_value(req.body, "grant_type"), "urn:ietf:params:oauth:grant-type:jwt-bearer");
    auto jwt = verify_rs256_jwt(form_value(req.body, "assertion"), account.public_pem);
    EXPECT_TRUE(jwt.signature_ok) << "the assertion is not signed by the service account's key";
    EXPECT_EQ(jwt.header["alg"], "RS256");
    EXPECT_EQ(jwt.header["kid"], account.key_id);
    EXPECT_EQ(jwt.claims["iss"], account.client_email);
    EXPECT_EQ(jwt.claims["aud"], upstream.base_url() + "/oauth/token");
    EXPECT_EQ(jwt.claims["scope"], "https://www.googleapis.com/auth/cloud-platform");
    EXPECT_EQ(jwt.claims["exp"].get<int64_t>() - jwt.claims["iat"].get<int64_t>(), 3600);
  }

  TestServiceAccount account;
};

TEST_F(VertexGatewayTest, ServiceAccountTokenIsFetchedOnceAndReused) {
  start_vertex();
  upstream.enqueue(token("ya29.vertex-token"));
  upstream.enqueue(answer("one"));
  upstream.enqueue(answer("two"));
  TestClient client(port);
  auto first = client.post_json("/v1/chat/completions", chat_body(), {{"authorization", "Bearer client-key-must-not-leak"}});
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(first.json()["choices"][0]["message"]["content"], "one");
  auto second = client.post_json("/v1/chat/completions", chat_body());
  ASSERT_EQ(second.status, 200) << second.body;
  EXPECT_EQ(second.json()["choices"][0]["message"]["content"], "two");

  auto reqs = upstream.requests();
  ASSERT_EQ(reqs.size(), 3u) << "two requests, one token fetch";
  expect_valid_token_request(reqs[0]);
  for (int i : {1, 2}) {
    EXPECT_EQ(reqs[i].target, std::string(kModelPath) + ":generateContent");
    EXPECT_EQ(reqs[i].header("authorization"), "Bearer ya29.vertex-token");
    EXPECT_FALSE(reqs[i].has_header("x-goog-api-key"));
    EXPECT_EQ(reqs[i].json()["contents"], json::parse(R"([{"role":"user","parts":[{"text":"Hello"}]}])"));
  }
  for (const auto& [k, v] : reqs[1].headers) EXPECT_EQ(v.find("client-key-must-not-leak"), std::string::npos) << k;
}

TEST_F(VertexGatewayTest, StreamingWithToolsAndUsage) {
  start_vertex();
  upstream.enqueue(token("ya29.t"));
  auto sse = FakeResponse::chunked();
  sse.send("data: " + json::parse(R"({"candidates":[{"content":{"role":"model","parts":[{"text":"Let me check."}]}}]})").dump() + "\r\n\r\n");
  sse.send("data: " + json::parse(R"({"candidates":[{"content":{"role":"model","parts":[{"functionCall":{"name":"lookup","args":{"q":"x"}}}]},
      "finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":12,"candidatesTokenCount":6,"thoughtsTokenCount":4,"totalTokenCount":22}})").dump() +
           "\r\n\r\n");
  upstream.enqueue(sse);
  TestClient client(port);
  auto body = chat_body(true);
  body["stream_options"] = {{"include_usage", true}};
  body["tools"] = json::parse(R"([{"type":"function","function":{"name":"lookup","parameters":{"type":"object","properties":{"q":{"type":"string"}}}}}])");
  auto res = client.post_json("/v1/chat/completions", body);
  ASSERT_EQ(res.status, 200) << res.body;
  std::vector<json> ev;
  for (const auto& d : res.sse_data()) ev.push_back(d == "[DONE]" ? json("[DONE]") : json::parse(d));
  ASSERT_EQ(ev.size(), 6u) << res.body;
  EXPECT_EQ(ev[1]["choices"][0]["delta"]["content"], "Let me check.");
  auto call = ev[2]["choices"][0]["delta"]["tool_calls"][0];
  EXPECT_EQ(call["function"], json::parse(R"({"name":"lookup","arguments":"{\"q\":\"x\"}"})"));
  EXPECT_EQ(ev[3]["choices"][0]["finish_reason"], "tool_calls");
  EXPECT_EQ(ev[4]["usage"], json::parse(R"({"prompt_tokens":12,"completion_tokens":10,"total_tokens":22,
      "completion_tokens_details":{"reasoning_tokens":4}})"));
  EXPECT_EQ(ev[5], "[DONE]");
  EXPECT_EQ(upstream.requests()[1].target, std::string(kModelPath) + ":streamGenerateContent?alt=sse");
  EXPECT_EQ(upstream.requests()[1].header("authorization"), "Bearer ya29.t");
}

TEST_F(VertexGatewayTest, RejectedBearerIsA502AndTheNextRequestGetsAFreshToken) {
  start_vertex();
  upstream.enqueue(token("ya29.revoked"));
  upstream.enqueue(FakeResponse::json(401, {{"error", {{"code", 401}, {"status", "UNAUTHENTICATED"},
                                                       {"message", "Request had invalid authentication credentials: ya29.revoked"}}}}));
  upstream.enqueue(token("ya29.fresh"));
  upstream.enqueue(answer("ok"));
  TestClient client(port);
  auto failed = client.post_json("/v1/chat/completions", chat_body());
  EXPECT_EQ(failed.status, 502) << "never a client 401";
  EXPECT_EQ(failed.json()["error"]["code"], "upstream_auth_error");
  EXPECT_EQ(failed.body.find("ya29"), std::string::npos);
  auto ok = client.post_json("/v1/chat/completions", chat_body());
  ASSERT_EQ(ok.status, 200) << ok.body;
  auto reqs = upstream.requests();
  ASSERT_EQ(reqs.size(), 4u);
  EXPECT_EQ(reqs[2].target, "/oauth/token");
  EXPECT_EQ(reqs[3].header("authorization"), "Bearer ya29.fresh");
}

TEST_F(VertexGatewayTest, TokenEndpointRefusalIsA502WithoutCallingTheModel) {
  start_vertex();
  upstream.enqueue(FakeResponse::json(400, {{"error", "invalid_grant"}, {"error_description", "Invalid JWT Signature."}}));
  TestClient client(port);
  auto res = client.post_json("/v1/chat/completions", chat_body());
  EXPECT_EQ(res.status, 502);
  EXPECT_EQ(res.json()["error"]["code"], "upstream_auth_error");
  EXPECT_EQ(res.body.find("PRIVATE KEY"), std::string::npos);
  EXPECT_EQ(upstream.request_count(), 1u);
}

TEST_F(VertexGatewayTest, EmbeddingsUsePredictWithTokenCounts) {
  start_vertex();
  upstream.enqueue(token("ya29.t"));
  upstream.enqueue(FakeResponse::json(200, json::parse(R"({"predictions":[
      {"embeddings":{"values":[0.5,0.25],"statistics":{"token_count":2,"truncated":false}}},
      {"embeddings":{"values":[1.0,0.0],"statistics":{"token_count":3,"truncated":false}}}]})")));
  TestClient client(port);
  auto res = client.post_json("/v1/embeddings", {{"model", "emb"}, {"input", {"a b", "c d e"}}, {"encoding_format", "base64"}});
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(res.json()["data"][1]["index"], 1);
  EXPECT_EQ(res.json()["data"][1]["embedding"], "AACAPwAAAAA=");  // [1.0f, 0.0f]
  EXPECT_EQ(res.json()["usage"]["prompt_tokens"], 5);
  auto up = upstream.requests()[1];
  EXPECT_EQ(up.target, "/v1/projects/proj-1/locations/europe-west4/publishers/google/models/text-embedding-005:predict");
  EXPECT_EQ(up.json(), json::parse(R"({"instances":[{"content":"a b"},{"content":"c d e"}]})"));
}

}  // namespace
}  // namespace tollgate::test
