#pragma once
// A Store double for ledger tests: only ship() works, into a FakeDb shared by
// every FakeStore the factory makes (as rows outlive connections in a real
// database). Everything else throws std::logic_error.

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "tollgate/store.h"

namespace tollgate::testing {

class FakeDb {
 public:
  // While down, ship() throws StoreError(unavailable) and commits nothing.
  void set_down(bool down) {
    std::lock_guard lk(mu_);
    down_ = down;
  }
  // The next ship() commits its rows, then throws: the acknowledgement is
  // lost, as when the connection drops right after COMMIT.
  void lose_next_ack() {
    std::lock_guard lk(mu_);
    lose_next_ack_ = true;
  }

  ShipResult ship(const std::vector<SpendRow>& rows) {
    std::lock_guard lk(mu_);
    ++calls_;
    cv_.notify_all();
    if (down_) throw StoreError(StoreError::Kind::unavailable, "connection refused (fake)");
    ShipResult r;
    for (const auto& row : rows) {
      auto& table = row.kind == RowKind::spend ? spend_ : rejections_;
      if (table.emplace(row.request_id, row).second) {
        ++r.inserted;
      } else {
        ++r.duplicates;
      }
      ++deliveries_[row.request_id];
    }
    ++commits_;
    if (lose_next_ack_) {
      lose_next_ack_ = false;
      throw StoreError(StoreError::Kind::unavailable, "connection lost after commit (fake)");
    }
    return r;
  }

  // Waits (bounded) until ship() has been called at least n times.
  bool wait_calls(int n, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    std::unique_lock lk(mu_);
    return cv_.wait_for(lk, timeout, [&] { return calls_ >= n; });
  }

  int calls() const {
    std::lock_guard lk(mu_);
    return calls_;
  }
  int commits() const {
    std::lock_guard lk(mu_);
    return commits_;
  }
  size_t spend_count() const {
    std::lock_guard lk(mu_);
    return spend_.size();
  }
  size_t rejection_count() const {
    std::lock_guard lk(mu_);
    return rejections_.size();
  }
  std::map<std::string, SpendRow> spend() const {
    std::lock_guard lk(mu_);
    return spend_;
  }
  std::map<std::string, SpendRow> rejections() const {
    std::lock_guard lk(mu_);
    return rejections_;
  }
  // How many times each request_id reached ship() in a committed batch.
  std::map<std::string, int> deliveries() const {
    std::lock_guard lk(mu_);
    return deliveries_;
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool down_ = false;
  bool lose_next_ack_ = false;
  int calls_ = 0;
  int commits_ = 0;
  std::map<std::string, SpendRow> spend_;
  std::map<std::string, SpendRow> rejections_;
  std::map<std::string, int> deliveries_;
};

class FakeStore : public Store {
 public:
  explicit FakeStore(std::shared_ptr<FakeDb> db) : db_(std::move(db)) {}

  using Store::ship;
  ShipResult ship(std::span<const SpendRowView> rows) override {
    std::vector<SpendRow> owned;
    for (const auto& v : rows) owned.push_back(to_spend_row(v));
    return db_->ship(owned);
  }

  std::vector<std::string> migrate() override { no(); }
  std::vector<std::string> applied_migrations() override { no(); }
  int64_t change_version() override { no(); }
  bool insert_key(const KeyRecord&, const AuditEvent&) override { no(); }
  bool update_key(const KeyRecord&, const AuditEvent&) override { no(); }
  bool delete_key(const std::string&, const AuditEvent&) override { no(); }
  std::optional<KeyRecord> find_key(const std::string&) override { no(); }
  std::optional<KeyRecord> find_key_by_hash(const std::string&) override { no(); }
  std::vector<KeyRecord> list_keys(const std::string&, const std::string&, int, int) override { no(); }
  bool insert_team(const TeamRecord&, const AuditEvent&) override { no(); }
  bool update_team(const TeamRecord&, const AuditEvent&) override { no(); }
  bool delete_team(const std::string&, const AuditEvent&) override { no(); }
  std::optional<TeamRecord> find_team(const std::string&) override { no(); }
  std::vector<TeamRecord> list_teams(int, int) override { no(); }
  bool insert_user(const UserRecord&, const AuditEvent&) override { no(); }
  bool update_user(const UserRecord&, const AuditEvent&) override { no(); }
  bool delete_user(const std::string&, const AuditEvent&) override { no(); }
  std::optional<UserRecord> find_user(const std::string&) override { no(); }
  std::vector<UserRecord> list_users(const std::string&, int, int) override { no(); }
  void upsert_end_user(const EndUserRecord&, const AuditEvent&) override { no(); }
  std::optional<EndUserRecord> find_end_user(const std::string&) override { no(); }
  Snapshot snapshot() override { no(); }
  std::vector<SpendRow> spend_logs(const SpendQuery&) override { no(); }
  std::vector<SpendRow> rejections(const SpendQuery&) override { no(); }
  std::vector<ReportRow> spend_report(const ReportQuery&) override { no(); }
  std::vector<AuditEvent> audit_events(const std::string&, int) override { no(); }
  int reset_budgets(TimePoint) override { no(); }

 private:
  [[noreturn]] static void no() { throw std::logic_error("FakeStore: only ship() is implemented"); }
  std::shared_ptr<FakeDb> db_;
};

inline std::function<std::unique_ptr<Store>()> fake_store_factory(std::shared_ptr<FakeDb> db) {
  return [db] { return std::make_unique<FakeStore>(db); };
}

}  // namespace tollgate::testing
