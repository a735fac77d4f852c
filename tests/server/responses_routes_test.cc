// The stored-response routes (GET/DELETE /v1/responses/{id}, GET
// .../input_items, POST /v1/responses/input_tokens) on the real gateway:
// in memory with static keys, and on SQLite/PostgreSQL with virtual keys of
// two teams. Responses are put through the gateway's own ResponseArchive
// (POST /v1/responses stores them the same way).
#include <atomic>
#include <optional>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include "api/responses_routes.h"
#include "server/money_fixture.h"
#include "storage/response_archive.h"

namespace tollgate::test {
namespace {

using nlohmann::json;

template <class T>
T run_await(boost::asio::awaitable<T> op) {
  boost::asio::io_context ioc;
  std::optional<T> out;
  std::exception_ptr error;
  boost::asio::co_spawn(ioc, std::move(op), [&](std::exception_ptr e, T v) {
    error = e;
    if (!e) out = std::move(v);
  });
  ioc.run();
  if (error) std::rethrow_exception(error);
  return std::move(*out);
}

json message(const std::string& id, const std::string& role, const std::string& text) {
  return {{"id", id}, {"type", "message"}, {"role", role},
          {"content", json::array({{{"type", role == "assistant" ? "output_text" : "input_text"}, {"text", text}}})}};
}

StoredResponse make_response(const std::string& id, const std::string& owner, int inputs = 1) {
  StoredResponse r;
  r.id = id;
  r.owner = owner;
  r.model = "chat";
  json input = json::array();
  for (int i = 0; i < inputs; ++i) input.push_back(message("msg_in" + std::to_string(i), "user", "q" + std::to_string(i)));
  const json output = json::array({message("msg_out", "assistant", "the answer")});
  r.input_json = input.dump();
  r.output_json = output.dump();
  r.response_json = json{{"id", id}, {"object", "response"}, {"status", "completed"}, {"model", "chat"},
                         {"output", output}}
                        .dump();
  return r;
}

constexpr const char* kKeyA = "sk-team-a-111111";
constexpr const char* kKeyB = "sk-team-b-222222";

class ResponsesRoutesTest : public GatewayTest {
 protected:
  void start_gateway() {
    customize = [this](GatewayOptions& o) {
      o.now = [this] { return SystemClock::time_point(std::chrono::seconds(now_s.load())); };
    };
    start(basic_yaml(R"(
master_key: "sk-master-0123456789"
keys:
  - {name: team-a, key: "sk-team-a-111111"}
  - {name: team-b, key: "sk-team-b-222222"}
responses: {retention_days: 2}
)"));
  }
  void put(const StoredResponse& r) { ASSERT_TRUE(run_await(gateway->state().responses->put(r))); }
  ClientResponse call(const std::string& method, const std::string& target, const std::string& key,
                      const std::string& body = {}) {
    TestClient c(port);
    std::map<std::string, std::string> h{{"authorization", std::string("Bearer ") + key}};
    if (!body.empty()) h["content-type"] = "application/json";
    return c.request(method, target, body, h);
  }
  static void expect_not_found(const ClientResponse& r, const std::string& id) {
    EXPECT_EQ(r.status, 404) << r.body;
    const json want = {{"error",
                        {{"message", "Response with id '" + id + "' not found."},
                         {"type", "invalid_request_error"},
                         {"param", nullptr},
                         {"code", nullptr}}}};
    EXPECT_EQ(r.json(), want);
  }

  std::atomic<int64_t> now_s{1'800'000'000};
};

TEST_F(ResponsesRoutesTest, GetAndDeleteOnlyForTheOwner) {
  start_gateway();
  auto r = make_response("resp_0001", "static:team-a");
  put(r);

  auto got = call("GET", "/v1/responses/resp_0001", kKeyA);
  EXPECT_EQ(got.status, 200);
  EXPECT_EQ(got.body, r.response_json) << "the Response object as it was sent";
  EXPECT_EQ(got.header("content-type"), "application/json");
  EXPECT_EQ(call("GET", "/responses/resp_0001", kKeyA).status, 200) << "with or without /v1, like every route";

  // Another key: exactly the answer for an id that does not exist.
  expect_not_found(call("GET", "/v1/responses/resp_0001", kKeyB), "resp_0001");
  expect_not_found(call("GET", "/v1/responses/resp_0001/input_items", kKeyB), "resp_0001");
  expect_not_found(call("DELETE", "/v1/responses/resp_0001", kKeyB), "resp_0001");
  expect_not_found(call("GET", "/v1/responses/resp_9999", kKeyA), "resp_9999");
  EXPECT_EQ(call("GET", "/v1/responses/resp_0001", kKeyA).status, 200) << "the other key's delete did nothing";
  EXPECT_EQ(call("GET", "/v1/responses/resp_0001", "sk-master-0123456789").status, 404)
      << "the master key is its own scope too";

  auto deleted = call("DELETE", "/v1/responses/resp_0001", kKeyA);
  EXPECT_EQ(deleted.status, 200);
  EXPECT_EQ(deleted.json(), (json{{"id", "resp_0001"}, {"object", "response.deleted"}, {"deleted", true}}));
  expect_not_found(call("GET", "/v1/responses/resp_0001", kKeyA), "resp_0001");
  expect_not_found(call("DELETE", "/v1/responses/resp_0001", kKeyA), "resp_0001");

  EXPECT_EQ(call("GET", "/v1/responses/resp_0001", "").status, 401) << "the key middleware runs first";
}

TEST_F(ResponsesRoutesTest, InputItemsPages) {
  start_gateway();
  put(make_response("resp_items", "static:team-a", 5));

  auto all = call("GET", "/v1/responses/resp_items/input_items", kKeyA);
  ASSERT_EQ(all.status, 200) << all.body;
  const json body = all.json();
  EXPECT_EQ(body["object"], "list");
  ASSERT_EQ(body["data"].size(), 5u);
  EXPECT_EQ(body["data"][0]["id"], "msg_in4") << "newest first by default";
  EXPECT_EQ(body["data"][0]["content"][0]["text"], "q4");
  EXPECT_EQ(body["first_id"], "msg_in4");
  EXPECT_EQ(body["last_id"], "msg_in0");
  EXPECT_EQ(body["has_more"], false);

  auto p1 = call("GET", "/v1/responses/resp_items/input_items?order=asc&limit=2", kKeyA).json();
  EXPECT_EQ(p1["data"][0]["id"], "msg_in0");
  EXPECT_EQ(p1["data"][1]["id"], "msg_in1");
  EXPECT_EQ(p1["has_more"], true);
  auto p2 = call("GET", "/v1/responses/resp_items/input_items?order=asc&limit=2&after=msg_in1&include%5B%5D=x", kKeyA).json();
  EXPECT_EQ(p2["first_id"], "msg_in2");
  EXPECT_EQ(p2["last_id"], "msg_in3");
  auto empty = call("GET", "/v1/responses/resp_items/input_items?after=msg_nope", kKeyA).json();
  EXPECT_EQ(empty, (json{{"object", "list"}, {"data", json::array()}, {"first_id", nullptr}, {"last_id", nullptr},
                         {"has_more", false}}));

  for (const char* q : {"limit=0", "limit=101", "limit=abc", "limit=", "limit=5x", "order=sideways", "after=%00",
                        "after=a%20b"}) {
    SCOPED_TRACE(q);
    auto bad = call("GET", std::string("/v1/responses/resp_items/input_items?") + q, kKeyA);
    EXPECT_EQ(bad.status, 400) << bad.body;
    EXPECT_EQ(bad.json()["error"]["type"], "invalid_request_error");
    EXPECT_FALSE(bad.json()["error"]["param"].is_null());
  }
}

TEST_F(ResponsesRoutesTest, InputTokensEstimatesTheRequest) {
  start_gateway();
  auto small = call("POST", "/v1/responses/input_tokens", kKeyA, json{{"model", "chat"}, {"input", "Hello"}}.dump());
  ASSERT_EQ(small.status, 200) << small.body;
  EXPECT_EQ(small.json()["object"], "response.input_tokens");
  const int64_t n_small = small.json()["input_tokens"];
  EXPECT_GT(n_small, 0);

  const json big = {
      {"model", "chat"},
      {"instructions", "You are a careful assistant who answers in French."},
      {"input", json::array({message("m1", "user", "Hello there, how are you today?"),
                             {{"type", "function_call"}, {"call_id", "c1"}, {"name", "get_weather"},
                              {"arguments", R"({"city":"Paris"})"}},
                             {{"type", "function_call_output"}, {"call_id", "c1"}, {"output", "sunny, 21 degrees"}}})},
      {"tools", json::array({{{"type", "function"}, {"name", "get_weather"},
                              {"parameters", {{"type", "object"}, {"properties", {{"city", {{"type", "string"}}}}}}}}})}};
  auto large = call("POST", "/v1/responses/input_tokens", kKeyA, big.dump());
  ASSERT_EQ(large.status, 200) << large.body;
  EXPECT_GT(large.json()["input_tokens"].get<int64_t>(), n_small + 30) << "instructions, items and tools all count";

  auto empty = call("POST", "/v1/responses/input_tokens", kKeyA);
  EXPECT_EQ(empty.status, 400);
  EXPECT_EQ(call("POST", "/v1/responses/input_tokens", kKeyA, "{not json").status, 400);
  EXPECT_EQ(call("GET", "/v1/responses/input_tokens", kKeyA).status, 405);
}

TEST_F(ResponsesRoutesTest, HostilePathsGetCleanErrors) {
  start_gateway();
  put(make_response("resp_ok", "static:team-a"));
  for (const std::string& target :
       {std::string("/v1/responses/%00"), "/v1/responses/" + std::string(2000, 'a'), std::string("/v1/responses/..%2Fresp_ok"),
        std::string("/v1/responses/resp_ok%27%3B%20DROP%20TABLE%20stored_responses"), std::string("/v1/responses/%C3%A9"),
        std::string("/v1/responses//input_items"), std::string("/v1/responses/resp_ok%20")}) {
    SCOPED_TRACE(target.substr(0, 80));
    auto r = call("GET", target, kKeyA);
    EXPECT_EQ(r.status, 404) << r.body;
    ASSERT_TRUE(r.json().is_object()) << r.body;
    EXPECT_EQ(r.json()["error"]["type"], "invalid_request_error");
    EXPECT_EQ(r.body.find("DROP"), std::string::npos) << "a hostile id is not echoed";
  }
  EXPECT_EQ(call("GET", "/v1/responses/resp_ok/input_items/more", kKeyA).status, 404);
  EXPECT_EQ(call("GET", "/v1/responses/resp_ok/cancel", kKeyA).status, 404);
  EXPECT_EQ(call("POST", "/v1/responses/resp_ok", kKeyA, "{}").status, 405);
  EXPECT_EQ(call("DELETE", "/v1/responses/resp_ok/input_items", kKeyA).status, 405);
  EXPECT_EQ(call("GET", "/v1/responses/resp_ok", kKeyA).status, 200) << "still there, still served";
}

TEST_F(ResponsesRoutesTest, RetentionHidesExpiredResponses) {
  start_gateway();
  put(make_response("resp_aging", "static:team-a"));
  now_s += 2 * 86'400 - 1;
  EXPECT_EQ(call("GET", "/v1/responses/resp_aging", kKeyA).status, 200);
  now_s += 1;
  expect_not_found(call("GET", "/v1/responses/resp_aging", kKeyA), "resp_aging");
  expect_not_found(call("GET", "/v1/responses/resp_aging/input_items", kKeyA), "resp_aging");
}

TEST_F(ResponsesRoutesTest, OversizedResponsesAreNotStored) {
  start_gateway();
  auto r = make_response("resp_huge", "static:team-a");
  r.response_json = json{{"id", "resp_huge"}, {"pad", std::string(9 << 20, 'x')}}.dump();
  EXPECT_FALSE(run_await(gateway->state().responses->put(r)));
  EXPECT_EQ(call("GET", "/v1/responses/resp_huge", kKeyA).status, 404);
}

TEST(ResponsesPathTest, ParsesTheRoutes) {
  using K = ResponsesPath::Kind;
  EXPECT_EQ(parse_responses_path("/v1/responses/resp_1").kind, K::object);
  EXPECT_EQ(parse_responses_path("/v1/responses/resp_1").id, "resp_1");
  EXPECT_EQ(parse_responses_path("/v1/responses/resp_1/input_items").kind, K::input_items);
  EXPECT_EQ(parse_responses_path("/v1/responses/resp_1/input_items").id, "resp_1");
  EXPECT_EQ(parse_responses_path("/v1/responses/input_tokens").kind, K::input_tokens);
  EXPECT_EQ(parse_responses_path("/v1/responses").kind, K::none);
  EXPECT_EQ(parse_responses_path("/v1/responses/a/b/c").kind, K::none);
  EXPECT_EQ(parse_responses_path("/v1/responses/a/cancel").kind, K::none);
  EXPECT_EQ(parse_responses_path("/v1/chat/completions").kind, K::none);

  auto q = parse_input_items_query("limit=7&order=asc&after=msg_1&unknown=1&&=x");
  ASSERT_TRUE(q);
  EXPECT_EQ(q->limit, 7);
  EXPECT_EQ(q->order, ItemOrder::asc);
  EXPECT_EQ(q->after, "msg_1");
  auto d = parse_input_items_query("");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->limit, 20);
  EXPECT_EQ(d->order, ItemOrder::desc);
  EXPECT_FALSE(parse_input_items_query("limit=99999999999999999999"));
  EXPECT_EQ(parse_input_items_query("order=up").error().param, "order");
}

TEST(ResponsesOwnerTest, ScopesFollowTheKey) {
  Config config;
  config.master_key = "sk-master-0123456789";
  RequestContext ctx;
  EXPECT_EQ(owner_of(ctx, config), "anonymous");
  ctx.principal = Principal{"ops", "sk-...ops", {}, false, nullptr, nullptr, nullptr, {}};
  EXPECT_EQ(owner_of(ctx, config), "static:ops");
  ctx.principal->is_master = true;
  EXPECT_EQ(owner_of(ctx, config), "master");
  auto key = std::make_shared<KeyRecord>();
  key->key_id = "k1";
  ctx.principal = Principal{"alias", "sk-...", {}, false, key, nullptr, nullptr, {}};
  EXPECT_EQ(owner_of(ctx, config), "key:k1");
  key->team_id = "t1";
  EXPECT_EQ(owner_of(ctx, config), "team:t1");
}

// ---- with a database: virtual keys, teams, and a restart ----

class ResponsesDatabaseTest : public MoneyTest {};

TEST_P(ResponsesDatabaseTest, TeamsShareTheirResponsesAndTheySurviveARestart) {
  TOLLGATE_REQUIRE_DATABASE(*db);
  start_money();
  ASSERT_EQ(admin("POST", "/team/new", {{"team_id", "t1"}}).status, 200);
  ASSERT_EQ(admin("POST", "/team/new", {{"team_id", "t2"}}).status, 200);
  const json routes = {"llm_api_routes", "/v1/responses/*"};
  auto key_of = [&](const json& body) {
    auto gen = admin("POST", "/key/generate", body);
    EXPECT_EQ(gen.status, 200) << gen.body;
    return gen.json()["key"].get<std::string>();
  };
  const std::string alice = key_of({{"team_id", "t1"}, {"allowed_routes", routes}});
  const std::string bob = key_of({{"team_id", "t1"}, {"allowed_routes", routes}});
  const std::string eve = key_of({{"team_id", "t2"}, {"allowed_routes", routes}});
  const std::string solo = key_of({{"allowed_routes", routes}});

  ASSERT_TRUE(run_await(gateway->state().responses->put(make_response("resp_team1", "team:t1", 3))));
  auto get = [&](const std::string& key, const std::string& target) {
    TestClient c(port);
    return c.request("GET", target, "", {{"authorization", "Bearer " + key}});
  };
  EXPECT_EQ(get(alice, "/v1/responses/resp_team1").status, 200);
  EXPECT_EQ(get(bob, "/v1/responses/resp_team1").status, 200) << "a key of the same team";
  EXPECT_EQ(get(eve, "/v1/responses/resp_team1").status, 404) << "another team";
  EXPECT_EQ(get(solo, "/v1/responses/resp_team1").status, 404) << "a key without a team";
  EXPECT_EQ(get(eve, "/v1/responses/resp_team1/input_items").status, 404);
  auto items = get(bob, "/v1/responses/resp_team1/input_items?order=asc");
  ASSERT_EQ(items.status, 200) << items.body;
  EXPECT_EQ(items.json()["data"].size(), 3u);
  EXPECT_EQ(items.json()["first_id"], "msg_in0");

  gateway->shutdown();
  gateway.reset();
  start_money();
  EXPECT_EQ(get(alice, "/v1/responses/resp_team1").status, 200) << "kept in the database across a restart";
  TestClient c(port);
  auto del = c.request("DELETE", "/v1/responses/resp_team1", "", {{"authorization", "Bearer " + bob}});
  EXPECT_EQ(del.status, 200) << del.body;
  EXPECT_EQ(get(alice, "/v1/responses/resp_team1").status, 404);
}

INSTANTIATE_TEST_SUITE_P(Backends, ResponsesDatabaseTest, ::testing::Values("sqlite", "postgresql"), param_name);

}  // namespace
}  // namespace tollgate::test
