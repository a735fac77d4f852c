#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include "storage/db_pool.h"

namespace tollgate {
namespace {

// A Store whose calls fail with "unavailable" while the fake database is down.
class FlakyStore : public Store {
 public:
  explicit FlakyStore(std::atomic<bool>& down) : down_(down) {}
  std::vector<std::string> migrate() override { return {}; }
  std::vector<std::string> applied_migrations() override { return {}; }
  int64_t change_version() override {
    if (down_) throw StoreError(StoreError::Kind::unavailable, "database down");
    return 7;
  }
  bool insert_key(const KeyRecord&, const AuditEvent&) override { return false; }
  bool update_key(const KeyRecord&, const AuditEvent&) override { return false; }
  bool delete_key(const std::string&, const AuditEvent&) override { return false; }
  std::optional<KeyRecord> find_key(const std::string&) override { return std::nullopt; }
  std::optional<KeyRecord> find_key_by_hash(const std::string&) override { return std::nullopt; }
  std::vector<KeyRecord> list_keys(const std::string&, const std::string&, int, int) override { return {}; }
  bool insert_team(const TeamRecord&, const AuditEvent&) override { return false; }
  bool update_team(const TeamRecord&, const AuditEvent&) override { return false; }
  bool delete_team(const std::string&, const AuditEvent&) override { return false; }
  std::optional<TeamRecord> find_team(const std::string&) override { return std::nullopt; }
  std::vector<TeamRecord> list_teams(int, int) override { return {}; }
  bool insert_user(const UserRecord&, const AuditEvent&) override { return false; }
  bool update_user(const UserRecord&, const AuditEvent&) override { return false; }
  bool delete_user(const std::string&, const AuditEvent&) override { return false; }
  std::optional<UserRecord> find_user(const std::string&) override { return std::nullopt; }
  std::vector<UserRecord> list_users(const std::string&, int, int) override { return {}; }
  void upsert_end_user(const EndUserRecord&, const AuditEvent&) override {}
  std::optional<EndUserRecord> find_end_user(const std::string&) override { return std::nullopt; }
  Snapshot snapshot() override { return {}; }
  ShipResult ship(std::span<const SpendRowView>) override { return {}; }
  std::vector<SpendRow> spend_logs(const SpendQuery&) override { return {}; }
  std::vector<SpendRow> rejections(const SpendQuery&) override { return {}; }
  std::vector<ReportRow> spend_report(const ReportQuery&) override { return {}; }
  std::vector<AuditEvent> audit_events(const std::string&, int) override { return {}; }
  int reset_budgets(TimePoint) override { return 0; }

 private:
  std::atomic<bool>& down_;
};

struct Counting {
  std::atomic<bool> down{false};
  std::atomic<int> opened{0};
  std::function<std::unique_ptr<Store>()> factory() {
    return [this] {
      ++opened;
      return std::unique_ptr<Store>(std::make_unique<FlakyStore>(down));
    };
  }
};

TEST(DbPoolTest, ResumesOnTheCallersThreadWithTheResult) {
  Counting db;
  DbPool pool(db.factory(), 2);
  boost::asio::io_context io;
  std::thread::id io_thread, worker_thread, resumed_thread;
  int64_t version = 0;
  boost::asio::co_spawn(
      io,
      [&]() -> boost::asio::awaitable<void> {
        io_thread = std::this_thread::get_id();
        co_await pool.run([&](Store& s) {
          worker_thread = std::this_thread::get_id();
          version = s.change_version();
        });
        resumed_thread = std::this_thread::get_id();
      },
      boost::asio::detached);
  io.run();
  EXPECT_EQ(version, 7);
  EXPECT_NE(worker_thread, io_thread);
  EXPECT_NE(worker_thread, std::thread::id());
  EXPECT_EQ(resumed_thread, io_thread);
  EXPECT_EQ(db.opened, 1);  // opened lazily, on first use
}

TEST(DbPoolTest, ExceptionsPropagateToTheAwaiter) {
  Counting db;
  DbPool pool(db.factory(), 1);
  boost::asio::io_context io;
  std::string caught;
  boost::asio::co_spawn(
      io,
      [&]() -> boost::asio::awaitable<void> {
        try {
          co_await pool.run([](Store&) { throw StoreError(StoreError::Kind::conflict, "dup"); });
        } catch (const StoreError& e) {
          caught = e.what();
        }
      },
      boost::asio::detached);
  io.run();
  EXPECT_EQ(caught, "dup");
  EXPECT_THROW(pool.run_sync([](Store&) { throw std::runtime_error("boom"); }), std::runtime_error);
  EXPECT_EQ(db.opened, 1);  // non-connection errors keep the connection
}

TEST(DbPoolTest, DropsUnavailableConnectionsAndReconnects) {
  Counting db;
  DbPool pool(db.factory(), 1);
  int64_t v = 0;
  pool.run_sync([&](Store& s) { v = s.change_version(); });
  EXPECT_EQ(db.opened, 1);
  db.down = true;
  try {
    pool.run_sync([&](Store& s) { s.change_version(); });
    ADD_FAILURE() << "expected StoreError";
  } catch (const StoreError& e) {
    EXPECT_EQ(e.kind(), StoreError::Kind::unavailable);
  }
  db.down = false;
  pool.run_sync([&](Store& s) { v = s.change_version(); });
  EXPECT_EQ(v, 7);
  EXPECT_EQ(db.opened, 2);  // the failed connection was replaced
}

TEST(DbPoolTest, ManyConcurrentCallersUseAtMostOneConnectionPerThread) {
  Counting db;
  DbPool pool(db.factory(), 3);
  boost::asio::io_context io;
  std::atomic<int> done{0};
  for (int i = 0; i < 50; ++i) {
    boost::asio::co_spawn(
        io,
        [&]() -> boost::asio::awaitable<void> {
          co_await pool.run([](Store& s) { s.change_version(); });
          ++done;
        },
        boost::asio::detached);
  }
  io.run();
  EXPECT_EQ(done, 50);
  EXPECT_LE(db.opened, 3);
}

}  // namespace
}  // namespace tollgate
