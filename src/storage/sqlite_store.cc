#include "storage/sqlite_store.h"

#include <sqlite3.h>

#include <charconv>

#include "storage/sql_rows.h"

namespace tollgate::storage {
namespace {
// Multi-row INSERTs make statements of many shapes; keep the cache bounded.
constexpr std::size_t kMaxCachedStatements = 128;
}  // namespace

SqliteStore::SqliteStore(const std::string& path) {
  // A statement that can fail after changing some rows (the ledger's
  // multi-row INSERT, sqlite_ledger.cc) keeps a journal to undo just
  // itself. Past 64 KiB (the default) SQLite spills it to a temp file: a
  // 32-row chunk did, and that write traffic cost the SQLite ledger a third
  // of its time. Up to 4 MiB now stays in memory. Process-wide, and only
  // possible before SQLite initializes, hence before the first open (if
  // something opened SQLite earlier this fails harmlessly: only speed).
  static const int configured = sqlite3_config(SQLITE_CONFIG_STMTJRNL_SPILL, 4 << 20);
  (void)configured;
  int rc = sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                           nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close(db_);
    db_ = nullptr;
    throw StoreError(StoreError::Kind::unavailable, "sqlite: cannot open " + path + ": " + msg);
  }
  sqlite3_extended_result_codes(db_, 1);
  sqlite3_busy_timeout(db_, 10000);
  try {
    // WAL lets readers (snapshots) run beside the ledger writer; NORMAL sync is
    // durable across application crashes, and the spool covers power loss.
    if (path != ":memory:") exec_script("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;");
    exec_script("PRAGMA foreign_keys = ON;");
  } catch (...) {
    sqlite3_close(db_);
    throw;
  }
}

SqliteStore::~SqliteStore() {
  for (auto& [sql, st] : statements_) sqlite3_finalize(st.stmt);
  for (sqlite3_stmt* stmt : ledger_) sqlite3_finalize(stmt);
  sqlite3_close(db_);
}

void SqliteStore::fail(int rc, const std::string& what) {
  std::string msg = "sqlite: " + what + ": " + sqlite3_errmsg(db_);
  switch (rc & 0xff) {
    case SQLITE_CONSTRAINT: throw StoreError(StoreError::Kind::conflict, msg);
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_FULL:
    case SQLITE_READONLY: throw StoreError(StoreError::Kind::unavailable, msg);
    default: throw StoreError(StoreError::Kind::internal, msg);
  }
}

void SqliteStore::exec_script(const std::string& sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    fail(rc, msg);
  }
}

const SqliteStore::Statement& SqliteStore::prepare(const std::string& sql) {
  auto it = statements_.find(sql);
  if (it != statements_.end()) return it->second;
  if (statements_.size() >= kMaxCachedStatements) {
    for (auto& [text, st] : statements_) sqlite3_finalize(st.stmt);
    statements_.clear();
  }
  Statement st;
  int rc = sqlite3_prepare_v3(db_, sql.c_str(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &st.stmt,
                              nullptr);
  if (rc != SQLITE_OK) fail(rc, "prepare");
  const int count = sqlite3_bind_parameter_count(st.stmt);
  for (int i = 1; i <= count; ++i) {
    const char* name = sqlite3_bind_parameter_name(st.stmt, i);  // "$3"; the SQL uses no other kind
    if (!name || name[0] != '$') continue;
    const std::string_view digits(name + 1);
    std::size_t k = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), k);
    if (ec != std::errc() || end != digits.data() + digits.size() || k == 0) continue;
    if (st.index.size() < k) st.index.resize(k, 0);
    st.index[k - 1] = i;
  }
  return statements_.emplace(sql, std::move(st)).first->second;
}

SqlResult SqliteStore::exec(const std::string& sql, const std::vector<SqlParam>& params) {
  const Statement& st = prepare(sql);
  sqlite3_stmt* stmt = st.stmt;
  struct Reset {
    sqlite3_stmt* s;
    ~Reset() {
      sqlite3_reset(s);
      sqlite3_clear_bindings(s);
    }
  } reset{stmt};
  for (std::size_t i = 0; i < params.size(); ++i) {
    const int index = i < st.index.size() ? st.index[i] : 0;
    if (index == 0) continue;  // this statement does not use the parameter
    int rc = std::visit(
        [&](const auto& v) -> int {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, std::nullptr_t>) return sqlite3_bind_null(stmt, index);
          else if constexpr (std::is_same_v<T, std::string>)
            return sqlite3_bind_text(stmt, index, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
          else if constexpr (std::is_same_v<T, int64_t>) return sqlite3_bind_int64(stmt, index, v);
          else return sqlite3_bind_double(stmt, index, v);
        },
        params[i]);
    if (rc != SQLITE_OK) fail(rc, "bind");
  }
  SqlResult result;
  const int columns = sqlite3_column_count(stmt);
  for (;;) {
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) fail(rc, "step");
    SqlRow row;
    row.reserve(columns);
    for (int c = 0; c < columns; ++c) {
      switch (sqlite3_column_type(stmt, c)) {
        case SQLITE_NULL: row.emplace_back(std::nullopt); break;
        case SQLITE_FLOAT: row.emplace_back(double_text(sqlite3_column_double(stmt, c))); break;
        default: {
          auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, c));
          row.emplace_back(std::string(text, static_cast<std::size_t>(sqlite3_column_bytes(stmt, c))));
        }
      }
    }
    result.rows.push_back(std::move(row));
  }
  result.affected = sqlite3_stmt_readonly(stmt) ? 0 : sqlite3_changes64(db_);
  return result;
}

void SqliteStore::transaction(TxMode mode, const std::function<void()>& fn) {
  // IMMEDIATE takes the write lock up front, so two writers queue on
  // busy_timeout instead of failing to upgrade a read lock.
  exec_script(mode == TxMode::write ? "BEGIN IMMEDIATE" : "BEGIN");
  try {
    fn();
    exec_script("COMMIT");
  } catch (...) {
    if (!sqlite3_get_autocommit(db_)) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
}

bool SqliteStore::apply_migration(const Migration& m) {
  bool applied = false;
  transaction(TxMode::write, [&] {
    exec_script(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
        "applied_at TEXT NOT NULL)");
    if (!exec("SELECT 1 FROM schema_migrations WHERE version = $1", Params().integer(m.version).v).rows.empty()) {
      return;
    }
    exec_script(m.sql);
    exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
         Params().integer(m.version).text(m.name).time(SystemClock::now()).v);
    applied = true;
  });
  return applied;
}

}  // namespace tollgate::storage
