// Scoped admin keys through the real server, against SQLite and PostgreSQL:
// every way a key could mint more than it holds is a 403 naming the right,
// children draw on their parent's budget (also across a restart), open
// access still refuses blocked and expired keys, and a raw key is recorded
// nowhere.

#include <filesystem>
#include <fstream>
#include <sstream>

#include <spdlog/sinks/ostream_sink.h>

#include "admin/admin_api.h"
#include "admin/records_json.h"
#include "observability/otlp_exporter.h"
#include "server/money_fixture.h"
#include "storage/directory.h"

namespace tollgate::test {
namespace {

using nlohmann::json;

class ScopedAdminEntitlementsTest : public MoneyTest {
 protected:
  // The scoped admin: team t1 ($50 per 30 days), user u1, model chat, $5 per
  // 30 days, 100 rpm, expiring in 7 days, pinned to region eu when `pinned`
  // (the test upstream's deployment has no tags: its children cannot chat);
  // it may generate, update, regenerate and block keys, but not unblock them.
  void make_lead(bool pinned = true) {
    ASSERT_EQ(admin("POST", "/team/new", {{"team_id", "t1"}, {"max_budget", 50.0}, {"budget_duration", "30d"}}).status, 200);
    ASSERT_EQ(admin("POST", "/team/new", {{"team_id", "t2"}}).status, 200);
    for (auto [user, team] : {std::pair{"u1", "t1"}, {"u1b", "t1"}, {"u2", "t2"}}) {
      ASSERT_EQ(admin("POST", "/user/new", {{"user_id", user}, {"team_id", team}}).status, 200);
    }
    auto gen = admin("POST", "/key/generate",
                     {{"key_alias", "lead"}, {"team_id", "t1"}, {"user_id", "u1"}, {"models", {"chat"}},
                      {"max_budget", 5.0}, {"budget_duration", "30d"}, {"rpm_limit", 100}, {"duration", "7d"},
                      {"metadata", pinned ? json{{"route_tags", {{"region", "eu"}}}} : json::object()},
                      {"allowed_routes", {"llm_api_routes", "/key/generate", "/key/update", "/key/regenerate",
                                          "/key/block"}}});
    ASSERT_EQ(gen.status, 200) << gen.body;
    lead = gen.json()["key"];
  }

  // What the lead may grant; each attempt changes one field.
  static json fitting_child(bool pinned = true) {
    return {{"team_id", "t1"}, {"models", {"chat"}}, {"max_budget", 1.0}, {"budget_duration", "30d"},
            {"rpm_limit", 10}, {"duration", "1d"},
            {"metadata", pinned ? json{{"route_tags", {{"region", "eu"}}}} : json::object()},
            {"allowed_routes", {"llm_api_routes"}}};
  }

  static json with(json body, const std::string& field, const json& value) {
    if (value.is_null()) {
      body.erase(field);
    } else {
      body[field] = value;
    }
    return body;
  }

  static void expect_escalation(const ClientResponse& r, const std::string& param, const std::string& words) {
    EXPECT_EQ(r.status, 403) << r.body;
    if (r.status != 403) return;
    const json error = r.json()["error"];
    EXPECT_EQ(error["type"], "permission_error");
    EXPECT_EQ(error["code"], "privilege_escalation");
    EXPECT_EQ(error["param"], param);
    EXPECT_NE(error["message"].get<std::string>().find(words), std::string::npos) << error["message"];
  }

  // Every line of every logger that exists when it is made (the default one
  // among them), and of the access logger, at every level.
  class LogCapture {
   public:
    LogCapture() : sink_(std::make_shared<spdlog::sinks::ostream_sink_mt>(out_)) {
      spdlog::apply_all([&](const std::shared_ptr<spdlog::logger>& l) { l->sinks().push_back(sink_); });
      own_access_ = !spdlog::get("access");
      if (own_access_) spdlog::register_logger(std::make_shared<spdlog::logger>("access", sink_));
    }
    ~LogCapture() {
      spdlog::set_level(spdlog::level::warn);
      spdlog::apply_all([&](const std::shared_ptr<spdlog::logger>& l) { std::erase(l->sinks(), sink_); });
      if (own_access_) spdlog::drop("access");
    }
    std::string text() {
      sink_->flush();
      return out_.str();
    }

   private:
    std::ostringstream out_;
    std::shared_ptr<spdlog::sinks::ostream_sink_mt> sink_;
    bool own_access_ = false;
  };

  int keys_of_team(const std::string& team) { return admin("GET", "/key/list?team_id=" + team).json()["total_count"]; }

  std::string lead;
  std::optional<LogCapture> capture;  // destroyed after TearDown stopped the gateway
};

TEST_P(ScopedAdminEntitlementsTest, EveryEscalationIsRefusedNamingTheMissingRight) {
  TOLLGATE_REQUIRE_DATABASE(*db);
  start_money();
  make_lead();
  auto mint = [&](const json& body) { return admin("POST", "/key/generate", body, lead); };
  ASSERT_EQ(mint(fitting_child()).status, 200);
  const int before = keys_of_team("t1");

  // An alias whose target is a model the lead may not use.
  expect_escalation(mint(with(fitting_child(), "aliases", {{"chat", "backup"}})), "aliases", "`backup`");
  // Dropping or changing the data-residency pin.
  expect_escalation(mint(with(fitting_child(), "metadata", json::object())), "metadata.route_tags", "region=eu");
  expect_escalation(mint(with(fitting_child(), "metadata", {{"route_tags", {{"region", "us"}}}})),
                    "metadata.route_tags", "region=eu");
  // A budget that refills faster than the lead's.
  expect_escalation(mint(with(fitting_child(), "budget_duration", "1d")), "budget_duration", "'1d'");
  expect_escalation(mint(with(fitting_child(), "max_budget", 6.0)), "max_budget", "$6.00");
  // A user of another team.
  expect_escalation(mint(with(fitting_child(), "user_id", "u2")), "user_id", "'u2'");
  // A key that outlives the lead, and routes it does not hold.
  expect_escalation(mint(with(fitting_child(), "duration", nullptr)), "duration", "outlives");
  expect_escalation(mint(with(fitting_child(), "allowed_routes", {"llm_api_routes", "/key/unblock"})),
                    "allowed_routes", "'/key/unblock'");
  EXPECT_EQ(keys_of_team("t1"), before) << "no refused key was created";

  // Within the lead's rights: a user of its own team, a narrower pin.
  auto fine = mint(with(with(fitting_child(), "user_id", "u1b"), "metadata",
                        {{"route_tags", {{"region", "eu"}, {"tier", "gold"}}}}));
  ASSERT_EQ(fine.status, 200) << fine.body;
  const std::string child_id = fine.json()["key_id"];
  // The same checks on update and regenerate.
  expect_escalation(admin("POST", "/key/update", {{"key", child_id}, {"aliases", {{"chat", "backup"}}}}, lead), "aliases",
                    "`backup`");
  expect_escalation(admin("POST", "/key/update", {{"key", child_id}, {"user_id", "u2"}}, lead), "user_id", "'u2'");
  expect_escalation(admin("POST", "/key/regenerate", {{"key", child_id}, {"budget_duration", "1h"}}, lead),
                    "budget_duration", "'1h'");
  EXPECT_EQ(admin("GET", "/key/info?key=" + child_id).json()["info"]["user_id"], "u1b");
}

TEST_P(ScopedAdminEntitlementsTest, UnblockingNeedsTheUnblockRightOnEveryRoute) {
  TOLLGATE_REQUIRE_DATABASE(*db);
  start_money();
  upstream.set_default_response(FakeResponse::json(200, completion_json("hi")));
  make_lead(false);
  auto child = admin("POST", "/key/generate", fitting_child(false), lead);
  ASSERT_EQ(child.status, 200) << child.body;
  const std::string key = child.json()["key"];
  const std::string id = child.json()["key_id"];
  ASSERT_EQ(admin("POST", "/key/update", {{"key", id}, {"blocked", true}}, lead).status, 200);  // it may block
  EXPECT_EQ(chat(key).json()["error"]["code"], "key_blocked");

  expect_escalation(admin("POST", "/key/update", {{"key", id}, {"blocked", false}}, lead), "blocked", "/key/unblock");
  expect_escalation(admin("POST", "/key/regenerate", {{"key", id}, {"blocked", false}}, lead), "blocked",
                    "/key/unblock");
  EXPECT_EQ(admin("POST", "/key/unblock", {{"key", id}}, lead).status, 403);
  EXPECT_EQ(admin("GET", "/key/info?key=" + id).json()["info"]["blocked"], true);
  EXPECT_EQ(chat(key).status, 401);

  ASSERT_EQ(admin("POST", "/key/unblock", {{"key", id}}).status, 200);  // the master key may
  EXPECT_EQ(chat(key).status, 200);
}

TEST_P(ScopedAdminEntitlementsTest, EmptyAllowedRoutesMeansTheSameWhenGrantedAndWhenUsed) {
  TOLLGATE_REQUIRE_DATABASE(*db);
  start_money();
  upstream.set_default_response(FakeResponse::json(200, completion_json("hi")));
  make_lead(false);
  // A minter that may only generate keys, and no LLM route.
  auto minter = admin("POST", "/key/generate",
                      {{"team_id", "t1"}, {"models", {"chat"}}, {"max_budget", 1.0}, {"allowed_routes", {"/key/generate"}}});
  ASSERT_EQ(minter.status, 200) << minter.body;
  const std::string minter_key = minter.json()["key"];
  EXPECT_EQ(chat(minter_key).status, 403);
  json child = {{"team_id", "t1"}, {"models", {"chat"}}, {"max_budget", 1.0}};
  expect_escalation(admin("POST", "/key/generate", child, minter_key), "allowed_routes", "'llm_api_routes'");
  expect_escalation(admin("POST", "/key/generate", with(child, "allowed_routes", json::array()), minter_key),
                    "allowed_routes", "'llm_api_routes'");

  // The lead holds the LLM routes: its [] child gets exactly what [] admits.
  auto plain = admin("POST", "/key/generate", with(fitting_child(false), "allowed_routes", json::array()), lead);
  ASSERT_EQ(plain.status, 200) << plain.body;
  const std::string plain_key = plain.json()["key"];
  EXPECT_EQ(chat(plain_key).status, 200);
  EXPECT_EQ(admin("GET", "/key/info", nullptr, plain_key).status, 200);
  EXPECT_EQ(admin("POST", "/key/generate", fitting_child(false), plain_key).status, 403);
}

TEST_P(ScopedAdminEntitlementsTest, ChildrenDrawOnTheirParentsBudgetAlsoAfterARestart) {
  TOLLGATE_REQUIRE_DATABASE(*db);
  start_money();
  upstream.set_default_response(FakeResponse::json(200, completion_json("hi")));  // $0.002 a request
  auto lead_gen = admin("POST", "/key/generate",
                        {{"key_alias", "lead"}, {"models", {"chat"}}, {"max_budget", 0.003},
                         {"allowed_routes", {"llm_api_routes", "/key/generate"}}});
  ASSERT_EQ(lead_gen.status, 200) << lead_gen.body;
  const std::string lead_key = lead_gen.json()["key"];
  // Two children, each with the lead's whole budget.
  std::vector<std::string> children;
  for (int i = 0; i < 2; ++i) {
    auto c = admin("POST", "/key/generate", {{"models", {"chat"}}, {"max_budget", 0.003}}, lead_key);
    ASSERT_EQ(c.status, 200) << c.body;
    children.push_back(c.json()["key"]);
  }
  json body = chat_body();
  body["max_tokens"] = 100;  // reserves well under $0.001
  auto spend = [&](const std::string& key) {
    auto r = chat(key, body);
    EXPECT_TRUE(gateway->wait_idle(std::chrono::seconds(20)));  // settled before the next one
    return r;
  };
  ASSERT_EQ(spend(children[0]).status, 200);
  ASSERT_EQ(spend(children[0]).status, 200);  // $0.004 spent under the lead
  auto refused = spend(children[1]);          // its own $0.003 is untouched
  EXPECT_EQ(refused.status, 400) << refused.body;
  EXPECT_EQ(refused.json()["error"]["type"], "budget_exceeded");
  EXPECT_NE(refused.json()["error"]["message"].get<std::string>().find("key 'lead' (this key was minted under it"),
            std::string::npos)
      << refused.body;
  EXPECT_EQ(spend(lead_key).status, 400);

  ship_all();
  auto rows = all_spend_rows();
  ASSERT_EQ(rows.size(), 2u);  // the spend is on the child that made it
  for (const auto& r : rows) EXPECT_NE(r.key_id, lead_gen.json()["key_id"]);

  // A new process seeds the lead's budget from the store, children included.
  gateway->shutdown();
  gateway.reset();
  start_money();
  EXPECT_EQ(chat(children[1], body).status, 400);
  EXPECT_EQ(chat(lead_key, body).status, 400);
}

TEST_P(ScopedAdminEntitlementsTest, OpenAccessStillRefusesBlockedAndExpiredVirtualKeys) {
  TOLLGATE_REQUIRE_DATABASE(*db);
  upstream.set_default_response(FakeResponse::json(200, completion_json("hi")));
  const TimePoint now{std::chrono::milliseconds(now_ms.load())};
  {
    auto s = store();
    s->migrate();
    AuditEvent ev;
    ev.actor = "master";
    auto insert = [&](const std::string& secret, auto&& edit) {
      KeyRecord k;
      k.key_id = secret.substr(3, 8);
      k.token_hash = sha256_hex(secret);
      k.key_name = key_display_name(secret);
      k.created_by = "master";
      k.created_at = k.updated_at = now;
      edit(k);
      ev.event_id = k.key_id;
      ASSERT_TRUE(s->insert_key(k, ev));
    };
    TeamRecord team;
    team.team_id = "frozen";
    team.blocked = true;
    ev.event_id = "team";
    ASSERT_TRUE(s->insert_team(team, ev));
    insert("sk-good0000-0000000000", [](KeyRecord&) {});
    insert("sk-blocked0-0000000000", [](KeyRecord& k) { k.blocked = true; });
    insert("sk-expired0-0000000000", [&](KeyRecord& k) { k.expires = now - std::chrono::hours(1); });
    insert("sk-hourleft-0000000000", [&](KeyRecord& k) { k.expires = now + std::chrono::hours(1); });
    insert("sk-frozen00-0000000000", [](KeyRecord& k) { k.team_id = "frozen"; });
  }
  start_with(basic_yaml("database: \"" + db->url() + "\"\ndatabase_pool: 2\nledger: {spool_dir: \"" + db->dir() +
                        "/spool\", commit_interval_ms: 1}\n"));
  ASSERT_TRUE(config->open_access());
  EXPECT_EQ(chat("").status, 200);                          // no key: admitted
  EXPECT_EQ(chat("sk-unknown0-0000000000").status, 200);    // not a virtual key: admitted as anyone
  EXPECT_EQ(chat("sk-good0000-0000000000").status, 200);
  EXPECT_EQ(chat("sk-blocked0-0000000000").json()["error"]["code"], "key_blocked");
  EXPECT_EQ(chat("sk-expired0-0000000000").json()["error"]["code"], "key_expired");
  EXPECT_EQ(chat("sk-frozen00-0000000000").json()["error"]["code"], "team_blocked");
  EXPECT_EQ(chat("sk-hourleft-0000000000").status, 200);
  advance(std::chrono::hours(1));
  auto expired = chat("sk-hourleft-0000000000");
  EXPECT_EQ(expired.status, 401);
  EXPECT_EQ(expired.json()["error"]["code"], "key_expired");
}

// Everything the gateway records about admin requests and key use: rows,
// audit events, spool files, log lines (every level) and spans.
TEST_P(ScopedAdminEntitlementsTest, ARawKeyIsRecordedNowhere) {
  TOLLGATE_REQUIRE_DATABASE(*db);
  upstream.set_default_response(FakeResponse::json(200, completion_json("hi")));
  FakeUpstream collector;
  collector.set_default_response(FakeResponse::json(200, json::object()));
  capture.emplace();  // before the gateway starts: no logger changes while it logs
  start_money("tracing: {otlp_endpoint: \"" + collector.base_url() + "/v1/traces\", sample_ratio: 1.0}\n");
  spdlog::set_level(spdlog::level::trace);

  auto gen = admin("POST", "/key/generate", {{"key_alias", "leaky"}});
  ASSERT_EQ(gen.status, 200);
  const std::string first = gen.json()["key"];
  const std::string key_id = gen.json()["key_id"];
  ASSERT_EQ(chat(first).status, 200);
  auto regen = admin("POST", "/key/" + first + "/regenerate", json::object());
  ASSERT_EQ(regen.status, 200) << regen.body;
  const std::string second = regen.json()["key"];
  EXPECT_EQ(chat(first).status, 401);  // the old key, now unknown
  auto pasted = admin("GET", "/key/" + second);
  EXPECT_EQ(pasted.status, 404);
  EXPECT_EQ(pasted.body.find(second), std::string::npos) << pasted.body;
  EXPECT_EQ(admin("POST", "/key/" + second + "/block", json::object()).status, 404);
  EXPECT_EQ(admin("GET", "/key/info?key=" + second).status, 200);
  EXPECT_EQ(admin("GET", "/spend/logs?api_key=" + second).status, 200);
  EXPECT_EQ(admin("POST", "/key/update", {{"key", second}, {"max_budget", 1.0}}).status, 200);
  EXPECT_EQ(admin("POST", "/key/update", {{"key", second}, {"models", "chat"}}).status, 400);
  EXPECT_EQ(admin("POST", "/key/regenerate", {{"key", second}, {"max_budget", "x"}}).status, 400);
  EXPECT_EQ(admin("POST", "/key/delete", {{"keys", {second}}}).status, 200);
  EXPECT_EQ(admin("POST", "/key/delete", {{"keys", {second}}}).status, 404);

  ship_all();
  gateway->state().current()->tracer->flush();
  gateway->shutdown();
  const std::string logged = capture->text();

  std::vector<std::pair<std::string, std::string>> records;  // where, what
  auto s = store();
  SpendQuery q;
  q.limit = 100000;
  for (const auto& r : s->spend_logs(q)) records.emplace_back("spend row", spend_row_json(r).dump());
  for (const auto& r : s->rejections(q)) records.emplace_back("rejection row", spend_row_json(r).dump() + r.reason);
  for (const auto& e : s->audit_events(key_id, 100)) {
    records.emplace_back("audit event " + e.action, e.before.dump() + e.after.dump() + e.object_id);
  }
  for (const auto& f : std::filesystem::recursive_directory_iterator(db->dir())) {
    if (!f.is_regular_file()) continue;
    std::ifstream in(f.path(), std::ios::binary);
    records.emplace_back(f.path().string(),
                         std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()));
  }
  for (const auto& r : collector.requests()) records.emplace_back("spans", r.body);
  records.emplace_back("logs", logged);
  EXPECT_GE(s->rejections(q).size(), 4u);
  EXPECT_GE(s->audit_events(key_id, 100).size(), 4u);  // generate, regenerate, update, delete
  EXPECT_GT(collector.request_count(), 0u);
  EXPECT_NE(logged.find("/key/{key}/regenerate"), std::string::npos) << "the access log names the route";
  for (const std::string& secret : {first, second}) {
    for (const auto& [where, text] : records) {
      // The display form keeps the last four characters: look for the rest.
      EXPECT_EQ(text.find(secret.substr(0, secret.size() - 4)), std::string::npos) << where;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Stores, ScopedAdminEntitlementsTest, ::testing::Values("sqlite", "postgresql"), param_name);

}  // namespace
}  // namespace tollgate::test
