// Pure ordering decisions of the routing strategies.
#include "router/strategy.h"

#include <gtest/gtest.h>

namespace tollgate {
namespace {

std::vector<Candidate> three(const std::vector<DeploymentConfig>& ds) {
  std::vector<Candidate> c;
  for (const auto& d : ds) c.push_back(Candidate{&d, {}, std::nullopt});
  return c;
}

TEST(Strategy, LowestCostPutsUnknownPricesLast) {
  std::vector<DeploymentConfig> ds(3);
  auto c = three(ds);
  c[0].price_per_million = 15.0;
  c[2].price_per_million = 0.6;
  std::mt19937_64 rng(1);
  for (int i = 0; i < 20; ++i) {
    auto order = order_candidates(RoutingStrategy::lowest_cost, c, false, rng);
    EXPECT_EQ(order, (std::vector<std::size_t>{2, 0, 1}));
  }
}

TEST(Strategy, TiesAreSharedAtRandom) {
  std::vector<DeploymentConfig> ds(2);
  auto c = three(ds);
  std::mt19937_64 rng(1);
  int first_zero = 0;
  for (int i = 0; i < 1000; ++i) first_zero += order_candidates(RoutingStrategy::least_busy, c, false, rng)[0] == 0;
  EXPECT_GT(first_zero, 400);
  EXPECT_LT(first_zero, 600);
}

TEST(Strategy, UnmeasuredLatencyGoesFirstSoItGetsMeasured) {
  std::vector<DeploymentConfig> ds(2);
  auto c = three(ds);
  c[0].stats.latency_ewma_ms = 20.0;
  std::mt19937_64 rng(1);
  EXPECT_EQ(order_candidates(RoutingStrategy::lowest_latency, c, false, rng)[0], 1u);
}

TEST(Strategy, HeadroomIsTheTighterOfRpmAndTpm) {
  DeploymentConfig d;
  d.rpm = 100;
  d.tpm = 1000;
  DeploymentState::Snapshot s;
  s.minute_requests = 10;
  s.minute_tokens = 500;
  EXPECT_DOUBLE_EQ(headroom(d, s), 0.5);
  DeploymentConfig unlimited;
  EXPECT_DOUBLE_EQ(headroom(unlimited, s), 1.0);
}

}  // namespace
}  // namespace tollgate
