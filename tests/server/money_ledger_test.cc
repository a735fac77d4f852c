// Budgets under concurrency, one ledger row per request whatever happens, and
// a database outage with a gateway restart in the middle of it.

#include <condition_variable>
#include <mutex>
#include <set>

#include "accounting/token_estimate.h"
#include "server/money_fixture.h"
#include "support/tcp_proxy.h"

namespace tollgate::test {
namespace {

using nlohmann::json;

class LedgerTest : public MoneyTest {};

json usage_completion(int prompt, int completion) {
  json j = completion_json("ok");
  j["usage"] = {{"prompt_tokens", prompt}, {"completion_tokens", completion}, {"total_tokens", prompt + completion}};
  return j;
}

TEST_P(LedgerTest, TwoHundredConcurrentRequestsSettleWithinABudgetForTen) {
  TOLLGATE_REQUIRE_DATABASE(*db);
  start_money();
  // Every admitted request waits upstream until all 200 have been answered
  // or admitted, so all reservations are held at the same time.
  auto gate = Gate::make();
  upstream.set_default_response(FakeResponse::json(200, usage_completion(12, 900)).hold_until(gate));

  json body = chat_body();
  body["max_tokens"] = 1000;
  // Worst case: prompt bound (bytes of the messages + estimate + 16) at $1/M plus 1000 tokens at $2/M.
  const int64_t prompt_bound = 16 + static_cast<int64_t>(body["messages"].dump().size()) + estimate_chat_prompt_tokens(body["messages"]);
  const double worst = (static_cast<double>(prompt_bound) * 1.0 + 1000 * 2.0) / 1e6;
  const double budget = worst * 10 + worst / 2;  // covers 10, not 11
  auto gen = admin("POST", "/key/generate", {{"max_budget", budget}});
  ASSERT_EQ(gen.status, 200) << gen.body;
  const std::string key = gen.json()["key"];

  std::atomic<int> ok{0}, over{0}, other{0};
  std::mutex mu;
  std::condition_variable cv;
  int finished = 0;
  std::vector<std::thread> threads;
  for (int i = 0; i < 200; ++i) {
    threads.emplace_back([&] {
      auto r = chat(key, body);
      if (r.status == 200) {
        ok++;
      } else if (r.status == 400 && r.json()["error"]["type"] == "budget_exceeded") {
        over++;
      } else {
        other++;
      }
      std::lock_guard lock(mu);
      ++finished;
      cv.notify_all();
    });
  }
  // The refused ones return at once; then the ten held upstream are released.
  ASSERT_TRUE(upstream.wait_for_requests(10));
  {
    std::unique_lock lock(mu);
    EXPECT_TRUE(cv.wait_for(lock, std::chrono::seconds(60), [&] { return finished >= 190; }));
  }
  gate->open();
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 10);
  EXPECT_EQ(over.load(), 190);
  EXPECT_EQ(other.load(), 0);

  ship_all();
  auto k = store()->find_key(gen.json()["key_id"]);
  ASSERT_TRUE(k);
  EXPECT_LE(k->spend, budget);
  EXPECT_NEAR(k->spend, 10 * (12 * 1.0 + 900 * 2.0) / 1e6, 1e-9);
  // What is left (half a worst case plus the difference between the worst
  // cases and the real costs) admits a few more one at a time, then refuses.
  gate->open();
  int more = 0;
  for (; more < 20; ++more) {
    auto r = chat(key, body);
    if (r.status != 200) {
      EXPECT_EQ(r.status, 400);
      break;
    }
  }
  EXPECT_LT(more, 20);
  const double actual = (12 * 1.0 + 900 * 2.0) / 1e6;
  int expected_more = 0;
  for (double spent = 10 * actual; spent + worst <= budget + 1e-12; spent += actual) ++expected_more;
  EXPECT_EQ(more, expected_more);
  ship_all();
  EXPECT_LE(store()->find_key(gen.json()["key_id"])->spend, budget);
}

TEST_P(LedgerTest, EveryRequestThatReachedTheRouterHasExactlyOneRow) {
  TOLLGATE_REQUIRE_DATABASE(*db);
  start_money();
  upstream.enqueue(FakeResponse::json(200, usage_completion(5, 7)));
  upstream.enqueue(FakeResponse::json(400, {{"error", {{"message", "bad"}, {"type", "invalid_request_error"}}}}));
  upstream.enqueue(FakeResponse::sse({content_chunk("a"), content_chunk("b", "stop"), usage_chunk(3, 2)}));
  // A stream cut off mid-way: the tokens that reached the client are counted.
  upstream.enqueue(FakeResponse::chunked().sse_data(content_chunk("partial")).reset());
  std::vector<std::string> ids;
  for (int i = 0; i < 4; ++i) {
    auto r = chat(kMaster, chat_body(i >= 2));
    ids.push_back(r.header("x-request-id"));
  }
  auto unauthorized = chat("sk-wrong-key-0000000000000");
  EXPECT_EQ(unauthorized.status, 401);
  ship_all();
  auto rows = all_spend_rows();
  std::multiset<std::string> seen;
  for (const auto& r : rows) seen.insert(r.request_id);
  for (const auto& id : ids) EXPECT_EQ(seen.count(id), 1u) << id;
  EXPECT_EQ(rows.size(), 4u);
  std::map<std::string, SpendRow> by_id;
  for (const auto& r : rows) by_id[r.request_id] = r;
  EXPECT_EQ(by_id[ids[0]].status, 200);
  EXPECT_EQ(by_id[ids[0]].completion_tokens, 7);
  EXPECT_EQ(by_id[ids[1]].status, 400);
  EXPECT_TRUE(by_id[ids[2]].stream);
  EXPECT_EQ(by_id[ids[2]].completion_tokens, 2);
  EXPECT_NE(by_id[ids[3]].status, 200);
  EXPECT_GT(by_id[ids[3]].completion_tokens, 0);  // estimated from what was streamed
  EXPECT_EQ(by_id[ids[0]].key_alias, "master");
  EXPECT_EQ(by_id[ids[0]].api_base, upstream.base_url() + "/v1");

  // A refusal before authentication has no row of its own: it is tallied
  // per minute (money_hardening_test.cc checks the tally's row).
  SpendQuery q;
  q.request_id = unauthorized.header("x-request-id");
  EXPECT_TRUE(store()->rejections(q).empty());
}

// The outage test: the database is unreachable for a while under
// load, the gateway restarts in the middle of it, and afterwards every
// request's row is present exactly once.
TEST_P(LedgerTest, DatabaseOutageWithRestartLosesNothing) {
  TOLLGATE_REQUIRE_DATABASE(*db);
  if (GetParam() != "postgresql") GTEST_SKIP() << "an outage needs a database server";
  const char* env = std::getenv("TOLLGATE_OUTAGE_SECONDS");
  const auto outage = std::chrono::seconds(env ? std::atoi(env) : 30);
  const std::string hp = db->server_host_port();
  TcpProxy proxy(hp.substr(0, hp.find(':')), static_cast<uint16_t>(std::stoi(hp.substr(hp.find(':') + 1))));
  const std::string via = db->url_via("127.0.0.1:" + std::to_string(proxy.port()));
  upstream.set_default_response(FakeResponse::json(200, usage_completion(4, 6)));
  start_with(money_yaml(via));

  std::vector<std::string> ids;
  auto send = [&](int n) {
    for (int i = 0; i < n; ++i) {
      auto r = chat(kMaster);
      ASSERT_EQ(r.status, 200) << r.body;
      ids.push_back(r.header("x-request-id"));
    }
  };
  send(20);
  proxy.set_down(true);
  const auto outage_end = std::chrono::steady_clock::now() + outage;
  const auto restart_at = std::chrono::steady_clock::now() + outage / 2;
  bool restarted = false;
  // Load for the whole outage (bounded: at most 20000 requests).
  for (int i = 0; i < 20000 && std::chrono::steady_clock::now() < outage_end; ++i) {
    if (!restarted && (std::chrono::steady_clock::now() >= restart_at || i == 10000)) {
      gateway->shutdown();
      gateway.reset();
      start_with(money_yaml(via));
      restarted = true;
    }
    send(1);
  }
  ASSERT_TRUE(restarted);
  EXPECT_GT(gateway->state().ledger->stats().pending_rows, 0u);
  proxy.set_down(false);
  send(20);
  ship_all(std::chrono::seconds(200));

  auto rows = all_spend_rows();
  std::map<std::string, int> count;
  for (const auto& r : rows) count[r.request_id]++;
  EXPECT_EQ(rows.size(), ids.size());
  for (const auto& id : ids) ASSERT_EQ(count[id], 1) << id;
}

// Spend that was still in the spool when the gateway restarted counts against
// the key's budget on top of what the database already holds.
TEST_P(LedgerTest, BudgetAfterRestartCountsStoredAndSpooledSpend) {
  TOLLGATE_REQUIRE_DATABASE(*db);
  if (GetParam() != "postgresql") GTEST_SKIP() << "an outage needs a database server";
  const std::string hp = db->server_host_port();
  TcpProxy proxy(hp.substr(0, hp.find(':')), static_cast<uint16_t>(std::stoi(hp.substr(hp.find(':') + 1))));
  const std::string via = db->url_via("127.0.0.1:" + std::to_string(proxy.port()));
  upstream.set_default_response(FakeResponse::json(200, usage_completion(12, 900)));
  start_with(money_yaml(via));
  json body = chat_body();
  body["max_tokens"] = 1000;
  const int64_t prompt_bound = 16 + static_cast<int64_t>(body["messages"].dump().size()) + estimate_chat_prompt_tokens(body["messages"]);
  const double worst = (static_cast<double>(prompt_bound) * 1.0 + 1000 * 2.0) / 1e6;
  const double actual = (12 * 1.0 + 900 * 2.0) / 1e6;
  const double budget = 3 * actual + 0.9 * worst;  // three requests fit, a fourth does not
  const std::string key = admin("POST", "/key/generate", {{"max_budget", budget}}).json()["key"];
  ASSERT_EQ(chat(key, body).status, 200);
  ASSERT_EQ(chat(key, body).status, 200);
  ship_all();  // two requests' spend is in the database
  proxy.set_down(true);
  ASSERT_EQ(chat(key, body).status, 200);  // the third waits in the spool
  gateway->shutdown();
  gateway.reset();
  start_with(money_yaml(via));  // restarts while the database is away
  EXPECT_EQ(chat(key, body).status, 503);  // the key store has not been read yet
  proxy.set_down(false);
  ClientResponse r;
  for (int i = 0; i < 100000; ++i) {  // until the key store is read (key_refresh_ms: 100)
    r = chat(key, body);
    if (r.status != 503) break;
  }
  EXPECT_EQ(r.status, 400) << r.body;  // 2 stored + 1 spooled: the fourth does not fit
  EXPECT_EQ(r.json()["error"]["type"], "budget_exceeded");
}

INSTANTIATE_TEST_SUITE_P(Stores, LedgerTest, ::testing::Values("sqlite", "postgresql"), param_name);

}  // namespace
}  // namespace tollgate::test
