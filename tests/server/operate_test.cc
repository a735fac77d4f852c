// Operating the gateway, through the real server: a failing deployment is
// routed around and cooled down (with an injected clock, no sleeping),
// /metrics and /health show it, a reload swaps the config under an open
// stream, a broken file leaves the old config serving, and traces carry the
// caller's trace id upstream and to an OTLP collector.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <regex>

#include <spdlog/spdlog.h>

#include "observability/otlp_exporter.h"
#include "observability/trace_context.h"
#include "server/config_reloader.h"
#include "server/gateway.h"
#include "support/fake_upstream.h"
#include "support/test_client.h"
#include "tollgate/config_loader.h"

namespace tollgate::test {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

json completion(const std::string& text) {
  return {{"id", "chatcmpl-up"}, {"object", "chat.completion"}, {"created", 1700000000}, {"model", "m"},
          {"choices", json::array({{{"index", 0}, {"message", {{"role", "assistant"}, {"content", text}}}, {"finish_reason", "stop"}}})},
          {"usage", {{"prompt_tokens", 10}, {"completion_tokens", 5}, {"total_tokens", 15}}}};
}

json chat(const std::string& model = "chat") {
  return {{"model", model}, {"messages", json::array({{{"role", "user"}, {"content", "Hello"}}})}};
}

// The value of one series in Prometheus text, or -1 when absent.
double metric(const std::string& text, const std::string& series) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  }
  return -1;
}

class OperateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    spdlog::set_level(spdlog::level::warn);
    dir = std::filesystem::temp_directory_path() / ("tollgate-operate-" + std::to_string(::getpid()) + "-" +
                                                    ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir);
    good.set_default_response(FakeResponse::json(200, completion("from good")));
    bad.set_default_response(FakeResponse::json(503, {{"error", {{"message", "overloaded"}, {"type", "server_error"}}}}));
  }
  void TearDown() override {
    client_.reset();
    reloader.reset();
    if (gateway) gateway->shutdown();
    std::filesystem::remove_all(dir);
  }

  std::string yaml(const std::string& router = "", const std::string& extra = "") {
    return R"(
server: {listen: "127.0.0.1:0", threads: 1, timeouts: {drain_ms: 5000}}
master_key: sk-master-operate-1234
logging: {level: warn}
providers:
  - {name: good, type: openai_compatible, base_url: ")" + good.base_url() + R"(/v1", api_key: "sk-good-secret-5678"}
  - {name: bad, type: openai_compatible, base_url: ")" + bad.base_url() + R"(/v1", api_key: "sk-bad-secret-9012"}
models:
  - name: chat
    deployments:
      - {provider: bad, model: m, id: bad-eu, tags: {region: eu}}
      - {provider: good, model: m, id: good-us, tags: {region: us}}
    price: {input_per_million: 1.0, output_per_million: 2.0}
  - name: solo
    deployments: [{provider: bad, model: m, id: bad-solo}]
router:
  retries: 1
  backoff: {initial_ms: 0, max_ms: 0}
  circuit_breaker: {failures: 2, cooldown_ms: 30000}
)" + router + extra;
  }

  void start(const std::string& text) {
    config_path = dir / "tollgate.yaml";
    std::ofstream(config_path) << text;
    auto loaded = load_config_file(config_path.string());
    ASSERT_TRUE(loaded.errors.empty()) << loaded.errors.front();
    GatewayOptions o;
    o.seed = 3;
    o.sleep = [this](std::chrono::milliseconds d) -> boost::asio::awaitable<void> {
      std::lock_guard lock(sleeps_mu);
      sleeps.push_back(d);
      co_return;
    };
    o.steady_now = [this] { return std::chrono::steady_clock::time_point(std::chrono::milliseconds(clock_ms.load())); };
    gateway = std::make_unique<Gateway>(loaded.config, o);
    port = gateway->start();
    reloader = std::make_unique<ConfigReloader>(*gateway, config_path.string());
  }

  static void replace(std::string& s, const std::string& from, const std::string& to) {
    auto at = s.find(from);
    ASSERT_NE(at, std::string::npos) << from;
    s.replace(at, from.size(), to);
  }
  void rewrite(const std::string& text) { std::ofstream(config_path, std::ios::trunc) << text; }

  // Requests, scrapes and health reads share one keep-alive connection, so
  // each is served after the previous one finished (metrics and spans are
  // recorded after the response is written).
  TestClient& client() {
    if (!client_) client_ = std::make_unique<TestClient>(port);
    return *client_;
  }
  ClientResponse call(const json& body, std::map<std::string, std::string> headers = {}) {
    headers.emplace("authorization", "Bearer sk-master-operate-1234");
    return client().post_json("/v1/chat/completions", body, headers);
  }
  std::string scrape() {
    auto r = client().request("GET", "/metrics");
    EXPECT_EQ(r.status, 200) << r.body;
    return r.body;
  }
  json health() {
    auto r = client().request("GET", "/health", {}, {{"authorization", "Bearer sk-master-operate-1234"}});
    return json::parse(r.body);
  }
  static const json* deployment(const json& h, const std::string& id) {
    for (const auto& d : h["deployments"]) {
      if (d["id"] == id) return &d;
    }
    return nullptr;
  }

  std::filesystem::path dir;
  std::filesystem::path config_path;
  FakeUpstream good, bad;
  std::atomic<int64_t> clock_ms{1'000'000};
  std::mutex sleeps_mu;
  std::vector<std::chrono::milliseconds> sleeps;
  std::unique_ptr<Gateway> gateway;
  std::unique_ptr<ConfigReloader> reloader;
  std::unique_ptr<TestClient> client_;
  uint16_t port = 0;
};

TEST_F(OperateTest, AFailingDeploymentIsRoutedAroundCooledDownAndProbed) {
  start(yaml());
  // Every request succeeds, whichever deployment the weights pick first.
  for (int i = 0; i < 10; ++i) {
    auto r = call(chat());
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.json()["choices"][0]["message"]["content"], "from good");
  }
  // Two failures opened bad-eu's circuit; after that it got no traffic.
  EXPECT_EQ(bad.request_count(), 2u);
  auto h = health();
  EXPECT_EQ(h["status"], "degraded");
  ASSERT_NE(deployment(h, "bad-eu"), nullptr);
  EXPECT_EQ((*deployment(h, "bad-eu"))["state"], "open");
  EXPECT_EQ((*deployment(h, "bad-eu"))["cooldown_remaining_ms"], 30000);
  EXPECT_EQ((*deployment(h, "good-us"))["state"], "closed");
  std::string text = scrape();
  EXPECT_EQ(metric(text, R"(tollgate_deployment_circuit_state{deployment="bad-eu"})"), 1);
  EXPECT_EQ(metric(text, R"(tollgate_deployment_cooldowns_total{deployment="bad-eu"})"), 1);
  EXPECT_EQ(metric(text, R"(tollgate_deployment_circuit_state{deployment="good-us"})"), 0);
  EXPECT_EQ(metric(text, R"(tollgate_retries_total{deployment="bad-eu",class="server"})"), 2);

  // Cooldown over: one probe goes to bad-eu; it fails, the circuit opens again.
  clock_ms += 30'000;
  for (int i = 0; i < 5; ++i) ASSERT_EQ(call(chat()).status, 200);
  EXPECT_EQ(bad.request_count(), 3u) << "exactly one probe after the cooldown";
  EXPECT_EQ((*deployment(health(), "bad-eu"))["state"], "open");
  EXPECT_EQ(metric(scrape(), R"(tollgate_deployment_cooldowns_total{deployment="bad-eu"})"), 2);

  // It recovers: the next probe succeeds and closes the circuit.
  bad.set_default_response(FakeResponse::json(200, completion("from bad")));
  clock_ms += 30'000;
  int from_bad = 0;
  for (int i = 0; i < 20; ++i) {
    auto r = call(chat());
    ASSERT_EQ(r.status, 200);
    if (r.json()["choices"][0]["message"]["content"] == "from bad") ++from_bad;
  }
  EXPECT_GE(from_bad, 2) << "closed again, it takes its share";
  EXPECT_EQ((*deployment(health(), "bad-eu"))["state"], "closed");
  EXPECT_EQ(health()["status"], "healthy");
}

TEST_F(OperateTest, EveryDeploymentCoolingDownAnswers503WithRetryAfter) {
  start(yaml());
  EXPECT_EQ(call(chat("solo")).status, 503);  // two attempts: the circuit opens
  EXPECT_EQ(bad.request_count(), 2u);
  auto r = call(chat("solo"));
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.header("retry-after"), "30");
  EXPECT_NE(r.json()["error"]["message"].get<std::string>().find("cooling down"), std::string::npos) << r.body;
  EXPECT_EQ(bad.request_count(), 2u) << "no upstream call while cooling down";
  clock_ms += 12'000;
  EXPECT_EQ(call(chat("solo")).header("retry-after"), "18");
}

TEST_F(OperateTest, HealthShowsEveryDeploymentWithoutSecretsAndNeedsTheMasterKey) {
  start(yaml());
  TestClient anon(port);
  EXPECT_EQ(anon.request("GET", "/health").status, 401);
  EXPECT_EQ(anon.request("GET", "/health/liveliness").status, 200);
  TestClient c(port);
  auto r = c.request("GET", "/health", {}, {{"authorization", "Bearer sk-master-operate-1234"}});
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body.find("sk-good-secret"), std::string::npos);
  EXPECT_EQ(r.body.find("sk-bad-secret"), std::string::npos);
  EXPECT_EQ(r.body.find("sk-master"), std::string::npos);
  auto h = json::parse(r.body);
  ASSERT_EQ(h["deployments"].size(), 3u);
  const auto* d = deployment(h, "good-us");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ((*d)["api_base"], good.base_url() + "/v1");
  EXPECT_EQ((*d)["tags"]["region"], "us");
  EXPECT_EQ((*d)["model_group"], "chat");
}

TEST_F(OperateTest, MetricsCountKnownTrafficAndHonourTheBearerToken) {
  start(yaml("", "metrics: {bearer_token: scrape-token-abcdef}\n"));
  // Route to good only (tags), three successes and one bad request.
  for (int i = 0; i < 3; ++i) ASSERT_EQ(call(chat(), {{"x-tollgate-route-tags", "region=us"}}).status, 200);
  json bad_body = chat();
  bad_body["messages"] = "not a list";
  EXPECT_EQ(call(bad_body).status, 400);

  TestClient anon(port);
  EXPECT_EQ(anon.request("GET", "/metrics").status, 401);
  auto r = client().request("GET", "/metrics", {}, {{"authorization", "bearer scrape-token-abcdef"}});
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(r.header("content-type").find("text/plain"), std::string::npos);
  const std::string& t = r.body;
  EXPECT_EQ(metric(t, R"(tollgate_requests_total{model="chat",deployment="good-us",provider="good",status="200",key_alias="master"})"), 3);
  EXPECT_EQ(metric(t, R"(tollgate_tokens_total{model="chat",provider="good",type="prompt"})"), 30);
  EXPECT_EQ(metric(t, R"(tollgate_tokens_total{model="chat",provider="good",type="completion"})"), 15);
  // 3 x (10 x 1 + 5 x 2) / 1e6 USD
  EXPECT_NEAR(metric(t, R"(tollgate_cost_usd_total{model="chat",provider="good",key_alias="master"})"), 6e-5, 1e-12);
  EXPECT_EQ(metric(t, R"(tollgate_request_duration_seconds_count{model="chat"})"), 4);
  EXPECT_EQ(metric(t, R"(tollgate_upstream_duration_seconds_count{provider="good",deployment="good-us"})"), 3);
  EXPECT_EQ(metric(t, "tollgate_gateway_overhead_seconds_count"), 4);
  EXPECT_EQ(metric(t, R"(tollgate_errors_total{class="invalid_type"})"), 1) << "messages must be a list";
  EXPECT_EQ(metric(t, "tollgate_in_flight_requests"), 0) << "a scrape does not count itself";
  EXPECT_EQ(metric(t, "tollgate_config_generation"), 1);
  EXPECT_EQ(r.body.find("scrape-token-abcdef"), std::string::npos);
}

TEST_F(OperateTest, TagsRestrictRoutingAndUnservableTagsAreRefused) {
  start(yaml());
  for (int i = 0; i < 4; ++i) {
    auto r = call(chat(), {{"x-tollgate-route-tags", "region=us"}});
    ASSERT_EQ(r.status, 200);
  }
  EXPECT_EQ(bad.request_count(), 0u) << "region=us never reaches the eu deployment";
  auto r = call(chat(), {{"x-tollgate-route-tags", "region=mars"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.json()["error"]["code"], "no_matching_deployment");
  EXPECT_EQ(call(chat(), {{"x-tollgate-route-tags", "region"}}).status, 400);
  EXPECT_EQ(bad.request_count() + good.request_count(), 4u) << "refusals never reach an upstream";
}

TEST_F(OperateTest, ReloadChangesRoutingWhileAnOpenStreamFinishesOnTheOldConfig) {
  const std::string before = yaml();
  start(before);
  // A stream on the good deployment, held open at a gate.
  auto gate = Gate::make();
  good.enqueue(FakeResponse::chunked()
                   .sse_data(R"({"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"old "},"finish_reason":null}]})")
                   .wait(gate)
                   .sse_data(R"({"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"config"},"finish_reason":"stop"}]})")
                   .sse_data("[DONE]"));
  json body = chat();
  body["stream"] = true;
  ClientResponse streamed;
  std::thread streamer([&] {
    TestClient own(port);  // its own connection: the main one keeps working meanwhile
    streamed = own.post_json("/v1/chat/completions", body,
                             {{"authorization", "Bearer sk-master-operate-1234"}, {"x-tollgate-route-tags", "region=us"}});
  });
  ASSERT_TRUE(gate->wait_for_waiters(1));

  // The new config sends "chat" to a mock only.
  const std::string mock_yaml = R"(
server: {listen: "127.0.0.1:0", threads: 1, timeouts: {drain_ms: 5000}}
master_key: sk-master-operate-1234
logging: {level: warn}
providers:
  - {name: local, type: mock, mock: {chunks: 2}}
models:
  - name: chat
    deployments: [{provider: local, model: mock-gpt}]
)";
  rewrite(mock_yaml);
  ASSERT_TRUE(reloader->poll());
  EXPECT_FALSE(reloader->poll()) << "unchanged file: no second reload";
  auto r = call(chat());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json()["model"], "mock-gpt");
  gate->open();
  streamer.join();
  EXPECT_EQ(streamed.status, 200);
  std::string text;
  for (const auto& d : streamed.sse_data()) {
    if (d == "[DONE]") continue;
    auto j = json::parse(d);
    if (!j["choices"].empty()) text += j["choices"][0]["delta"].value("content", "");
  }
  EXPECT_EQ(text, "old config") << "the open stream finished on the old generation";
  const std::string m = scrape();
  EXPECT_EQ(metric(m, "tollgate_config_generation"), 2);
  EXPECT_EQ(metric(m, R"(tollgate_config_reloads_total{result="success"})"), 1);
  EXPECT_EQ(metric(m, R"(tollgate_deployment_circuit_state{deployment="local/mock-gpt"})"), 0);
  EXPECT_EQ(metric(m, R"(tollgate_deployment_circuit_state{deployment="good-us"})"), -1) << "removed by the reload";
}

TEST_F(OperateTest, ABrokenFileLeavesTheOldConfigServing) {
  start(yaml());
  rewrite("models: [{name: chat, deployments: [{provider: nowhere, model: x}]}]\nrouter: {strategy: fastest}\n");
  EXPECT_FALSE(reloader->poll());
  EXPECT_EQ(call(chat(), {{"x-tollgate-route-tags", "region=us"}}).status, 200);
  rewrite("{{{ not yaml");
  EXPECT_FALSE(reloader->reload("SIGHUP"));
  auto r = call(chat(), {{"x-tollgate-route-tags", "region=us"}});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.json()["choices"][0]["message"]["content"], "from good");
  const std::string m = scrape();
  EXPECT_EQ(metric(m, R"(tollgate_config_reloads_total{result="failure"})"), 2);
  EXPECT_EQ(metric(m, "tollgate_config_generation"), 1);
}

TEST_F(OperateTest, TraceparentIsContinuedUpstreamWithANewSpanPerAttempt) {
  start(yaml());
  const std::string caller = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  auto r = call(chat(), {{"traceparent", caller}, {"x-tollgate-route-tags", "region=us"}});
  ASSERT_EQ(r.status, 200);
  auto reqs = good.requests();
  ASSERT_EQ(reqs.size(), 1u);
  auto up = parse_traceparent(reqs[0].header("traceparent"));
  ASSERT_TRUE(up);
  EXPECT_EQ(up->trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_NE(up->span_id, "00f067aa0ba902b7") << "the attempt is a child span, not the caller's";
  EXPECT_TRUE(up->sampled);
  auto back = parse_traceparent(r.header("traceparent"));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->trace_id, up->trace_id);

  // Without one, the gateway starts a trace; a malformed one is replaced.
  ASSERT_EQ(call(chat(), {{"traceparent", "00-zz-bad"}, {"x-tollgate-route-tags", "region=us"}}).status, 200);
  auto fresh = parse_traceparent(good.requests().back().header("traceparent"));
  ASSERT_TRUE(fresh);
  EXPECT_NE(fresh->trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
}

TEST_F(OperateTest, SpansGoToTheCollectorWithGenAiAttributes) {
  FakeUpstream collector;
  collector.set_default_response(FakeResponse::json(200, json::object()));
  start(yaml("", "tracing: {otlp_endpoint: \"" + collector.base_url() + "/v1/traces\", service_name: tg-test}\n"));
  const std::string caller = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
  TestClient c(port);
  ASSERT_EQ(c.post_json("/v1/chat/completions", chat(),
                        {{"authorization", "Bearer sk-master-operate-1234"}, {"traceparent", caller},
                         {"x-tollgate-route-tags", "region=us"}})
                .status,
            200);
  // Spans are submitted after the response is written; a second request on
  // the same connection is served only once the first one has finished.
  ASSERT_EQ(c.request("GET", "/health/liveliness").status, 200);
  gateway->state().current()->tracer->flush();
  ASSERT_GE(collector.request_count(), 1u);
  std::vector<json> spans;
  for (const auto& req : collector.requests()) {
    EXPECT_EQ(req.target, "/v1/traces");
    auto body = req.json();
    EXPECT_EQ(body["resourceSpans"][0]["resource"]["attributes"][0]["value"]["stringValue"], "tg-test");
    for (const auto& s : body["resourceSpans"][0]["scopeSpans"][0]["spans"]) spans.push_back(s);
  }
  ASSERT_EQ(spans.size(), 2u) << "a server span and one attempt span";
  auto attr = [](const json& span, const std::string& key) -> json {
    for (const auto& a : span["attributes"]) {
      if (a["key"] == key) return a["value"];
    }
    return nullptr;
  };
  const json& server = spans[0]["kind"] == 2 ? spans[0] : spans[1];
  const json& client = spans[0]["kind"] == 2 ? spans[1] : spans[0];
  EXPECT_EQ(server["traceId"], "0af7651916cd43dd8448eb211c80319c");
  EXPECT_EQ(server["parentSpanId"], "b7ad6b7169203331");
  EXPECT_EQ(client["parentSpanId"], server["spanId"]);
  EXPECT_EQ(attr(server, "gen_ai.request.model")["stringValue"], "chat");
  EXPECT_EQ(attr(server, "gen_ai.usage.input_tokens")["intValue"], "10");
  EXPECT_EQ(attr(server, "gen_ai.usage.output_tokens")["intValue"], "5");
  EXPECT_EQ(attr(client, "gen_ai.request.model")["stringValue"], "m");
  EXPECT_EQ(attr(client, "tollgate.deployment")["stringValue"], "good-us");
  EXPECT_EQ(good.requests().back().header("traceparent").substr(36, 16), client["spanId"].get<std::string>());
}

TEST_F(OperateTest, HealthChecksOpenTheCircuitOfADeadDeploymentAndCloseItWhenItRecovers) {
  start(yaml());
  gateway->check_health_now();
  auto h = health();
  EXPECT_EQ((*deployment(h, "bad-eu"))["health_check"], "failing");
  EXPECT_EQ((*deployment(h, "good-us"))["health_check"], "ok");
  EXPECT_EQ((*deployment(h, "bad-eu"))["state"], "closed") << "one failed check is not yet `failures: 2`";
  const auto probes = bad.requests();
  ASSERT_FALSE(probes.empty());
  EXPECT_EQ(probes.back().json()["max_tokens"], 1) << "a cheap one-token request";
  EXPECT_EQ(probes.back().header("authorization"), "Bearer sk-bad-secret-9012");
  gateway->check_health_now();
  EXPECT_EQ((*deployment(health(), "bad-eu"))["state"], "open");
  EXPECT_EQ(metric(scrape(), R"(tollgate_health_check_failures_total{deployment="bad-eu"})"), 2);

  // Recovered: after the cooldown the next successful check closes it.
  bad.set_default_response(FakeResponse::json(200, completion("from bad")));
  gateway->check_health_now();
  EXPECT_EQ((*deployment(health(), "bad-eu"))["state"], "open") << "not before the cooldown";
  clock_ms += 30'000;
  gateway->check_health_now();
  h = health();
  EXPECT_EQ((*deployment(h, "bad-eu"))["state"], "closed");
  EXPECT_EQ((*deployment(h, "bad-eu"))["health_check"], "ok");
  EXPECT_EQ(good.request_count(), 4u) << "one check per deployment per round";
  EXPECT_EQ(bad.request_count(), 8u) << "bad-eu and bad-solo";
}

TEST_F(OperateTest, EachRetryClassFollowsItsPolicy) {
  std::string text = yaml(R"(  retry_policy: {rate_limited: 1, server: 0, timeout: 0, connect: 1}
  retry_after_max_ms: 4000
)",
                          R"(  - name: refused
    deployments: [{provider: nowhere, model: m}]
    fallbacks: [solo]
)");
  // A provider nothing listens for, and no circuit breaker in the way.
  replace(text, "providers:\n", "providers:\n  - {name: nowhere, type: openai_compatible, base_url: \"http://127.0.0.1:1/v1\"}\n");
  replace(text, "circuit_breaker: {failures: 2, cooldown_ms: 30000}", "circuit_breaker: {failures: 0}");
  // The extra model goes under models:, before router:.
  const std::string refused = "  - name: refused\n    deployments: [{provider: nowhere, model: m}]\n    fallbacks: [solo]\n";
  replace(text, refused, "");
  replace(text, "router:\n", refused + "router:\n");
  start(text);
  // 429 with retry-after 2: one retry on the same deployment after 2 s.
  bad.enqueue(FakeResponse::json(429, {{"error", {{"message", "slow down"}, {"type", "rate_limit_error"}}}}).header("retry-after", "2"));
  bad.enqueue(FakeResponse::json(200, completion("after the wait")));
  auto r = call(chat("solo"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json()["choices"][0]["message"]["content"], "after the wait");
  {
    std::lock_guard lock(sleeps_mu);
    ASSERT_EQ(sleeps.size(), 1u);
    EXPECT_EQ(sleeps[0], 2000ms);
    sleeps.clear();
  }
  // A longer retry-after is capped at retry_after_max_ms.
  bad.enqueue(FakeResponse::json(429, {{"error", {{"message", "slow down"}}}}).header("retry-after", "60"));
  bad.enqueue(FakeResponse::json(200, completion("capped")));
  EXPECT_EQ(call(chat("solo")).status, 200);
  {
    std::lock_guard lock(sleeps_mu);
    ASSERT_EQ(sleeps.size(), 1u);
    EXPECT_EQ(sleeps[0], 4000ms);
  }
  // server: 0 -> a 5xx is not retried.
  const auto before = bad.request_count();
  EXPECT_EQ(call(chat("solo")).status, 503);
  EXPECT_EQ(bad.request_count() - before, 1u);
  // connect: 1 -> the refused deployment is tried twice, then the fallback.
  bad.enqueue(FakeResponse::json(200, completion("fallback")));
  r = call(chat("refused"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json()["choices"][0]["message"]["content"], "fallback");
  EXPECT_EQ(r.header("x-tollgate-attempts"), "3");
  const std::string m = scrape();
  EXPECT_EQ(metric(m, R"(tollgate_retries_total{deployment="nowhere/m",class="connect"})"), 1);
  EXPECT_EQ(metric(m, R"(tollgate_retries_total{deployment="bad-solo",class="rate_limited"})"), 2);
  EXPECT_EQ(metric(m, R"(tollgate_fallbacks_total{from="refused",to="solo",kind="general"})"), 1);
}

TEST_F(OperateTest, OverrideHeadersStayWithinTheKeysRights) {
  start(yaml("", R"(keys:
  - {name: eu-only, key: sk-eu-only-key-0001, models: [chat], route_tags: {region: eu}}
)"));
  TestClient c(port);
  auto r = c.post_json("/v1/chat/completions", chat(), {{"authorization", "Bearer sk-eu-only-key-0001"}});
  EXPECT_EQ(r.status, 503) << "its only allowed deployment fails: never the us one";
  EXPECT_EQ(good.request_count(), 0u);
  r = c.post_json("/v1/chat/completions", chat(),
                  {{"authorization", "Bearer sk-eu-only-key-0001"}, {"x-tollgate-route-tags", "region=us"}});
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.json()["error"]["code"], "deployment_not_allowed");
  r = c.post_json("/v1/chat/completions", chat(),
                  {{"authorization", "Bearer sk-eu-only-key-0001"}, {"x-tollgate-fallbacks", "solo"}});
  EXPECT_EQ(r.status, 403) << "solo is not among the key's models";
  r = c.post_json("/v1/chat/completions", chat(),
                  {{"authorization", "Bearer sk-eu-only-key-0001"}, {"x-tollgate-timeout-ms", "soon"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.json()["error"]["param"], "x-tollgate-timeout-ms");
  EXPECT_EQ(good.request_count(), 0u);
}

TEST_F(OperateTest, ContextWindowAndContentPolicyFallbacksThroughTheRealServer) {
  std::string text = yaml("", "");
  const std::string extra = R"(  - name: small
    context_window: 100
    deployments: [{provider: bad, model: small-m, id: small}]
    fallbacks: [solo]
    context_window_fallbacks: [big]
    content_policy_fallbacks: [lenient]
  - name: big
    context_window: 1000000
    deployments: [{provider: good, model: big-m, id: big}]
  - name: lenient
    deployments: [{provider: good, model: lenient-m, id: lenient}]
)";
  replace(text, "router:\n", extra + "router:\n");
  start(text);
  // The upstream says the prompt is too long: the larger model answers.
  bad.enqueue(FakeResponse::json(400, {{"error", {{"message", "This model's maximum context length is 100 tokens."},
                                                  {"type", "invalid_request_error"},
                                                  {"code", "context_length_exceeded"}}}}));
  auto r = call(chat("small"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(good.requests().back().json()["model"], "big-m");
  // A refusal for content: the lenient model answers.
  bad.enqueue(FakeResponse::json(400, {{"error", {{"message", "Your request was rejected by the content policy."},
                                                  {"type", "invalid_request_error"},
                                                  {"code", "content_policy_violation"}}}}));
  r = call(chat("small"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(good.requests().back().json()["model"], "lenient-m");
  // A prompt that cannot fit the known window never reaches the small model.
  const auto small_calls = bad.request_count();
  json big = chat("small");
  big["messages"][0]["content"] = std::string(4000, 'x');
  r = call(big);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(bad.request_count(), small_calls);
  EXPECT_EQ(good.requests().back().json()["model"], "big-m");
  EXPECT_NE(r.header("x-tollgate-notes").find("routed to big"), std::string::npos) << r.header("x-tollgate-notes");
  const std::string m = scrape();
  EXPECT_EQ(metric(m, R"(tollgate_fallbacks_total{from="small",to="big",kind="context_window"})"), 2);
  EXPECT_EQ(metric(m, R"(tollgate_fallbacks_total{from="small",to="lenient",kind="content_policy"})"), 1);
}

}  // namespace
}  // namespace tollgate::test
