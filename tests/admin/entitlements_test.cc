// Entitlements and child ⊆ parent, as pure functions: each dimension, the one
// meaning of allowed_routes: [], and the field each refusal names.
#include "admin/entitlements.h"

#include <gtest/gtest.h>

#include "middleware/policy.h"

namespace tollgate {
namespace {

using namespace std::chrono_literals;

// A scoped admin: team t1, user u1, models [chat, embed], $10 per 30 days.
struct EntitlementsTest : ::testing::Test {
  std::shared_ptr<KeyRecord> lead = std::make_shared<KeyRecord>();
  std::shared_ptr<TeamRecord> team = std::make_shared<TeamRecord>();

  void SetUp() override {
    lead->key_id = "lead";
    lead->team_id = "t1";
    lead->models = {"chat", "embed"};
    lead->allowed_routes = {"llm_api_routes", "/key/generate", "/key/update"};
    lead->limits.max_budget = 10;
    lead->limits.budget_duration = "30d";
    lead->limits.rpm_limit = 100;
    lead->metadata = {{"route_tags", {{"region", "eu"}}}};
    team->team_id = "t1";
  }

  Principal caller() const {
    Principal p;
    p.key = lead;
    p.team = team;
    p.route_tags = {{"region", "eu"}};
    return p;
  }

  // A child the lead may grant; each test changes one thing.
  static KeyRecord child() {
    KeyRecord k;
    k.team_id = "t1";
    k.models = {"chat"};
    k.allowed_routes = {"llm_api_routes"};
    k.limits.max_budget = 5;
    k.limits.budget_duration = "30d";
    k.limits.rpm_limit = 10;
    k.metadata = {{"route_tags", {{"region", "eu"}}}};
    return k;
  }

  std::optional<ApiError> grant(const KeyRecord& k) const {
    return check_subset(entitlements_of(k), entitlements_of(caller()));
  }

  static void expect_refused(const std::optional<ApiError>& e, const std::string& param, const std::string& words) {
    ASSERT_TRUE(e) << "expected a refusal naming " << param;
    EXPECT_EQ(e->status, 403);
    EXPECT_EQ(e->code, "privilege_escalation");
    EXPECT_EQ(e->param, param);
    EXPECT_NE(e->message.find(words), std::string::npos) << e->message;
  }
};

TEST_F(EntitlementsTest, AChildInsideItsParentIsGranted) {
  EXPECT_FALSE(grant(child()));
  auto narrower = child();
  narrower.limits.budget_duration = "";  // lifetime: never refills
  narrower.metadata["route_tags"]["tier"] = "gold";  // more tags pin it further
  EXPECT_FALSE(grant(narrower));
}

TEST_F(EntitlementsTest, MasterHoldsEverything) {
  Principal master;
  master.is_master = true;
  auto k = child();
  k.models.clear();
  k.limits = Limits{};
  EXPECT_FALSE(check_subset(entitlements_of(k), entitlements_of(master)));
}

TEST_F(EntitlementsTest, AliasTargetsAreModelsToo) {
  auto k = child();
  k.aliases = {{"chat", "premium"}};  // "chat" is allowed, so the alias reaches premium
  expect_refused(grant(k), "aliases", "`premium`");
  k.aliases = {{"cheap", "premium"}};  // neither name nor target allowed: unreachable, harmless
  EXPECT_FALSE(grant(k));
  k.aliases = {{"fast", "chat"}};
  EXPECT_FALSE(grant(k));

  // The parent's own alias makes its target one of its models.
  lead->aliases = {{"embed", "premium"}};
  k.models = {"premium"};
  k.aliases.clear();
  EXPECT_FALSE(grant(k));
  k.models = {"embed"};  // shadowed by the parent's alias: the parent cannot reach `embed` itself
  expect_refused(grant(k), "models", "`embed`");
}

TEST_F(EntitlementsTest, EveryModelOrAnUnlistedOneIsRefused) {
  auto k = child();
  k.models.clear();
  expect_refused(grant(k), "models", "every model");
  k.models = {"*"};
  expect_refused(grant(k), "models", "every model");
  k.models = {"chat", "premium"};
  expect_refused(grant(k), "models", "`premium`");
  // The team's list narrows the caller.
  team->models = {"embed"};
  k.models = {"chat"};
  expect_refused(grant(k), "models", "`chat`");
}

TEST_F(EntitlementsTest, EmptyAllowedRoutesMeansTheSameWhenGrantedAndWhenUsed) {
  EXPECT_EQ(effective_routes({}), (std::vector<std::string>{"llm_api_routes", "info_routes"}));
  auto k = child();
  k.allowed_routes.clear();
  EXPECT_FALSE(grant(k));  // the lead holds llm_api_routes, and info_routes as every key does
  lead->allowed_routes = {"/key/generate"};
  expect_refused(grant(k), "allowed_routes", "'llm_api_routes'");
  // What [] grants is what [] admits.
  for (const char* path : {"/v1/chat/completions", "/v1/embeddings", "/key/info"}) EXPECT_TRUE(routes_allow({}, path));
  for (const char* path : {"/key/generate", "/spend/logs"}) EXPECT_FALSE(routes_allow({}, path));
}

TEST_F(EntitlementsTest, RoutesAreGrantedOnlyWhenCovered) {
  auto k = child();
  k.allowed_routes = {"llm_api_routes", "/key/generate"};
  EXPECT_FALSE(grant(k));
  k.allowed_routes = {"openai_routes"};  // another name for the same group
  EXPECT_FALSE(grant(k));
  k.allowed_routes = {"llm_api_routes", "/key/*"};  // a prefix covers more than the exact paths held
  expect_refused(grant(k), "allowed_routes", "'/key/*'");
  k.allowed_routes = {"management_routes"};
  expect_refused(grant(k), "allowed_routes", "'management_routes'");
  k.allowed_routes = {"spend_tracking_routes"};
  expect_refused(grant(k), "allowed_routes", "'spend_tracking_routes'");

  EXPECT_TRUE(routes_cover({"management_routes"}, "/key/*"));
  EXPECT_TRUE(routes_cover({"management_routes"}, "info_routes"));
  EXPECT_TRUE(routes_cover({"/key/*"}, "/key/generate"));
  EXPECT_TRUE(routes_cover({"/key/*"}, "/key/sub/*"));
  EXPECT_FALSE(routes_cover({"/key/generate", "/key/update"}, "/key/*"));
  EXPECT_FALSE(routes_cover({"/key/*"}, "management_routes"));
  EXPECT_FALSE(routes_cover({"/key/*"}, "/keyboard"));
}

TEST_F(EntitlementsTest, RouteTagsCannotBeDroppedOrChanged) {
  auto k = child();
  k.metadata = nlohmann::json::object();
  expect_refused(grant(k), "metadata.route_tags", "region=eu");
  k.metadata = {{"route_tags", {{"region", "us"}}}};
  expect_refused(grant(k), "metadata.route_tags", "region=eu");
}

TEST_F(EntitlementsTest, BudgetsCompareAmountAndPeriod) {
  auto k = child();
  k.limits.max_budget = 11;
  expect_refused(grant(k), "max_budget", "$11.00");
  k.limits.max_budget.reset();
  expect_refused(grant(k), "max_budget", "unlimited");
  k.limits.max_budget = 5;
  k.limits.budget_duration = "1d";
  expect_refused(grant(k), "budget_duration", "'1d'");
  k.limits.budget_duration = "1mo";  // 30 days: as long as the parent's
  EXPECT_FALSE(grant(k));
  k.limits.budget_duration = "5w";
  EXPECT_FALSE(grant(k));

  // A lifetime budget is the longest period: only lifetime fits under it.
  lead->limits.budget_duration = "";
  k.limits.budget_duration = "30d";
  expect_refused(grant(k), "budget_duration", "lifetime");
  k.limits.budget_duration = "";
  EXPECT_FALSE(grant(k));

  // The team's and the user's budgets bound the caller too.
  team->limits.max_budget = 2;
  team->limits.budget_duration = "1d";
  expect_refused(grant(k), "max_budget", "team's budget of $2.00 per 1d");
  k.limits.max_budget = 2;
  EXPECT_FALSE(grant(k));
}

TEST_F(EntitlementsTest, RateLimitsAndPerModelLimits) {
  auto k = child();
  k.limits.rpm_limit = 101;
  expect_refused(grant(k), "rpm_limit", "101");
  k.limits.rpm_limit.reset();
  expect_refused(grant(k), "rpm_limit", "unlimited");
  k.limits.rpm_limit = 10;
  team->limits.max_parallel_requests = 2;
  expect_refused(grant(k), "max_parallel_requests", "unlimited");
  k.limits.max_parallel_requests = 2;
  team->limits.model_tpm_limit = {{"chat", 1000}};
  expect_refused(grant(k), "model_tpm_limit", "`chat`");
  k.limits.tpm_limit = 1000;  // an overall limit at or below it also bounds the model
  EXPECT_FALSE(grant(k));
  k.limits.tpm_limit = 5000;
  k.limits.model_tpm_limit = {{"chat", 500}};
  EXPECT_FALSE(grant(k));
}

TEST_F(EntitlementsTest, AKeyCannotOutliveItsParent) {
  const TimePoint now = SystemClock::now();
  lead->expires = now + 1h;
  auto k = child();
  expect_refused(grant(k), "duration", "outlives");
  k.expires = now + 2h;
  expect_refused(grant(k), "duration", "outlives");
  k.expires = now + 30min;
  EXPECT_FALSE(grant(k));
}

TEST_F(EntitlementsTest, TeamsAndUsersAreCheckedOnModelsBudgetsAndLimits) {
  TeamRecord t;
  t.models = {"chat"};
  t.limits.max_budget = 5;
  t.limits.budget_duration = "30d";
  t.limits.rpm_limit = 10;
  EXPECT_FALSE(check_subset(entitlements_of(t), entitlements_of(caller())));  // no routes or tags to carry
  t.limits.budget_duration = "1h";
  expect_refused(check_subset(entitlements_of(t), entitlements_of(caller())), "budget_duration", "'1h'");
  UserRecord u;
  u.models = {"premium"};
  expect_refused(check_subset(entitlements_of(u), entitlements_of(caller())), "models", "`premium`");
}

TEST_F(EntitlementsTest, BlockRightsComeFromTheRoutes) {
  EXPECT_FALSE(entitlements_of(caller()).may_unblock);
  lead->allowed_routes.push_back("/key/unblock");
  EXPECT_TRUE(entitlements_of(caller()).may_unblock);
  EXPECT_FALSE(entitlements_of(caller()).may_block);
  lead->allowed_routes = {"management_routes"};
  EXPECT_TRUE(entitlements_of(caller()).may_block);
}

TEST(PeriodSeconds, ReadsEveryBudgetDuration) {
  EXPECT_EQ(period_seconds("30s"), 30);
  EXPECT_EQ(period_seconds("10m"), 600);
  EXPECT_EQ(period_seconds("1h"), 3600);
  EXPECT_EQ(period_seconds("7d"), 7 * 86400);
  EXPECT_EQ(period_seconds("2w"), 14 * 86400);
  EXPECT_EQ(period_seconds("1mo"), 30 * 86400);
  EXPECT_FALSE(period_seconds(""));
  EXPECT_FALSE(period_seconds("1y"));
  EXPECT_FALSE(period_seconds("d"));
}

}  // namespace
}  // namespace tollgate
