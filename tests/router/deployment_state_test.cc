// The circuit breaker and per-deployment statistics, driven by explicit
// time points (no clock, no sleeping).
#include "router/deployment_state.h"

#include <gtest/gtest.h>

namespace tollgate {
namespace {

using namespace std::chrono_literals;
using TP = DeploymentState::Clock::time_point;

TP at(std::chrono::milliseconds ms) { return TP(ms); }

class DeploymentStateTest : public ::testing::Test {
 protected:
  DeploymentStateTest() {
    policy.failures = 3;
    policy.cooldown_ms = 10'000;
  }
  // One attempt at `t` that fails (or succeeds); returns whether it was admitted.
  bool attempt(TP t, bool fail, FailureClass cls = FailureClass::server) {
    auto a = s.try_admit(t, 0, 0);
    if (!a.admitted) return false;
    if (fail) {
      s.on_failure(policy, t, a.probe, cls, "boom");
    } else {
      s.on_success(policy, t, a.probe, 100ms, 40ms, 10);
    }
    return true;
  }
  CircuitBreakerConfig policy;
  DeploymentState s;
};

TEST_F(DeploymentStateTest, OpensAfterConsecutiveFailuresAndCoolsDown) {
  EXPECT_TRUE(attempt(at(0ms), true));
  EXPECT_TRUE(attempt(at(1ms), true));
  EXPECT_TRUE(attempt(at(2ms), false)) << "a success resets the streak";
  EXPECT_TRUE(attempt(at(3ms), true));
  EXPECT_TRUE(attempt(at(4ms), true));
  EXPECT_EQ(s.snapshot(at(4ms)).state, CircuitState::closed);
  EXPECT_TRUE(attempt(at(5ms), true));
  auto snap = s.snapshot(at(5ms));
  EXPECT_EQ(snap.state, CircuitState::open);
  EXPECT_EQ(snap.cooldown_remaining, 10'000ms);
  EXPECT_EQ(snap.cooldowns, 1u);
  EXPECT_FALSE(s.try_admit(at(9'000ms), 0, 0).admitted);
  EXPECT_EQ(s.snapshot(at(9'005ms)).cooldown_remaining, 1'000ms);
}

TEST_F(DeploymentStateTest, OneProbeAfterTheCooldownDecides) {
  for (int i = 0; i < 3; ++i) attempt(at(0ms), true);
  auto probe = s.try_admit(at(10'000ms), 0, 0);
  ASSERT_TRUE(probe.admitted);
  EXPECT_TRUE(probe.probe);
  EXPECT_EQ(s.snapshot(at(10'000ms)).state, CircuitState::half_open);
  EXPECT_FALSE(s.try_admit(at(10'001ms), 0, 0).admitted) << "only one probe at a time";
  s.on_failure(policy, at(10'002ms), true, FailureClass::timeout, "slow");
  EXPECT_EQ(s.snapshot(at(10'002ms)).state, CircuitState::open);
  EXPECT_EQ(s.snapshot(at(10'002ms)).cooldowns, 2u);
  EXPECT_FALSE(s.try_admit(at(20'001ms), 0, 0).admitted) << "the new cooldown starts at the failed probe";
  auto second = s.try_admit(at(20'002ms), 0, 0);
  ASSERT_TRUE(second.probe);
  s.on_success(policy, at(20'003ms), true, 5ms, std::nullopt, 0);
  EXPECT_EQ(s.snapshot(at(20'003ms)).state, CircuitState::closed);
  EXPECT_TRUE(s.try_admit(at(20'004ms), 0, 0).admitted);
}

TEST_F(DeploymentStateTest, AProbeThatSaysNothingLetsTheNextRequestProbe) {
  for (int i = 0; i < 3; ++i) attempt(at(0ms), true);
  auto probe = s.try_admit(at(10'000ms), 0, 0);
  ASSERT_TRUE(probe.probe);
  s.on_neutral(at(10'001ms), true, 0);  // e.g. the client went away
  auto next = s.try_admit(at(10'002ms), 0, 0);
  EXPECT_TRUE(next.admitted);
  EXPECT_TRUE(next.probe);
}

TEST_F(DeploymentStateTest, ClientErrorsDoNotCountAgainstTheDeployment) {
  for (int i = 0; i < 10; ++i) attempt(at(std::chrono::milliseconds(i)), true, FailureClass::client);
  EXPECT_EQ(s.snapshot(at(10ms)).state, CircuitState::closed);
  EXPECT_EQ(s.snapshot(at(10ms)).consecutive_failures, 0);
}

TEST_F(DeploymentStateTest, FailureRateOverTheWindowOpensIt) {
  policy.failures = 0;
  policy.failure_rate = 0.5;
  policy.window_ms = 10'000;
  policy.min_requests = 4;
  // Alternating: 50% failures, but not before 4 attempts.
  EXPECT_TRUE(attempt(at(0ms), true));
  EXPECT_TRUE(attempt(at(1ms), false));
  EXPECT_TRUE(attempt(at(2ms), true));
  EXPECT_EQ(s.snapshot(at(2ms)).state, CircuitState::closed) << "3 attempts < min_requests";
  EXPECT_TRUE(attempt(at(3ms), false));
  EXPECT_TRUE(attempt(at(4ms), true));
  EXPECT_EQ(s.snapshot(at(4ms)).state, CircuitState::open);
}

TEST_F(DeploymentStateTest, OldFailuresLeaveTheWindow) {
  policy.failures = 0;
  policy.failure_rate = 0.5;
  policy.window_ms = 10'000;
  policy.min_requests = 2;
  EXPECT_TRUE(attempt(at(0ms), true));
  // 20 s later the old failure is out of the window: 1 failure in 3 is 33%.
  EXPECT_TRUE(attempt(at(20'000ms), false));
  EXPECT_TRUE(attempt(at(20'001ms), false));
  EXPECT_TRUE(attempt(at(20'002ms), true));
  EXPECT_EQ(s.snapshot(at(20'002ms)).state, CircuitState::closed);
}

TEST_F(DeploymentStateTest, RpmAndTpmRefuseAUsedUpMinute) {
  const TP t0 = at(std::chrono::minutes(100));
  for (int i = 0; i < 3; ++i) {
    auto a = s.try_admit(t0, 3, 0);
    ASSERT_TRUE(a.admitted);
    s.on_success(policy, t0, false, 1ms, std::nullopt, 7);
  }
  EXPECT_FALSE(s.try_admit(t0 + 59s, 3, 0).admitted);
  EXPECT_EQ(s.snapshot(t0).minute_tokens, 21);
  EXPECT_FALSE(s.try_admit(t0, 0, 21).admitted) << "tpm used up too";
  EXPECT_TRUE(s.try_admit(t0 + 60s, 3, 21).admitted) << "a new minute";
}

TEST_F(DeploymentStateTest, LatencyAveragesAndInFlight) {
  auto a = s.try_admit(at(0ms), 0, 0);
  auto b = s.try_admit(at(0ms), 0, 0);
  EXPECT_EQ(s.snapshot(at(0ms)).in_flight, 2);
  s.on_success(policy, at(1ms), a.probe, 100ms, 20ms, 0);
  s.on_success(policy, at(2ms), b.probe, 200ms, 40ms, 0);
  auto snap = s.snapshot(at(2ms));
  EXPECT_EQ(snap.in_flight, 0);
  EXPECT_DOUBLE_EQ(*snap.latency_ewma_ms, 0.3 * 200 + 0.7 * 100);
  EXPECT_DOUBLE_EQ(*snap.ttft_ewma_ms, 0.3 * 40 + 0.7 * 20);
}

TEST_F(DeploymentStateTest, HealthChecksOpenAndCloseTheCircuit) {
  for (int i = 0; i < 3; ++i) s.on_health_check(policy, at(0ms), false, "refused");
  auto snap = s.snapshot(at(0ms));
  EXPECT_EQ(snap.state, CircuitState::open);
  EXPECT_EQ(snap.health_check_ok, false);
  EXPECT_EQ(snap.last_error, "health check: refused");
  s.on_health_check(policy, at(5'000ms), true, "");
  EXPECT_EQ(s.snapshot(at(5'000ms)).state, CircuitState::open) << "not before the cooldown";
  s.on_health_check(policy, at(10'000ms), true, "");
  EXPECT_EQ(s.snapshot(at(10'000ms)).state, CircuitState::closed);
}

TEST(DeploymentRegistry, KeepsStateByIdAndUsesTheInjectedClock) {
  int64_t ms = 5;
  DeploymentRegistry r([&] { return at(std::chrono::milliseconds(ms)); });
  auto a = r.get("p/m");
  EXPECT_EQ(r.get("p/m"), a);
  EXPECT_NE(r.get("q/m"), a);
  ms = 42;
  EXPECT_EQ(r.now(), at(42ms));
  ASSERT_EQ(r.all().size(), 2u);
  EXPECT_EQ(r.all()[0].first, "p/m");
}

}  // namespace
}  // namespace tollgate
