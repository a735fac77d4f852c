#include "middleware/rate_limiter.h"

#include <atomic>
#include <thread>

#include <gtest/gtest.h>

namespace tollgate {
namespace {

using namespace std::chrono_literals;
using Clock = RateLimiter::Clock;

struct RateLimiterTest : ::testing::Test {
  Clock::time_point t{std::chrono::hours(1000)};
  RateLimiter limiter{[this] { return t; }};
};

RateScope rpm(std::string id, int64_t n) { return {std::move(id), n, std::nullopt}; }
RateScope tpm(std::string id, int64_t n) { return {std::move(id), std::nullopt, n}; }

TEST(RateLimitReset, OpenAIFormat) {
  EXPECT_EQ(format_rate_reset(0ms), "0s");
  EXPECT_EQ(format_rate_reset(-5ms), "0s");
  EXPECT_EQ(format_rate_reset(20ms), "20ms");
  EXPECT_EQ(format_rate_reset(999ms), "999ms");
  EXPECT_EQ(format_rate_reset(1s), "1s");
  EXPECT_EQ(format_rate_reset(1500ms), "1.5s");
  EXPECT_EQ(format_rate_reset(1020ms), "1.02s");
  EXPECT_EQ(format_rate_reset(6min), "6m0s");
  EXPECT_EQ(format_rate_reset(1min + 1ms), "1m0.001s");
  EXPECT_EQ(format_rate_reset(1h), "1h0m0s");
  EXPECT_EQ(format_rate_reset(1h + 2min + 3400ms), "1h2m3.4s");
}

TEST_F(RateLimiterTest, FourthRequestInAMinuteIsDeniedUntilASlotRefills) {
  const std::vector s{rpm("key:a", 3)};
  for (int64_t left : {2, 1, 0}) {
    const auto d = limiter.admit(s, 0);
    ASSERT_TRUE(d.allowed);
    ASSERT_TRUE(d.requests);
    EXPECT_EQ(d.requests->limit, 3);
    EXPECT_EQ(d.requests->remaining, left);
    EXPECT_FALSE(d.tokens);
  }
  auto d = limiter.admit(s, 0);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.limited_scope, "key:a");
  EXPECT_EQ(d.limited_kind, RateKind::requests);
  EXPECT_STREQ(rate_kind_name(d.limited_kind), "requests");
  EXPECT_EQ(d.retry_after_seconds, 20);  // GCRA: one slot per 60s / 3
  EXPECT_EQ(d.requests->remaining, 0);
  EXPECT_EQ(format_rate_reset(d.requests->reset), "1m0s");

  t += 19s;
  d = limiter.admit(s, 0);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after_seconds, 1);
  t += 1s;
  EXPECT_TRUE(limiter.admit(s, 0).allowed);
  EXPECT_FALSE(limiter.admit(s, 0).allowed);
  t += 60s;  // a full minute: the whole burst is back
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(limiter.admit(s, 0).allowed);
}

TEST_F(RateLimiterTest, RetryAfterRoundsUpToAtLeastOneSecond) {
  const std::vector s{rpm("key:a", 600)};  // one slot per 100ms
  for (int i = 0; i < 600; ++i) ASSERT_TRUE(limiter.admit(s, 0).allowed);
  const auto d = limiter.admit(s, 0);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after_seconds, 1);
  t += 100ms;
  EXPECT_TRUE(limiter.admit(s, 0).allowed);
}

TEST_F(RateLimiterTest, HeaderNumbersCountDown) {
  const std::vector s{RateScope{"key:a", 10, 100}};
  auto d = limiter.admit(s, 10);
  ASSERT_TRUE(d.requests && d.tokens);
  EXPECT_EQ(d.requests->remaining, 9);
  EXPECT_EQ(d.tokens->limit, 100);
  EXPECT_EQ(d.tokens->remaining, 90);
  EXPECT_EQ(format_rate_reset(d.requests->reset), "6s");
  EXPECT_EQ(format_rate_reset(d.tokens->reset), "6s");
  d = limiter.admit(s, 10);
  EXPECT_EQ(d.requests->remaining, 8);
  EXPECT_EQ(d.tokens->remaining, 80);
  EXPECT_EQ(format_rate_reset(d.tokens->reset), "12s");
  t += 3s;  // 5 tokens and half a request drained
  d = limiter.admit(s, 10);
  EXPECT_EQ(d.requests->remaining, 7);  // 2.5 used of 10: 7 whole requests left
  EXPECT_EQ(d.tokens->remaining, 75);
  EXPECT_EQ(format_rate_reset(d.tokens->reset), "15s");
}

TEST_F(RateLimiterTest, TokenEstimateCorrectedUpwardsDelaysTheNextRequest) {
  const std::vector s{tpm("key:a", 1000)};
  auto d = limiter.admit(s, 600);
  ASSERT_TRUE(d.allowed);
  EXPECT_EQ(d.tokens->remaining, 400);
  limiter.correct(s, 600, 900);
  d = limiter.admit(s, 200);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.limited_kind, RateKind::tokens);
  EXPECT_EQ(d.tokens->remaining, 100);
  EXPECT_EQ(d.retry_after_seconds, 6);  // 100 tokens over at 1000/min
  t += 6s;
  EXPECT_TRUE(limiter.admit(s, 200).allowed);
}

TEST_F(RateLimiterTest, TokenEstimateCorrectedDownwardsGivesTokensBack) {
  const std::vector s{tpm("key:a", 1000)};
  ASSERT_TRUE(limiter.admit(s, 600).allowed);
  EXPECT_FALSE(limiter.admit(s, 900).allowed);
  limiter.correct(s, 600, 100);
  const auto d = limiter.admit(s, 900);  // 100 + 900 fits exactly
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.tokens->remaining, 0);
  // Giving back more than the bucket holds stops at empty.
  limiter.correct(s, 5000, 0);
  EXPECT_EQ(limiter.admit(s, 1000).tokens->remaining, 0);
  EXPECT_FALSE(limiter.admit(s, 1).allowed);
}

TEST_F(RateLimiterTest, OversizeRequestIsAdmittedOnlyOnAnEmptyBucket) {
  const std::vector s{tpm("key:a", 1000)};
  auto d = limiter.admit(s, 5000);
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.tokens->remaining, 0);
  EXPECT_EQ(format_rate_reset(d.tokens->reset), "5m0s");
  d = limiter.admit(s, 10);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after_seconds, 241);  // until 990 tokens are left: 4010 * 60 / 1000 s

  const std::vector other{tpm("key:b", 1000)};
  ASSERT_TRUE(limiter.admit(other, 10).allowed);
  d = limiter.admit(other, 5000);
  EXPECT_FALSE(d.allowed);  // not empty
  EXPECT_EQ(d.retry_after_seconds, 1);  // 10 tokens drain in 0.6s
  t += 600ms;
  EXPECT_TRUE(limiter.admit(other, 5000).allowed);
}

TEST_F(RateLimiterTest, ScopesAreAllOrNothing) {
  const std::vector both{rpm("key:a", 10), rpm("team:t", 1)};
  auto d = limiter.admit(both, 0);
  ASSERT_TRUE(d.allowed);
  EXPECT_EQ(d.requests->scope, "team:t");  // the most constrained
  EXPECT_EQ(d.requests->remaining, 0);
  d = limiter.admit(both, 0);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.limited_scope, "team:t");
  EXPECT_EQ(d.retry_after_seconds, 60);
  // The denied request took nothing from the key: 1 used of 10.
  d = limiter.admit({rpm("key:a", 10)}, 0);
  EXPECT_EQ(d.requests->remaining, 8);
}

TEST_F(RateLimiterTest, LongestWaitNamesTheLimitedScope) {
  ASSERT_TRUE(limiter.admit({RateScope{"key:a", 1, 100}, rpm("team:t", 2)}, 100).allowed);
  ASSERT_TRUE(limiter.admit({rpm("team:t", 2)}, 0).allowed);
  const auto d = limiter.admit({RateScope{"key:a", 1, 100}, rpm("team:t", 2)}, 100);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.limited_scope, "key:a");  // 60s beats the team's 30s
  EXPECT_EQ(d.retry_after_seconds, 60);
}

TEST_F(RateLimiterTest, DuplicateScopeCountsOnce) {
  EXPECT_TRUE(limiter.admit({rpm("key:a", 1), rpm("key:a", 1)}, 0).allowed);
}

TEST_F(RateLimiterTest, ZeroLimitDeniesEverything) {
  const auto d = limiter.admit({tpm("key:a", 0)}, 0);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after_seconds, 60);
  EXPECT_EQ(d.tokens->remaining, 0);
}

TEST_F(RateLimiterTest, LimitChangeAppliesAtOnce) {
  ASSERT_TRUE(limiter.admit({rpm("key:a", 1)}, 0).allowed);
  EXPECT_FALSE(limiter.admit({rpm("key:a", 1)}, 0).allowed);
  EXPECT_TRUE(limiter.admit({rpm("key:a", 2)}, 0).allowed);
}

TEST_F(RateLimiterTest, IdleEntriesAreDropped) {
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(limiter.admit({rpm("key:" + std::to_string(i), 1)}, 0).allowed);
  ASSERT_TRUE(limiter.admit({tpm("big", 1000)}, 5000).allowed);  // drains for 5 minutes
  limiter.admit({}, 0);
  EXPECT_EQ(limiter.size(), 101u);
  t += 59s;  // rpm 1: one request takes a full minute to drain
  limiter.admit({}, 0);
  EXPECT_EQ(limiter.size(), 101u);
  t += 1s;
  limiter.admit({}, 0);  // lazy sweep, at most once a minute
  EXPECT_EQ(limiter.size(), 1u);
  t += 4min;
  EXPECT_EQ(limiter.sweep(), 1u);
  EXPECT_EQ(limiter.size(), 0u);
}

TEST_F(RateLimiterTest, ConcurrentAdmissionsNeverExceedTheLimit) {
  const std::vector s{rpm("key:a", 50), RateScope{"team:t", 1000, 1'000'000}};
  std::atomic<int> allowed{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i)
    threads.emplace_back([&] {
      for (int j = 0; j < 100; ++j)
        if (limiter.admit(s, 10).allowed) ++allowed;
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(allowed.load(), 50);
  EXPECT_EQ(limiter.admit({RateScope{"team:t", 1000, 1'000'000}}, 0).tokens->remaining, 1'000'000 - 500);
}

}  // namespace
}  // namespace tollgate
