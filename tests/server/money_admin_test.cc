// The admin API through the real server, against SQLite and PostgreSQL:
// a new user's flow, key states, privilege escalation attempts, hostile input.

#include <filesystem>
#include <fstream>

#include "server/money_fixture.h"

namespace tollgate::test {
namespace {

using nlohmann::json;

class AdminApiTest : public MoneyTest {};

TEST_P(AdminApiTest, TeamKeyUseAndSpendReport) {
  TOLLGATE_REQUIRE_DATABASE(*db);
  start_money();
  upstream.set_default_response(FakeResponse::json(200, completion_json("hi")));

  auto team = admin("POST", "/team/new", {{"team_alias", "research"}, {"max_budget", 10.0}, {"models", {"chat"}}});
  ASSERT_EQ(team.status, 200) << team.body;
  const std::string team_id = team.json()["team_id"];
  auto gen = admin("POST", "/key/generate",
                   {{"team_id", team_id}, {"key_alias", "alice-laptop"}, {"max_budget", 1.0}, {"rpm_limit", 2}});
  ASSERT_EQ(gen.status, 200) << gen.body;
  const std::string key = gen.json()["key"];
  EXPECT_TRUE(key.starts_with("sk-"));
  EXPECT_EQ(gen.json()["key_name"], "sk-..." + key.substr(key.size() - 4));
  EXPECT_EQ(gen.json()["token"].get<std::string>().size(), 64u);  // the hash, never the key

  auto first = chat(key);
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(first.header("x-ratelimit-limit-requests"), "2");
  EXPECT_EQ(first.header("x-ratelimit-remaining-requests"), "1");
  ASSERT_EQ(chat(key).status, 200);
  auto third = chat(key);
  EXPECT_EQ(third.status, 429) << third.body;
  EXPECT_EQ(third.header("retry-after"), "30");
  EXPECT_EQ(third.json()["error"]["type"], "rate_limit_error");
  advance(std::chrono::seconds(30));
  EXPECT_EQ(chat(key).status, 200);

  // A model outside the team's list.
  auto denied = chat(key, {{"model", "backup"}, {"messages", {{{"role", "user"}, {"content", "x"}}}}});
  EXPECT_EQ(denied.status, 403) << denied.body;

  ship_all();
  auto rows = all_spend_rows();
  ASSERT_EQ(rows.size(), 3u);  // the 429 and the 403 are rejections, not spend
  for (const auto& r : rows) {
    EXPECT_EQ(r.team_id, team_id);
    EXPECT_EQ(r.key_alias, "alice-laptop");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.prompt_tokens, 1000);
    EXPECT_EQ(r.cost_usd, "0.0020000000");  // 1000 * $1/M + 500 * $2/M
  }
  SpendQuery rq;
  rq.limit = 100;
  EXPECT_EQ(store()->rejections(rq).size(), 2u);

  auto info = admin("GET", "/key/info?key=" + key);
  ASSERT_EQ(info.status, 200) << info.body;
  EXPECT_NEAR(info.json()["info"]["spend"].get<double>(), 0.006, 1e-9);

  auto report = admin("GET", "/spend/report?group_by=team");
  ASSERT_EQ(report.status, 200) << report.body;
  ASSERT_EQ(report.json()["data"].size(), 1u);
  EXPECT_EQ(report.json()["data"][0]["team"], team_id);
  EXPECT_EQ(report.json()["data"][0]["spend_exact"], "0.0060000000");
  auto csv = admin("GET", "/spend/report?group_by=key&format=csv");
  ASSERT_EQ(csv.status, 200);
  EXPECT_TRUE(csv.header("content-type").starts_with("text/csv"));
  EXPECT_NE(csv.body.find(",3,0,3000,1500,0.0060000000"), std::string::npos) << csv.body;

  auto logs = admin("GET", "/spend/logs?api_key=" + key);
  ASSERT_EQ(logs.status, 200);
  EXPECT_EQ(logs.json().size(), 3u);
}

TEST_P(AdminApiTest, BlockedExpiredAndUnknownKeysGet401) {
  TOLLGATE_REQUIRE_DATABASE(*db);
  start_money();
  upstream.set_default_response(FakeResponse::json(200, completion_json("hi")));
  const std::string key = admin("POST", "/key/generate", json::object()).json()["key"];
  ASSERT_EQ(chat(key).status, 200);
  ASSERT_EQ(admin("POST", "/key/block", {{"key", key}}).status, 200);
  auto blocked = chat(key);
  EXPECT_EQ(blocked.status, 401);
  EXPECT_EQ(blocked.json()["error"]["code"], "key_blocked");
  ASSERT_EQ(admin("POST", "/key/unblock", {{"key", key}}).status, 200);
  EXPECT_EQ(chat(key).status, 200);

  const std::string short_lived = admin("POST", "/key/generate", {{"duration", "1h"}}).json()["key"];
  EXPECT_EQ(chat(short_lived).status, 200);
  advance(std::chrono::hours(1));
  auto expired = chat(short_lived);
  EXPECT_EQ(expired.status, 401);
  EXPECT_EQ(expired.json()["error"]["code"], "key_expired");

  EXPECT_EQ(chat("sk-not-a-key-at-all-000000").status, 401);
  auto deleted = admin("POST", "/key/delete", {{"keys", {key}}});
  ASSERT_EQ(deleted.status, 200) << deleted.body;
  EXPECT_EQ(chat(key).status, 401);

  // Regeneration: the old key stops working at once, the new one works.
  const auto gen = admin("POST", "/key/generate", json::object()).json();
  const std::string old_key = gen["key"];
  auto regen = admin("POST", "/key/regenerate", {{"key", old_key}});
  ASSERT_EQ(regen.status, 200) << regen.body;
  EXPECT_EQ(regen.json()["key_id"], gen["key_id"]);
  EXPECT_EQ(chat(old_key).status, 401);
  EXPECT_EQ(chat(regen.json()["key"].get<std::string>()).status, 200);
}

TEST_P(AdminApiTest, ScopedAdminCannotGrantMoreThanItHolds) {
  TOLLGATE_REQUIRE_DATABASE(*db);
  start_money();
  const std::string team_id = admin("POST", "/team/new", {{"team_id", "t1"}, {"max_budget", 50.0}}).json()["team_id"];
  ASSERT_EQ(admin("POST", "/team/new", {{"team_id", "t2"}}).status, 200);
  auto gen = admin("POST", "/key/generate",
                   {{"team_id", team_id}, {"models", {"chat"}}, {"max_budget", 5.0}, {"rpm_limit", 100},
                    {"allowed_routes", {"llm_api_routes", "management_routes"}}});
  ASSERT_EQ(gen.status, 200) << gen.body;
  const std::string lead = gen.json()["key"];
  const std::string lead_id = gen.json()["key_id"];

  auto attempt = [&](const json& body) { return admin("POST", "/key/generate", body, lead); };
  const json ok = {{"team_id", team_id}, {"models", {"chat"}}, {"max_budget", 1.0}, {"rpm_limit", 10},
                   {"allowed_routes", {"llm_api_routes"}}};
  auto fine = attempt(ok);
  ASSERT_EQ(fine.status, 200) << fine.body;

  auto with = [&](const char* field, json value) {
    json b = ok;
    if (value.is_null()) {
      b.erase(field);
    } else {
      b[field] = value;
    }
    return attempt(b);
  };
  EXPECT_EQ(with("models", nullptr).status, 403);              // "every model"
  EXPECT_EQ(with("models", {"chat", "backup"}).status, 403);   // a model it lacks
  EXPECT_EQ(with("max_budget", 6.0).status, 403);
  EXPECT_EQ(with("max_budget", nullptr).status, 403);          // unlimited
  EXPECT_EQ(with("rpm_limit", 1000).status, 403);
  EXPECT_EQ(with("allowed_routes", {"llm_api_routes", "spend_tracking_routes"}).status, 403);
  EXPECT_EQ(with("team_id", "t2").status, 403);
  auto escalate = with("models", {"*"});
  EXPECT_EQ(escalate.status, 403);
  EXPECT_EQ(escalate.json()["error"]["code"], "privilege_escalation");

  // No self-promotion.
  EXPECT_EQ(admin("POST", "/key/update", {{"key", lead_id}, {"max_budget", 500.0}}, lead).status, 403);
  EXPECT_EQ(admin("POST", "/key/update", {{"key", lead}, {"models", json::array()}}, lead).status, 403);
  EXPECT_EQ(admin("POST", "/team/update", {{"team_id", team_id}, {"max_budget", 1000.0}}, lead).status, 403);
  EXPECT_EQ(admin("POST", "/team/update", {{"team_id", "t2"}, {"max_budget", 1.0}}, lead).status, 403);
  EXPECT_EQ(admin("POST", "/team/new", {{"team_alias", "mine"}}, lead).status, 403);
  EXPECT_EQ(admin("POST", "/user/new", {{"user_role", "proxy_admin"}, {"team_id", team_id}, {"models", {"chat"}},
                                        {"max_budget", 1.0}, {"rpm_limit", 1}}, lead).status, 403);
  EXPECT_EQ(admin("GET", "/spend/report", nullptr, lead).status, 403);  // not a route it holds
  // A key it created can be changed within bounds; the master's keys cannot.
  EXPECT_EQ(admin("POST", "/key/update", {{"key", fine.json()["key_id"]}, {"max_budget", 2.0}}, lead).status, 200);
  const std::string other = admin("POST", "/key/generate", {{"team_id", "t2"}}).json()["key_id"];
  EXPECT_EQ(admin("POST", "/key/block", {{"key", other}}, lead).status, 403);
  // A plain key reaches no admin route at all, and its own info only.
  const std::string plain = fine.json()["key"];
  EXPECT_EQ(admin("POST", "/key/generate", json::object(), plain).status, 403);
  EXPECT_EQ(admin("GET", "/key/info", nullptr, plain).status, 200);
  EXPECT_EQ(admin("GET", "/key/info?key=" + lead_id, nullptr, plain).status, 403);

  // Every change left an audit event naming its actor.
  auto events = store()->audit_events(fine.json()["key_id"], 10);
  ASSERT_EQ(events.size(), 2u);
  for (const auto& e : events) EXPECT_EQ(e.actor, lead_id);
}

TEST_P(AdminApiTest, HostileInputIsStoredVerbatimAndNeverLeaksKeys) {
  TOLLGATE_REQUIRE_DATABASE(*db);
  start_money();
  upstream.set_default_response(FakeResponse::json(200, completion_json("hi")));
  const std::string evil = "x'); DROP TABLE keys; -- \" \\ ' OR 1=1 --";
  auto team = admin("POST", "/team/new", {{"team_id", evil}, {"team_alias", evil}, {"metadata", {{"note", evil}}}});
  ASSERT_EQ(team.status, 200) << team.body;
  auto gen = admin("POST", "/key/generate", {{"team_id", evil}, {"key_alias", evil}, {"tags", {evil}}, {"metadata", {{evil, evil}}}});
  ASSERT_EQ(gen.status, 200) << gen.body;
  const std::string key = gen.json()["key"];
  auto r = chat(key, chat_body(), {{"x-tollgate-tags", evil}});
  ASSERT_EQ(r.status, 200) << r.body;
  // An injection attempt in the key itself is just an unknown key.
  EXPECT_EQ(chat("sk-' OR '1'='1' --").status, 401);
  EXPECT_EQ(admin("GET", "/key/info?key=%27%20OR%201%3D1%20--").status, 404);
  ship_all();

  auto info = admin("GET", "/team/info?team_id=" + std::string("x%27%29%3B%20DROP%20TABLE%20keys%3B%20--%20%22%20%5C%20%27%20OR%201%3D1%20--"));
  ASSERT_EQ(info.status, 200) << info.body;
  EXPECT_EQ(info.json()["team_info"]["team_alias"], evil);
  EXPECT_EQ(info.json()["keys"][0]["key_alias"], evil);
  auto rows = all_spend_rows();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].team_id, evil);
  EXPECT_EQ(rows[0].tags, std::vector<std::string>{evil});

  // Bad bodies get a clear 400 naming the field, and change nothing.
  auto bad = admin("POST", "/key/generate", {{"max_budget", "lots"}});
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.json()["error"]["param"], "max_budget");
  auto typo = admin("POST", "/key/generate", {{"max_budgte", 1}});
  EXPECT_EQ(typo.status, 400);
  EXPECT_EQ(typo.json()["error"]["param"], "max_budgte");
  TestClient c(port);
  auto garbage = c.request("POST", "/key/generate", "{not json", {{"authorization", std::string("Bearer ") + kMaster}});
  EXPECT_EQ(garbage.status, 400);
  EXPECT_EQ(admin("POST", "/key/info", json::object()).status, 405);
  EXPECT_EQ(admin("GET", "/key/generate-all").status, 404);

  // The key appears nowhere: not in the database's rows or audit events, not in the spool.
  auto s = store();
  for (const auto& row : s->spend_logs(SpendQuery{})) EXPECT_EQ(nlohmann::json(row.metadata).dump().find(key), std::string::npos);
  auto k = s->find_key(gen.json()["key_id"]);
  ASSERT_TRUE(k);
  EXPECT_EQ(k->token_hash.find(key), std::string::npos);
  for (const auto& e : s->audit_events(k->key_id, 10)) {
    EXPECT_EQ(e.before.dump().find(key), std::string::npos);
    EXPECT_EQ(e.after.dump().find(key), std::string::npos);
  }
  for (const auto& f : std::filesystem::recursive_directory_iterator(db->dir())) {
    if (!f.is_regular_file()) continue;
    std::ifstream in(f.path(), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(bytes.find(key), std::string::npos) << f.path();
  }
}

TEST_P(AdminApiTest, ParallelAndTokenLimitsAnswer429) {
  TOLLGATE_REQUIRE_DATABASE(*db);
  start_money();
  auto gate = Gate::make();
  upstream.enqueue(FakeResponse::json(200, completion_json("held")).hold_until(gate));
  upstream.set_default_response(FakeResponse::json(200, completion_json("hi")));
  const std::string key = admin("POST", "/key/generate", {{"max_parallel_requests", 1}}).json()["key"];
  std::thread first([&] { EXPECT_EQ(chat(key).status, 200); });
  ASSERT_TRUE(upstream.wait_for_requests(1));
  auto second = chat(key);
  EXPECT_EQ(second.status, 429) << second.body;
  EXPECT_NE(second.json()["error"]["message"].get<std::string>().find("max_parallel_requests"), std::string::npos);
  gate->open();
  first.join();
  EXPECT_EQ(chat(key).status, 200);  // the slot came back

  // 2000 tokens a minute: each request is estimated at a few tokens, and the
  // fake reports 1500. After two corrections 3000 tokens are charged, so the
  // third request of the minute is refused.
  const std::string tkey = admin("POST", "/key/generate", {{"tpm_limit", 2000}}).json()["key"];
  auto a = chat(tkey);
  ASSERT_EQ(a.status, 200);
  EXPECT_EQ(a.header("x-ratelimit-limit-tokens"), "2000");
  ASSERT_EQ(chat(tkey).status, 200);
  auto b = chat(tkey);
  EXPECT_EQ(b.status, 429) << b.body;
  EXPECT_NE(b.json()["error"]["message"].get<std::string>().find("tokens per minute"), std::string::npos);
  advance(std::chrono::seconds(60));
  EXPECT_EQ(chat(tkey).status, 200);
}

INSTANTIATE_TEST_SUITE_P(Stores, AdminApiTest, ::testing::Values("sqlite", "postgresql"), param_name);

}  // namespace
}  // namespace tollgate::test
