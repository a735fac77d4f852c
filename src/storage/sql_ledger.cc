// SqlStore's ledger half: shipping spend rows, reading them back, reports,
// audit events and budget resets.

#include <algorithm>
#include <chrono>
#include <map>
#include <set>
#include <string_view>
#include <tuple>

#include "storage/sql_rows.h"
#include "storage/sql_store.h"

namespace tollgate::storage {
namespace {

// Rows per multi-row INSERT: few round trips, far below the parameter limits.
constexpr std::size_t kRowsPerInsert = 100;

bool failed(const SpendRowView& r) { return r.status >= 400 || !r.error_type.empty(); }

int32_t day_number(TimePoint t) {
  return static_cast<int32_t>(std::chrono::floor<std::chrono::days>(t).time_since_epoch().count());
}

std::string day_text(int32_t day) {
  return format_day(TimePoint(std::chrono::duration_cast<SystemClock::duration>(std::chrono::days(day))));
}

using DayKey = std::tuple<int32_t, std::string_view, std::string_view, std::string_view, std::string_view,
                          std::string_view, std::string_view>;

}  // namespace

const char* const SqlStore::kLedgerColumns =
    "request_id, start_time, end_time, key_id, key_alias, key_name, team_id, user_id, end_user, route, "
    "requested_model, model_group, deployment, provider, api_base, stream, status, error_type, reason, "
    "prompt_tokens, completion_tokens, cached_tokens, reasoning_tokens, cost, latency_ms, ttft_ms, overhead_ms, "
    "cache_hit, tags, metadata";

ShipResult SqlStore::ship(std::span<const SpendRowView> rows) {
  // One copy per request_id (the first); ascending, so that concurrent
  // batches take row locks in the same order.
  std::vector<const SpendRowView*> spend, rejected;
  for (const auto& r : rows) (r.kind == RowKind::spend ? spend : rejected).push_back(&r);
  int batch_duplicates = 0;
  auto distinct = [&](std::vector<const SpendRowView*>& list) {
    std::stable_sort(list.begin(), list.end(),
                     [](const SpendRowView* a, const SpendRowView* b) { return a->request_id < b->request_id; });
    auto end = std::unique(list.begin(), list.end(), [](const SpendRowView* a, const SpendRowView* b) {
      return a->request_id == b->request_id;
    });
    batch_duplicates += static_cast<int>(list.end() - end);
    list.erase(end, list.end());
  };
  distinct(spend);
  distinct(rejected);
  auto costs_of = [](const std::vector<const SpendRowView*>& list) {
    std::vector<int64_t> costs;
    costs.reserve(list.size());
    for (const auto* r : list) costs.push_back(parse_money(r->cost_usd));
    return costs;
  };
  const std::vector<int64_t> spend_cost = costs_of(spend);
  const std::vector<int64_t> rejected_cost = costs_of(rejected);

  ShipResult result;
  transaction(TxMode::write, [&] {
    std::vector<char> new_spend, new_rejected;
    if (!spend.empty()) insert_ledger_rows(LedgerTable::spend_logs, spend, spend_cost, new_spend);
    if (!rejected.empty()) {
      insert_ledger_rows(LedgerTable::rejected_requests, rejected, rejected_cost, new_rejected);
    }

    // Rollups grow once per group and batch, not once per row.
    std::map<DayKey, DayTotals> days;
    std::map<std::string_view, int64_t> keys, teams, users, end_users;
    int inserted = 0;
    for (std::size_t i = 0; i < spend.size(); ++i) {
      if (!new_spend[i]) continue;
      ++inserted;
      const SpendRowView& r = *spend[i];
      const int64_t cost = spend_cost[i];
      auto& d = days[DayKey{day_number(r.start_time), r.key_id, r.team_id, r.user_id, r.end_user, r.model_group,
                            r.provider}];
      d.requests += 1;
      d.failed_requests += failed(r) ? 1 : 0;
      d.prompt_tokens += r.prompt_tokens;
      d.completion_tokens += r.completion_tokens;
      d.cached_tokens += r.cached_tokens;
      d.reasoning_tokens += r.reasoning_tokens;
      d.cost += cost;
      if (!r.key_id.empty()) keys[r.key_id] += cost;
      if (!r.team_id.empty()) teams[r.team_id] += cost;
      if (!r.user_id.empty()) users[r.user_id] += cost;
      if (!r.end_user.empty()) end_users[r.end_user] += cost;
    }
    for (char n : new_rejected) inserted += n ? 1 : 0;

    LedgerTotals totals;
    totals.days.reserve(days.size());
    for (auto& [k, d] : days) {
      std::tie(d.day, d.key_id, d.team_id, d.user_id, d.end_user, d.model_group, d.provider) = k;
      totals.days.push_back(d);
    }
    auto list = [](const std::map<std::string_view, int64_t>& m, std::vector<SpendTotal>& out) {
      out.reserve(m.size());
      for (const auto& [id, cost] : m) out.push_back({id, cost});
    };
    list(keys, totals.keys);
    list(teams, totals.teams);
    list(users, totals.users);
    list(end_users, totals.end_users);
    if (!totals.days.empty()) add_ledger_totals(totals);

    result.inserted = inserted;
    result.duplicates = static_cast<int>(spend.size() + rejected.size()) - inserted + batch_duplicates;
  });
  return result;
}

void SqlStore::insert_ledger_rows(LedgerTable table, std::span<const SpendRowView* const> rows,
                                  std::span<const int64_t> costs, std::vector<char>& inserted) {
  std::set<std::string, std::less<>> returned;
  for (std::size_t begin = 0; begin < rows.size(); begin += kRowsPerInsert) {
    std::size_t end = std::min(rows.size(), begin + kRowsPerInsert);
    Params p;
    std::string sql = std::string("INSERT INTO ") + table_name(table) + " (" + kLedgerColumns + ") VALUES ";
    for (std::size_t i = begin; i < end; ++i) {
      const SpendRowView& r = *rows[i];
      if (i != begin) sql += ", ";
      sql += "(" + placeholders(p.next(), kLedgerColumnCount) + ")";
      p.text(r.request_id).time(r.start_time).time(r.end_time).text(r.key_id).text(r.key_alias).text(r.key_name);
      p.text(r.team_id).text(r.user_id).text(r.end_user).text(r.route).text(r.requested_model).text(r.model_group);
      p.text(r.deployment).text(r.provider).text(r.api_base).boolean(r.stream).integer(r.status);
      p.text(r.error_type).text(r.reason).integer(r.prompt_tokens).integer(r.completion_tokens);
      p.integer(r.cached_tokens).integer(r.reasoning_tokens).raw(money_param(costs[i])).integer(r.latency_ms);
      p.integer(r.ttft_ms).integer(r.overhead_ms).boolean(r.cache_hit).text(r.tags_json).text(r.metadata_json);
    }
    sql += " ON CONFLICT (request_id) DO NOTHING RETURNING request_id";
    for (const auto& row : exec(sql, p.v).rows) returned.insert(*row[0]);
  }
  // Each id returned marks one row: the first one stored under it. Two
  // distinct ids can be one id in the database (stored_text), and then only
  // the first was inserted; the others were skipped as duplicates.
  inserted.assign(rows.size(), 0);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    auto it = returned.find(stored_text(rows[i]->request_id));
    if (it == returned.end()) continue;
    returned.erase(it);
    inserted[i] = 1;
  }
}

void SqlStore::add_ledger_totals(const LedgerTotals& totals) {
  for (const auto& d : totals.days) {
    Params p;
    p.text(day_text(d.day)).text(d.key_id).text(d.team_id).text(d.user_id).text(d.end_user).text(d.model_group);
    p.text(d.provider).integer(d.requests).integer(d.failed_requests).integer(d.prompt_tokens);
    p.integer(d.completion_tokens).integer(d.cached_tokens).integer(d.reasoning_tokens).raw(money_param(d.cost));
    exec("INSERT INTO daily_spend (day, key_id, team_id, user_id, end_user, model_group, provider, requests, "
         "failed_requests, prompt_tokens, completion_tokens, cached_tokens, reasoning_tokens, cost) "
         "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) "
         "ON CONFLICT (day, key_id, team_id, user_id, end_user, model_group, provider) DO UPDATE SET "
         "requests = daily_spend.requests + excluded.requests, "
         "failed_requests = daily_spend.failed_requests + excluded.failed_requests, "
         "prompt_tokens = daily_spend.prompt_tokens + excluded.prompt_tokens, "
         "completion_tokens = daily_spend.completion_tokens + excluded.completion_tokens, "
         "cached_tokens = daily_spend.cached_tokens + excluded.cached_tokens, "
         "reasoning_tokens = daily_spend.reasoning_tokens + excluded.reasoning_tokens, "
         "cost = daily_spend.cost + excluded.cost",
         p.v);
  }
  for (const auto& [id, cost] : totals.keys) {
    exec("UPDATE keys SET spend = spend + $2 WHERE key_id = $1", Params().text(id).raw(money_param(cost)).v);
  }
  for (const auto& [id, cost] : totals.teams) {
    exec("UPDATE teams SET spend = spend + $2 WHERE team_id = $1", Params().text(id).raw(money_param(cost)).v);
  }
  for (const auto& [id, cost] : totals.users) {
    exec("UPDATE users SET spend = spend + $2 WHERE user_id = $1", Params().text(id).raw(money_param(cost)).v);
  }
  for (const auto& [id, cost] : totals.end_users) {
    exec("INSERT INTO end_users (end_user_id, spend) VALUES ($1, $2) "
         "ON CONFLICT (end_user_id) DO UPDATE SET spend = end_users.spend + excluded.spend",
         Params().text(id).raw(money_param(cost)).v);
  }
}

std::vector<SpendRow> SqlStore::ledger_rows(const char* table, const SpendQuery& q) {
  Params p;
  std::string where;
  auto add = [&](const std::string& condition_prefix, SqlParam value) {
    where += where.empty() ? " WHERE " : " AND ";
    where += condition_prefix + "$" + std::to_string(p.next());
    p.raw(std::move(value));
  };
  if (q.start) add("start_time >= ", format_time(*q.start));
  if (q.end) add("start_time < ", format_time(*q.end));
  if (!q.key_id.empty()) add("key_id = ", q.key_id);
  if (!q.team_id.empty()) add("team_id = ", q.team_id);
  if (!q.user_id.empty()) add("user_id = ", q.user_id);
  if (!q.end_user.empty()) add("end_user = ", q.end_user);
  if (!q.request_id.empty()) add("request_id = ", q.request_id);
  if (!q.model_group.empty()) add("model_group = ", q.model_group);
  std::string sql = std::string("SELECT ") + kLedgerColumns + " FROM " + table + where +
                    " ORDER BY start_time, request_id LIMIT $" + std::to_string(p.next());
  p.integer(std::max(0, q.limit));
  sql += " OFFSET $" + std::to_string(p.next());
  p.integer(std::max(0, q.offset));

  std::vector<SpendRow> out;
  for (const auto& row : exec(sql, p.v).rows) {
    Cells c(row);
    SpendRow r;
    r.kind = std::string_view(table) == "spend_logs" ? RowKind::spend : RowKind::rejection;
    r.request_id = c.text();
    r.start_time = c.time();
    r.end_time = c.time();
    r.key_id = c.text();
    r.key_alias = c.text();
    r.key_name = c.text();
    r.team_id = c.text();
    r.user_id = c.text();
    r.end_user = c.text();
    r.route = c.text();
    r.requested_model = c.text();
    r.model_group = c.text();
    r.deployment = c.text();
    r.provider = c.text();
    r.api_base = c.text();
    r.stream = c.boolean();
    r.status = static_cast<int>(c.integer());
    r.error_type = c.text();
    r.reason = c.text();
    r.prompt_tokens = c.integer();
    r.completion_tokens = c.integer();
    r.cached_tokens = c.integer();
    r.reasoning_tokens = c.integer();
    r.cost_usd = format_money(money_value(c.text()));
    r.latency_ms = c.integer();
    r.ttft_ms = c.opt_integer();
    r.overhead_ms = c.integer();
    r.cache_hit = c.boolean();
    r.tags = c.strings();
    r.metadata = c.json();
    out.push_back(std::move(r));
  }
  return out;
}

std::vector<SpendRow> SqlStore::spend_logs(const SpendQuery& q) { return ledger_rows("spend_logs", q); }
std::vector<SpendRow> SqlStore::rejections(const SpendQuery& q) { return ledger_rows("rejected_requests", q); }

std::vector<ReportRow> SqlStore::spend_report(const ReportQuery& q) {
  std::string group;
  switch (q.group_by) {
    case ReportGroup::key: group = "key_id"; break;
    case ReportGroup::team: group = "team_id"; break;
    case ReportGroup::user: group = "user_id"; break;
    case ReportGroup::end_user: group = "end_user"; break;
    case ReportGroup::model: group = "model_group"; break;
    case ReportGroup::provider: group = "provider"; break;
    case ReportGroup::day: group = day_expr("start_time"); break;
  }
  Params p;
  p.time(q.start).time(q.end);
  std::string sql = "SELECT " + group +
                    ", COUNT(*), SUM(CASE WHEN status >= 400 OR error_type <> '' THEN 1 ELSE 0 END), "
                    "SUM(prompt_tokens), SUM(completion_tokens), SUM(cost) FROM spend_logs "
                    "WHERE start_time >= $1 AND start_time < $2";
  if (!q.team_id.empty()) {
    sql += " AND team_id = $" + std::to_string(p.next());
    p.text(q.team_id);
  }
  if (!q.key_id.empty()) {
    sql += " AND key_id = $" + std::to_string(p.next());
    p.text(q.key_id);
  }
  sql += " GROUP BY 1 ORDER BY 1";
  std::vector<ReportRow> out;
  for (const auto& row : exec(sql, p.v).rows) {
    Cells c(row);
    ReportRow r;
    r.group = c.text();
    r.requests = c.integer();
    r.failed_requests = c.integer();
    r.prompt_tokens = c.integer();
    r.completion_tokens = c.integer();
    std::string cost = c.text();
    r.cost_usd = format_money(cost.empty() ? 0 : money_value(cost));
    out.push_back(std::move(r));
  }
  return out;
}

std::vector<AuditEvent> SqlStore::audit_events(const std::string& object_id, int limit) {
  std::vector<AuditEvent> out;
  auto result = exec(
      "SELECT event_id, at, actor, action, object_type, object_id, before, after FROM audit_events "
      "WHERE object_id = $1 ORDER BY at DESC, event_id DESC LIMIT $2",
      Params().text(object_id).integer(std::max(0, limit)).v);
  for (const auto& row : result.rows) {
    Cells c(row);
    AuditEvent a;
    a.event_id = c.text();
    a.at = c.time();
    a.actor = c.text();
    a.action = c.text();
    a.object_type = c.text();
    a.object_id = c.text();
    a.before = c.json();
    a.after = c.json();
    out.push_back(std::move(a));
  }
  return out;
}

int SqlStore::reset_table(const char* table, const char* id_column, TimePoint now) {
  auto due = exec(std::string("SELECT ") + id_column + ", budget_duration, budget_reset_at FROM " + table +
                      " WHERE budget_reset_at IS NOT NULL AND budget_reset_at <= $1 ORDER BY " + id_column,
                  Params().time(now).v);
  int count = 0;
  for (const auto& row : due.rows) {
    Cells c(row);
    std::string id = c.text();
    std::string duration = c.text();
    std::optional<TimePoint> next = c.opt_time();
    // Step whole periods so resets stay on their original schedule; a long
    // outage restarts the schedule at `now` instead of looping through it.
    for (int steps = 0; next && *next <= now; ++steps) {
      next = steps < 10000 ? next_budget_reset(duration, *next) : next_budget_reset(duration, now);
    }
    exec(std::string("UPDATE ") + table + " SET spend = 0, budget_reset_at = $2 WHERE " + id_column + " = $1",
         Params().text(id).time(next).v);
    ++count;
  }
  return count;
}

int SqlStore::reset_budgets(TimePoint now) {
  int count = 0;
  transaction(TxMode::write, [&] {
    count = reset_table("keys", "key_id", now) + reset_table("teams", "team_id", now) +
            reset_table("users", "user_id", now) + reset_table("end_users", "end_user_id", now);
    if (count > 0) bump_version();
  });
  return count;
}

}  // namespace tollgate::storage
