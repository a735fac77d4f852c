// Keys minted by keys draw on their ancestors' budgets: the scopes a request
// reserves on, and the stored spend each is seeded with after a restart.
#include <gtest/gtest.h>

#include "accounting/budget_book.h"
#include "middleware/budget_middleware.h"
#include "storage/directory.h"

namespace tollgate {
namespace {

KeyRecord key(std::string id, std::string created_by, std::string user, double spend, std::optional<double> budget = {}) {
  KeyRecord k;
  k.key_id = id;
  k.token_hash = "hash-" + id;
  k.team_id = "t1";
  k.user_id = std::move(user);
  k.created_by = std::move(created_by);
  k.spend = spend;
  k.limits.max_budget = budget;
  return k;
}

// lead (user u1, $5) minted c1 (user u2), which minted g (no user); m was
// minted by the master key.
std::shared_ptr<const Directory> directory() {
  Store::Snapshot s;
  s.keys = {key("lead", "master", "u1", 1.0, 5.0), key("c1", "lead", "u2", 2.0, 5.0), key("g", "c1", "", 0.5, 5.0),
            key("m", "master", "u1", 7.0)};
  TeamRecord t;
  t.team_id = "t1";
  t.spend = 10.5;  // the store books every row of the team on it
  s.teams = {t};
  for (const char* id : {"u1", "u2"}) {
    UserRecord u;
    u.user_id = id;
    u.team_id = "t1";
    u.limits.max_budget = 100;
    s.users.push_back(u);
  }
  s.users[0].spend = 8.0;  // lead's and m's rows
  s.users[1].spend = 2.0;  // c1's rows
  return Directory::build(std::move(s));
}

std::vector<std::string> ids(const std::vector<BudgetScope>& scopes) {
  std::vector<std::string> out;
  for (const auto& s : scopes) out.push_back(s.id);
  return out;
}

const BudgetScope& find(const std::vector<BudgetScope>& scopes, const std::string& id) {
  for (const auto& s : scopes) {
    if (s.id == id) return s;
  }
  throw std::runtime_error("no scope " + id);
}

TEST(BudgetScopes, AMintedKeyDrawsOnEveryAncestorsBudgets) {
  const auto dir = directory();
  ASSERT_EQ(dir->ancestors("g").size(), 2u);
  EXPECT_EQ(dir->ancestors("g")[0]->key_id, "c1");
  EXPECT_EQ(dir->ancestors("g")[1]->key_id, "lead");
  EXPECT_TRUE(dir->ancestors("m").empty());
  EXPECT_TRUE(dir->ancestors("lead").empty());

  Config config;
  const auto scopes = budget_scopes(config, *dir, "g", "t1", "", "");
  EXPECT_EQ(ids(scopes), (std::vector<std::string>{"key:g", "team:t1", "key:c1", "user:u2", "key:lead", "user:u1"}));
  // Own scopes first, so a denial names the key's own budget when it is the one that is short.
  EXPECT_EQ(ids(budget_scopes(config, *dir, "m", "t1", "u1", "")),
            (std::vector<std::string>{"key:m", "team:t1", "user:u1"}));
}

TEST(BudgetScopes, StoredSpendCountsWhatDescendantsSpent) {
  const auto dir = directory();
  EXPECT_DOUBLE_EQ(dir->drawn_spend("key:lead"), 2.5);  // c1 and g
  EXPECT_DOUBLE_EQ(dir->drawn_spend("key:c1"), 0.5);
  EXPECT_DOUBLE_EQ(dir->drawn_spend("user:u1"), 2.5);  // c1 (user u2) and g (no user) draw on lead's user
  EXPECT_DOUBLE_EQ(dir->drawn_spend("user:u2"), 0.5);
  EXPECT_DOUBLE_EQ(dir->drawn_spend("team:t1"), 0.0);  // already booked on the team
  EXPECT_DOUBLE_EQ(dir->drawn_spend("key:m"), 0.0);

  Config config;
  // The same seed whichever key of the tree is seen first after a restart.
  for (const char* k : {"lead", "c1", "g"}) {
    const auto scopes = budget_scopes(config, *dir, k, "t1", "", "");
    EXPECT_DOUBLE_EQ(find(scopes, "key:lead").stored_spend, 3.5) << k;
  }
  EXPECT_DOUBLE_EQ(find(budget_scopes(config, *dir, "g", "t1", "", ""), "user:u1").stored_spend, 10.5);
}

TEST(BudgetScopes, ChildrenTogetherCannotSpendMoreThanTheirParent) {
  const auto dir = directory();
  Config config;
  TimePoint now = SystemClock::now();
  BudgetBook book([&] { return now; });
  // lead: $5 budget, $3.5 spent by the tree. c1 and g each have $5 of their own.
  auto from_c1 = book.reserve(budget_scopes(config, *dir, "c1", "t1", "u2", ""), 1.0, std::chrono::minutes(1));
  ASSERT_TRUE(std::holds_alternative<BudgetBook::Reservation>(from_c1));
  auto from_g = book.reserve(budget_scopes(config, *dir, "g", "t1", "", ""), 1.0, std::chrono::minutes(1));
  ASSERT_TRUE(std::holds_alternative<BudgetBook::Denial>(from_g));
  EXPECT_EQ(std::get<BudgetBook::Denial>(from_g).scope, "key:lead");
  EXPECT_DOUBLE_EQ(std::get<BudgetBook::Denial>(from_g).reserved, 1.0);
}

TEST(BudgetScopes, AChainWithACycleStops) {
  Store::Snapshot s;
  s.keys = {key("a", "b", "", 1.0), key("b", "a", "", 1.0)};  // only a forged store has this
  const auto dir = Directory::build(std::move(s));
  ASSERT_EQ(dir->ancestors("a").size(), 1u);
  EXPECT_EQ(dir->ancestors("a")[0]->key_id, "b");
  EXPECT_DOUBLE_EQ(dir->drawn_spend("key:a"), 1.0);
}

}  // namespace
}  // namespace tollgate
