#pragma once
// SqlStore: the Store contract written once in SQL that both dialects accept
// (ON CONFLICT, RETURNING, $N parameters). PgStore and SqliteStore supply the
// connection, transactions and the few dialect differences (money encoding,
// UTC day of a timestamp, the migration lock).
//
// Every value reaches the database as a bound parameter; only fixed SQL text
// (column lists, placeholders) is ever concatenated.

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "storage/migrations.h"
#include "tollgate/store.h"

namespace tollgate::storage {

using SqlParam = std::variant<std::nullptr_t, std::string, int64_t, double>;
using SqlCell = std::optional<std::string>;  // nullopt: NULL
using SqlRow = std::vector<SqlCell>;

struct SqlResult {
  std::vector<SqlRow> rows;
  int64_t affected = 0;  // rows changed by INSERT/UPDATE/DELETE
};

class SqlStore : public Store {
 public:
  // Stored responses live on the same connection (sql_response_store.h).
  friend class SqlResponseStore;

  std::vector<std::string> migrate() override;
  std::vector<std::string> applied_migrations() override;
  int64_t change_version() override;

  bool insert_key(const KeyRecord& key, const AuditEvent& audit) override;
  bool update_key(const KeyRecord& key, const AuditEvent& audit) override;
  bool delete_key(const std::string& key_id, const AuditEvent& audit) override;
  std::optional<KeyRecord> find_key(const std::string& key_id) override;
  std::optional<KeyRecord> find_key_by_hash(const std::string& token_hash) override;
  std::vector<KeyRecord> list_keys(const std::string& team_id, const std::string& user_id, int limit,
                                   int offset) override;

  bool insert_team(const TeamRecord& team, const AuditEvent& audit) override;
  bool update_team(const TeamRecord& team, const AuditEvent& audit) override;
  bool delete_team(const std::string& team_id, const AuditEvent& audit) override;
  std::optional<TeamRecord> find_team(const std::string& team_id) override;
  std::vector<TeamRecord> list_teams(int limit, int offset) override;

  bool insert_user(const UserRecord& user, const AuditEvent& audit) override;
  bool update_user(const UserRecord& user, const AuditEvent& audit) override;
  bool delete_user(const std::string& user_id, const AuditEvent& audit) override;
  std::optional<UserRecord> find_user(const std::string& user_id) override;
  std::vector<UserRecord> list_users(const std::string& team_id, int limit, int offset) override;

  void upsert_end_user(const EndUserRecord& end_user, const AuditEvent& audit) override;
  std::optional<EndUserRecord> find_end_user(const std::string& end_user_id) override;

  Snapshot snapshot() override;
  using Store::ship;
  ShipResult ship(std::span<const SpendRowView> rows) override;
  std::vector<SpendRow> spend_logs(const SpendQuery& q) override;
  std::vector<SpendRow> rejections(const SpendQuery& q) override;
  std::vector<ReportRow> spend_report(const ReportQuery& q) override;
  std::vector<AuditEvent> audit_events(const std::string& object_id, int limit) override;
  int reset_budgets(TimePoint now) override;

 protected:
  enum class TxMode { write, snapshot };

  virtual Dialect dialect() const = 0;
  // Runs one statement with $1..$N bound to params. Throws StoreError.
  virtual SqlResult exec(const std::string& sql, const std::vector<SqlParam>& params) = 0;
  // Runs fn in one transaction: committed when fn returns, rolled back when it
  // throws. May run fn again after a deadlock or serialization failure.
  virtual void transaction(TxMode mode, const std::function<void()>& fn) = 0;
  // Applies one migration in its own transaction under the migration lock.
  virtual bool apply_migration(const Migration& m) = 0;
  // Money as stored by the dialect (decimal text or integer units) and back.
  virtual SqlParam money_param(int64_t units) const = 0;
  virtual int64_t money_value(const std::string& stored) const = 0;
  // SQL expression for the UTC day ("YYYY-MM-DD") of a timestamp column.
  virtual std::string day_expr(const std::string& column) const = 0;

  // ---- the ledger's two steps inside ship()'s transaction ----
  enum class LedgerTable { spend_logs, rejected_requests };
  static const char* table_name(LedgerTable t) {
    return t == LedgerTable::spend_logs ? "spend_logs" : "rejected_requests";
  }
  // The ledger columns in the order the INSERTs name them, and their count.
  static const char* const kLedgerColumns;
  static constexpr int kLedgerColumnCount = 30;

  // The text a TEXT column keeps of s: every byte by default; PostgreSQL's
  // ends at the first NUL (PgStore). Rows are matched to the request_ids an
  // INSERT returns through it.
  virtual std::string_view stored_text(std::string_view s) const { return s; }

  // Inserts the rows (distinct request_ids, ascending) into the table,
  // skipping each whose request_id is already there; inserted[i] (sized
  // like rows) becomes 1 for each row that is new. costs[i] is rows[i]'s
  // cost in money units. The default sends multi-row INSERT ... ON CONFLICT
  // DO NOTHING RETURNING request_id through exec().
  virtual void insert_ledger_rows(LedgerTable table, std::span<const SpendRowView* const> rows,
                                  std::span<const int64_t> costs, std::vector<char>& inserted);

  // What a batch's new spend rows add to the rollups, one entry per group,
  // each list ascending by its key (so concurrent batches lock rows in the
  // same order). The views point into the rows being shipped.
  struct DayTotals {
    int32_t day = 0;  // days since 1970-01-01 (UTC) of start_time
    std::string_view key_id, team_id, user_id, end_user, model_group, provider;
    int64_t requests = 0, failed_requests = 0, prompt_tokens = 0, completion_tokens = 0, cached_tokens = 0,
            reasoning_tokens = 0, cost = 0;
  };
  struct SpendTotal {
    std::string_view id;
    int64_t cost = 0;  // money units
  };
  struct LedgerTotals {
    std::vector<DayTotals> days;
    std::vector<SpendTotal> keys, teams, users, end_users;
  };
  // Adds the totals to daily_spend and to the spend of keys, teams, users
  // and end users (end users are created when missing). The default runs
  // one upsert per group through exec().
  virtual void add_ledger_totals(const LedgerTotals& totals);

 private:
  std::vector<SpendRow> ledger_rows(const char* table, const SpendQuery& q);
  void record_audit(const AuditEvent& audit);
  void bump_version();
  int64_t read_version();
  std::vector<KeyRecord> select_keys(const std::string& where, const std::vector<SqlParam>& params);
  std::vector<TeamRecord> select_teams(const std::string& where, const std::vector<SqlParam>& params);
  std::vector<UserRecord> select_users(const std::string& where, const std::vector<SqlParam>& params);
  std::vector<EndUserRecord> select_end_users(const std::string& where, const std::vector<SqlParam>& params);
  int reset_table(const char* table, const char* id_column, TimePoint now);
};

}  // namespace tollgate::storage
