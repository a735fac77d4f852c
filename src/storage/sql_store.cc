#include "storage/sql_store.h"

#include "storage/sql_rows.h"

namespace tollgate::storage {
namespace {

constexpr const char* kLimitColumns =
    "max_budget, soft_budget, budget_duration, budget_reset_at, rpm_limit, tpm_limit, max_parallel_requests, "
    "model_rpm_limit, model_tpm_limit";
constexpr int kLimitCount = 9;

constexpr const char* kKeyColumns =
    "key_id, token_hash, key_name, key_alias, team_id, user_id, models, aliases, allowed_routes, "
    "max_budget, soft_budget, budget_duration, budget_reset_at, rpm_limit, tpm_limit, max_parallel_requests, "
    "model_rpm_limit, model_tpm_limit, spend, expires, blocked, metadata, tags, created_by, created_at, updated_at";
constexpr int kKeyCount = 26;

constexpr const char* kTeamColumns =
    "team_id, team_alias, models, "
    "max_budget, soft_budget, budget_duration, budget_reset_at, rpm_limit, tpm_limit, max_parallel_requests, "
    "model_rpm_limit, model_tpm_limit, spend, blocked, metadata, tags, created_at, updated_at";
constexpr int kTeamCount = 18;

constexpr const char* kUserColumns =
    "user_id, user_email, user_alias, user_role, team_id, models, "
    "max_budget, soft_budget, budget_duration, budget_reset_at, rpm_limit, tpm_limit, max_parallel_requests, "
    "model_rpm_limit, model_tpm_limit, spend, metadata, created_at, updated_at";
constexpr int kUserCount = 19;

constexpr const char* kEndUserColumns =
    "end_user_id, alias, "
    "max_budget, soft_budget, budget_duration, budget_reset_at, rpm_limit, tpm_limit, max_parallel_requests, "
    "model_rpm_limit, model_tpm_limit, spend, blocked";

// A new record with a budget period but no reset time gets its first one.
Limits with_first_reset(Limits l, TimePoint created_at) {
  if (!l.budget_reset_at && !l.budget_duration.empty()) {
    TimePoint from = created_at == TimePoint{} ? SystemClock::now() : created_at;
    l.budget_reset_at = next_budget_reset(l.budget_duration, from);
  }
  return l;
}

void add_limits(Params& p, const Limits& l) {
  p.real(l.max_budget).real(l.soft_budget).text(l.budget_duration).time(l.budget_reset_at);
  p.integer(l.rpm_limit).integer(l.tpm_limit).integer(l.max_parallel_requests);
  p.json(nlohmann::json(l.model_rpm_limit)).json(nlohmann::json(l.model_tpm_limit));
}

Limits read_limits(Cells& c) {
  Limits l;
  l.max_budget = c.opt_real();
  l.soft_budget = c.opt_real();
  l.budget_duration = c.text();
  l.budget_reset_at = c.opt_time();
  l.rpm_limit = c.opt_integer();
  l.tpm_limit = c.opt_integer();
  l.max_parallel_requests = c.opt_integer();
  l.model_rpm_limit = c.map<int64_t>();
  l.model_tpm_limit = c.map<int64_t>();
  return l;
}

// "a = $2, b = $3, ..." for columns after the id column.
std::string assignments(const std::string& columns, int first) {
  std::string out;
  std::size_t pos = 0;
  int n = first;
  bool skip_first = true;
  while (pos <= columns.size()) {
    auto comma = columns.find(',', pos);
    std::string col = columns.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    col.erase(0, col.find_first_not_of(' '));
    if (!skip_first) {
      if (!out.empty()) out += ", ";
      out += col + " = $" + std::to_string(n++);
    }
    skip_first = false;
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return out;
}

}  // namespace

// ---- migrations and change version ----

std::vector<std::string> SqlStore::migrate() {
  return run_migrations(dialect(), [this](const Migration& m) { return apply_migration(m); });
}

std::vector<std::string> SqlStore::applied_migrations() {
  const char* exists_sql = dialect() == Dialect::postgresql
                               ? "SELECT CASE WHEN to_regclass('schema_migrations') IS NULL THEN 0 ELSE 1 END"
                               : "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'";
  auto exists = exec(exists_sql, {});
  if (exists.rows.empty() || !exists.rows[0][0] || *exists.rows[0][0] == "0") return {};
  std::vector<std::string> names;
  for (const auto& row : exec("SELECT name FROM schema_migrations ORDER BY version", {}).rows) names.push_back(*row[0]);
  return names;
}

int64_t SqlStore::read_version() {
  auto r = exec("SELECT version FROM change_version WHERE id = 1", {});
  return r.rows.empty() ? 0 : Cells(r.rows[0]).integer();
}

int64_t SqlStore::change_version() { return read_version(); }

void SqlStore::bump_version() { exec("UPDATE change_version SET version = version + 1 WHERE id = 1", {}); }

void SqlStore::record_audit(const AuditEvent& a) {
  Params p;
  p.text(a.event_id).time(a.at).text(a.actor).text(a.action).text(a.object_type).text(a.object_id);
  p.json_or_null(a.before).json_or_null(a.after);
  exec("INSERT INTO audit_events (event_id, at, actor, action, object_type, object_id, before, after) "
       "VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
       p.v);
  bump_version();
}

// ---- keys ----

std::vector<KeyRecord> SqlStore::select_keys(const std::string& where, const std::vector<SqlParam>& params) {
  std::vector<KeyRecord> out;
  for (const auto& row : exec(std::string("SELECT ") + kKeyColumns + " FROM keys " + where, params).rows) {
    Cells c(row);
    KeyRecord k;
    k.key_id = c.text();
    k.token_hash = c.text();
    k.key_name = c.text();
    k.key_alias = c.text();
    k.team_id = c.text();
    k.user_id = c.text();
    k.models = c.strings();
    k.aliases = c.map<std::string>();
    k.allowed_routes = c.strings();
    k.limits = read_limits(c);
    k.spend = money_to_double(money_value(c.text()));
    k.expires = c.opt_time();
    k.blocked = c.boolean();
    k.metadata = c.json();
    k.tags = c.strings();
    k.created_by = c.text();
    k.created_at = c.time();
    k.updated_at = c.time();
    out.push_back(std::move(k));
  }
  return out;
}

bool SqlStore::insert_key(const KeyRecord& k, const AuditEvent& audit) {
  Params p;
  p.text(k.key_id).text(k.token_hash).text(k.key_name).text(k.key_alias).text(k.team_id).text(k.user_id);
  p.json(nlohmann::json(k.models)).json(nlohmann::json(k.aliases)).json(nlohmann::json(k.allowed_routes));
  add_limits(p, with_first_reset(k.limits, k.created_at));
  p.raw(money_param(money_from_double(k.spend))).time(k.expires).boolean(k.blocked).json(k.metadata);
  p.json(nlohmann::json(k.tags)).text(k.created_by).time(k.created_at).time(k.updated_at);
  const std::string sql = std::string("INSERT INTO keys (") + kKeyColumns + ") VALUES (" +
                          placeholders(1, kKeyCount) + ") ON CONFLICT DO NOTHING";
  bool inserted = false;
  transaction(TxMode::write, [&] {
    inserted = exec(sql, p.v).affected > 0;
    if (inserted) record_audit(audit);
  });
  return inserted;
}

bool SqlStore::update_key(const KeyRecord& k, const AuditEvent& audit) {
  // spend belongs to the ledger and created_at/created_by to the insert.
  Params p;
  p.text(k.key_id).text(k.token_hash).text(k.key_name).text(k.key_alias).text(k.team_id).text(k.user_id);
  p.json(nlohmann::json(k.models)).json(nlohmann::json(k.aliases)).json(nlohmann::json(k.allowed_routes));
  add_limits(p, k.limits);
  p.time(k.expires).boolean(k.blocked).json(k.metadata).json(nlohmann::json(k.tags)).time(k.updated_at);
  const std::string sql =
      "UPDATE keys SET " +
      assignments("key_id, token_hash, key_name, key_alias, team_id, user_id, models, aliases, allowed_routes, " +
                      std::string(kLimitColumns) + ", expires, blocked, metadata, tags, updated_at",
                  2) +
      " WHERE key_id = $1";
  bool updated = false;
  transaction(TxMode::write, [&] {
    updated = exec(sql, p.v).affected > 0;
    if (updated) record_audit(audit);
  });
  return updated;
}

bool SqlStore::delete_key(const std::string& key_id, const AuditEvent& audit) {
  bool deleted = false;
  transaction(TxMode::write, [&] {
    deleted = exec("DELETE FROM keys WHERE key_id = $1", Params().text(key_id).v).affected > 0;
    if (deleted) record_audit(audit);
  });
  return deleted;
}

std::optional<KeyRecord> SqlStore::find_key(const std::string& key_id) {
  auto keys = select_keys("WHERE key_id = $1", Params().text(key_id).v);
  if (keys.empty()) return std::nullopt;
  return std::move(keys.front());
}

std::optional<KeyRecord> SqlStore::find_key_by_hash(const std::string& token_hash) {
  auto keys = select_keys("WHERE token_hash = $1", Params().text(token_hash).v);
  if (keys.empty()) return std::nullopt;
  return std::move(keys.front());
}

std::vector<KeyRecord> SqlStore::list_keys(const std::string& team_id, const std::string& user_id, int limit,
                                           int offset) {
  return select_keys(
      "WHERE ($1 = '' OR team_id = $1) AND ($2 = '' OR user_id = $2) ORDER BY created_at, key_id LIMIT $3 OFFSET $4",
      Params().text(team_id).text(user_id).integer(limit).integer(offset).v);
}

// ---- teams ----

std::vector<TeamRecord> SqlStore::select_teams(const std::string& where, const std::vector<SqlParam>& params) {
  std::vector<TeamRecord> out;
  for (const auto& row : exec(std::string("SELECT ") + kTeamColumns + " FROM teams " + where, params).rows) {
    Cells c(row);
    TeamRecord t;
    t.team_id = c.text();
    t.team_alias = c.text();
    t.models = c.strings();
    t.limits = read_limits(c);
    t.spend = money_to_double(money_value(c.text()));
    t.blocked = c.boolean();
    t.metadata = c.json();
    t.tags = c.strings();
    t.created_at = c.time();
    t.updated_at = c.time();
    out.push_back(std::move(t));
  }
  return out;
}

bool SqlStore::insert_team(const TeamRecord& t, const AuditEvent& audit) {
  Params p;
  p.text(t.team_id).text(t.team_alias).json(nlohmann::json(t.models));
  add_limits(p, with_first_reset(t.limits, t.created_at));
  p.raw(money_param(money_from_double(t.spend))).boolean(t.blocked).json(t.metadata).json(nlohmann::json(t.tags));
  p.time(t.created_at).time(t.updated_at);
  const std::string sql = std::string("INSERT INTO teams (") + kTeamColumns + ") VALUES (" +
                          placeholders(1, kTeamCount) + ") ON CONFLICT DO NOTHING";
  bool inserted = false;
  transaction(TxMode::write, [&] {
    inserted = exec(sql, p.v).affected > 0;
    if (inserted) record_audit(audit);
  });
  return inserted;
}

bool SqlStore::update_team(const TeamRecord& t, const AuditEvent& audit) {
  Params p;
  p.text(t.team_id).text(t.team_alias).json(nlohmann::json(t.models));
  add_limits(p, t.limits);
  p.boolean(t.blocked).json(t.metadata).json(nlohmann::json(t.tags)).time(t.updated_at);
  const std::string sql =
      "UPDATE teams SET " +
      assignments("team_id, team_alias, models, " + std::string(kLimitColumns) + ", blocked, metadata, tags, updated_at",
                  2) +
      " WHERE team_id = $1";
  bool updated = false;
  transaction(TxMode::write, [&] {
    updated = exec(sql, p.v).affected > 0;
    if (updated) record_audit(audit);
  });
  return updated;
}

bool SqlStore::delete_team(const std::string& team_id, const AuditEvent& audit) {
  bool deleted = false;
  transaction(TxMode::write, [&] {
    auto id = Params().text(team_id).v;
    deleted = exec("DELETE FROM teams WHERE team_id = $1", id).affected > 0;
    if (!deleted) return;
    exec("UPDATE keys SET team_id = '' WHERE team_id = $1", id);
    exec("UPDATE users SET team_id = '' WHERE team_id = $1", id);
    record_audit(audit);
  });
  return deleted;
}

std::optional<TeamRecord> SqlStore::find_team(const std::string& team_id) {
  auto teams = select_teams("WHERE team_id = $1", Params().text(team_id).v);
  if (teams.empty()) return std::nullopt;
  return std::move(teams.front());
}

std::vector<TeamRecord> SqlStore::list_teams(int limit, int offset) {
  return select_teams("ORDER BY created_at, team_id LIMIT $1 OFFSET $2", Params().integer(limit).integer(offset).v);
}

// ---- users ----

std::vector<UserRecord> SqlStore::select_users(const std::string& where, const std::vector<SqlParam>& params) {
  std::vector<UserRecord> out;
  for (const auto& row : exec(std::string("SELECT ") + kUserColumns + " FROM users " + where, params).rows) {
    Cells c(row);
    UserRecord u;
    u.user_id = c.text();
    u.user_email = c.text();
    u.user_alias = c.text();
    u.user_role = c.text();
    u.team_id = c.text();
    u.models = c.strings();
    u.limits = read_limits(c);
    u.spend = money_to_double(money_value(c.text()));
    u.metadata = c.json();
    u.created_at = c.time();
    u.updated_at = c.time();
    out.push_back(std::move(u));
  }
  return out;
}

bool SqlStore::insert_user(const UserRecord& u, const AuditEvent& audit) {
  Params p;
  p.text(u.user_id).text(u.user_email).text(u.user_alias).text(u.user_role).text(u.team_id);
  p.json(nlohmann::json(u.models));
  add_limits(p, with_first_reset(u.limits, u.created_at));
  p.raw(money_param(money_from_double(u.spend))).json(u.metadata).time(u.created_at).time(u.updated_at);
  const std::string sql = std::string("INSERT INTO users (") + kUserColumns + ") VALUES (" +
                          placeholders(1, kUserCount) + ") ON CONFLICT DO NOTHING";
  bool inserted = false;
  transaction(TxMode::write, [&] {
    inserted = exec(sql, p.v).affected > 0;
    if (inserted) record_audit(audit);
  });
  return inserted;
}

bool SqlStore::update_user(const UserRecord& u, const AuditEvent& audit) {
  Params p;
  p.text(u.user_id).text(u.user_email).text(u.user_alias).text(u.user_role).text(u.team_id);
  p.json(nlohmann::json(u.models));
  add_limits(p, u.limits);
  p.json(u.metadata).time(u.updated_at);
  const std::string sql = "UPDATE users SET " +
                          assignments("user_id, user_email, user_alias, user_role, team_id, models, " +
                                          std::string(kLimitColumns) + ", metadata, updated_at",
                                      2) +
                          " WHERE user_id = $1";
  bool updated = false;
  transaction(TxMode::write, [&] {
    updated = exec(sql, p.v).affected > 0;
    if (updated) record_audit(audit);
  });
  return updated;
}

bool SqlStore::delete_user(const std::string& user_id, const AuditEvent& audit) {
  bool deleted = false;
  transaction(TxMode::write, [&] {
    deleted = exec("DELETE FROM users WHERE user_id = $1", Params().text(user_id).v).affected > 0;
    if (deleted) record_audit(audit);
  });
  return deleted;
}

std::optional<UserRecord> SqlStore::find_user(const std::string& user_id) {
  auto users = select_users("WHERE user_id = $1", Params().text(user_id).v);
  if (users.empty()) return std::nullopt;
  return std::move(users.front());
}

std::vector<UserRecord> SqlStore::list_users(const std::string& team_id, int limit, int offset) {
  return select_users("WHERE ($1 = '' OR team_id = $1) ORDER BY created_at, user_id LIMIT $2 OFFSET $3",
                      Params().text(team_id).integer(limit).integer(offset).v);
}

// ---- end users ----

std::vector<EndUserRecord> SqlStore::select_end_users(const std::string& where,
                                                      const std::vector<SqlParam>& params) {
  std::vector<EndUserRecord> out;
  for (const auto& row : exec(std::string("SELECT ") + kEndUserColumns + " FROM end_users " + where, params).rows) {
    Cells c(row);
    EndUserRecord e;
    e.end_user_id = c.text();
    e.alias = c.text();
    e.limits = read_limits(c);
    e.spend = money_to_double(money_value(c.text()));
    e.blocked = c.boolean();
    out.push_back(std::move(e));
  }
  return out;
}

void SqlStore::upsert_end_user(const EndUserRecord& e, const AuditEvent& audit) {
  Params p;
  p.text(e.end_user_id).text(e.alias);
  add_limits(p, with_first_reset(e.limits, SystemClock::now()));
  p.boolean(e.blocked);
  const std::string cols = std::string("end_user_id, alias, ") + kLimitColumns + ", blocked";
  std::string updates;
  for (const char* col : {"alias", "max_budget", "soft_budget", "budget_duration", "budget_reset_at", "rpm_limit",
                          "tpm_limit", "max_parallel_requests", "model_rpm_limit", "model_tpm_limit", "blocked"}) {
    if (!updates.empty()) updates += ", ";
    updates += std::string(col) + " = excluded." + col;
  }
  const std::string sql = "INSERT INTO end_users (" + cols + ") VALUES (" + placeholders(1, kLimitCount + 3) +
                          ") ON CONFLICT (end_user_id) DO UPDATE SET " + updates;
  transaction(TxMode::write, [&] {
    exec(sql, p.v);
    record_audit(audit);
  });
}

std::optional<EndUserRecord> SqlStore::find_end_user(const std::string& end_user_id) {
  auto rows = select_end_users("WHERE end_user_id = $1", Params().text(end_user_id).v);
  if (rows.empty()) return std::nullopt;
  return std::move(rows.front());
}

Store::Snapshot SqlStore::snapshot() {
  Snapshot s;
  transaction(TxMode::snapshot, [&] {
    s = Snapshot{};
    s.version = read_version();
    s.keys = select_keys("ORDER BY created_at, key_id", {});
    s.teams = select_teams("ORDER BY created_at, team_id", {});
    s.users = select_users("ORDER BY created_at, user_id", {});
    s.end_users = select_end_users("ORDER BY end_user_id", {});
  });
  return s;
}

}  // namespace tollgate::storage
