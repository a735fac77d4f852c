#pragma once
// PgStore: the production store, one PostgreSQL connection through libpqxx 6.4.
// Parameters are always bound (exec_params); money is NUMERIC(20,10) and
// travels as exact decimal text. The session runs in UTC. Not thread-safe,
// like every Store.

#include <memory>
#include <string>

#include "storage/sql_store.h"

namespace tollgate::storage {

class PgStore : public SqlStore {
 public:
  // url: a libpq connection URI. Throws StoreError(unavailable) when the
  // server cannot be reached or refuses the login.
  explicit PgStore(const std::string& url);
  ~PgStore() override;
  PgStore(const PgStore&) = delete;
  PgStore& operator=(const PgStore&) = delete;

 protected:
  Dialect dialect() const override { return Dialect::postgresql; }
  SqlResult exec(const std::string& sql, const std::vector<SqlParam>& params) override;
  void transaction(TxMode mode, const std::function<void()>& fn) override;
  bool apply_migration(const Migration& m) override;
  SqlParam money_param(int64_t units) const override;
  int64_t money_value(const std::string& stored) const override;
  std::string day_expr(const std::string& column) const override;
  // Text ends at a NUL (a bound parameter is a C string; COPY values are
  // cut to match). pg_ledger.cc.
  std::string_view stored_text(std::string_view s) const override;
  // pg_ledger.cc: COPY, and one statement per rollup table.
  void insert_ledger_rows(LedgerTable table, std::span<const SpendRowView* const> rows,
                          std::span<const int64_t> costs, std::vector<char>& inserted) override;
  void add_ledger_totals(const LedgerTotals& totals) override;

 private:
  // Writes the rows into the table with COPY inside a savepoint. Returns
  // false, back at the savepoint, when a request_id was already there.
  bool copy_ledger_rows(LedgerTable table, std::span<const SpendRowView* const> rows, std::span<const int64_t> costs);

  struct Conn;  // libpqxx stays out of this header
  std::unique_ptr<Conn> conn_;
};

}  // namespace tollgate::storage
