// Hostile input and internal failures with the money on: whatever happens to
// a request, what it took is given back and the ledger gets exactly the rows
// it owes, no more (a flood of bad keys writes no row each).

#include "accounting/budget_book.h"
#include "server/money_fixture.h"

namespace tollgate::test {
namespace {

using nlohmann::json;

class HardeningTest : public MoneyTest {
 protected:
  // A key with a budget and one request at a time.
  std::string limited_key() {
    auto gen = admin("POST", "/key/generate", {{"max_budget", 5.0}, {"max_parallel_requests", 1}, {"key_alias", "tight"}});
    EXPECT_EQ(gen.status, 200) << gen.body;
    key_id = gen.json()["key_id"];
    return gen.json()["key"];
  }

  std::string key_id;
};

// Fails inside the gateway while `armed`: throws before anything was sent,
// or after a stream's first event.
class FailingProvider : public Provider {
 public:
  FailingProvider(std::unique_ptr<Provider> inner, std::shared_ptr<std::atomic<bool>> armed)
      : inner_(std::move(inner)), armed_(std::move(armed)) {}
  std::string kind() const override { return inner_->kind(); }
  boost::asio::awaitable<AttemptOutcome> call(RequestContext& ctx, const DeploymentConfig& d, const AttemptLimits& l,
                                              ResponseSink& sink) override {
    if (!armed_->load()) co_return co_await inner_->call(ctx, d, l, sink);
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
  std::shared_ptr<std::atomic<bool>> armed_;
};

TEST_P(HardeningTest, AnInternalFailureReleasesPermitsAndReservationsAndWritesOneRow) {
  TOLLGATE_REQUIRE_DATABASE(*db);
  auto armed = std::make_shared<std::atomic<bool>>(true);
  customize = [armed](GatewayOptions& o) {
    o.decorate_provider = [armed](const ProviderConfig& p, std::unique_ptr<Provider> inner) -> std::unique_ptr<Provider> {
      return std::make_unique<FailingProvider>(std::move(inner), armed);
    };
  };
  start_money();
  const std::string key = limited_key();
  auto plain = chat(key);
  ASSERT_EQ(plain.status, 500) << plain.body;
  EXPECT_EQ(plain.json()["error"]["code"], "internal_error");
  auto streamed = chat(key, chat_body(true));
  ASSERT_EQ(streamed.status, 200);
  EXPECT_EQ(json::parse(streamed.sse_data().back())["error"]["code"], "internal_error") << streamed.body;

  ASSERT_TRUE(gateway->wait_idle(std::chrono::seconds(10)));
  // Nothing is held: no reservation, no parallel permit.
  EXPECT_EQ(gateway->state().budgets->live_reservations(), 0u);
  EXPECT_EQ(gateway->state().budgets->reserved("key:" + key_id), 0);
  // So the next request (one at a time allowed) is admitted and served.
  armed->store(false);
  upstream.enqueue(FakeResponse::json(200, completion_json("fine")));
  auto ok = chat(key);
  ASSERT_EQ(ok.status, 200) << ok.body;

  ship_all();
  std::map<std::string, SpendRow> rows;
  for (auto& r : all_spend_rows()) rows[r.request_id] = r;
  ASSERT_EQ(rows.size(), 3u);
  const auto& p = rows.at(plain.header("x-request-id"));
  EXPECT_EQ(p.status, 500);
  EXPECT_EQ(p.error_type, "internal_error");
  EXPECT_EQ(p.key_id, key_id);
  const auto& s = rows.at(streamed.header("x-request-id"));
  EXPECT_TRUE(s.stream);
  EXPECT_EQ(s.error_type, "internal_error");
  EXPECT_EQ(rows.at(ok.header("x-request-id")).status, 200);
}

TEST_P(HardeningTest, AnOverflowingNumberIsRefusedWithOneRejectionRow) {
  TOLLGATE_REQUIRE_DATABASE(*db);
  start_money();
  const std::string key = limited_key();
  TestClient c(port);
  for (const char* stream : {"false", "true"}) {
    auto res = c.request("POST", "/v1/chat/completions",
                         std::string(R"({"model":"chat","stream":)") + stream +
                             R"(,"max_tokens":1e400,"messages":[{"role":"user","content":"hi"}]})",
                         {{"authorization", "Bearer " + key}, {"content-type", "application/json"}});
    ASSERT_EQ(res.status, 400) << res.body;
    EXPECT_EQ(res.json()["error"]["code"], "invalid_json");
    ship_all();
    SpendQuery q;
    q.request_id = res.header("x-request-id");
    auto rejected = store()->rejections(q);
    ASSERT_EQ(rejected.size(), 1u);
    EXPECT_EQ(rejected[0].status, 400);
    EXPECT_EQ(rejected[0].key_id, key_id);
    EXPECT_EQ(rejected[0].error_type, "invalid_json");
  }
  EXPECT_EQ(gateway->state().budgets->live_reservations(), 0u);
  EXPECT_EQ(upstream.request_count(), 0u);
  EXPECT_TRUE(all_spend_rows().empty());
}

TEST_P(HardeningTest, AFloodOfBadKeysWritesOneTallyRowNotOneRowEach) {
  TOLLGATE_REQUIRE_DATABASE(*db);
  start_money();
  TestClient c(port);
  for (int i = 0; i < 500; ++i) {
    // Each with a body the gateway never parses: it is refused first.
    auto r = c.request("POST", "/v1/chat/completions", "{\"model\": [[[[[[1e999",
                       {{"authorization", "Bearer sk-wrong-" + std::to_string(i)}});
    ASSERT_EQ(r.status, 401) << r.body;
  }
  for (int i = 0; i < 20; ++i) EXPECT_EQ(c.request("GET", "/v1/nothing-here").status, 404);
  ship_all();
  SpendQuery all;
  all.limit = 100000;
  EXPECT_TRUE(store()->rejections(all).empty()) << "tallied until their minute is over";

  // The minute passes; the next refusal brings the finished minute's tallies.
  advance(std::chrono::seconds(61));
  EXPECT_EQ(c.request("GET", "/v1/models").status, 401);
  ship_all();
  auto rows = store()->rejections(all);
  ASSERT_EQ(rows.size(), 2u);
  std::map<int, SpendRow> by_status;
  for (auto& r : rows) by_status[r.status] = r;
  ASSERT_TRUE(by_status.count(401));
  EXPECT_EQ(by_status[401].metadata["count"], 500);
  EXPECT_EQ(by_status[401].metadata["client_ip"], "127.0.0.1");
  EXPECT_TRUE(by_status[401].metadata["aggregated"].get<bool>());
  ASSERT_TRUE(by_status.count(404));
  EXPECT_EQ(by_status[404].metadata["count"], 20);
  // The presented keys are nowhere in them.
  for (auto& r : rows) EXPECT_EQ(r.reason.find("sk-wrong"), std::string::npos) << r.reason;

  // At shutdown the open minute is written too.
  gateway->shutdown();
  auto after = store()->rejections(all);
  EXPECT_EQ(after.size(), 3u);
}

INSTANTIATE_TEST_SUITE_P(Stores, HardeningTest, ::testing::Values("sqlite", "postgresql"), param_name);

}  // namespace
}  // namespace tollgate::test
