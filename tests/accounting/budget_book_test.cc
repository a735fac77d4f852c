#include "accounting/budget_book.h"

#include <atomic>
#include <thread>

#include <gtest/gtest.h>

namespace tollgate {
namespace {

using namespace std::chrono_literals;

struct ManualClock {
  TimePoint t = SystemClock::from_time_t(1'767'225'600);  // 2026-01-01T00:00:00Z
  BudgetBook::Now fn() {
    return [this] { return t; };
  }
};

BudgetScope scope(std::string id, std::optional<double> max, double stored = 0) {
  BudgetScope s;
  s.id = std::move(id);
  s.max_budget = max;
  s.stored_spend = stored;
  return s;
}

TEST(BudgetBook, ExactFitIsAdmittedAndOneMoreCentIsNot) {
  ManualClock clock;
  BudgetBook book(clock.fn());
  auto a = book.reserve({scope("key:a", 1.0)}, 0.6, 1min);
  ASSERT_TRUE(std::holds_alternative<BudgetBook::Reservation>(a));
  auto b = book.reserve({scope("key:a", 1.0)}, 0.4, 1min);
  ASSERT_TRUE(std::holds_alternative<BudgetBook::Reservation>(b));
  auto c = book.reserve({scope("key:a", 1.0)}, 0.01, 1min);
  ASSERT_TRUE(std::holds_alternative<BudgetBook::Denial>(c));
  const auto& d = std::get<BudgetBook::Denial>(c);
  EXPECT_EQ(d.scope, "key:a");
  EXPECT_DOUBLE_EQ(d.reserved, 1.0);
  EXPECT_DOUBLE_EQ(d.requested, 0.01);
}

TEST(BudgetBook, SettleReleasesTheReservationAndChargesTheRealCost) {
  ManualClock clock;
  BudgetBook book(clock.fn());
  auto r = std::get<BudgetBook::Reservation>(book.reserve({scope("key:a", 1.0)}, 0.5, 1min));
  EXPECT_DOUBLE_EQ(book.reserved("key:a"), 0.5);
  book.settle(r, 0.2);
  EXPECT_DOUBLE_EQ(book.reserved("key:a"), 0.0);
  EXPECT_DOUBLE_EQ(book.spent("key:a"), 0.2);
  book.settle(r, 0.2);  // a second settle of the same reservation does nothing
  EXPECT_DOUBLE_EQ(book.spent("key:a"), 0.2);
}

TEST(BudgetBook, DenialOnOneScopeReservesNothingOnTheOthers) {
  ManualClock clock;
  BudgetBook book(clock.fn());
  auto r = book.reserve({scope("key:a", 10.0), scope("team:t", 1.0, 0.9)}, 0.5, 1min);
  ASSERT_TRUE(std::holds_alternative<BudgetBook::Denial>(r));
  EXPECT_EQ(std::get<BudgetBook::Denial>(r).scope, "team:t");
  EXPECT_DOUBLE_EQ(std::get<BudgetBook::Denial>(r).spent, 0.9);
  EXPECT_DOUBLE_EQ(book.reserved("key:a"), 0.0);
}

TEST(BudgetBook, StoredSpendSeedsAScopeOnlyOnce) {
  ManualClock clock;
  BudgetBook book(clock.fn());
  book.charge({scope("key:a", 5.0, 2.0)}, 0.5);
  EXPECT_DOUBLE_EQ(book.spent("key:a"), 2.5);
  // A later (stale) stored value does not overwrite what the book knows.
  book.charge({scope("key:a", 5.0, 2.0)}, 0.5);
  EXPECT_DOUBLE_EQ(book.spent("key:a"), 3.0);
}

TEST(BudgetBook, ExpiredReservationIsReleasedAndALateSettleChargesOnce) {
  ManualClock clock;
  BudgetBook book(clock.fn());
  auto r = std::get<BudgetBook::Reservation>(book.reserve({scope("key:a", 1.0)}, 0.8, 30s));
  clock.t += 31s;
  EXPECT_EQ(book.expire(), 1);
  EXPECT_DOUBLE_EQ(book.reserved("key:a"), 0.0);
  EXPECT_TRUE(std::holds_alternative<BudgetBook::Reservation>(book.reserve({scope("key:a", 1.0)}, 0.8, 30s)));
  book.settle(r, 0.1);
  EXPECT_DOUBLE_EQ(book.spent("key:a"), 0.1);
  EXPECT_DOUBLE_EQ(book.reserved("key:a"), 0.8);  // the second reservation is untouched
}

TEST(BudgetBook, DailyPeriodResetsSpend) {
  ManualClock clock;
  BudgetBook book(clock.fn());
  auto s = scope("key:a", 1.0, 0.9);
  s.duration = "1d";
  s.reset_at = clock.t + 24h;
  EXPECT_TRUE(std::holds_alternative<BudgetBook::Denial>(book.reserve({s}, 0.2, 1min)));
  clock.t += 24h;
  auto r = book.reserve({s}, 0.2, 1min);
  ASSERT_TRUE(std::holds_alternative<BudgetBook::Reservation>(r));
  EXPECT_DOUBLE_EQ(book.spent("key:a"), 0.0);
}

TEST(BudgetBook, SoftBudgetCrossingIsReportedOncePerPeriod) {
  ManualClock clock;
  BudgetBook book(clock.fn());
  auto s = scope("key:a", std::nullopt);
  s.soft_budget = 1.0;
  auto r1 = std::get<BudgetBook::Reservation>(book.reserve({s}, 0.1, 1min));
  EXPECT_TRUE(book.settle(r1, 0.6).empty());
  auto r2 = std::get<BudgetBook::Reservation>(book.reserve({s}, 0.1, 1min));
  EXPECT_EQ(book.settle(r2, 0.6), std::vector<std::string>{"key:a"});
  auto r3 = std::get<BudgetBook::Reservation>(book.reserve({s}, 0.1, 1min));
  EXPECT_TRUE(book.settle(r3, 0.6).empty());
}

TEST(BudgetBook, TwoHundredConcurrentRequestsNeverOvershoot) {
  ManualClock clock;
  BudgetBook book(clock.fn());
  // Each request reserves 0.1 worst case and really costs 0.07: a 1.0 budget
  // admits exactly 10 while they are all in flight.
  std::atomic<int> admitted{0};
  std::vector<BudgetBook::Reservation> held(200);
  std::vector<std::thread> threads;
  for (int i = 0; i < 200; ++i) {
    threads.emplace_back([&, i] {
      auto r = book.reserve({scope("key:a", 1.0), scope("team:t", 5.0)}, 0.1, 1min);
      if (auto* res = std::get_if<BudgetBook::Reservation>(&r)) {
        held[static_cast<std::size_t>(i)] = *res;
        admitted.fetch_add(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(admitted.load(), 10);
  for (auto& r : held) {
    if (r.id) book.settle(r, 0.07);
  }
  EXPECT_NEAR(book.spent("key:a"), 0.7, 1e-9);
  EXPECT_LE(book.spent("key:a"), 1.0);
  EXPECT_DOUBLE_EQ(book.reserved("key:a"), 0.0);
}

}  // namespace
}  // namespace tollgate
