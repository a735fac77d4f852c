// The parameter policy through the real server: `params: reject` answers 400
// naming the parameter without calling the upstream; `params: drop` strips it,
// says so in x-tollgate-notes, and a fallback model still gets the client's
// original request.
#include "server/gateway_fixture.h"

namespace tollgate::test {
namespace {

using nlohmann::json;

std::string policy_yaml() {
  return R"(
server: {listen: "127.0.0.1:0", threads: 1, timeouts: {drain_ms: 5000}}
logging: {level: warn}
providers:
  - {name: strict, type: openai_compatible, base_url: "{UPSTREAM}", api_key: "k1", params: reject}
  - {name: lenient, type: openai_compatible, base_url: "{UPSTREAM}", api_key: "k2", params: drop}
models:
  - name: strict-o1
    deployments: [{provider: strict, model: o1-mini}]
  - name: lenient-o1
    deployments: [{provider: lenient, model: o1-mini}]
    fallbacks: [plain]
  - name: plain
    deployments: [{provider: lenient, model: gpt-4o}]
router: {retries: 0}
)";
}

json request(const std::string& model) {
  return {{"model", model}, {"temperature", 0.2}, {"max_tokens", 50},
          {"messages", json::array({{{"role", "user"}, {"content", "Hello"}}})}};
}

TEST_F(GatewayTest, ParamPolicyRejectNamesTheParameter) {
  start(policy_yaml());
  TestClient client(port);
  auto res = client.post_json("/v1/chat/completions", request("strict-o1"));
  EXPECT_EQ(res.status, 400) << res.body;
  auto err = res.json()["error"];
  EXPECT_EQ(err["param"], "temperature");
  EXPECT_EQ(err["code"], "unsupported_parameter");
  EXPECT_EQ(err["type"], "invalid_request_error");
  EXPECT_NE(err["message"].get<std::string>().find("o1-mini"), std::string::npos);
  EXPECT_EQ(upstream.request_count(), 0u) << "rejected before any upstream call";

  // Without the offending parameter the same model is served.
  upstream.enqueue(FakeResponse::json(200, completion_json("ok")));
  auto fine = request("strict-o1");
  fine.erase("temperature");
  auto ok = client.post_json("/v1/chat/completions", fine);
  ASSERT_EQ(ok.status, 200) << ok.body;
  auto sent = upstream.requests()[0].json();
  EXPECT_EQ(sent["max_completion_tokens"], 50) << "renamed for the o-series";
  EXPECT_FALSE(sent.contains("max_tokens"));
  EXPECT_EQ(ok.header("x-tollgate-notes"), "renamed max_tokens to max_completion_tokens for o1-mini");
}

TEST_F(GatewayTest, ParamPolicyDropStripsAndNotes) {
  start(policy_yaml());
  upstream.enqueue(FakeResponse::json(200, completion_json("ok")));
  TestClient client(port);
  auto res = client.post_json("/v1/chat/completions", request("lenient-o1"));
  ASSERT_EQ(res.status, 200) << res.body;
  const auto notes = res.header("x-tollgate-notes");
  EXPECT_NE(notes.find("dropped temperature (not supported by o1-mini)"), std::string::npos) << notes;
  auto sent = upstream.requests()[0].json();
  EXPECT_FALSE(sent.contains("temperature"));
  EXPECT_EQ(sent["max_completion_tokens"], 50);
}

TEST_F(GatewayTest, ParamPolicyDropWorksOnStreamsToo) {
  start(policy_yaml());
  upstream.enqueue(FakeResponse::sse({content_chunk("Hi", "stop"), usage_chunk(3, 1)}));
  TestClient client(port);
  auto body = request("lenient-o1");
  body["stream"] = true;
  auto res = client.post_json("/v1/chat/completions", body);
  ASSERT_EQ(res.status, 200);
  EXPECT_NE(res.header("x-tollgate-notes").find("dropped temperature"), std::string::npos);
  EXPECT_FALSE(upstream.requests()[0].json().contains("temperature"));
}

TEST_F(GatewayTest, ParamPolicyFallbackSeesTheOriginalRequest) {
  start(policy_yaml());
  upstream.enqueue(FakeResponse::json(500, {{"error", {{"message", "boom"}}}}));
  upstream.enqueue(FakeResponse::json(200, completion_json("from the fallback")));
  TestClient client(port);
  auto res = client.post_json("/v1/chat/completions", request("lenient-o1"));
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(res.json()["choices"][0]["message"]["content"], "from the fallback");
  ASSERT_EQ(upstream.request_count(), 2u);
  auto first = upstream.requests()[0].json();
  auto second = upstream.requests()[1].json();
  EXPECT_EQ(first["model"], "o1-mini");
  EXPECT_FALSE(first.contains("temperature"));
  EXPECT_EQ(second["model"], "gpt-4o");
  EXPECT_EQ(second["temperature"], 0.2) << "gpt-4o accepts temperature: the policy did not strip the shared request";
  EXPECT_EQ(second["max_tokens"], 50);
}

}  // namespace
}  // namespace tollgate::test
