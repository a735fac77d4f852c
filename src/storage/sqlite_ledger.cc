// SqliteStore's ledger half: rows and rollups through statements prepared
// once per connection and bound by index, inside ship()'s transaction.

#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "storage/sql_rows.h"
#include "storage/sqlite_store.h"

namespace tollgate::storage {
namespace {

// Rows per multi-row INSERT: its cursors are opened and closed once for
// them all (per row, that was a fifth of the cost), and 32 x 30 parameters
// stay under SQLite's smallest parameter limit (999).
constexpr std::size_t kChunkRows = 32;

struct Reset {
  sqlite3_stmt* s;
  ~Reset() { sqlite3_reset(s); }
};

// A view's text as a parameter: bound without a copy (the view outlives the
// step). A null pointer would bind NULL, and the columns are NOT NULL.
int bind_text(sqlite3_stmt* stmt, int index, std::string_view v) {
  return sqlite3_bind_text(stmt, index, v.data() ? v.data() : "", static_cast<int>(v.size()), SQLITE_STATIC);
}

// Binds one ledger row to parameters first..first+29 (the order of
// kLedgerColumns). The time texts are written to `times` (2 x
// kTimeTextMax), which must live until the statement has stepped.
int bind_row(sqlite3_stmt* stmt, int first, const SpendRowView& r, int64_t cost, char* times) {
  int rc = SQLITE_OK;
  auto bind = [&](int result) {
    if (rc == SQLITE_OK) rc = result;
  };
  int i = first;
  char* start = times;
  char* end = times + kTimeTextMax;
  bind(bind_text(stmt, i++, r.request_id));
  bind(sqlite3_bind_text(stmt, i++, start, static_cast<int>(format_time(r.start_time, start)), SQLITE_STATIC));
  bind(sqlite3_bind_text(stmt, i++, end, static_cast<int>(format_time(r.end_time, end)), SQLITE_STATIC));
  for (std::string_view s : {r.key_id, r.key_alias, r.key_name, r.team_id, r.user_id, r.end_user, r.route,
                             r.requested_model, r.model_group, r.deployment, r.provider, r.api_base})
    bind(bind_text(stmt, i++, s));
  bind(sqlite3_bind_int64(stmt, i++, r.stream ? 1 : 0));
  bind(sqlite3_bind_int64(stmt, i++, r.status));
  bind(bind_text(stmt, i++, r.error_type));
  bind(bind_text(stmt, i++, r.reason));
  bind(sqlite3_bind_int64(stmt, i++, r.prompt_tokens));
  bind(sqlite3_bind_int64(stmt, i++, r.completion_tokens));
  bind(sqlite3_bind_int64(stmt, i++, r.cached_tokens));
  bind(sqlite3_bind_int64(stmt, i++, r.reasoning_tokens));
  bind(sqlite3_bind_int64(stmt, i++, cost));
  bind(sqlite3_bind_int64(stmt, i++, r.latency_ms));
  bind(r.ttft_ms ? sqlite3_bind_int64(stmt, i, *r.ttft_ms) : sqlite3_bind_null(stmt, i));
  ++i;
  bind(sqlite3_bind_int64(stmt, i++, r.overhead_ms));
  bind(sqlite3_bind_int64(stmt, i++, r.cache_hit ? 1 : 0));
  bind(bind_text(stmt, i++, r.tags_json));
  bind(bind_text(stmt, i++, r.metadata_json));
  return rc;
}

std::string insert_sql(const char* table, const char* columns, std::size_t rows, bool skip_existing) {
  std::string sql = std::string("INSERT INTO ") + table + " (" + columns + ") VALUES ";
  for (std::size_t r = 0; r < rows; ++r) {
    if (r) sql += ", ";
    sql += "(" + placeholders(static_cast<int>(r * 30 + 1), 30) + ")";
  }
  if (skip_existing) sql += " ON CONFLICT (request_id) DO NOTHING";
  return sql;
}

}  // namespace

sqlite3_stmt* SqliteStore::ledger_statement(LedgerStatement which) {
  sqlite3_stmt*& stmt = ledger_[which];
  if (stmt) return stmt;
  static_assert(kLedgerColumnCount == 30);
  std::string sql;
  switch (which) {
    case kInsertSpend: sql = insert_sql("spend_logs", kLedgerColumns, 1, true); break;
    case kInsertSpendChunk: sql = insert_sql("spend_logs", kLedgerColumns, kChunkRows, false); break;
    case kInsertRejected: sql = insert_sql("rejected_requests", kLedgerColumns, 1, true); break;
    case kInsertRejectedChunk: sql = insert_sql("rejected_requests", kLedgerColumns, kChunkRows, false); break;
    case kAddDay:
      sql = "INSERT INTO daily_spend (day, key_id, team_id, user_id, end_user, model_group, provider, requests, "
            "failed_requests, prompt_tokens, completion_tokens, cached_tokens, reasoning_tokens, cost) "
            "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14) "
            "ON CONFLICT (day, key_id, team_id, user_id, end_user, model_group, provider) DO UPDATE SET "
            "requests = requests + excluded.requests, failed_requests = failed_requests + excluded.failed_requests, "
            "prompt_tokens = prompt_tokens + excluded.prompt_tokens, "
            "completion_tokens = completion_tokens + excluded.completion_tokens, "
            "cached_tokens = cached_tokens + excluded.cached_tokens, "
            "reasoning_tokens = reasoning_tokens + excluded.reasoning_tokens, cost = cost + excluded.cost";
      break;
    case kAddKey: sql = "UPDATE keys SET spend = spend + ?2 WHERE key_id = ?1"; break;
    case kAddTeam: sql = "UPDATE teams SET spend = spend + ?2 WHERE team_id = ?1"; break;
    case kAddUser: sql = "UPDATE users SET spend = spend + ?2 WHERE user_id = ?1"; break;
    case kAddEndUser:
      sql = "INSERT INTO end_users (end_user_id, spend) VALUES (?1, ?2) "
            "ON CONFLICT (end_user_id) DO UPDATE SET spend = spend + excluded.spend";
      break;
    case kLedgerStatements: break;
  }
  int rc = sqlite3_prepare_v3(db_, sql.c_str(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &stmt,
                              nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(stmt);
    stmt = nullptr;
    fail(rc, "prepare");
  }
  return stmt;
}

void SqliteStore::insert_ledger_rows(LedgerTable table, std::span<const SpendRowView* const> rows,
                                     std::span<const int64_t> costs, std::vector<char>& inserted) {
  const bool spend = table == LedgerTable::spend_logs;
  inserted.assign(rows.size(), 0);
  std::vector<char> times(2 * kTimeTextMax * kChunkRows);

  // One row at a time, each step saying whether its row was new.
  auto one_by_one = [&](std::size_t begin, std::size_t end) {
    sqlite3_stmt* stmt = ledger_statement(spend ? kInsertSpend : kInsertRejected);
    for (std::size_t i = begin; i < end; ++i) {
      Reset reset{stmt};
      int rc = bind_row(stmt, 1, *rows[i], costs[i], times.data());
      if (rc != SQLITE_OK) fail(rc, "bind");
      const int64_t before = sqlite3_total_changes64(db_);
      rc = sqlite3_step(stmt);
      if (rc != SQLITE_DONE) fail(rc, "step");
      inserted[i] = sqlite3_total_changes64(db_) != before ? 1 : 0;
    }
  };

  std::size_t i = 0;
  for (; rows.size() - i >= kChunkRows; i += kChunkRows) {
    // A plain INSERT of the whole chunk: the usual case, every row new. A
    // request_id already there (a batch shipped again) fails the statement,
    // which SQLite undoes alone; the chunk then goes row by row.
    sqlite3_stmt* stmt = ledger_statement(spend ? kInsertSpendChunk : kInsertRejectedChunk);
    int rc = SQLITE_OK;
    {
      Reset reset{stmt};
      for (std::size_t k = 0; k < kChunkRows && rc == SQLITE_OK; ++k) {
        rc = bind_row(stmt, static_cast<int>(k * kLedgerColumnCount + 1), *rows[i + k], costs[i + k],
                      times.data() + 2 * kTimeTextMax * k);
      }
      if (rc != SQLITE_OK) fail(rc, "bind");
      rc = sqlite3_step(stmt);
    }
    if (rc == SQLITE_DONE) {
      std::fill(inserted.begin() + static_cast<std::ptrdiff_t>(i),
                inserted.begin() + static_cast<std::ptrdiff_t>(i + kChunkRows), 1);
    } else if (rc == SQLITE_CONSTRAINT_PRIMARYKEY || rc == SQLITE_CONSTRAINT_UNIQUE) {
      one_by_one(i, i + kChunkRows);
    } else {
      fail(rc, "step");
    }
  }
  one_by_one(i, rows.size());
}

void SqliteStore::add_ledger_totals(const LedgerTotals& totals) {
  auto run = [&](sqlite3_stmt* stmt, auto&& bind) {
    Reset reset{stmt};
    int rc = bind(stmt);
    if (rc == SQLITE_OK) rc = sqlite3_step(stmt);
    if (rc != SQLITE_DONE) fail(rc, "step");
  };
  for (const auto& d : totals.days) {
    char day[kTimeTextMax];
    const auto day_len = static_cast<int>(
        format_time(TimePoint(std::chrono::duration_cast<SystemClock::duration>(std::chrono::days(d.day))), day));
    run(ledger_statement(kAddDay), [&](sqlite3_stmt* s) {
      int rc = sqlite3_bind_text(s, 1, day, std::min(day_len, 10), SQLITE_STATIC);  // "YYYY-MM-DD"
      int i = 2;
      for (std::string_view v : {d.key_id, d.team_id, d.user_id, d.end_user, d.model_group, d.provider})
        if (rc == SQLITE_OK) rc = bind_text(s, i++, v);
      for (int64_t v : {d.requests, d.failed_requests, d.prompt_tokens, d.completion_tokens, d.cached_tokens,
                        d.reasoning_tokens, d.cost})
        if (rc == SQLITE_OK) rc = sqlite3_bind_int64(s, i++, v);
      return rc;
    });
  }
  auto add = [&](LedgerStatement which, const std::vector<SpendTotal>& list) {
    for (const SpendTotal& t : list) {
      run(ledger_statement(which), [&](sqlite3_stmt* s) {
        int rc = bind_text(s, 1, t.id);
        return rc == SQLITE_OK ? sqlite3_bind_int64(s, 2, t.cost) : rc;
      });
    }
  };
  add(kAddKey, totals.keys);
  add(kAddTeam, totals.teams);
  add(kAddUser, totals.users);
  add(kAddEndUser, totals.end_users);
}

}  // namespace tollgate::storage
