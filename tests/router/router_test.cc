// Router decisions with a scripted provider and a recording sink: which
// deployment is tried, how often, with what waits, and what the client gets.
#include "router/router.h"

#include <gtest/gtest.h>

#include <deque>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include "tollgate/config_loader.h"

namespace tollgate {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

struct RecordingSink : ResponseSink {
  int status = 0;
  std::string body;
  HeaderList headers;
  std::vector<std::string> events;
  bool started = false, ended = false;
  asio::awaitable<bool> send_response(int s, std::string b, HeaderList h) override {
    status = s;
    body = std::move(b);
    headers = std::move(h);
    co_return true;
  }
  asio::awaitable<bool> start_stream(HeaderList) override {
    started = true;
    co_return true;
  }
  asio::awaitable<bool> send_event(std::string_view p) override {
    events.emplace_back(p);
    co_return true;
  }
  asio::awaitable<bool> send_comment(std::string_view) override { co_return true; }
  asio::awaitable<bool> send_named_event(std::string_view, std::string_view p) override {
    events.emplace_back(p);
    co_return true;
  }
  asio::awaitable<void> end_stream() override {
    ended = true;
    co_return;
  }
  asio::awaitable<void> wait_client_gone() override { co_return; }
  bool committed() const override { return started || status != 0; }
  bool client_gone() const override { return false; }
};

// Plays back scripted outcomes and records which deployment each call used.
struct ScriptedProvider : Provider {
  std::deque<AttemptOutcome> script;
  std::vector<std::string>* calls;
  bool start_stream_before_failing = false;
  explicit ScriptedProvider(std::vector<std::string>* c) : calls(c) {}
  std::string kind() const override { return "scripted"; }
  asio::awaitable<AttemptOutcome> call(RequestContext& ctx, const DeploymentConfig& d, const AttemptLimits&,
                                       ResponseSink& sink) override {
    calls->push_back(d.provider + "/" + d.model);
    AttemptOutcome o;
    if (!script.empty()) {
      o = script.front();
      script.pop_front();
    }
    if (o.ok()) {
      co_await sink.send_response(200, "{}", {});
    } else if (start_stream_before_failing) {
      co_await sink.start_stream({});
      co_await sink.send_event("{\"partial\":true}");
    }
    co_return o;
  }
};

AttemptOutcome failure(FailureClass c, ApiError e, std::optional<int> retry_after_ms = {}) {
  AttemptOutcome o;
  o.failure = c;
  o.error = std::move(e);
  o.retry_after_ms = retry_after_ms;
  return o;
}

class RouterTest : public ::testing::Test {
 protected:
  void make(const std::string& yaml) {
    auto loaded = load_config_string(yaml);
    ASSERT_TRUE(loaded.errors.empty()) << loaded.errors.front();
    config = loaded.config;
    std::map<std::string, std::unique_ptr<Provider>> providers;
    for (const auto& p : config->providers) {
      auto sp = std::make_unique<ScriptedProvider>(&calls);
      scripted[p.name] = sp.get();
      providers[p.name] = std::move(sp);
    }
    registry = std::make_shared<DeploymentRegistry>(
        [this] { return std::chrono::steady_clock::time_point(std::chrono::milliseconds(now_ms)); });
    RouterEnv env;
    env.deployments = registry;
    router = std::make_unique<Router>(config, std::move(providers),
                                      [this](std::chrono::milliseconds d) -> asio::awaitable<void> {
                                        sleeps.push_back(d);
                                        co_return;
                                      },
                                      7, env);
  }
  void route(const std::string& model, std::function<void(RequestContext&)> prepare = nullptr) {
    sink = RecordingSink{};
    RequestContext ctx;
    ctx.requested_model = model;
    ctx.request_id = "req_test";
    if (prepare) prepare(ctx);
    asio::io_context ioc;
    auto f = asio::co_spawn(ioc, router->route(ctx, sink), asio::use_future);
    ioc.run();
    f.get();
    last = ctx;
  }

  std::shared_ptr<const Config> config;
  std::shared_ptr<DeploymentRegistry> registry;
  int64_t now_ms = 1'000'000;
  std::unique_ptr<Router> router;
  std::map<std::string, ScriptedProvider*> scripted;
  std::vector<std::string> calls;
  std::vector<std::chrono::milliseconds> sleeps;
  RecordingSink sink;
  RequestContext last;
};

constexpr const char* kTwoDeployments = R"(
providers: [{name: a, type: mock}, {name: b, type: mock}, {name: c, type: mock}]
models:
  - name: m
    deployments: [{provider: a, model: x, weight: 1}, {provider: b, model: y, weight: 1}]
    fallbacks: [other]
  - name: other
    deployments: [{provider: c, model: z}]
router: {retries: 1, backoff: {initial_ms: 100, max_ms: 1000}, retry_after_max_ms: 5000}
)";

TEST_F(RouterTest, WeightsDecideTheFirstDeployment) {
  make(R"(
providers: [{name: a, type: mock}, {name: b, type: mock}]
models: [{name: m, deployments: [{provider: a, model: x, weight: 9}, {provider: b, model: y, weight: 1}]}]
)");
  int first_a = 0;
  for (int i = 0; i < 2000; ++i) {
    auto order = router->attempt_order(config->models[0]);
    ASSERT_EQ(order.size(), 2u);
    if (order[0]->provider == "a") ++first_a;
  }
  EXPECT_GT(first_a, 1700);  // ~90% with weight 9:1 (seeded, deterministic)
  EXPECT_LT(first_a, 1900);
}

TEST_F(RouterTest, RetriesGoToTheOtherDeploymentThenFallback) {
  make(kTwoDeployments);
  auto err = ApiError::bad_gateway("boom");
  scripted["a"]->script = {failure(FailureClass::server, err)};
  scripted["b"]->script = {failure(FailureClass::server, err)};
  route("m");
  ASSERT_EQ(calls.size(), 3u);
  EXPECT_NE(calls[0], calls[1]) << "the retry goes to the other deployment";
  EXPECT_EQ(calls[2], "c/z");
  EXPECT_EQ(sink.status, 200);
  EXPECT_EQ(last.model_group, "other");
  EXPECT_EQ(last.attempts, 3);
  EXPECT_TRUE(sleeps.empty()) << "a different deployment or a fallback is tried at once";
}

TEST_F(RouterTest, RetryAfterIsHonouredUpToTheCapOnTheSameDeployment) {
  make(R"(
providers: [{name: a, type: mock}]
models: [{name: m, deployments: [{provider: a, model: x}]}]
router: {retries: 1, backoff: {initial_ms: 100, max_ms: 1000}, retry_after_max_ms: 5000}
)");
  auto limited = failure(FailureClass::rate_limited, ApiError::rate_limited("slow", 60), 60'000);
  scripted["a"]->script = {limited};
  route("m");
  ASSERT_EQ(sleeps.size(), 1u);
  EXPECT_EQ(sleeps[0], 5000ms) << "retry-after is capped at retry_after_max_ms";
  EXPECT_EQ(sink.status, 200);
}

TEST_F(RouterTest, ClientErrorsStopEverything) {
  make(kTwoDeployments);
  scripted["a"]->script = {failure(FailureClass::client, ApiError::bad_request("bad", "temperature"))};
  scripted["b"]->script = {failure(FailureClass::client, ApiError::bad_request("bad", "temperature"))};
  route("m");
  EXPECT_EQ(calls.size(), 1u);
  EXPECT_EQ(sink.status, 400);
  EXPECT_NE(sink.body.find("\"param\":\"temperature\""), std::string::npos);
}

TEST_F(RouterTest, NoRetryOnceTheStreamStarted) {
  make(kTwoDeployments);
  for (auto* p : {scripted["a"], scripted["b"]}) {
    p->start_stream_before_failing = true;
    p->script = {failure(FailureClass::server, ApiError::bad_gateway("cut", "upstream_stream_truncated"))};
  }
  route("m");
  EXPECT_EQ(calls.size(), 1u);
  ASSERT_EQ(sink.events.size(), 2u);
  EXPECT_NE(sink.events[1].find("\"error\""), std::string::npos);
  EXPECT_NE(sink.events[1].find("upstream_stream_truncated"), std::string::npos);
  EXPECT_TRUE(sink.ended);
  EXPECT_EQ(last.status, 502);
}

TEST_F(RouterTest, ExhaustedAttemptsReturnTheLastErrorWithRetryAfter) {
  make(R"(
providers: [{name: a, type: mock}]
models: [{name: m, deployments: [{provider: a, model: x}]}]
router: {retries: 2, backoff: {initial_ms: 0, max_ms: 0}}
)");
  auto overloaded = failure(FailureClass::server, ApiError::unavailable("overloaded", 3));
  scripted["a"]->script = {overloaded, overloaded, overloaded};
  route("m");
  EXPECT_EQ(calls.size(), 3u);
  EXPECT_EQ(sink.status, 503);
  ASSERT_EQ(sink.headers.size(), 1u);
  EXPECT_EQ(sink.headers[0], (std::pair<std::string, std::string>{"retry-after", "3"}));
  EXPECT_TRUE(sleeps.empty()) << "backoff 0 means no waiting";
}

TEST_F(RouterTest, RetryPolicyPerErrorClass) {
  make(R"(
providers: [{name: a, type: mock}]
models: [{name: m, deployments: [{provider: a, model: x}], fallbacks: [other]}, {name: other, deployments: [{provider: a, model: z}]}]
router: {retries: 3, retry_policy: {timeout: 0, server: 1}, backoff: {initial_ms: 0, max_ms: 0}}
)");
  auto timeout = failure(FailureClass::timeout, ApiError::gateway_timeout("slow"));
  scripted["a"]->script = {timeout};
  route("m");
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[1], "a/z") << "no retry for timeouts: straight to the fallback";
  calls.clear();
  auto boom = failure(FailureClass::server, ApiError::bad_gateway("boom"));
  scripted["a"]->script = {boom, boom};
  route("m");
  ASSERT_EQ(calls.size(), 3u);
  EXPECT_EQ(calls[0], "a/x");
  EXPECT_EQ(calls[1], "a/x") << "one retry for server errors";
  EXPECT_EQ(calls[2], "a/z");
  calls.clear();
  auto limited = failure(FailureClass::rate_limited, ApiError::rate_limited("slow", std::nullopt));
  scripted["a"]->script = {limited, limited, limited};
  route("m");
  EXPECT_EQ(calls.size(), 4u) << "rate limits fall back to router.retries (3)";
}

constexpr const char* kFallbackKinds = R"(
providers: [{name: a, type: mock}, {name: b, type: mock}, {name: c, type: mock}, {name: d, type: mock}]
models:
  - name: m
    context_window: 50
    deployments: [{provider: a, model: small}]
    fallbacks: [general]
    context_window_fallbacks: [big]
    content_policy_fallbacks: [lenient]
  - {name: big, deployments: [{provider: b, model: large}], context_window: 100000}
  - {name: lenient, deployments: [{provider: c, model: other}]}
  - {name: general, deployments: [{provider: d, model: backup}]}
router: {retries: 1, backoff: {initial_ms: 0, max_ms: 0}}
)";

TEST_F(RouterTest, ContextWindowFallbackUpFrontWhenThePromptCannotFit) {
  make(kFallbackKinds);
  route("m", [](RequestContext& ctx) {
    ctx.body = nlohmann::json{{"model", "m"},
                {"messages", nlohmann::json::array({{{"role", "user"}, {"content", std::string(2000, 'x')}}})}};
  });
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0], "b/large");
  EXPECT_EQ(last.model_group, "big");
  ASSERT_FALSE(last.notes.empty());
  EXPECT_NE(last.notes.back().find("routed to big"), std::string::npos);
}

TEST_F(RouterTest, ContextWindowAndContentPolicyErrorsPickTheirFallbacks) {
  make(kFallbackKinds);
  scripted["a"]->script = {failure(FailureClass::client,
                                   ApiError::bad_request("This model's maximum context length is 50 tokens", "messages",
                                                         "context_length_exceeded"))};
  route("m");
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[1], "b/large") << "a context-window error goes to the larger model, not the general fallback";
  EXPECT_EQ(sink.status, 200);
  calls.clear();
  scripted["a"]->script = {failure(FailureClass::client, ApiError::bad_request("flagged", {}, "content_policy_violation"))};
  route("m");
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[1], "c/other");
  calls.clear();
  scripted["a"]->script = {failure(FailureClass::client, ApiError::bad_request("bad temperature", "temperature"))};
  route("m");
  EXPECT_EQ(calls.size(), 1u) << "other client errors have no fallback";
  EXPECT_EQ(sink.status, 400);
}

TEST_F(RouterTest, FallbackOverrideReplacesTheGeneralFallbacks) {
  make(kFallbackKinds);
  auto boom = failure(FailureClass::server, ApiError::bad_gateway("boom"));
  scripted["a"]->script = {boom, boom};
  route("m", [](RequestContext& ctx) { ctx.fallback_override = std::vector<std::string>{"lenient"}; });
  ASSERT_EQ(calls.size(), 3u);
  EXPECT_EQ(calls[2], "c/other");
  calls.clear();
  scripted["a"]->script = {boom, boom};
  route("m", [](RequestContext& ctx) { ctx.fallback_override = std::vector<std::string>{}; });
  EXPECT_EQ(calls.size(), 2u) << "x-tollgate-fallbacks: none";
  EXPECT_EQ(sink.status, 502);
}

TEST_F(RouterTest, AnOpenCircuitIsSkippedUntilItsCooldownEnds) {
  make(R"(
providers: [{name: a, type: mock}, {name: b, type: mock}]
models: [{name: m, deployments: [{provider: a, model: x, weight: 1000}, {provider: b, model: y, weight: 1}]}]
router: {retries: 1, backoff: {initial_ms: 0, max_ms: 0}, circuit_breaker: {failures: 1, cooldown_ms: 5000}}
)");
  scripted["a"]->script = {failure(FailureClass::connect, ApiError::bad_gateway("refused"))};
  route("m");
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0], "a/x");
  EXPECT_EQ(calls[1], "b/y");
  EXPECT_EQ(registry->get("a/x")->snapshot(registry->now()).state, CircuitState::open);
  calls.clear();
  for (int i = 0; i < 5; ++i) route("m");
  EXPECT_EQ(calls, std::vector<std::string>(5, "b/y")) << "a/x cools down despite its weight";
  calls.clear();
  now_ms += 5000;
  route("m");
  EXPECT_EQ(calls, std::vector<std::string>{"a/x"}) << "the probe";
  EXPECT_EQ(registry->get("a/x")->snapshot(registry->now()).state, CircuitState::closed);
}

TEST_F(RouterTest, AGroupAtItsRpmAnswers429UntilTheNextMinute) {
  make(R"(
providers: [{name: a, type: mock}]
models: [{name: m, deployments: [{provider: a, model: x, rpm: 2}]}]
)");
  route("m");
  route("m");
  EXPECT_EQ(calls.size(), 2u);
  route("m");
  EXPECT_EQ(calls.size(), 2u) << "the third request this minute is not sent";
  EXPECT_EQ(sink.status, 429);
  ASSERT_EQ(sink.headers.size(), 1u);
  // now_ms = 1'000'000 is 40 s into its minute.
  EXPECT_EQ(sink.headers[0], (std::pair<std::string, std::string>{"retry-after", "20"}));
  now_ms += 20'000;
  route("m");
  EXPECT_EQ(calls.size(), 3u);
  EXPECT_EQ(sink.status, 200);
}

TEST_F(RouterTest, KeyTagsRestrictAndUnmatchableTagsAreRefused) {
  make(R"(
providers: [{name: a, type: mock}, {name: b, type: mock}]
models: [{name: m, deployments: [{provider: a, model: x, tags: {region: eu}}, {provider: b, model: y, tags: {region: us}}]}]
)");
  for (int i = 0; i < 5; ++i) {
    route("m", [](RequestContext& ctx) {
      ctx.principal = Principal{};
      ctx.principal->route_tags = {{"region", "eu"}};
    });
  }
  EXPECT_EQ(calls, std::vector<std::string>(5, "a/x"));
  calls.clear();
  route("m", [](RequestContext& ctx) {
    ctx.principal = Principal{};
    ctx.principal->route_tags = {{"region", "eu"}};
    ctx.route_tags = {{"region", "us"}};
  });
  EXPECT_TRUE(calls.empty());
  EXPECT_EQ(sink.status, 403) << "a request cannot widen its key's tags";
  route("m", [](RequestContext& ctx) { ctx.route_tags = {{"gpu", "h100"}}; });
  EXPECT_TRUE(calls.empty());
  EXPECT_EQ(sink.status, 400);
  EXPECT_NE(sink.body.find("no_matching_deployment"), std::string::npos);
}

TEST_F(RouterTest, StrategiesOrderByLoadLatencyCostAndHeadroom) {
  make(R"(
providers: [{name: a, type: mock}, {name: b, type: mock}]
models:
  - {name: busy, strategy: least_busy, deployments: [{provider: a, model: x}, {provider: b, model: y}]}
  - {name: fast, strategy: lowest_latency, deployments: [{provider: a, model: x}, {provider: b, model: y}]}
  - {name: roomy, strategy: usage_based, deployments: [{provider: a, model: x, rpm: 10}, {provider: b, model: y, rpm: 100}]}
)");
  const auto now = registry->now();
  auto ax = registry->get("a/x");
  auto by = registry->get("b/y");
  auto held = ax->try_admit(now, 0, 0);  // one attempt in flight on a/x
  for (int i = 0; i < 20; ++i) EXPECT_EQ(router->attempt_order(config->models[0])[0]->provider, "b");
  ax->on_success(config->router.circuit_breaker, now, held.probe, 300ms, 50ms, 0);
  auto t = by->try_admit(now, 0, 0);
  by->on_success(config->router.circuit_breaker, now, t.probe, 100ms, 90ms, 0);
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(router->attempt_order(config->models[1], false)[0]->provider, "b") << "lower total latency";
    EXPECT_EQ(router->attempt_order(config->models[1], true)[0]->provider, "a") << "lower time to first token";
  }
  // a/x has used 1 of 10 rpm (90% left), b/y 1 of 100 (99% left).
  for (int i = 0; i < 20; ++i) EXPECT_EQ(router->attempt_order(config->models[2])[0]->provider, "b");
}

}  // namespace
}  // namespace tollgate
