#include "middleware/parallel_limiter.h"

#include <gtest/gtest.h>

namespace tollgate {
namespace {

TEST(ParallelLimiter, AcquireUpToTheLimitThenDeny) {
  ParallelLimiter l;
  const std::vector s{ParallelScope{"key:a", 2}};
  const auto a = l.acquire(s);
  const auto b = l.acquire(s);
  ASSERT_TRUE(a.allowed && b.allowed);
  EXPECT_NE(a.permit, 0u);
  EXPECT_NE(a.permit, b.permit);
  EXPECT_EQ(l.in_flight("key:a"), 2);
  const auto c = l.acquire(s);
  EXPECT_FALSE(c.allowed);
  EXPECT_EQ(c.permit, 0u);
  EXPECT_EQ(c.limited_scope, "key:a");
  EXPECT_EQ(c.limit, 2);
  EXPECT_EQ(c.in_flight, 2);
  EXPECT_TRUE(l.release(a.permit));
  EXPECT_TRUE(l.acquire(s).allowed);
}

TEST(ParallelLimiter, DoubleReleaseIsHarmless) {
  ParallelLimiter l;
  const std::vector s{ParallelScope{"key:a", 1}};
  const auto a = l.acquire(s);
  EXPECT_TRUE(l.release(a.permit));
  EXPECT_FALSE(l.release(a.permit));
  EXPECT_FALSE(l.release(0));
  EXPECT_FALSE(l.release(12345));
  EXPECT_EQ(l.in_flight("key:a"), 0);
  // The second release did not free a slot someone else holds.
  const auto b = l.acquire(s);
  ASSERT_TRUE(b.allowed);
  EXPECT_FALSE(l.release(a.permit));
  EXPECT_FALSE(l.acquire(s).allowed);
  EXPECT_EQ(l.permits(), 1u);
}

TEST(ParallelLimiter, AllOrNothingAcrossScopes) {
  ParallelLimiter l;
  const auto team_only = l.acquire({ParallelScope{"team:t", 1}});
  ASSERT_TRUE(team_only.allowed);
  const auto d = l.acquire({ParallelScope{"key:a", 5}, ParallelScope{"team:t", 1}});
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.limited_scope, "team:t");
  EXPECT_EQ(l.in_flight("key:a"), 0);
  l.release(team_only.permit);
  const auto both = l.acquire({ParallelScope{"key:a", 5}, ParallelScope{"team:t", 1}});
  ASSERT_TRUE(both.allowed);
  EXPECT_EQ(l.in_flight("key:a"), 1);
  EXPECT_EQ(l.in_flight("team:t"), 1);
  l.release(both.permit);
  EXPECT_EQ(l.in_flight("key:a"), 0);
  EXPECT_EQ(l.in_flight("team:t"), 0);
}

TEST(ParallelLimiter, UnlimitedZeroAndDuplicateScopes) {
  ParallelLimiter l;
  const auto free = l.acquire({ParallelScope{"user:u", std::nullopt}});
  EXPECT_TRUE(free.allowed);
  EXPECT_NE(free.permit, 0u);
  EXPECT_EQ(l.in_flight("user:u"), 0);  // not counted
  EXPECT_TRUE(l.release(free.permit));
  EXPECT_FALSE(l.acquire({ParallelScope{"key:z", 0}}).allowed);
  const auto dup = l.acquire({ParallelScope{"key:a", 1}, ParallelScope{"key:a", 1}});
  EXPECT_TRUE(dup.allowed);
  EXPECT_EQ(l.in_flight("key:a"), 1);
}

TEST(ParallelLimiter, LoweredLimitAppliesToNewRequests) {
  ParallelLimiter l;
  ASSERT_TRUE(l.acquire({ParallelScope{"key:a", 3}}).allowed);
  ASSERT_TRUE(l.acquire({ParallelScope{"key:a", 3}}).allowed);
  EXPECT_FALSE(l.acquire({ParallelScope{"key:a", 1}}).allowed);
}

}  // namespace
}  // namespace tollgate
