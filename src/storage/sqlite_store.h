#pragma once
// SqliteStore: the embedded default store, one SQLite connection (WAL,
// busy_timeout, cached prepared statements). Money is stored as integer units
// of 1e-10 USD. Not thread-safe, like every Store.

#include <map>
#include <string>
#include <vector>

#include "storage/sql_store.h"

struct sqlite3;
struct sqlite3_stmt;

namespace tollgate::storage {

class SqliteStore : public SqlStore {
 public:
  // path: a file name or ":memory:". Throws StoreError(unavailable) when the
  // file cannot be opened.
  explicit SqliteStore(const std::string& path);
  ~SqliteStore() override;
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

 protected:
  Dialect dialect() const override { return Dialect::sqlite; }
  SqlResult exec(const std::string& sql, const std::vector<SqlParam>& params) override;
  void transaction(TxMode mode, const std::function<void()>& fn) override;
  bool apply_migration(const Migration& m) override;
  SqlParam money_param(int64_t units) const override { return units; }
  int64_t money_value(const std::string& stored) const override { return stored.empty() ? 0 : std::stoll(stored); }
  std::string day_expr(const std::string& column) const override { return "substr(" + column + ", 1, 10)"; }
  // sqlite_ledger.cc: prepared statements bound by index.
  void insert_ledger_rows(LedgerTable table, std::span<const SpendRowView* const> rows,
                          std::span<const int64_t> costs, std::vector<char>& inserted) override;
  void add_ledger_totals(const LedgerTotals& totals) override;

 private:
  struct Statement {
    sqlite3_stmt* stmt = nullptr;
    // index[k]: SQLite's parameter index for $k+1, 0 when the statement
    // does not use it. Looked up once here: sqlite3_bind_parameter_index
    // scans every name, which made large statements quadratic.
    std::vector<int> index;
  };
  const Statement& prepare(const std::string& sql);
  void exec_script(const std::string& sql);
  [[noreturn]] void fail(int rc, const std::string& what);

  sqlite3* db_ = nullptr;
  std::map<std::string, Statement, std::less<>> statements_;
  // The ledger's statements, prepared once per connection (sqlite_ledger.cc).
  enum LedgerStatement { kInsertSpend, kInsertSpendChunk, kInsertRejected, kInsertRejectedChunk, kAddDay, kAddKey,
                         kAddTeam, kAddUser, kAddEndUser, kLedgerStatements };
  sqlite3_stmt* ledger_statement(LedgerStatement which);
  sqlite3_stmt* ledger_[kLedgerStatements] = {};
};

}  // namespace tollgate::storage
