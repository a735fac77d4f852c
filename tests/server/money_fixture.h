#pragma once
// The gateway with a real database (SQLite file or PostgreSQL), a master
// key, the ledger and an injected wall clock.

#include <atomic>
#include <thread>

#include "server/gateway_fixture.h"
#include "support/test_database.h"
#include "accounting/ledger.h"
#include "tollgate/store.h"

namespace tollgate::test {

constexpr const char* kMaster = "sk-master-test-0123456789abcdef";

class MoneyTest : public GatewayTest, public ::testing::WithParamInterface<std::string> {
 protected:
  void SetUp() override { db = std::make_unique<TestDatabase>(GetParam()); }
  void TearDown() override {
    GatewayTest::TearDown();
    gateway.reset();  // closes its connections before the database is dropped
  }

  std::string money_yaml(const std::string& database_url, const std::string& extra = "") {
    return basic_yaml(std::string("master_key: \"") + kMaster + "\"\ndatabase: \"" + database_url +
                      "\"\ndatabase_pool: 2\nkey_refresh_ms: 100\nledger: {spool_dir: \"" + db->dir() +
                      "/spool\", commit_interval_ms: 1, retry_max_ms: 50}\n" + extra);
  }

  void start_money(const std::string& extra = "") { start_with(money_yaml(db->url(), extra)); }

  // Like GatewayTest::start, with the manual clock and fast ledger retries.
  void start_with(std::string yaml) {
    spdlog::set_level(spdlog::level::warn);
    for (std::size_t p; (p = yaml.find("{UPSTREAM}")) != std::string::npos;) yaml.replace(p, 10, upstream.base_url() + "/v1");
    auto loaded = load_config_string(yaml);
    ASSERT_TRUE(loaded.errors.empty()) << loaded.errors.front();
    config = loaded.config;
    GatewayOptions options;
    options.seed = 1;
    options.now = [this] { return SystemClock::time_point(std::chrono::milliseconds(now_ms.load())); };
    options.ledger_retry_initial = std::chrono::milliseconds(10);
    options.sleep = [](std::chrono::milliseconds) -> boost::asio::awaitable<void> { co_return; };
    if (customize) customize(options);
    gateway = std::make_unique<Gateway>(config, options);
    port = gateway->start();
  }

  ClientResponse admin(const std::string& method, const std::string& target, const nlohmann::json& body = nullptr,
                       const std::string& key = kMaster) {
    TestClient c(port);
    return c.request(method, target, body.is_null() ? "" : body.dump(),
                     {{"authorization", "Bearer " + key}, {"content-type", "application/json"}});
  }

  ClientResponse chat(const std::string& key, nlohmann::json body = chat_body(),
                      std::map<std::string, std::string> headers = {}) {
    TestClient c(port);
    headers["authorization"] = "Bearer " + key;
    return c.post_json("/v1/chat/completions", body, headers);
  }

  // Waits (bounded) until every row recorded so far is in the database. The
  // bound is generous: after an outage under full load tens of thousands of
  // rows wait in the spool (a sanitizer build ships them slowly).
  void ship_all(std::chrono::seconds bound = std::chrono::seconds(20)) {
    // Responses reach clients before their rows are recorded: first let
    // every request finish, then wait for the rows to ship.
    ASSERT_TRUE(gateway->wait_idle(bound));
    ASSERT_TRUE(gateway->state().ledger->wait_shipped(bound));
  }

  std::unique_ptr<Store> store() { return store_factory(db->url())(); }

  std::vector<SpendRow> all_spend_rows() {
    SpendQuery q;
    q.limit = 1000000;
    return store()->spend_logs(q);
  }

  void advance(std::chrono::milliseconds d) { now_ms.fetch_add(d.count()); }

  std::unique_ptr<TestDatabase> db;
  std::atomic<int64_t> now_ms{std::chrono::duration_cast<std::chrono::milliseconds>(
                                  SystemClock::now().time_since_epoch()).count()};
};

inline std::string param_name(const ::testing::TestParamInfo<std::string>& info) { return info.param; }

}  // namespace tollgate::test
