// One suite, run against every Store implementation: SQLite (temp file) and
// PostgreSQL ($TOLLGATE_TEST_PG_URL, a fresh schema per test).

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <thread>

#include "accounting/ledger.h"
#include "accounting/spend_row_testing.h"
#include "accounting/spool.h"
#include "accounting/spool_format1.h"
#include "storage/sql_values.h"
#include "storage/store_fixture.h"

namespace tollgate::testing {
namespace {

AuditEvent audit(const std::string& event_id, const std::string& action, const std::string& object_id,
                 nlohmann::json before = nullptr, nlohmann::json after = nullptr) {
  AuditEvent a;
  a.event_id = event_id;
  a.at = utc(2024, 5, 1, 12, 0, 0, 123456);
  a.actor = "master";
  a.action = action;
  a.object_type = action.substr(0, action.find('.'));
  a.object_id = object_id;
  a.before = std::move(before);
  a.after = std::move(after);
  return a;
}

KeyRecord make_key(const std::string& id, const std::string& alias = "", const std::string& team = "",
                   const std::string& user = "") {
  KeyRecord k;
  k.key_id = id;
  k.token_hash = "hash-" + id;
  k.key_name = "sk-...x" + id;
  k.key_alias = alias;
  k.team_id = team;
  k.user_id = user;
  k.created_by = "master";
  k.created_at = utc(2024, 5, 1, 10, 0, 0, 1);
  k.updated_at = k.created_at;
  return k;
}

SpendRow spend_row(const std::string& id, TimePoint start, const std::string& cost, const std::string& key = "k1",
                   const std::string& team = "t1", const std::string& user = "u1",
                   const std::string& end_user = "e1") {
  SpendRow r;
  r.request_id = id;
  r.start_time = start;
  r.end_time = start + std::chrono::milliseconds(250);
  r.key_id = key;
  r.key_alias = "alias-" + key;
  r.team_id = team;
  r.user_id = user;
  r.end_user = end_user;
  r.route = "/v1/chat/completions";
  r.requested_model = "gpt-4o";
  r.model_group = "gpt-4o";
  r.deployment = "gpt-4o-2024-08-06";
  r.provider = "openai";
  r.status = 200;
  r.prompt_tokens = 10;
  r.completion_tokens = 5;
  r.cost_usd = cost;
  r.latency_ms = 250;
  return r;
}

std::string dec(const std::string& s) { return s; }

}  // namespace

TEST_P(StoreTest, MigrateIsIdempotentAndListed) {
  EXPECT_EQ(first_migration, (std::vector<std::string>{"0001_init.sql", "0002_stored_responses.sql"}));
  EXPECT_TRUE(store->migrate().empty());
  EXPECT_TRUE(connect()->migrate().empty());
  EXPECT_EQ(store->applied_migrations(), (std::vector<std::string>{"0001_init.sql", "0002_stored_responses.sql"}));
}

TEST_P(StoreTest, KeyCrudConflictsAuditAndVersion) {
  int64_t v0 = store->change_version();
  KeyRecord k = make_key("k1", "prod", "t1", "u1");
  k.models = {"gpt-4o", "claude"};
  k.aliases = {{"fast", "gpt-4o-mini"}};
  k.allowed_routes = {"/v1/chat/completions"};
  k.limits.max_budget = 12.5;
  k.limits.soft_budget = 0.1;
  k.limits.budget_duration = "1mo";
  k.limits.budget_reset_at = utc(2024, 6, 1);
  k.limits.rpm_limit = 60;
  k.limits.tpm_limit = 1000;
  k.limits.max_parallel_requests = 4;
  k.limits.model_rpm_limit = {{"gpt-4o", 10}};
  k.limits.model_tpm_limit = {{"gpt-4o", 500}};
  k.expires = utc(2025, 1, 1, 0, 0, 0, 999999);
  k.blocked = true;
  k.metadata = {{"owner", "finance"}, {"n", 3}};
  k.tags = {"a", "b"};
  ASSERT_TRUE(store->insert_key(k, audit("ev1", "key.generate", "k1", nullptr, {{"key_alias", "prod"}})));

  auto got = store->find_key("k1");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->token_hash, "hash-k1");
  EXPECT_EQ(got->key_name, k.key_name);
  EXPECT_EQ(got->key_alias, "prod");
  EXPECT_EQ(got->team_id, "t1");
  EXPECT_EQ(got->user_id, "u1");
  EXPECT_EQ(got->models, k.models);
  EXPECT_EQ(got->aliases, k.aliases);
  EXPECT_EQ(got->allowed_routes, k.allowed_routes);
  EXPECT_EQ(got->limits, k.limits);
  EXPECT_EQ(got->expires, k.expires);
  EXPECT_TRUE(got->blocked);
  EXPECT_EQ(got->metadata, k.metadata);
  EXPECT_EQ(got->tags, k.tags);
  EXPECT_EQ(got->created_by, "master");
  EXPECT_EQ(got->created_at, k.created_at);
  EXPECT_EQ(got->updated_at, k.updated_at);
  EXPECT_EQ(store->find_key_by_hash("hash-k1")->key_id, "k1");
  EXPECT_FALSE(store->find_key_by_hash("nope"));
  int64_t v1 = store->change_version();
  EXPECT_GT(v1, v0);

  // Duplicates: same id, same token hash, same alias -> false, nothing written.
  EXPECT_FALSE(store->insert_key(make_key("k1"), audit("ev2", "key.generate", "k1")));
  KeyRecord dup_hash = make_key("k2");
  dup_hash.token_hash = "hash-k1";
  EXPECT_FALSE(store->insert_key(dup_hash, audit("ev3", "key.generate", "k2")));
  EXPECT_FALSE(store->insert_key(make_key("k3", "prod"), audit("ev4", "key.generate", "k3")));
  EXPECT_FALSE(store->find_key("k2"));
  EXPECT_FALSE(store->find_key("k3"));
  EXPECT_EQ(store->change_version(), v1);
  // Empty aliases do not collide.
  EXPECT_TRUE(store->insert_key(make_key("k4"), audit("ev5", "key.generate", "k4")));
  EXPECT_TRUE(store->insert_key(make_key("k5"), audit("ev6", "key.generate", "k5")));

  KeyRecord changed = *got;
  changed.key_alias = "prod-2";
  changed.blocked = false;
  changed.limits.max_budget.reset();
  changed.metadata = {{"owner", "ops"}};
  changed.updated_at = utc(2024, 5, 2);
  ASSERT_TRUE(store->update_key(changed, audit("ev7", "key.update", "k1", {{"key_alias", "prod"}},
                                               {{"key_alias", "prod-2"}})));
  got = store->find_key("k1");
  EXPECT_EQ(got->key_alias, "prod-2");
  EXPECT_FALSE(got->blocked);
  EXPECT_FALSE(got->limits.max_budget);
  EXPECT_EQ(got->metadata, changed.metadata);
  EXPECT_EQ(got->updated_at, utc(2024, 5, 2));
  EXPECT_FALSE(store->update_key(make_key("missing"), audit("ev8", "key.update", "missing")));
  // Taking another key's alias on update is a conflict.
  KeyRecord k4 = *store->find_key("k4");
  k4.key_alias = "prod-2";
  EXPECT_THROW(store->update_key(k4, audit("ev9", "key.update", "k4")), StoreError);

  auto listed = store->list_keys("", "", 10, 0);
  ASSERT_EQ(listed.size(), 3u);
  EXPECT_EQ(listed[0].key_id, "k1");
  EXPECT_EQ(store->list_keys("t1", "", 10, 0).size(), 1u);
  EXPECT_EQ(store->list_keys("", "u1", 10, 0).size(), 1u);
  EXPECT_EQ(store->list_keys("", "", 2, 2).size(), 1u);
  EXPECT_EQ(store->list_keys("", "", 2, 2)[0].key_id, "k5");

  int64_t v2 = store->change_version();
  EXPECT_TRUE(store->delete_key("k1", audit("ev10", "key.delete", "k1", {{"key_alias", "prod-2"}})));
  EXPECT_FALSE(store->delete_key("k1", audit("ev11", "key.delete", "k1")));
  EXPECT_FALSE(store->find_key("k1"));
  EXPECT_GT(store->change_version(), v2);

  auto events = store->audit_events("k1", 10);
  ASSERT_EQ(events.size(), 3u);  // generate, update, delete; failed writes leave none
  std::vector<std::string> actions;
  for (const auto& e : events) actions.push_back(e.action);
  std::sort(actions.begin(), actions.end());
  EXPECT_EQ(actions, (std::vector<std::string>{"key.delete", "key.generate", "key.update"}));
  auto update = std::find_if(events.begin(), events.end(), [](const AuditEvent& e) { return e.action == "key.update"; });
  EXPECT_EQ(update->before, (nlohmann::json{{"key_alias", "prod"}}));
  EXPECT_EQ(update->after, (nlohmann::json{{"key_alias", "prod-2"}}));
  EXPECT_EQ(update->actor, "master");
  EXPECT_EQ(update->object_type, "key");
  EXPECT_EQ(update->at, utc(2024, 5, 1, 12, 0, 0, 123456));
  auto generate =
      std::find_if(events.begin(), events.end(), [](const AuditEvent& e) { return e.action == "key.generate"; });
  EXPECT_TRUE(generate->before.is_null());
}

TEST_P(StoreTest, TeamsAndUsers) {
  TeamRecord t;
  t.team_id = "t1";
  t.team_alias = "Research";
  t.models = {"gpt-4o"};
  t.limits.max_budget = 100;
  t.tags = {"eu"};
  t.metadata = {{"cost_center", 42}};
  t.created_at = utc(2024, 1, 1);
  t.updated_at = t.created_at;
  int64_t v0 = store->change_version();
  ASSERT_TRUE(store->insert_team(t, audit("e1", "team.new", "t1")));
  EXPECT_FALSE(store->insert_team(t, audit("e2", "team.new", "t1")));
  auto got = store->find_team("t1");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->team_alias, "Research");
  EXPECT_EQ(got->models, t.models);
  EXPECT_EQ(got->limits, t.limits);
  EXPECT_EQ(got->tags, t.tags);
  EXPECT_EQ(got->metadata, t.metadata);
  EXPECT_EQ(got->created_at, t.created_at);
  t.team_alias = "Research & Dev";
  t.blocked = true;
  EXPECT_TRUE(store->update_team(t, audit("e3", "team.update", "t1")));
  EXPECT_TRUE(store->find_team("t1")->blocked);
  EXPECT_EQ(store->find_team("t1")->team_alias, "Research & Dev");
  TeamRecord missing;
  missing.team_id = "nope";
  EXPECT_FALSE(store->update_team(missing, audit("e4", "team.update", "nope")));
  EXPECT_GT(store->change_version(), v0);

  UserRecord u;
  u.user_id = "u1";
  u.user_email = "ada@example.com";
  u.user_alias = "Ada";
  u.user_role = "internal_user";
  u.team_id = "t1";
  u.models = {"claude"};
  u.limits.tpm_limit = 99;
  u.metadata = {{"x", true}};
  u.created_at = utc(2024, 1, 2);
  u.updated_at = u.created_at;
  ASSERT_TRUE(store->insert_user(u, audit("e5", "user.new", "u1")));
  EXPECT_FALSE(store->insert_user(u, audit("e6", "user.new", "u1")));
  UserRecord u2 = u;
  u2.user_id = "u2";
  u2.team_id = "";
  u2.created_at = utc(2024, 1, 3);
  ASSERT_TRUE(store->insert_user(u2, audit("e7", "user.new", "u2")));
  auto gu = store->find_user("u1");
  ASSERT_TRUE(gu);
  EXPECT_EQ(gu->user_email, u.user_email);
  EXPECT_EQ(gu->user_role, u.user_role);
  EXPECT_EQ(gu->limits, u.limits);
  EXPECT_EQ(gu->metadata, u.metadata);
  EXPECT_EQ(store->list_users("t1", 10, 0).size(), 1u);
  EXPECT_EQ(store->list_users("", 10, 0).size(), 2u);
  EXPECT_EQ(store->list_users("", 1, 1)[0].user_id, "u2");
  u.user_alias = "Ada L.";
  EXPECT_TRUE(store->update_user(u, audit("e8", "user.update", "u1")));
  EXPECT_EQ(store->find_user("u1")->user_alias, "Ada L.");
  EXPECT_FALSE(store->update_user(UserRecord{.user_id = "zz"}, audit("e9", "user.update", "zz")));

  ASSERT_TRUE(store->insert_key(make_key("k1", "", "t1", "u1"), audit("e10", "key.generate", "k1")));
  EXPECT_TRUE(store->delete_team("t1", audit("e11", "team.delete", "t1")));
  EXPECT_FALSE(store->delete_team("t1", audit("e12", "team.delete", "t1")));
  EXPECT_FALSE(store->find_team("t1"));
  EXPECT_EQ(store->find_key("k1")->team_id, "");
  EXPECT_EQ(store->find_user("u1")->team_id, "");
  EXPECT_TRUE(store->delete_user("u2", audit("e13", "user.delete", "u2")));
  EXPECT_FALSE(store->delete_user("u2", audit("e14", "user.delete", "u2")));
  EXPECT_EQ(store->list_teams(10, 0).size(), 0u);
  EXPECT_EQ(store->audit_events("t1", 10).size(), 3u);
}

TEST_P(StoreTest, EndUsersKeepSpendOnUpsert) {
  EndUserRecord e;
  e.end_user_id = "customer-7";
  e.alias = "Seven";
  e.limits.max_budget = 5;
  store->upsert_end_user(e, audit("a1", "end_user.new", "customer-7"));
  ASSERT_TRUE(store->ship({spend_row("r1", utc(2024, 5, 1), "1.5", "", "", "", "customer-7")}).inserted == 1);
  e.alias = "Seven!";
  e.blocked = true;
  int64_t v = store->change_version();
  store->upsert_end_user(e, audit("a2", "end_user.update", "customer-7"));
  EXPECT_GT(store->change_version(), v);
  auto got = store->find_end_user("customer-7");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->alias, "Seven!");
  EXPECT_TRUE(got->blocked);
  EXPECT_EQ(got->limits.max_budget, 5.0);
  EXPECT_DOUBLE_EQ(got->spend, 1.5);
  EXPECT_FALSE(store->find_end_user("nobody"));
}

TEST_P(StoreTest, SnapshotHoldsEverything) {
  ASSERT_TRUE(store->insert_key(make_key("k1"), audit("a1", "key.generate", "k1")));
  ASSERT_TRUE(store->insert_key(make_key("k2"), audit("a2", "key.generate", "k2")));
  TeamRecord t;
  t.team_id = "t1";
  ASSERT_TRUE(store->insert_team(t, audit("a3", "team.new", "t1")));
  UserRecord u;
  u.user_id = "u1";
  ASSERT_TRUE(store->insert_user(u, audit("a4", "user.new", "u1")));
  store->upsert_end_user(EndUserRecord{.end_user_id = "e1"}, audit("a5", "end_user.new", "e1"));
  auto s = store->snapshot();
  EXPECT_EQ(s.version, store->change_version());
  EXPECT_EQ(s.keys.size(), 2u);
  EXPECT_EQ(s.teams.size(), 1u);
  EXPECT_EQ(s.users.size(), 1u);
  ASSERT_EQ(s.end_users.size(), 1u);
  EXPECT_EQ(s.end_users[0].end_user_id, "e1");
}

TEST_P(StoreTest, ShipIsIdempotentAndSpendIsExact) {
  ASSERT_TRUE(store->insert_key(make_key("k1", "", "t1", "u1"), audit("a1", "key.generate", "k1")));
  TeamRecord t;
  t.team_id = "t1";
  ASSERT_TRUE(store->insert_team(t, audit("a2", "team.new", "t1")));
  UserRecord u;
  u.user_id = "u1";
  ASSERT_TRUE(store->insert_user(u, audit("a3", "user.new", "u1")));
  int64_t version = store->change_version();

  std::vector<SpendRow> batch;
  for (int i = 0; i < 3; ++i) batch.push_back(spend_row("r" + std::to_string(i), utc(2024, 5, 1, 8, i), "0.0000000001"));
  batch[2].status = 500;
  batch[2].error_type = "upstream_error";
  auto first = store->ship(batch);
  EXPECT_EQ(first.inserted, 3);
  EXPECT_EQ(first.duplicates, 0);
  auto second = store->ship(batch);
  EXPECT_EQ(second.inserted, 0);
  EXPECT_EQ(second.duplicates, 3);
  // A batch mixing old and new rows, with a repeat inside the batch.
  std::vector<SpendRow> mixed{batch[0], spend_row("r9", utc(2024, 5, 1, 9), "0.25"),
                              spend_row("r9", utc(2024, 5, 1, 9), "0.25")};
  auto third = store->ship(mixed);
  EXPECT_EQ(third.inserted, 1);
  EXPECT_EQ(third.duplicates, 2);
  EXPECT_EQ(store->change_version(), version);  // the ledger is not an admin write

  EXPECT_EQ(store->spend_logs(SpendQuery{}).size(), 4u);
  auto report = store->spend_report(ReportQuery{ReportGroup::key, utc(2024, 5, 1), utc(2024, 5, 2)});
  ASSERT_EQ(report.size(), 1u);
  EXPECT_EQ(report[0].group, "k1");
  EXPECT_EQ(report[0].requests, 4);
  EXPECT_EQ(report[0].failed_requests, 1);
  EXPECT_EQ(report[0].prompt_tokens, 40);
  EXPECT_EQ(report[0].cost_usd, dec("0.2500000003"));
  EXPECT_DOUBLE_EQ(store->find_key("k1")->spend, 0.2500000003);
  EXPECT_DOUBLE_EQ(store->find_team("t1")->spend, 0.2500000003);
  EXPECT_DOUBLE_EQ(store->find_user("u1")->spend, 0.2500000003);
  EXPECT_DOUBLE_EQ(store->find_end_user("e1")->spend, 0.2500000003);

  auto rollup = query("SELECT requests, failed_requests, prompt_tokens, completion_tokens FROM daily_spend");
  ASSERT_EQ(rollup.size(), 1u);
  EXPECT_EQ(rollup[0], (std::vector<std::string>{"4", "1", "40", "20"}));
  auto view = query("SELECT spend_usd FROM spend_by_key_daily WHERE key_id = 'k1'");
  ASSERT_EQ(view.size(), 1u);
  EXPECT_EQ(view[0][0], "0.2500000003");
}

TEST_P(StoreTest, RejectionsAreStoredApartAndIdempotent) {
  SpendRow r = spend_row("rej1", utc(2024, 5, 1, 1), "0");
  r.kind = RowKind::rejection;
  r.status = 429;
  r.reason = "rpm_limit exceeded";
  auto res = store->ship({r, spend_row("ok1", utc(2024, 5, 1, 2), "0.5")});
  EXPECT_EQ(res.inserted, 2);
  EXPECT_EQ(store->ship({r}).duplicates, 1);
  auto rejected = store->rejections(SpendQuery{});
  ASSERT_EQ(rejected.size(), 1u);
  EXPECT_EQ(rejected[0].kind, RowKind::rejection);
  EXPECT_EQ(rejected[0].reason, "rpm_limit exceeded");
  EXPECT_EQ(rejected[0].status, 429);
  auto logs = store->spend_logs(SpendQuery{});
  ASSERT_EQ(logs.size(), 1u);
  EXPECT_EQ(logs[0].request_id, "ok1");
  // Rejections do not count as spend.
  EXPECT_EQ(query("SELECT requests FROM daily_spend")[0][0], "1");
}

TEST_P(StoreTest, SpendLogsRoundTripFilterAndPage) {
  SpendRow full = spend_row("req-a", utc(2024, 5, 1, 23, 59, 59, 999999), "0.0001234");
  full.stream = true;
  full.api_base = "https://api.openai.com/v1";
  full.cached_tokens = 3;
  full.reasoning_tokens = 2;
  full.ttft_ms = 120;
  full.overhead_ms = 4;
  full.cache_hit = true;
  full.tags = {"batch", "eu"};
  full.metadata = {{"trace", "abc"}};
  std::vector<SpendRow> rows{full};
  for (int i = 0; i < 5; ++i) {
    rows.push_back(spend_row("req-" + std::to_string(i), utc(2024, 5, 2, 0, i), "1", i % 2 ? "k2" : "k1",
                             i % 2 ? "t2" : "t1"));
  }
  ASSERT_EQ(store->ship(rows).inserted, 6);

  SpendQuery by_id;
  by_id.request_id = "req-a";
  auto got = store->spend_logs(by_id);
  ASSERT_EQ(got.size(), 1u);
  const SpendRow& g = got[0];
  EXPECT_EQ(g.start_time, full.start_time);
  EXPECT_EQ(g.end_time, full.end_time);
  EXPECT_EQ(g.key_alias, full.key_alias);
  EXPECT_EQ(g.route, full.route);
  EXPECT_EQ(g.deployment, full.deployment);
  EXPECT_EQ(g.api_base, full.api_base);
  EXPECT_TRUE(g.stream);
  EXPECT_EQ(g.cost_usd, "0.0001234000");
  EXPECT_EQ(g.cached_tokens, 3);
  EXPECT_EQ(g.reasoning_tokens, 2);
  EXPECT_EQ(g.ttft_ms, 120);
  EXPECT_EQ(g.overhead_ms, 4);
  EXPECT_TRUE(g.cache_hit);
  EXPECT_EQ(g.tags, full.tags);
  EXPECT_EQ(g.metadata, full.metadata);
  EXPECT_EQ(store->spend_logs(SpendQuery{.request_id = "req-0"})[0].ttft_ms, std::nullopt);

  SpendQuery day2;
  day2.start = utc(2024, 5, 2);
  day2.end = utc(2024, 5, 3);
  EXPECT_EQ(store->spend_logs(day2).size(), 5u);
  day2.key_id = "k1";
  EXPECT_EQ(store->spend_logs(day2).size(), 3u);
  day2.key_id.clear();
  day2.team_id = "t2";
  EXPECT_EQ(store->spend_logs(day2).size(), 2u);
  SpendQuery page;
  page.limit = 2;
  page.offset = 1;
  auto p = store->spend_logs(page);
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0].request_id, "req-0");  // ordered by start_time
  EXPECT_EQ(p[1].request_id, "req-1");
  SpendQuery before;
  before.end = utc(2024, 5, 2);
  EXPECT_EQ(store->spend_logs(before).size(), 1u);
  SpendQuery by_model;
  by_model.model_group = "nope";
  EXPECT_TRUE(store->spend_logs(by_model).empty());
}

TEST_P(StoreTest, SpendReportGroupsAndUtcDays) {
  std::vector<SpendRow> rows{
      spend_row("a", utc(2024, 5, 1, 23, 59, 59, 999999), "0.1", "k1", "t1", "u1", "e1"),
      spend_row("b", utc(2024, 5, 2, 0, 0, 0), "0.2", "k1", "t1", "u2", "e2"),
      spend_row("c", utc(2024, 5, 2, 12), "0.3", "k2", "t2", "u2", ""),
      spend_row("d", utc(2024, 5, 3, 0, 0, 0), "0.4", "k2", "t2", "u2", "")};
  rows[2].provider = "anthropic";
  rows[2].model_group = "claude";
  ASSERT_EQ(store->ship(rows).inserted, 4);
  ReportQuery q{ReportGroup::day, utc(2024, 5, 1), utc(2024, 5, 3)};  // end exclusive: "d" out
  auto days = store->spend_report(q);
  ASSERT_EQ(days.size(), 2u);
  EXPECT_EQ(days[0].group, "2024-05-01");
  EXPECT_EQ(days[0].cost_usd, "0.1000000000");
  EXPECT_EQ(days[1].group, "2024-05-02");
  EXPECT_EQ(days[1].requests, 2);
  EXPECT_EQ(days[1].cost_usd, "0.5000000000");

  q.group_by = ReportGroup::provider;
  auto providers = store->spend_report(q);
  ASSERT_EQ(providers.size(), 2u);
  EXPECT_EQ(providers[0].group, "anthropic");
  EXPECT_EQ(providers[1].cost_usd, "0.3000000000");
  q.group_by = ReportGroup::model;
  EXPECT_EQ(store->spend_report(q)[0].group, "claude");
  q.group_by = ReportGroup::team;
  EXPECT_EQ(store->spend_report(q).size(), 2u);
  q.group_by = ReportGroup::user;
  auto users = store->spend_report(q);
  ASSERT_EQ(users.size(), 2u);
  EXPECT_EQ(users[1].group, "u2");
  EXPECT_EQ(users[1].cost_usd, "0.5000000000");
  q.group_by = ReportGroup::end_user;
  auto end_users = store->spend_report(q);
  ASSERT_EQ(end_users.size(), 3u);
  EXPECT_EQ(end_users[0].group, "");
  q.group_by = ReportGroup::key;
  q.team_id = "t2";
  auto keys = store->spend_report(q);
  ASSERT_EQ(keys.size(), 1u);
  EXPECT_EQ(keys[0].group, "k2");
  EXPECT_EQ(keys[0].completion_tokens, 5);
  q.team_id.clear();
  q.key_id = "k1";
  EXPECT_EQ(store->spend_report(q)[0].requests, 2);
}

TEST_P(StoreTest, ResetBudgets) {
  KeyRecord due = make_key("k1");
  due.limits.budget_duration = "1d";
  due.limits.budget_reset_at = utc(2024, 5, 1);
  KeyRecord later = make_key("k2");
  later.limits.budget_duration = "1mo";
  later.limits.budget_reset_at = utc(2024, 6, 1);
  ASSERT_TRUE(store->insert_key(due, audit("a1", "key.generate", "k1")));
  ASSERT_TRUE(store->insert_key(later, audit("a2", "key.generate", "k2")));
  TeamRecord t;
  t.team_id = "t1";
  t.limits.budget_duration = "7d";
  t.limits.budget_reset_at = utc(2024, 4, 20);
  ASSERT_TRUE(store->insert_team(t, audit("a3", "team.new", "t1")));
  store->upsert_end_user(EndUserRecord{.end_user_id = "e1",
                                       .limits = Limits{.budget_duration = "1h",
                                                        .budget_reset_at = utc(2024, 5, 1, 12)}},
                         audit("a4", "end_user.new", "e1"));
  ASSERT_EQ(store->ship({spend_row("r1", utc(2024, 4, 30), "2", "k1", "t1", "", "e1"),
                         spend_row("r2", utc(2024, 4, 30), "3", "k2", "", "", "")})
                .inserted,
            2);
  int64_t v = store->change_version();
  EXPECT_EQ(store->reset_budgets(utc(2024, 5, 1, 12)), 3);  // k1, t1, e1 (at or before now)
  EXPECT_GT(store->change_version(), v);
  auto k1 = store->find_key("k1");
  EXPECT_EQ(k1->spend, 0);
  EXPECT_EQ(k1->limits.budget_reset_at, utc(2024, 5, 2));
  EXPECT_EQ(store->find_key("k2")->spend, 3);
  EXPECT_EQ(store->find_key("k2")->limits.budget_reset_at, utc(2024, 6, 1));
  EXPECT_EQ(store->find_team("t1")->spend, 0);
  EXPECT_EQ(store->find_team("t1")->limits.budget_reset_at, utc(2024, 5, 4));  // 4/20 + 7d + 7d
  EXPECT_EQ(store->find_end_user("e1")->limits.budget_reset_at, utc(2024, 5, 1, 13));
  EXPECT_EQ(store->reset_budgets(utc(2024, 5, 1, 12)), 0);
  // The ledger stays: only the period's spend restarts.
  EXPECT_EQ(store->spend_logs(SpendQuery{}).size(), 2u);
}

TEST_P(StoreTest, HostileStringsRoundTripVerbatim) {
  const std::vector<std::string> nasty{"'); DROP TABLE keys; --", "Robert'); DROP TABLE teams;--",
                                       "quote ' double \" back \\ slash \\\\ end", "$1 ?1 :name @p %s",
                                       "ünïcødé ✓ 日本語 🚀", "line\nbreak\ttab"};
  for (std::size_t i = 0; i < nasty.size(); ++i) {
    const std::string& s = nasty[i];
    std::string n = std::to_string(i);
    TeamRecord t;
    t.team_id = s;
    t.team_alias = s;
    t.tags = {s};
    t.metadata = {{s, s}};
    ASSERT_TRUE(store->insert_team(t, audit("t" + n, "team.new", s, nullptr, {{"alias", s}}))) << s;
    KeyRecord k = make_key("k" + n, s, s, s);
    k.token_hash = s + "#hash";
    k.metadata = {{"note", s}, {s, nlohmann::json::array({s})}};
    k.tags = {s, "plain"};
    k.models = {s};
    k.aliases = {{s, s}};
    ASSERT_TRUE(store->insert_key(k, audit("k" + n, "key.generate", "k" + n))) << s;
    SpendRow r = spend_row(s, utc(2024, 5, 1), "0.1", "k" + n, s, s, s);
    r.reason = s;
    r.tags = {s};
    r.metadata = {{"m", s}};
    ASSERT_EQ(store->ship({r}).inserted, 1) << s;

    auto key = store->find_key("k" + n);
    ASSERT_TRUE(key) << s;
    EXPECT_EQ(key->key_alias, s);
    EXPECT_EQ(key->team_id, s);
    EXPECT_EQ(key->metadata, k.metadata);
    EXPECT_EQ(key->tags, k.tags);
    EXPECT_EQ(key->models, k.models);
    EXPECT_EQ(key->aliases, k.aliases);
    EXPECT_EQ(store->find_key_by_hash(s + "#hash")->key_id, "k" + n);
    auto team = store->find_team(s);
    ASSERT_TRUE(team) << s;
    EXPECT_EQ(team->team_alias, s);
    EXPECT_EQ(team->metadata, t.metadata);
    EXPECT_DOUBLE_EQ(team->spend, 0.1);
    EXPECT_EQ(store->list_keys(s, "", 10, 0).size(), 1u);
    auto events = store->audit_events(s, 5);
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].after, (nlohmann::json{{"alias", s}}));
    SpendQuery q;
    q.request_id = s;
    auto logs = store->spend_logs(q);
    ASSERT_EQ(logs.size(), 1u);
    EXPECT_EQ(logs[0].team_id, s);
    EXPECT_EQ(logs[0].end_user, s);
    EXPECT_EQ(logs[0].tags, r.tags);
    EXPECT_EQ(logs[0].metadata, r.metadata);
  }
  EXPECT_EQ(store->list_keys("", "", 100, 0).size(), nasty.size());
  EXPECT_EQ(store->list_teams(100, 0).size(), nasty.size());
}

TEST_P(StoreTest, ConcurrentOverlappingShipsCountEachRowOnce) {
  ASSERT_TRUE(store->insert_key(make_key("k1"), audit("a1", "key.generate", "k1")));
  std::vector<SpendRow> a, b;
  for (int i = 0; i < 300; ++i) {
    SpendRow r = spend_row("r" + std::to_string(i), utc(2024, 5, 1, 0, 0, i % 60), "0.0000000001", "k1");
    if (i < 200) a.push_back(r);
    if (i >= 100) b.push_back(r);
  }
  std::reverse(b.begin(), b.end());  // opposite order on purpose
  ShipResult ra, rb;
  std::exception_ptr ea, eb;
  std::thread ta([&] {
    try {
      auto s = connect();
      for (int round = 0; round < 3; ++round) ra = s->ship(a);
    } catch (...) {
      ea = std::current_exception();
    }
  });
  std::thread tb([&] {
    try {
      auto s = connect();
      for (int round = 0; round < 3; ++round) rb = s->ship(b);
    } catch (...) {
      eb = std::current_exception();
    }
  });
  ta.join();
  tb.join();
  if (ea) std::rethrow_exception(ea);
  if (eb) std::rethrow_exception(eb);
  SpendQuery all;
  all.limit = 1000;
  EXPECT_EQ(store->spend_logs(all).size(), 300u);
  auto report = store->spend_report(ReportQuery{ReportGroup::key, utc(2024, 5, 1), utc(2024, 5, 2)});
  ASSERT_EQ(report.size(), 1u);
  EXPECT_EQ(report[0].requests, 300);
  EXPECT_EQ(report[0].cost_usd, "0.0000000300");
  EXPECT_EQ(query("SELECT requests FROM daily_spend")[0][0], "300");
  EXPECT_DOUBLE_EQ(store->find_key("k1")->spend, 300e-10);
}

TEST_P(StoreTest, FinanceViews) {
  TeamRecord t;
  t.team_id = "t1";
  t.team_alias = "Research";
  ASSERT_TRUE(store->insert_team(t, audit("a1", "team.new", "t1")));
  ASSERT_TRUE(store->insert_key(make_key("k1", "prod", "t1"), audit("a2", "key.generate", "k1")));
  std::vector<SpendRow> rows{spend_row("a", utc(2024, 5, 31, 23), "1.0000000001", "k1", "t1"),
                             spend_row("b", utc(2024, 6, 1, 1), "2.5", "k1", "t1"),
                             spend_row("c", utc(2024, 6, 1, 2), "0.0000000009", "k1", "t1")};
  rows[2].provider = "anthropic";
  rows[2].model_group = "claude";
  ASSERT_EQ(store->ship(rows).inserted, 3);

  auto daily = query(
      "SELECT CAST(day AS TEXT), team_id, team_alias, requests, prompt_tokens, completion_tokens, spend_usd "
      "FROM spend_by_team_daily ORDER BY day");
  ASSERT_EQ(daily.size(), 2u);
  EXPECT_EQ(daily[0], (std::vector<std::string>{"2024-05-31", "t1", "Research", "1", "10", "5", "1.0000000001"}));
  EXPECT_EQ(daily[1], (std::vector<std::string>{"2024-06-01", "t1", "Research", "2", "20", "10", "2.5000000009"}));
  auto monthly = query("SELECT month, spend_usd FROM spend_by_team_monthly ORDER BY month");
  ASSERT_EQ(monthly.size(), 2u);
  EXPECT_EQ(monthly[0], (std::vector<std::string>{"2024-05", "1.0000000001"}));
  EXPECT_EQ(monthly[1], (std::vector<std::string>{"2024-06", "2.5000000009"}));
  auto key_month = query("SELECT key_id, key_alias, requests, spend_usd FROM spend_by_key_monthly WHERE month = '2024-06'");
  ASSERT_EQ(key_month.size(), 1u);
  EXPECT_EQ(key_month[0], (std::vector<std::string>{"k1", "prod", "2", "2.5000000009"}));
  auto models = query("SELECT model_group, spend_usd FROM spend_by_model_monthly ORDER BY model_group, month");
  ASSERT_EQ(models.size(), 3u);
  EXPECT_EQ(models[0], (std::vector<std::string>{"claude", "0.0000000009"}));
  auto providers = query("SELECT provider, requests FROM spend_by_provider_daily ORDER BY provider, day");
  ASSERT_EQ(providers.size(), 3u);
  EXPECT_EQ(providers[0], (std::vector<std::string>{"anthropic", "1"}));
  auto users = query("SELECT user_id, spend_usd FROM spend_by_user_monthly ORDER BY month");
  ASSERT_EQ(users.size(), 2u);
  EXPECT_EQ(users[0], (std::vector<std::string>{"u1", "1.0000000001"}));
  auto mp = query("SELECT model_group, provider, spend_usd FROM spend_by_model_provider_daily WHERE day = '2024-06-01' ORDER BY 1");
  ASSERT_EQ(mp.size(), 2u);
  EXPECT_EQ(mp[1], (std::vector<std::string>{"gpt-4o", "openai", "2.5000000000"}));
}

TEST_P(StoreTest, LargeOverlappingBatchesKeepRollupsExact) {
  // Batches as the ledger ships them (hundreds of rows, many groups, both
  // kinds, text that needs escaping), the second overlapping the first as
  // after a lost acknowledgement: every rollup equals its rows.
  for (int k = 0; k < 5; ++k) {
    const std::string id = "k" + std::to_string(k);
    ASSERT_TRUE(store->insert_key(make_key(id, "", "t" + std::to_string(k % 2), "u" + std::to_string(k % 3)),
                                  audit("a" + id, "key.generate", id)));
  }
  std::vector<SpendRow> rows;
  std::map<std::pair<std::string, std::string>, std::pair<int64_t, int64_t>> by_day_key;  // requests, units
  std::map<std::string, int64_t> key_units, end_user_units;
  int spend_rows = 0;
  for (int i = 0; i < 1100; ++i) {
    const int k = i % 5;
    const std::string cost = "0.00000" + std::to_string(10000 + i);
    SpendRow r = spend_row("row-" + std::to_string(i), utc(2024, 5, 1 + i % 3, i % 24), cost, "k" + std::to_string(k),
                           "t" + std::to_string(k % 2), "u" + std::to_string(k % 3), "end\tuser\\" + std::to_string(i % 7));
    r.key_alias = "tab\there\nnewline\\back";
    r.tags = {"t\t" + std::to_string(i % 4)};
    r.metadata = {{"line", "a\nb\\c"}};
    if (i % 11 == 0) r.ttft_ms.reset();
    if (i % 13 == 0) r.kind = RowKind::rejection;
    rows.push_back(r);
    if (r.kind == RowKind::rejection) continue;
    ++spend_rows;
    const int64_t units = storage::parse_money(cost);
    auto& d = by_day_key[{storage::format_day(r.start_time), r.key_id}];
    d.first += 1;
    d.second += units;
    key_units[r.key_id] += units;
    end_user_units[r.end_user] += units;
  }
  const std::vector<SpendRow> first(rows.begin(), rows.begin() + 700);
  const std::vector<SpendRow> second(rows.begin() + 400, rows.end());
  ShipResult a = store->ship(first);
  EXPECT_EQ(a.inserted, 700);
  ShipResult b = store->ship(second);
  EXPECT_EQ(b.inserted, 400);
  EXPECT_EQ(b.duplicates, 300);

  SpendQuery all;
  all.limit = 5000;
  auto logs = store->spend_logs(all);
  ASSERT_EQ(logs.size(), static_cast<size_t>(spend_rows));
  auto rejected = store->rejections(all);
  EXPECT_EQ(logs.size() + rejected.size(), rows.size());
  for (const auto& r : logs) {
    EXPECT_EQ(r.key_alias, "tab\there\nnewline\\back");
    EXPECT_EQ(r.metadata, (nlohmann::json{{"line", "a\nb\\c"}}));
    ASSERT_EQ(r.tags.size(), 1u);
    EXPECT_EQ(r.tags[0].substr(0, 2), "t\t");
  }
  auto view = query("SELECT CAST(day AS TEXT), key_id, requests, spend_usd FROM spend_by_key_daily ORDER BY 1, 2");
  ASSERT_EQ(view.size(), by_day_key.size());
  size_t i = 0;
  for (const auto& [k, d] : by_day_key) {
    EXPECT_EQ(view[i], (std::vector<std::string>{k.first, k.second, std::to_string(d.first),
                                                 storage::format_money(d.second)}));
    ++i;
  }
  for (const auto& [id, units] : key_units) {
    EXPECT_EQ(store->spend_report(ReportQuery{ReportGroup::key, utc(2024, 5, 1), utc(2024, 5, 4), "", id})[0].cost_usd,
              storage::format_money(units));
    EXPECT_DOUBLE_EQ(store->find_key(id)->spend, storage::money_to_double(units)) << id;
  }
  for (const auto& [id, units] : end_user_units) {
    auto e = store->find_end_user(id);
    ASSERT_TRUE(e) << id;
    EXPECT_DOUBLE_EQ(e->spend, storage::money_to_double(units)) << id;
  }
}

TEST_P(StoreTest, TextWithNulShips) {
  // PostgreSQL text ends at a NUL (as a bound parameter always did there):
  // two end users that differ only after it are one there, and a batch
  // holding both must still ship.
  std::vector<SpendRow> rows{spend_row("n1", utc(2024, 5, 1), "0.1", "", "", "", std::string("a\0b", 3)),
                             spend_row("n2", utc(2024, 5, 1), "0.2", "", "", "", std::string("a\0c", 3))};
  ASSERT_EQ(store->ship(rows).inserted, 2);
  if (GetParam() == "postgresql") {
    EXPECT_DOUBLE_EQ(store->find_end_user("a")->spend, 0.3);
  } else {
    EXPECT_DOUBLE_EQ(store->find_end_user(std::string("a\0b", 3))->spend, 0.1);
    EXPECT_DOUBLE_EQ(store->find_end_user(std::string("a\0c", 3))->spend, 0.2);
  }
  EXPECT_EQ(store->ship(rows).duplicates, 2);
}

TEST_P(StoreTest, ARowAlreadyStoredKeepsItsValuesAndCountsOnce) {
  // A batch shipped again after a crash can carry a row that is already
  // there (here with other values, to tell the copies apart). It is skipped
  // whole: the stored row keeps its values, and it adds nothing to the
  // rollups; the new rows around it go in. The row sits inside a run of new
  // rows, so SQLite's multi-row INSERT and PostgreSQL's COPY both meet it.
  ASSERT_TRUE(store->insert_key(make_key("k1", "", "t1", "u1"), audit("a1", "key.generate", "k1")));
  const SpendRow old = spend_row("r050x", utc(2024, 5, 1, 3), "1.5", "k1");
  ASSERT_EQ(store->ship({old}).inserted, 1);

  std::vector<SpendRow> batch;
  for (int i = 0; i < 100; ++i) {
    char id[8];
    std::snprintf(id, sizeof id, "r%03d", i);
    batch.push_back(spend_row(id, utc(2024, 5, 1, 4), "0.01", "k1"));
  }
  SpendRow again = old;
  again.cost_usd = "7";
  again.prompt_tokens = 999;
  again.end_user = "someone else";
  batch.push_back(again);
  const ShipResult r = store->ship(batch);
  EXPECT_EQ(r.inserted, 100);
  EXPECT_EQ(r.duplicates, 1);

  SpendQuery all;
  all.limit = 1000;
  const auto logs = store->spend_logs(all);
  ASSERT_EQ(logs.size(), 101u);
  int copies = 0;
  for (const auto& row : logs) {
    if (row.request_id != "r050x") continue;
    ++copies;
    EXPECT_EQ(row.cost_usd, "1.5000000000");
    EXPECT_EQ(row.prompt_tokens, 10);
    EXPECT_EQ(row.end_user, "e1");
  }
  EXPECT_EQ(copies, 1);
  EXPECT_DOUBLE_EQ(store->find_key("k1")->spend, 2.5);
  EXPECT_DOUBLE_EQ(store->find_end_user("e1")->spend, 2.5);
  EXPECT_FALSE(store->find_end_user("someone else"));
  EXPECT_EQ(query("SELECT requests, prompt_tokens, cost FROM daily_spend")[0][0], "101");
  EXPECT_EQ(query("SELECT spend_usd FROM spend_by_key_daily WHERE key_id = 'k1'")[0][0], "2.5000000000");

  // The same batch once more: nothing new at all.
  const ShipResult again_all = store->ship(batch);
  EXPECT_EQ(again_all.inserted, 0);
  EXPECT_EQ(again_all.duplicates, 101);
  EXPECT_DOUBLE_EQ(store->find_key("k1")->spend, 2.5);
  EXPECT_EQ(query("SELECT requests FROM daily_spend")[0][0], "101");
}

TEST_P(StoreTest, LedgerShipsEverySpooledRowOnceAcrossALostCursor) {
  // The whole ship path into the database: rows recorded through a Ledger
  // behind format 1 records an older gateway left unshipped, read back from
  // the spool and shipped in place, in batches. Then the cursor is lost (a
  // crash right after COMMIT) and a restarted ledger ships every record
  // again: each row is stored once and counted once.
  ASSERT_TRUE(store->insert_key(make_key("k1", "", "t1", "u1"), audit("a1", "key.generate", "k1")));
  ScratchDir dir;
  {
    Spool old(dir.path(), 64 << 20);
    old.append({format1_spend_record(), format1_rejection_record()});
  }
  LedgerOptions o;
  o.spool_dir = dir.str();
  o.batch_rows = 300;
  o.commit_interval = std::chrono::milliseconds(1);
  o.retry_initial = std::chrono::milliseconds(1);
  o.retry_max = std::chrono::milliseconds(50);
  o.final_ship_timeout = std::chrono::seconds(30);
  constexpr auto kWait = std::chrono::seconds(120);

  constexpr int kRows = 1000;
  int spend_rows = 1;  // full_row(1), from format 1: key k1, 0.00001234
  int64_t key_units = storage::parse_money("0.0000123400");
  for (int pass = 0; pass < 2; ++pass) {
    Ledger ledger(o, factory_);
    if (pass == 0) {
      ASSERT_EQ(ledger.recovered_unshipped().size(), 2u);
      for (int i = 0; i < kRows; ++i) {
        SpendRow r = spend_row("L" + std::to_string(i), utc(2024, 5, 1 + i % 2, i % 24), "0.00" + std::to_string(1000 + i),
                               "k1", "t1", "u1", "end\tuser\\" + std::to_string(i % 5));
        r.tags = {"t\n" + std::to_string(i % 3)};
        r.metadata = {{"i", i}, {"s", "a\tb"}};
        if (i % 10 == 0) {
          r.kind = RowKind::rejection;
        } else {
          ++spend_rows;
          key_units += storage::parse_money(r.cost_usd);
        }
        ASSERT_TRUE(ledger.record(r));
      }
    } else {
      ASSERT_EQ(ledger.recovered_unshipped().size(), static_cast<size_t>(kRows + 2));
    }
    ASSERT_TRUE(ledger.wait_shipped(kWait));
    const auto s = ledger.stats();
    EXPECT_EQ(s.shipped, static_cast<uint64_t>(kRows + 2)) << pass;
    EXPECT_EQ(s.duplicates, pass == 0 ? 0u : static_cast<uint64_t>(kRows + 2)) << pass;
    EXPECT_EQ(s.skipped, 0u);
    EXPECT_EQ(s.pending_rows, 0u);
    ledger.stop();
    if (pass == 0) {
      ASSERT_TRUE(std::filesystem::remove(dir.path() / "cursor"));
    }
  }

  SpendQuery all;
  all.limit = 5000;
  const auto logs = store->spend_logs(all);
  ASSERT_EQ(logs.size(), static_cast<size_t>(spend_rows));
  EXPECT_EQ(store->rejections(all).size(), static_cast<size_t>(kRows + 2 - spend_rows));
  EXPECT_EQ(storage::money_from_double(store->find_key("k1")->spend), key_units);
  EXPECT_EQ(query("SELECT SUM(requests) FROM daily_spend")[0][0], std::to_string(spend_rows));
  // The format 1 row arrived field for field (times at the stores' microseconds).
  const SpendRow want = full_row(1);
  bool found = false;
  for (const auto& r : logs) {
    if (r.request_id != "req-1") continue;
    found = true;
    EXPECT_EQ(r.team_id, want.team_id);
    EXPECT_EQ(r.user_id, want.user_id);
    EXPECT_EQ(r.end_user, want.end_user);
    EXPECT_EQ(r.key_alias, want.key_alias);
    EXPECT_EQ(r.prompt_tokens, want.prompt_tokens);
    EXPECT_EQ(r.reasoning_tokens, want.reasoning_tokens);
    EXPECT_EQ(r.ttft_ms, want.ttft_ms);
    EXPECT_EQ(r.cache_hit, want.cache_hit);
    EXPECT_EQ(r.stream, want.stream);
    EXPECT_EQ(r.cost_usd, want.cost_usd);
    EXPECT_EQ(r.tags, want.tags);
    EXPECT_EQ(r.metadata, want.metadata);
    EXPECT_EQ(r.start_time, std::chrono::floor<std::chrono::microseconds>(want.start_time));
  }
  EXPECT_TRUE(found);
}

TEST_P(StoreTest, LedgerShipsRowsWhoseTextWasNotUtf8) {
  // Any client can put bytes above 0x7f in a request target, which becomes
  // the route of its (rejection) row. PostgreSQL refuses text that is not
  // UTF-8, and a batch it refuses would stop the ledger for good: the spool
  // record carries U+FFFD instead, and every row ships into both stores.
  ScratchDir dir;
  LedgerOptions o;
  o.spool_dir = dir.str();
  o.commit_interval = std::chrono::milliseconds(1);
  o.retry_initial = std::chrono::milliseconds(1);
  o.retry_max = std::chrono::milliseconds(50);
  Ledger ledger(o, factory_);
  SpendRow bad = spend_row("bad-bytes", utc(2024, 5, 1), "0.1", "", "", "", "caf\xc3\xa9\xff");
  bad.route = "/v1/chat/completions\xff\xc3";
  bad.requested_model = "gpt\x80";
  SpendRow rejected = bad;
  rejected.request_id = "bad-bytes-rejected";
  rejected.kind = RowKind::rejection;
  ASSERT_TRUE(ledger.record(bad));
  ASSERT_TRUE(ledger.record(rejected));
  ASSERT_TRUE(ledger.record(spend_row("after", utc(2024, 5, 1), "0.2")));
  ASSERT_TRUE(ledger.wait_shipped(std::chrono::seconds(60)));
  EXPECT_EQ(ledger.stats().shipped, 3u);
  EXPECT_EQ(ledger.stats().skipped, 0u);
  ledger.stop();

  SpendQuery q;
  q.request_id = "bad-bytes";
  const auto logs = store->spend_logs(q);
  ASSERT_EQ(logs.size(), 1u);
  EXPECT_EQ(logs[0].route, "/v1/chat/completions\xef\xbf\xbd\xef\xbf\xbd");
  EXPECT_EQ(logs[0].end_user, "caf\xc3\xa9\xef\xbf\xbd");
  EXPECT_EQ(logs[0].requested_model, "gpt\xef\xbf\xbd");
  EXPECT_DOUBLE_EQ(store->find_end_user("caf\xc3\xa9\xef\xbf\xbd")->spend, 0.1);
  SpendQuery all;
  EXPECT_EQ(store->rejections(all).size(), 1u);
  EXPECT_EQ(store->spend_logs(all).size(), 2u);
}

TEST_P(StoreTest, RequestIdsThatDifferOnlyAfterANulAreOneRequestInPostgresql) {
  // PostgreSQL text ends at a NUL, so there these two ids are one: the row
  // whose whole id sorts first ("x\0a", rows go in in id order) is stored
  // and counted, the other is a duplicate. SQLite keeps every byte and
  // stores both.
  ASSERT_TRUE(store->insert_key(make_key("k1", "", "t1", "u1"), audit("a1", "key.generate", "k1")));
  const std::vector<SpendRow> rows{spend_row(std::string("x\0b", 3), utc(2024, 5, 1), "0.2", "k1"),
                                   spend_row(std::string("x\0a", 3), utc(2024, 5, 1), "0.1", "k1")};
  const ShipResult r = store->ship(rows);
  const bool pg = GetParam() == "postgresql";
  EXPECT_EQ(r.inserted, pg ? 1 : 2);
  EXPECT_EQ(r.duplicates, pg ? 1 : 0);
  EXPECT_DOUBLE_EQ(store->find_key("k1")->spend, pg ? 0.1 : 0.3);
  EXPECT_EQ(query("SELECT requests FROM daily_spend")[0][0], pg ? "1" : "2");
  SpendQuery all;
  EXPECT_EQ(store->spend_logs(all).size(), pg ? 1u : 2u);
  const ShipResult again = store->ship(rows);
  EXPECT_EQ(again.inserted, 0);
  EXPECT_EQ(again.duplicates, 2);
  EXPECT_DOUBLE_EQ(store->find_key("k1")->spend, pg ? 0.1 : 0.3);
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreTest, ::testing::Values("sqlite", "postgresql"),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

}  // namespace tollgate::testing
