// PgStore's ledger half: spend rows go in with COPY, the rollups with one
// statement per table and batch.

#include <charconv>
#include <map>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include <pqxx/pqxx>
#include <pqxx/tablewriter>

#include "storage/pg_conn.h"
#include "storage/sql_rows.h"

namespace tollgate::storage {
namespace {

// COPY data is sent in pieces of about this size.
constexpr std::size_t kCopyChunk = 256 << 10;

// PostgreSQL text cannot hold NUL; a bound parameter ends at the first one
// (libpq sends C strings), so COPY values end there too: both ways of
// writing a row store the same text.
std::string_view pg_text(std::string_view s) {
  const auto nul = s.find('\0');
  return nul == std::string_view::npos ? s : s.substr(0, nul);
}

// One value in COPY's text format.
void copy_text(std::string& out, std::string_view s) {
  s = pg_text(s);
  std::size_t i = 0;
  while (i < s.size()) {
    std::size_t j = i;
    while (j < s.size() && s[j] != '\\' && s[j] != '\t' && s[j] != '\n' && s[j] != '\r') ++j;
    out.append(s.data() + i, j - i);
    if (j == s.size()) break;
    out.push_back('\\');
    out.push_back(s[j] == '\\' ? '\\' : s[j] == '\t' ? 't' : s[j] == '\n' ? 'n' : 'r');
    i = j + 1;
  }
}

void copy_int(std::string& out, int64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

void copy_row(std::string& out, const SpendRowView& r, int64_t cost) {
  char buf[kTimeTextMax > kMoneyTextMax ? kTimeTextMax : kMoneyTextMax];
  auto tab = [&] { out.push_back('\t'); };
  copy_text(out, r.request_id), tab();
  out.append(buf, format_time(r.start_time, buf)), tab();
  out.append(buf, format_time(r.end_time, buf)), tab();
  for (std::string_view s : {r.key_id, r.key_alias, r.key_name, r.team_id, r.user_id, r.end_user, r.route,
                             r.requested_model, r.model_group, r.deployment, r.provider, r.api_base})
    copy_text(out, s), tab();
  out.push_back(r.stream ? 't' : 'f'), tab();
  copy_int(out, r.status), tab();
  copy_text(out, r.error_type), tab();
  copy_text(out, r.reason), tab();
  copy_int(out, r.prompt_tokens), tab();
  copy_int(out, r.completion_tokens), tab();
  copy_int(out, r.cached_tokens), tab();
  copy_int(out, r.reasoning_tokens), tab();
  out.append(buf, format_money(cost, buf)), tab();
  copy_int(out, r.latency_ms), tab();
  if (r.ttft_ms) {
    copy_int(out, *r.ttft_ms);
  } else {
    out.append("\\N");
  }
  tab();
  copy_int(out, r.overhead_ms), tab();
  out.push_back(r.cache_hit ? 't' : 'f'), tab();
  copy_text(out, r.tags_json), tab();
  copy_text(out, r.metadata_json);
  out.push_back('\n');
}

const std::vector<std::string>& ledger_column_list(const char* columns) {
  static const std::vector<std::string> list = [&] {
    std::vector<std::string> out;
    std::string_view all = columns;
    while (!all.empty()) {
      auto comma = all.find(',');
      std::string_view c = all.substr(0, comma);
      while (!c.empty() && c.front() == ' ') c.remove_prefix(1);
      out.emplace_back(c);
      if (comma == std::string_view::npos) break;
      all.remove_prefix(comma + 1);
    }
    return out;
  }();
  return list;
}

// Array literals for unnest(): {"a","b"} and {1,2}.
class ArrayParam {
 public:
  void text(std::string_view s) {
    open();
    s_.push_back('"');
    for (char c : pg_text(s)) {
      if (c == '"' || c == '\\') s_.push_back('\\');
      s_.push_back(c);
    }
    s_.push_back('"');
  }
  void integer(int64_t v) {
    open();
    copy_int(s_, v);
  }
  void money(int64_t units) {
    open();
    char buf[kMoneyTextMax];
    s_.append(buf, format_money(units, buf));
  }
  std::string take() {
    s_.push_back('}');
    return std::move(s_);
  }

 private:
  void open() { s_.push_back(s_.empty() ? '{' : ','); }
  std::string s_;
};

}  // namespace

std::string_view PgStore::stored_text(std::string_view s) const { return pg_text(s); }

bool PgStore::copy_ledger_rows(LedgerTable table, std::span<const SpendRowView* const> rows,
                               std::span<const int64_t> costs) {
  pqxx::dbtransaction* outer = conn_->tx;
  pqxx::subtransaction savepoint(*outer, "ledger_copy");
  conn_->tx = &savepoint;
  struct Restore {
    pqxx::dbtransaction*& tx;
    pqxx::dbtransaction* outer;
    ~Restore() { tx = outer; }
  } restore{conn_->tx, outer};
  try {
    {
      // tablewriter is deprecated in libpqxx 6.4 in favour of stream_to,
      // whose rows are tuples converted and escaped field by field into
      // strings of their own; tablewriter::write_raw_line takes the COPY
      // text written above as it is (libpqxx 7's stream_to::write_raw_line
      // does the same).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
      const auto& columns = ledger_column_list(kLedgerColumns);
      pqxx::tablewriter writer(savepoint, table_name(table), columns.begin(), columns.end());
#pragma GCC diagnostic pop
      std::string chunk;
      chunk.reserve(kCopyChunk + 4096);
      for (std::size_t i = 0; i < rows.size(); ++i) {
        copy_row(chunk, *rows[i], costs[i]);
        if (chunk.size() >= kCopyChunk || i + 1 == rows.size()) {
          writer.write_raw_line(chunk);  // several lines at once: COPY data is a byte stream
          chunk.clear();
        }
      }
      writer.complete();
    }
    savepoint.commit();
    return true;
  } catch (const pqxx::sql_error& e) {
    if (e.sqlstate() != "23505") throw;  // unique_violation: a row shipped before
  }
  savepoint.abort();
  return false;
}

void PgStore::insert_ledger_rows(LedgerTable table, std::span<const SpendRowView* const> rows,
                                 std::span<const int64_t> costs, std::vector<char>& inserted) {
  // COPY stops at the first request_id already there, which only happens
  // when a batch is shipped again (a crash or a lost acknowledgement after
  // COMMIT): then back to the savepoint, and the ON CONFLICT DO NOTHING
  // INSERTs sort the old rows from the new.
  // (Other libpqxx errors reach transaction(), which retries or converts.)
  if (!copy_ledger_rows(table, rows, costs)) return SqlStore::insert_ledger_rows(table, rows, costs, inserted);
  inserted.assign(rows.size(), 1);
}

void PgStore::add_ledger_totals(const LedgerTotals& totals) {
  // Text keys as PostgreSQL stores them (cut at a NUL) can make two groups
  // one, and one INSERT ... ON CONFLICT DO UPDATE must not meet a row twice.
  using DayKey = std::tuple<int32_t, std::string_view, std::string_view, std::string_view, std::string_view,
                            std::string_view, std::string_view>;
  std::map<DayKey, DayTotals> days;
  for (const auto& d : totals.days) {
    auto& t = days[DayKey{d.day, pg_text(d.key_id), pg_text(d.team_id), pg_text(d.user_id), pg_text(d.end_user),
                          pg_text(d.model_group), pg_text(d.provider)}];
    t.requests += d.requests;
    t.failed_requests += d.failed_requests;
    t.prompt_tokens += d.prompt_tokens;
    t.completion_tokens += d.completion_tokens;
    t.cached_tokens += d.cached_tokens;
    t.reasoning_tokens += d.reasoning_tokens;
    t.cost += d.cost;
  }
  if (!days.empty()) {
    ArrayParam day, key, team, user, end_user, model, provider, requests, failed, prompt, completion, cached,
        reasoning, cost;
    for (const auto& [k, t] : days) {
      const int32_t d = std::get<0>(k);
      day.text(format_day(TimePoint(std::chrono::duration_cast<SystemClock::duration>(std::chrono::days(d)))));
      key.text(std::get<1>(k));
      team.text(std::get<2>(k));
      user.text(std::get<3>(k));
      end_user.text(std::get<4>(k));
      model.text(std::get<5>(k));
      provider.text(std::get<6>(k));
      requests.integer(t.requests);
      failed.integer(t.failed_requests);
      prompt.integer(t.prompt_tokens);
      completion.integer(t.completion_tokens);
      cached.integer(t.cached_tokens);
      reasoning.integer(t.reasoning_tokens);
      cost.money(t.cost);
    }
    Params p;
    for (ArrayParam* a : {&day, &key, &team, &user, &end_user, &model, &provider, &requests, &failed, &prompt,
                          &completion, &cached, &reasoning, &cost})
      p.raw(a->take());
    // WITH ORDINALITY ... ORDER BY n: rows are upserted (and locked) in the
    // groups' order, the same in every gateway.
    exec("INSERT INTO daily_spend (day, key_id, team_id, user_id, end_user, model_group, provider, requests, "
         "failed_requests, prompt_tokens, completion_tokens, cached_tokens, reasoning_tokens, cost) "
         "SELECT d, k, t, u, e, m, p, r, f, pt, ct, cat, rt, c FROM unnest($1::date[], $2::text[], $3::text[], "
         "$4::text[], $5::text[], $6::text[], $7::text[], $8::bigint[], $9::bigint[], $10::bigint[], $11::bigint[], "
         "$12::bigint[], $13::bigint[], $14::numeric[]) WITH ORDINALITY "
         "AS x(d, k, t, u, e, m, p, r, f, pt, ct, cat, rt, c, n) ORDER BY n "
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

  auto arrays = [](const std::vector<SpendTotal>& list) {
    std::map<std::string_view, int64_t> merged;
    for (const auto& [id, cost] : list) merged[pg_text(id)] += cost;
    ArrayParam ids, costs;
    for (const auto& [id, cost] : merged) ids.text(id), costs.money(cost);
    return Params().raw(ids.take()).raw(costs.take()).v;
  };
  auto add_spend = [&](const std::vector<SpendTotal>& list, const std::string& table, const std::string& id) {
    if (list.empty()) return;
    auto p = arrays(list);
    // Locks first, in id order: an UPDATE ... FROM takes its rows in
    // whatever order its plan visits them.
    exec("SELECT 1 FROM " + table + " WHERE " + id + " = ANY($1::text[]) ORDER BY " + id + " FOR UPDATE", {p[0]});
    exec("UPDATE " + table + " SET spend = " + table + ".spend + u.cost FROM unnest($1::text[], $2::numeric[]) "
         "AS u(id, cost) WHERE " + table + "." + id + " = u.id",
         p);
  };
  add_spend(totals.keys, "keys", "key_id");
  add_spend(totals.teams, "teams", "team_id");
  add_spend(totals.users, "users", "user_id");
  if (!totals.end_users.empty()) {
    exec("INSERT INTO end_users (end_user_id, spend) SELECT id, cost FROM unnest($1::text[], $2::numeric[]) "
         "WITH ORDINALITY AS u(id, cost, n) ORDER BY n "
         "ON CONFLICT (end_user_id) DO UPDATE SET spend = end_users.spend + excluded.spend",
         arrays(totals.end_users));
  }
}

}  // namespace tollgate::storage
