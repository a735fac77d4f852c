// Client keys: Bearer or x-api-key, per-key model allow-lists, master key.
#include "server/gateway_fixture.h"

namespace tollgate::test {
namespace {

using nlohmann::json;

class AuthTest : public GatewayTest {
 protected:
  void SetUp() override {
    start(R"(
server: {listen: "127.0.0.1:0", threads: 1}
logging: {level: warn}
master_key: "sk-master-000000"
providers: [{name: m, type: mock}]
models:
  - {name: chat, deployments: [{provider: m, model: mock-gpt}]}
  - {name: premium, deployments: [{provider: m, model: mock-gpt}]}
keys:
  - {name: team-a, key: "sk-team-a-111111", models: [chat]}
  - {name: team-b, key: "sk-team-b-222222"}
)");
  }
};

TEST_F(AuthTest, MissingOrWrongKeyIs401) {
  TestClient client(port);
  auto none = client.post_json("/v1/chat/completions", chat_body());
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(none.json()["error"]["code"], "invalid_api_key");
  auto wrong = client.post_json("/v1/chat/completions", chat_body(), {{"authorization", "Bearer sk-team-a-111112"}});
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(wrong.body.find("sk-team-a"), std::string::npos) << "errors never echo keys";
  EXPECT_EQ(client.request("GET", "/v1/models").status, 401);
}

TEST_F(AuthTest, BearerAndXApiKeyBothWork) {
  TestClient client(port);
  EXPECT_EQ(client.post_json("/v1/chat/completions", chat_body(), {{"authorization", "Bearer sk-team-a-111111"}}).status, 200);
  EXPECT_EQ(client.post_json("/v1/chat/completions", chat_body(), {{"x-api-key", "sk-team-a-111111"}}).status, 200);
}

TEST_F(AuthTest, KeyLimitedToItsModels) {
  TestClient client(port);
  auto body = chat_body();
  body["model"] = "premium";
  auto denied = client.post_json("/v1/chat/completions", body, {{"authorization", "Bearer sk-team-a-111111"}});
  EXPECT_EQ(denied.status, 403);
  EXPECT_EQ(denied.json()["error"]["type"], "permission_error");
  EXPECT_EQ(client.post_json("/v1/chat/completions", body, {{"authorization", "Bearer sk-team-b-222222"}}).status, 200);
  EXPECT_EQ(client.post_json("/v1/chat/completions", body, {{"authorization", "Bearer sk-master-000000"}}).status, 200);
  auto list = client.request("GET", "/v1/models", "", {{"authorization", "Bearer sk-team-a-111111"}});
  ASSERT_EQ(list.status, 200);
  ASSERT_EQ(list.json()["data"].size(), 1u);
  EXPECT_EQ(list.json()["data"][0]["id"], "chat");
  EXPECT_EQ(client.request("GET", "/v1/models/premium", "", {{"authorization", "Bearer sk-team-a-111111"}}).status, 403);
}

TEST_F(AuthTest, HealthNeedsNoKey) {
  TestClient client(port);
  EXPECT_EQ(client.request("GET", "/health/liveliness").status, 200);
  EXPECT_EQ(client.request("GET", "/health/readiness").status, 200);
}

}  // namespace
}  // namespace tollgate::test
