#include "storage/pg_store.h"

#include <pqxx/pqxx>

#include "storage/pg_conn.h"
#include "storage/sql_rows.h"

namespace tollgate::storage {
namespace {

// Serializes migrations across gateways sharing one database
// (pg_advisory_xact_lock key; "tollgate" in ASCII).
constexpr int64_t kMigrationLockKey = 0x746f6c6c67617465;
constexpr int kMaxAttempts = 5;

}  // namespace

[[noreturn]] void rethrow_as_store_error() {
  try {
    throw;
  } catch (const StoreError&) {
    throw;
  } catch (const pqxx::broken_connection& e) {
    throw StoreError(StoreError::Kind::unavailable, std::string("postgresql: connection lost: ") + e.what());
  } catch (const pqxx::in_doubt_error& e) {
    throw StoreError(StoreError::Kind::unavailable, std::string("postgresql: commit in doubt: ") + e.what());
  } catch (const pqxx::integrity_constraint_violation& e) {
    throw StoreError(StoreError::Kind::conflict, std::string("postgresql: ") + e.what());
  } catch (const pqxx::transaction_rollback& e) {
    throw StoreError(StoreError::Kind::conflict, std::string("postgresql: ") + e.what());
  } catch (const pqxx::sql_error& e) {
    // Class 08 (connection exception) and 57P (operator intervention, e.g. shutdown).
    const std::string& state = e.sqlstate();
    if (state.starts_with("08") || state.starts_with("57P")) {
      throw StoreError(StoreError::Kind::unavailable, std::string("postgresql: ") + e.what());
    }
    throw StoreError(StoreError::Kind::internal, std::string("postgresql: ") + e.what());
  } catch (const pqxx::failure& e) {
    throw StoreError(StoreError::Kind::unavailable, std::string("postgresql: ") + e.what());
  } catch (const std::exception& e) {
    throw StoreError(StoreError::Kind::internal, std::string("postgresql: ") + e.what());
  }
}

namespace {

SqlResult to_result(const pqxx::result& r) {
  SqlResult out;
  out.affected = r.affected_rows();
  out.rows.reserve(r.size());
  for (const auto& row : r) {
    SqlRow cells;
    cells.reserve(row.size());
    for (const auto& field : row) {
      if (field.is_null()) cells.emplace_back(std::nullopt);
      else cells.emplace_back(std::string(field.c_str(), field.size()));
    }
    out.rows.push_back(std::move(cells));
  }
  return out;
}

}  // namespace

PgStore::PgStore(const std::string& url) {
  try {
    conn_ = std::make_unique<Conn>(url);
    pqxx::nontransaction setup(conn_->c);
    // UTC so timestamps read and write as "YYYY-MM-DD HH:MM:SS.ffffff+00";
    // warnings only, so NOTICEs (e.g. "already exists, skipping") stay quiet.
    setup.exec("SET TIME ZONE 'UTC'; SET datestyle = 'ISO'; SET client_min_messages = warning");
  } catch (const pqxx::broken_connection& e) {
    throw StoreError(StoreError::Kind::unavailable, std::string("postgresql: cannot connect: ") + e.what());
  } catch (...) {
    try {
      rethrow_as_store_error();
    } catch (const StoreError& e) {
      throw StoreError(StoreError::Kind::unavailable, e.what());
    }
  }
}

PgStore::~PgStore() = default;

SqlResult PgStore::exec(const std::string& sql, const std::vector<SqlParam>& params) {
  std::vector<std::string> texts(params.size());
  std::vector<const char*> values(params.size(), nullptr);
  for (std::size_t i = 0; i < params.size(); ++i) {
    std::visit(
        [&](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, std::nullptr_t>) return;
          else if constexpr (std::is_same_v<T, std::string>) texts[i] = v;
          else if constexpr (std::is_same_v<T, int64_t>) texts[i] = std::to_string(v);
          else texts[i] = double_text(v);
          values[i] = texts[i].c_str();
        },
        params[i]);
  }
  try {
    if (conn_->tx) return to_result(conn_->tx->exec_params(sql, pqxx::prepare::make_dynamic_params(values)));
    pqxx::nontransaction autocommit(conn_->c);
    return to_result(autocommit.exec_params(sql, pqxx::prepare::make_dynamic_params(values)));
  } catch (const pqxx::transaction_rollback&) {
    if (conn_->tx) throw;  // transaction() retries deadlocks and serialization failures
    rethrow_as_store_error();
  } catch (...) {
    rethrow_as_store_error();
  }
}

void PgStore::transaction(TxMode mode, const std::function<void()>& fn) {
  for (int attempt = 1;; ++attempt) {
    try {
      std::unique_ptr<pqxx::dbtransaction> tx;
      if (mode == TxMode::snapshot) {
        tx = std::make_unique<pqxx::transaction<pqxx::isolation_level::repeatable_read, pqxx::read_only>>(conn_->c);
      } else {
        tx = std::make_unique<pqxx::work>(conn_->c);
      }
      struct Clear {
        pqxx::dbtransaction*& tx;
        ~Clear() { tx = nullptr; }
      } clear{conn_->tx};
      conn_->tx = tx.get();
      fn();
      tx->commit();
      return;
    } catch (const pqxx::transaction_rollback&) {
      if (attempt < kMaxAttempts) continue;
      rethrow_as_store_error();
    } catch (...) {
      rethrow_as_store_error();
    }
  }
}

bool PgStore::apply_migration(const Migration& m) {
  bool applied = false;
  transaction(TxMode::write, [&] {
    applied = false;
    exec("SELECT pg_advisory_xact_lock($1)", Params().integer(kMigrationLockKey).v);
    exec("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
         "applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
         {});
    if (!exec("SELECT 1 FROM schema_migrations WHERE version = $1", Params().integer(m.version).v).rows.empty()) {
      return;
    }
    conn_->tx->exec(m.sql);  // several statements: simple query protocol, no parameters
    exec("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
         Params().integer(m.version).text(m.name).v);
    applied = true;
  });
  return applied;
}

SqlParam PgStore::money_param(int64_t units) const { return format_money(units); }

int64_t PgStore::money_value(const std::string& stored) const { return stored.empty() ? 0 : parse_money(stored); }

std::string PgStore::day_expr(const std::string& column) const {
  return "to_char(" + column + " AT TIME ZONE 'UTC', 'YYYY-MM-DD')";
}

}  // namespace tollgate::storage
