// The config keys for routing, failure handling, metrics, tracing and reload.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tollgate/config_loader.h"

namespace tollgate {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;

TEST(OperateConfig, DefaultsAreDocumented) {
  auto r = load_config_string("providers: [{name: p, type: mock}]\nmodels: [{name: m, deployments: [{provider: p, model: x}]}]\n");
  ASSERT_THAT(r.errors, IsEmpty());
  const auto& c = *r.config;
  EXPECT_EQ(c.router.strategy, RoutingStrategy::weighted);
  EXPECT_EQ(c.router.circuit_breaker.failures, 5);
  EXPECT_EQ(c.router.circuit_breaker.cooldown_ms, 30'000);
  EXPECT_EQ(c.router.health_checks.interval_ms, 0);
  EXPECT_FALSE(c.router.retry_policy.timeout);
  EXPECT_EQ(c.models[0].deployments[0].id, "p/x");
  EXPECT_TRUE(c.metrics.enabled);
  EXPECT_TRUE(c.tracing.otlp_endpoint.empty());
  EXPECT_EQ(c.reload.watch_interval_ms, 2'000);
}

TEST(OperateConfig, EveryNewKeyIsRead) {
  auto r = load_config_string(R"(
providers: [{name: p, type: mock}]
models:
  - name: m
    strategy: lowest_cost
    context_window: 8000
    deployments: [{provider: p, model: x, id: eu-1, tags: {region: eu}, rpm: 60, tpm: 100000, health_check: false}]
    fallbacks: [n]
    context_window_fallbacks: [n]
    content_policy_fallbacks: [n]
  - {name: n, deployments: [{provider: p, model: y}]}
router:
  strategy: least_busy
  retry_policy: {connect: 3, timeout: 0, rate_limited: 1, server: 2}
  circuit_breaker: {failures: 2, failure_rate: 0.5, window_ms: 10000, min_requests: 4, cooldown_ms: 1000}
  health_checks: {interval_ms: 15000, timeout_ms: 2000}
keys: [{name: k, key: sk-abcdefghijklmnop, route_tags: {region: eu}}]
metrics: {enabled: false, bearer_token: tok-abcdefghijklmnop}
tracing: {otlp_endpoint: "http://collector:4318/v1/traces", service_name: gw, headers: {x-team: ops}, sample_ratio: 0.25}
reload: {watch_interval_ms: 0}
)");
  ASSERT_THAT(r.errors, IsEmpty());
  const auto& c = *r.config;
  const auto& m = c.models[0];
  EXPECT_EQ(m.strategy, RoutingStrategy::lowest_cost);
  EXPECT_EQ(m.context_window, 8000);
  EXPECT_EQ(m.deployments[0].id, "eu-1");
  EXPECT_EQ(m.deployments[0].tags.at("region"), "eu");
  EXPECT_EQ(m.deployments[0].rpm, 60);
  EXPECT_EQ(m.deployments[0].tpm, 100000);
  EXPECT_FALSE(m.deployments[0].health_check);
  EXPECT_TRUE(c.models[1].deployments[0].health_check);
  EXPECT_EQ(m.context_window_fallbacks, std::vector<std::string>{"n"});
  EXPECT_EQ(m.content_policy_fallbacks, std::vector<std::string>{"n"});
  EXPECT_EQ(c.router.strategy, RoutingStrategy::least_busy);
  EXPECT_EQ(c.router.retry_policy.connect, 3);
  EXPECT_EQ(c.router.retry_policy.timeout, 0);
  EXPECT_DOUBLE_EQ(c.router.circuit_breaker.failure_rate, 0.5);
  EXPECT_EQ(c.router.health_checks.interval_ms, 15000);
  EXPECT_EQ(c.keys[0].route_tags.at("region"), "eu");
  EXPECT_FALSE(c.metrics.enabled);
  EXPECT_EQ(c.metrics.bearer_token, "tok-abcdefghijklmnop");
  EXPECT_EQ(c.tracing.headers.at("x-team"), "ops");
  EXPECT_DOUBLE_EQ(c.tracing.sample_ratio, 0.25);
  EXPECT_EQ(c.reload.watch_interval_ms, 0);
}

TEST(OperateConfig, MistakesAreErrorsWithPaths) {
  auto r = load_config_string(R"(
providers: [{name: p, type: mock}]
models:
  - name: m
    strategy: fastest
    deployments: [{provider: p, model: x, tags: [eu], rpm: 0}]
    context_window_fallbacks: [nope]
router:
  circuit_breaker: {failure_rate: 1.5}
  health_checks: {interval_ms: 10}
tracing: {otlp_endpoint: "collector:4318"}
)");
  ASSERT_EQ(r.config, nullptr);
  std::string all;
  for (const auto& e : r.errors) all += e + "\n";
  EXPECT_THAT(all, HasSubstr("models[0].strategy: unknown strategy \"fastest\""));
  EXPECT_THAT(all, HasSubstr("models[0].deployments[0].tags: expected a mapping"));
  EXPECT_THAT(all, HasSubstr("models[0].deployments[0].rpm"));
  EXPECT_THAT(all, HasSubstr("models[0].context_window_fallbacks[0]: unknown model \"nope\""));
  EXPECT_THAT(all, HasSubstr("router.circuit_breaker.failure_rate: must be between 0 and 1"));
  EXPECT_THAT(all, HasSubstr("router.health_checks.interval_ms"));
  EXPECT_THAT(all, HasSubstr("tracing.otlp_endpoint"));
}

TEST(OperateConfig, DuplicateDeploymentIdsAreRefused) {
  auto r = load_config_string(R"(
providers: [{name: p, type: mock}]
models:
  - {name: m, deployments: [{provider: p, model: x, id: one}]}
  - {name: n, deployments: [{provider: p, model: y, id: one}]}
)");
  ASSERT_FALSE(r.errors.empty());
  EXPECT_THAT(r.errors[0], HasSubstr("duplicate deployment id \"one\""));
}

}  // namespace
}  // namespace tollgate
