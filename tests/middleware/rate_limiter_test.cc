#include "middleware/rate_limiter.h"

#include <gtest/gtest.h>

#include "middleware/parallel_limiter.h"

namespace tollgate {
namespace {

using namespace std::chrono_literals;

struct ManualClock {
  TimePoint t = SystemClock::from_time_t(1'767'225'600);
  RateLimiter::Now fn() {
    return [this] { return t; };
  }
};

RateScope rpm(std::string id, int64_t n) { return {std::move(id), n, std::nullopt}; }
RateScope tpm(std::string id, int64_t n) { return {std::move(id), std::nullopt, n}; }

TEST(RateLimiter, FourthRequestInAMinuteOfThreeIsRefusedWithRetryAfter) {
  ManualClock clock;
  RateLimiter rl(clock.fn());
  for (int i = 0; i < 3; ++i) {
    auto d = rl.admit({rpm("key:a", 3)}, 0);
    ASSERT_TRUE(d.allowed) << i;
    ASSERT_TRUE(d.requests);
    EXPECT_EQ(d.requests->limit, 3);
    EXPECT_EQ(d.requests->remaining, 2 - i);
  }
  auto d = rl.admit({rpm("key:a", 3)}, 0);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.limited_scope, "key:a");
  EXPECT_EQ(d.limited_kind, "requests");
  EXPECT_EQ(d.retry_after_seconds, 20);  // one request's share of the minute
  clock.t += 20s;
  EXPECT_TRUE(rl.admit({rpm("key:a", 3)}, 0).allowed);
}

TEST(RateLimiter, TokensAreCorrectedAfterTheRequestBothWays) {
  ManualClock clock;
  RateLimiter rl(clock.fn());
  auto d = rl.admit({tpm("key:a", 1000)}, 600);
  ASSERT_TRUE(d.allowed);
  EXPECT_EQ(d.tokens->remaining, 400);
  EXPECT_FALSE(rl.admit({tpm("key:a", 1000)}, 500).allowed);
  rl.correct(d.ticket, 100);  // it used far fewer than estimated
  auto e = rl.admit({tpm("key:a", 1000)}, 500);
  ASSERT_TRUE(e.allowed);
  EXPECT_EQ(e.tokens->remaining, 400);
  rl.correct(e.ticket, 900);  // and this one more
  EXPECT_FALSE(rl.admit({tpm("key:a", 1000)}, 10).allowed);
}

TEST(RateLimiter, OversizeRequestRunsOnAnEmptyBucketOnly) {
  ManualClock clock;
  RateLimiter rl(clock.fn());
  auto d = rl.admit({tpm("key:a", 1000)}, 5000);
  EXPECT_TRUE(d.allowed);
  auto e = rl.admit({tpm("key:a", 1000)}, 1);
  EXPECT_FALSE(e.allowed);
  EXPECT_GE(e.retry_after_seconds, 240);
}

TEST(RateLimiter, ScopesAreAllOrNothing) {
  ManualClock clock;
  RateLimiter rl(clock.fn());
  ASSERT_TRUE(rl.admit({rpm("team:t", 1)}, 0).allowed);
  auto d = rl.admit({rpm("key:a", 5), rpm("team:t", 1)}, 0);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.limited_scope, "team:t");
  // key:a was not charged by the refused request.
  auto e = rl.admit({rpm("key:a", 5)}, 0);
  EXPECT_EQ(e.requests->remaining, 4);
}

TEST(RateLimiter, IdleScopesAreForgotten) {
  ManualClock clock;
  RateLimiter rl(clock.fn());
  for (int i = 0; i < 100; ++i) rl.admit({rpm("key:" + std::to_string(i), 10)}, 0);
  EXPECT_EQ(rl.tracked_scopes(), 100u);
  clock.t += 2min;
  for (int i = 0; i < 1024; ++i) rl.admit({}, 0);
  EXPECT_EQ(rl.tracked_scopes(), 0u);
}

TEST(RateLimiter, ResetDurationsUseOpenAIsFormat) {
  EXPECT_EQ(format_reset_duration(20ms), "20ms");
  EXPECT_EQ(format_reset_duration(1000ms), "1s");
  EXPECT_EQ(format_reset_duration(360'000ms), "6m0s");
  EXPECT_EQ(format_reset_duration(3'723'000ms), "1h2m3s");
}

TEST(ParallelLimiter, SlotsAreAllOrNothingAndDoubleReleaseIsHarmless) {
  ParallelLimiter p;
  ASSERT_TRUE(p.acquire({{"key:a", 2}, {"team:t", 1}}));
  EXPECT_FALSE(p.acquire({{"key:a", 2}, {"team:t", 1}}));
  EXPECT_EQ(p.in_flight("key:a"), 1);
  p.release({"key:a", "team:t"});
  p.release({"key:a", "team:t"});
  EXPECT_EQ(p.in_flight("key:a"), 0);
  EXPECT_TRUE(p.acquire({{"key:a", 2}, {"team:t", 1}}));
}

}  // namespace
}  // namespace tollgate
