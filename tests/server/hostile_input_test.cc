// Hostile input through the real server: each request that once crashed the
// gateway, hung a request or grew its memory gets a clear 4xx answer, and
// the gateway keeps serving with nothing left in flight.
#include <sstream>

#include "accounting/budget_book.h"
#include "server/gateway_fixture.h"
#include "server/header_values.h"

namespace tollgate::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

// The value of one series in Prometheus text, or -1 when absent.
double metric(const std::string& text, const std::string& series) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  }
  return -1;
}

// The lines of a scrape that start with `prefix` (for failure messages).
std::string lines_of(const std::string& text, const std::string& prefix) {
  std::istringstream in(text);
  std::string line, out;
  while (std::getline(in, line)) {
    if (line.rfind(prefix, 0) == 0) out += line + "\n";
  }
  return out;
}

// `depth` levels of {"a": ... } around 1.
std::string nested_objects(std::size_t depth) {
  std::string s;
  s.reserve(depth * 6 + 1);
  for (std::size_t i = 0; i < depth; ++i) s += "{\"a\":";
  s += "1";
  s.append(depth, '}');
  return s;
}

std::string nested_arrays(std::size_t depth) { return std::string(depth, '[') + "1" + std::string(depth, ']'); }

class HostileInputTest : public GatewayTest {
 protected:
  // Scrapes /metrics on `client` (a request on the same connection starts
  // only after the previous one finished, so its bookkeeping is done).
  std::string scrape(TestClient& client) {
    auto r = client.request("GET", "/metrics");
    EXPECT_EQ(r.status, 200);
    return r.body;
  }

  void expect_nothing_in_flight(TestClient& client) {
    const std::string text = scrape(client);
    // The scrape is a local route: it does not count itself.
    EXPECT_EQ(metric(text, "tollgate_in_flight_requests"), 0) << text.substr(0, 2000);
  }

  void expect_gateway_serves() {
    upstream.enqueue(FakeResponse::json(200, completion_json("still here")));
    TestClient c(port);
    auto res = c.post_json("/v1/chat/completions", chat_body());
    ASSERT_EQ(res.status, 200) << res.body;
    EXPECT_EQ(res.json()["choices"][0]["message"]["content"], "still here");
  }
};

TEST_F(HostileInputTest, DeepNestingInMetadataIs400NotACrash) {
  start(basic_yaml());
  TestClient client(port);
  std::string body = R"({"model":"chat","messages":[{"role":"user","content":"hi"}],"metadata":)" +
                     nested_objects(100000) + "}";
  ASSERT_GT(body.size(), 500000u);
  auto res = client.request("POST", "/v1/chat/completions", body, {{"content-type", "application/json"}});
  ASSERT_EQ(res.status, 400) << res.body.substr(0, 300);
  auto j = res.json();
  EXPECT_EQ(j["error"]["code"], "invalid_json");
  EXPECT_NE(j["error"]["message"].get<std::string>().find("nesting deeper than 64"), std::string::npos) << res.body;
  EXPECT_EQ(upstream.request_count(), 0u);
  expect_nothing_in_flight(client);
  expect_gateway_serves();
}

TEST_F(HostileInputTest, DeepNestingInAToolSchemaOnMessagesIs400) {
  start(basic_yaml());
  TestClient client(port);
  std::string body = R"({"model":"chat","max_tokens":10,"messages":[{"role":"user","content":"hi"}],)"
                     R"("tools":[{"name":"t","input_schema":)" +
                     nested_objects(100000) + "}]}";
  auto res = client.request("POST", "/v1/messages", body, {{"content-type", "application/json"}});
  ASSERT_EQ(res.status, 400) << res.body.substr(0, 300);
  auto j = res.json();
  // The Anthropic-compatible route answers in Anthropic's error shape.
  EXPECT_EQ(j["type"], "error") << res.body;
  EXPECT_EQ(j["error"]["type"], "invalid_request_error");
  EXPECT_NE(j["error"]["message"].get<std::string>().find("nesting"), std::string::npos) << res.body;
  expect_nothing_in_flight(client);
  expect_gateway_serves();
}

TEST_F(HostileInputTest, DeepNestedArraysInEmbeddingsInputAre400) {
  start(basic_yaml());
  TestClient client(port);
  std::string body = R"({"model":"chat","input":)" + nested_arrays(100000) + "}";
  auto res = client.request("POST", "/v1/embeddings", body, {{"content-type", "application/json"}});
  ASSERT_EQ(res.status, 400) << res.body.substr(0, 300);
  EXPECT_EQ(res.json()["error"]["code"], "invalid_json");
  // Just within the limit, the validator names the shape it wants instead.
  std::string shallow = R"({"model":"chat","input":)" + nested_arrays(10) + "}";
  auto res2 = client.request("POST", "/v1/embeddings", shallow, {{"content-type", "application/json"}});
  ASSERT_EQ(res2.status, 400) << res2.body;
  EXPECT_EQ(res2.json()["error"]["code"], "invalid_type") << res2.body;
  expect_nothing_in_flight(client);
  expect_gateway_serves();
}

TEST_F(HostileInputTest, NumberThatOverflowsIs400SayingWhere) {
  start(basic_yaml());
  TestClient client(port);
  for (const char* stream : {"false", "true"}) {
    const std::string body = std::string(R"({"model":"chat","stream":)") + stream +
                             R"(,"temperature":1e400,"messages":[{"role":"user","content":"hi"}]})";
    auto res = client.request("POST", "/v1/chat/completions", body, {{"content-type", "application/json"}});
    ASSERT_EQ(res.status, 400) << res.body;
    const auto j = res.json();
    EXPECT_EQ(j["error"]["code"], "invalid_json");
    const std::string message = j["error"]["message"];
    EXPECT_NE(message.find("number"), std::string::npos) << message;
    // "at byte N": where the number starts.
    EXPECT_NE(message.find("byte " + std::to_string(body.find("1e400"))), std::string::npos) << message;
    EXPECT_EQ(res.header("content-type"), "application/json");
  }
  EXPECT_EQ(upstream.request_count(), 0u);
  expect_nothing_in_flight(client);
  expect_gateway_serves();
}

TEST_F(HostileInputTest, ModelOfAVirtualKeyAliasIsServedByGetModel) {
  // Covered with a database in the money tests; here: an unknown model id
  // and an id with escapes answer 404 in the OpenAI shape.
  start(basic_yaml());
  TestClient client(port);
  auto res = client.request("GET", "/v1/models/%00%0d%0aevil");
  EXPECT_EQ(res.status, 404) << res.body;
  EXPECT_EQ(res.json()["error"]["code"], "model_not_found");
  EXPECT_EQ(client.request("GET", "/v1/models/chat").status, 200);
}

// A provider that fails inside the gateway: it throws, before anything was
// sent or after the stream started.
class ThrowingProvider : public Provider {
 public:
  explicit ThrowingProvider(std::unique_ptr<Provider> inner) : inner_(std::move(inner)) {}
  std::string kind() const override { return inner_->kind(); }
  boost::asio::awaitable<AttemptOutcome> call(RequestContext& ctx, const DeploymentConfig& d, const AttemptLimits& l,
                                              ResponseSink& sink) override {
    if (ctx.stream) {
      HeaderList none;
      co_await sink.start_stream(std::move(none));
      co_await sink.send_event(R"({"id":"x","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant","content":"par"}}]})");
      throw std::runtime_error("translator bug mid-stream");
    }
    throw std::logic_error("translator bug");
  }

 private:
  std::unique_ptr<Provider> inner_;
};

TEST_F(HostileInputTest, AnExceptionInAProviderIsA500AndReleasesEverything) {
  customize = [](GatewayOptions& o) {
    o.decorate_provider = [](const ProviderConfig& p, std::unique_ptr<Provider> inner) -> std::unique_ptr<Provider> {
      if (p.name == "up") return std::make_unique<ThrowingProvider>(std::move(inner));
      return inner;
    };
  };
  start(basic_yaml());
  TestClient client(port);
  auto res = client.post_json("/v1/chat/completions", chat_body());
  ASSERT_EQ(res.status, 500) << res.body;
  EXPECT_EQ(res.json()["error"]["type"], "server_error");
  EXPECT_EQ(res.json()["error"]["code"], "internal_error");
  EXPECT_NE(res.json()["error"]["message"].get<std::string>().find(res.header("x-request-id")), std::string::npos);
  // Nothing of the exception's text reaches the client.
  EXPECT_EQ(res.body.find("translator bug"), std::string::npos);

  auto streamed = client.post_json("/v1/chat/completions", chat_body(true));
  EXPECT_EQ(streamed.status, 200);
  auto events = streamed.sse_data();
  ASSERT_GE(events.size(), 2u) << streamed.body;
  EXPECT_EQ(json::parse(events[0])["choices"][0]["delta"]["content"], "par");
  const auto last = json::parse(events.back());
  EXPECT_EQ(last["error"]["code"], "internal_error") << streamed.body;
  EXPECT_EQ(streamed.body.find("finish_reason\":\"stop"), std::string::npos) << "no fake completion";
  EXPECT_EQ(streamed.body.find("[DONE]"), std::string::npos);

  TestClient again(port);
  const std::string text = scrape(again);
  EXPECT_EQ(metric(text, "tollgate_internal_errors_total"), 2) << text.substr(0, 3000);
  EXPECT_EQ(metric(text, "tollgate_in_flight_requests"), 0);
  EXPECT_EQ(metric(text, R"(tollgate_deployment_in_flight{deployment="up/upstream-model"})"), 0);
  // The other model group still works.
  auto ok = again.post_json("/v1/chat/completions", json{{"model", "backup"}, {"messages", chat_body()["messages"]}});
  EXPECT_EQ(ok.status, 200) << ok.body;
}

TEST_F(HostileInputTest, ManyDistinctUsersWithoutEndUserBudgetsKeepNoState) {
  start(basic_yaml());
  upstream.set_default_response(FakeResponse::json(200, completion_json("ok")));
  TestClient client(port);
  for (int i = 0; i < 10000; ++i) {
    auto b = chat_body();
    b["model"] = "backup";  // the built-in mock: no upstream round trip
    b["user"] = "user-" + std::to_string(i) + std::string(200, 'x');
    auto res = client.post_json("/v1/chat/completions", b);
    ASSERT_EQ(res.status, 200) << res.body;
  }
  EXPECT_EQ(gateway->state().budgets->scope_count(), 0u);
  const std::string text = scrape(client);
  EXPECT_EQ(metric(text, "tollgate_in_flight_requests"), 0);
  // No user value became a label.
  EXPECT_EQ(text.find("user-1"), std::string::npos);
}

TEST_F(HostileInputTest, ModelsNobodyConfiguredAreCountedAsOther) {
  start(basic_yaml());
  TestClient client(port);
  for (int i = 0; i < 50; ++i) {
    auto b = chat_body();
    b["model"] = "invented-" + std::to_string(i);
    EXPECT_EQ(client.post_json("/v1/chat/completions", b).status, 404);
  }
  const std::string text = scrape(client);
  EXPECT_EQ(text.find("invented-"), std::string::npos);
  EXPECT_EQ(metric(text, R"(tollgate_requests_total{model="other",deployment="",provider="",status="404",key_alias="anonymous"})"), 50)
      << lines_of(text, "tollgate_requests_total");
}

TEST(HeaderValues, ControlBytesNeverSplitAHeader) {
  EXPECT_EQ(header_value("a\r\nx-evil: 1"), "a  x-evil: 1");
  EXPECT_EQ(header_value(std::string("a\0b", 3)), "a b");
  EXPECT_EQ(header_value("tab\tkept"), "tab\tkept");
  EXPECT_EQ(header_value(std::string(5000, 'a')).size(), kMaxHeaderValueBytes);
  // A multi-byte character at the cut is not split.
  std::string s(kMaxHeaderValueBytes - 1, 'a');
  s += "\xc3\xa9tail";
  EXPECT_EQ(header_value(s).size(), kMaxHeaderValueBytes - 1);
}

TEST_F(HostileInputTest, ClientTextInANoteCannotInjectAHeader) {
  // The Cohere adapter names the client's tool in x-tollgate-notes.
  std::string yaml = R"(
server: {listen: "127.0.0.1:0", threads: 1, timeouts: {drain_ms: 5000}}
logging: {level: warn}
providers:
  - {name: co, type: cohere, base_url: "{BASE}", api_key: "co-secret-key-0123456789"}
models:
  - name: command
    deployments: [{provider: co, model: command-r-08-2024}]
)";
  yaml.replace(yaml.find("{BASE}"), 6, upstream.base_url());
  start(yaml);
  upstream.enqueue(FakeResponse::json(200, json::parse(R"({"id":"co-1","finish_reason":"COMPLETE",
    "message":{"role":"assistant","content":[{"type":"text","text":"Hi"}]},
    "usage":{"billed_units":{"input_tokens":10,"output_tokens":5}}})")));
  const std::string name = "f\r\nx-injected: yes\r\n\r\nHTTP/1.1 200 OK";
  json b = {{"model", "command"}, {"messages", json::array({{{"role", "user"}, {"content", "hi"}}})}};
  b["tools"] = json::array({{{"type", "function"}, {"function", {{"name", name}, {"parameters", {{"type", "object"}}}}}}});
  b["tool_choice"] = {{"type", "function"}, {"function", {{"name", name}}}};
  TestClient client(port);
  auto res = client.post_json("/v1/chat/completions", b);
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_TRUE(res.header("x-injected").empty());
  const std::string notes = res.header("x-tollgate-notes");
  EXPECT_NE(notes.find("x-injected: yes"), std::string::npos) << notes;
  EXPECT_EQ(notes.find('\r'), std::string::npos);
  EXPECT_EQ(notes.find('\n'), std::string::npos);
  // The connection is intact: the next request on it is answered normally.
  EXPECT_EQ(client.request("GET", "/health/liveliness").status, 200);
}

TEST_F(HostileInputTest, ConnectionsBeyondTheLimitAreRefusedAndIdleOnesGoFirst) {
  std::string yaml = basic_yaml();
  yaml.replace(yaml.find("threads: 1,"), 11, "threads: 1, max_connections: 2,");
  start(yaml);
  // Two connections, each in the middle of a request the upstream holds.
  auto gate = Gate::make();
  upstream.enqueue(FakeResponse::json(200, completion_json("one")).hold_until(gate));
  upstream.enqueue(FakeResponse::json(200, completion_json("two")).hold_until(gate));
  std::vector<std::thread> busy;
  std::vector<int> statuses(2, 0);
  for (int i = 0; i < 2; ++i) {
    busy.emplace_back([&, i] {
      TestClient c(port);
      statuses[i] = c.post_json("/v1/chat/completions", chat_body()).status;
    });
  }
  ASSERT_TRUE(gate->wait_for_waiters(2));
  // A third is refused with an OpenAI-shaped 503, not left waiting.
  ASSERT_EQ(gateway->state().open_connections.load(), 2);
  ASSERT_EQ(gateway->state().max_connections, 2u);
  // (It sends nothing: the refusal comes at once, before any request.)
  TestClient third(port);
  const std::string refused = third.read_to_eof();
  EXPECT_NE(refused.find("HTTP/1.1 503"), std::string::npos) << refused;
  EXPECT_NE(refused.find("too_many_connections"), std::string::npos) << refused;
  EXPECT_TRUE(third.saw_eof());
  gate->open();
  for (auto& t : busy) t.join();
  EXPECT_EQ(statuses, (std::vector<int>{200, 200}));

  // Idle kept-alive connections make room for a new one.
  TestClient idle1(port), idle2(port);
  EXPECT_EQ(idle1.request("GET", "/health/liveliness").status, 200);
  EXPECT_EQ(idle2.request("GET", "/health/liveliness").status, 200);
  TestClient fresh(port);
  EXPECT_EQ(fresh.request("GET", "/health/liveliness").status, 200);
  const std::string text = scrape(fresh);
  EXPECT_EQ(metric(text, "tollgate_connections_refused_total"), 1);
}

}  // namespace
}  // namespace tollgate::test
