#pragma once
// The store contract: virtual keys, teams, users, end users, the spend ledger,
// rejections, admin audit events and the finance rollups. PostgreSQL
// (src/storage/pg_store) is the production implementation, SQLite
// (src/storage/sqlite_store) the embedded default; both pass the same suite
// (tests/storage/store_suite.cc).
//
// A Store is one database connection: not thread-safe, used by one thread at a
// time. Calls block; the gateway makes them only on DbPool threads, never on
// an I/O thread. Failures throw StoreError (connection lost, constraint
// violated...); "not found" is a normal result, not an error.
// Times are kept with microsecond precision (UTC); money is exact to 1e-10 USD.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace tollgate {

using SystemClock = std::chrono::system_clock;
using TimePoint = SystemClock::time_point;

class StoreError : public std::runtime_error {
 public:
  enum class Kind { unavailable, conflict, invalid, internal };
  StoreError(Kind kind, const std::string& what) : std::runtime_error(what), kind_(kind) {}
  Kind kind() const { return kind_; }

 private:
  Kind kind_;
};

// Budget and rate-limit settings shared by keys, teams, users and end users.
// Field names follow LiteLLM's so its admin scripts work unchanged.
struct Limits {
  std::optional<double> max_budget;   // USD per budget period (or lifetime)
  std::optional<double> soft_budget;  // USD; crossing it only alerts
  std::string budget_duration;        // "", "30s", "10m", "1h", "1d", "7d", "30d", "1mo"
  std::optional<TimePoint> budget_reset_at;  // next reset; when a record is inserted
                                             // with a duration but no reset time, the
                                             // store sets it to one period after created_at
                                             // (end users: after the upsert)
  std::optional<int64_t> rpm_limit;
  std::optional<int64_t> tpm_limit;
  std::optional<int64_t> max_parallel_requests;
  std::map<std::string, int64_t> model_rpm_limit;  // model -> rpm
  std::map<std::string, int64_t> model_tpm_limit;  // model -> tpm

  bool operator==(const Limits&) const = default;
};

struct KeyRecord {
  std::string key_id;      // stable id (random hex); survives regeneration
  std::string token_hash;  // lowercase hex SHA-256 of the key; unique
  std::string key_name;    // display form, e.g. "sk-...Wx9a"; never the key
  std::string key_alias;   // operator's name for it; unique when not empty
  std::string team_id;     // "" when none
  std::string user_id;     // "" when none
  std::vector<std::string> models;             // allowed models; empty: all
  std::map<std::string, std::string> aliases;  // model alias -> model name
  std::vector<std::string> allowed_routes;     // empty: LLM API routes only
  Limits limits;
  double spend = 0;  // USD in the current budget period
  std::optional<TimePoint> expires;
  bool blocked = false;
  nlohmann::json metadata = nlohmann::json::object();
  std::vector<std::string> tags;
  std::string created_by;  // key_id of the creator, or "master"
  TimePoint created_at{};
  TimePoint updated_at{};
};

struct TeamRecord {
  std::string team_id;
  std::string team_alias;
  std::vector<std::string> models;  // empty: all
  Limits limits;
  double spend = 0;
  bool blocked = false;
  nlohmann::json metadata = nlohmann::json::object();
  std::vector<std::string> tags;
  TimePoint created_at{};
  TimePoint updated_at{};
};

struct UserRecord {
  std::string user_id;
  std::string user_email;
  std::string user_alias;
  std::string user_role;  // "proxy_admin", "internal_user", ... (informational)
  std::string team_id;    // "" when none
  std::vector<std::string> models;
  Limits limits;
  double spend = 0;
  nlohmann::json metadata = nlohmann::json::object();
  TimePoint created_at{};
  TimePoint updated_at{};
};

// Callers of the apps behind a key, from the request's `user` field. Rows are
// created by the ledger the first time an end user spends.
struct EndUserRecord {
  std::string end_user_id;
  std::string alias;
  Limits limits;
  double spend = 0;
  bool blocked = false;
};

enum class RowKind { spend, rejection };

// One request's ledger row. kind == spend: the request reached the router
// (exactly one per such request). kind == rejection: auth, policy, limits or
// budget turned it away (reason says why); stored apart from spend.
struct SpendRow {
  RowKind kind = RowKind::spend;
  std::string request_id;  // idempotency key
  TimePoint start_time{};
  TimePoint end_time{};
  std::string key_id;     // "" for the master key, static or anonymous keys
  std::string key_alias;  // key alias, or a static key's name, or "master"
  std::string key_name;   // display form ("sk-...Wx9a")
  std::string team_id;
  std::string user_id;
  std::string end_user;
  std::string route;            // "/v1/chat/completions"
  std::string requested_model;  // as the client sent it
  std::string model_group;      // after aliasing
  std::string deployment;       // upstream model id that answered (last attempt)
  std::string provider;         // provider name from the config
  std::string api_base;         // provider base URL (never credentials)
  bool stream = false;
  int status = 0;
  std::string error_type;  // "" on success
  std::string reason;      // rejections: why
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  int64_t cached_tokens = 0;
  int64_t reasoning_tokens = 0;
  std::string cost_usd = "0";  // exact decimal string, up to 10 places
  int64_t latency_ms = 0;
  std::optional<int64_t> ttft_ms;  // time to first byte to the client
  int64_t overhead_ms = 0;         // gateway time outside upstream calls
  bool cache_hit = false;
  std::vector<std::string> tags;
  nlohmann::json metadata = nlohmann::json::object();
};

// A spend row as the ledger ships it: read in place from a spool record
// (accounting/spend_row_codec.h), without copies. The text fields point into
// memory the caller keeps alive for the duration of Store::ship; tags and
// metadata are already JSON text (tags_json() and metadata_json() below), as
// the stores keep them.
struct SpendRowView {
  RowKind kind = RowKind::spend;
  std::string_view request_id;
  TimePoint start_time{};
  TimePoint end_time{};
  std::string_view key_id, key_alias, key_name, team_id, user_id, end_user, route, requested_model, model_group,
      deployment, provider, api_base;
  bool stream = false;
  int status = 0;
  std::string_view error_type, reason;
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  int64_t cached_tokens = 0;
  int64_t reasoning_tokens = 0;
  std::string_view cost_usd = "0";
  int64_t latency_ms = 0;
  std::optional<int64_t> ttft_ms;
  int64_t overhead_ms = 0;
  bool cache_hit = false;
  std::string_view tags_json = "[]";
  std::string_view metadata_json = "{}";
};

// The JSON text kept for a row's tags (an array of strings) and metadata.
// Bytes that are not UTF-8 become U+FFFD (JSON text must be UTF-8; the
// databases refuse anything else), so these never throw.
std::string tags_json(const std::vector<std::string>& tags);
std::string metadata_json(const nlohmann::json& metadata);
// A view of `row` whose tags and metadata are the given JSON texts.
SpendRowView view_of(const SpendRow& row, std::string_view tags_json, std::string_view metadata_json);
// The owned row a view describes. Throws std::runtime_error when tags_json
// is not a JSON array of strings or metadata_json is not JSON.
SpendRow to_spend_row(const SpendRowView& view);

// Who changed what. before/after are JSON objects (null when absent) and
// never carry key material (token hashes are fine, keys never).
struct AuditEvent {
  std::string event_id;  // random hex
  TimePoint at{};
  std::string actor;   // key_id, static key name, or "master"
  std::string action;  // "key.generate", "key.update", "team.new", ...
  std::string object_type;  // "key", "team", "user"
  std::string object_id;
  nlohmann::json before;
  nlohmann::json after;
};

struct SpendQuery {
  std::optional<TimePoint> start;  // inclusive, on start_time
  std::optional<TimePoint> end;    // exclusive
  std::string key_id, team_id, user_id, end_user, request_id, model_group;
  int limit = 1000;
  int offset = 0;
};

enum class ReportGroup { key, team, user, end_user, model, provider, day };

struct ReportQuery {
  ReportGroup group_by = ReportGroup::day;
  TimePoint start{};  // inclusive
  TimePoint end{};    // exclusive
  std::string team_id;  // optional filter: "" all
  std::string key_id;   // optional filter
};

struct ReportRow {
  std::string group;  // the key/team/user id, model, provider or "YYYY-MM-DD"; "" for none
  int64_t requests = 0;
  int64_t failed_requests = 0;
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  std::string cost_usd = "0";  // exact decimal
};

struct ShipResult {
  int inserted = 0;    // rows new to the database
  int duplicates = 0;  // rows whose request_id was already there (ignored)
};

class Store {
 public:
  virtual ~Store() = default;

  // Applies every migration not yet applied (embedded copies of migrations/),
  // recording each in schema_migrations; safe when several gateways start at
  // once. Returns the names applied by this call.
  virtual std::vector<std::string> migrate() = 0;
  virtual std::vector<std::string> applied_migrations() = 0;

  // Bumped by every admin write; gateways poll it to refresh their caches.
  virtual int64_t change_version() = 0;

  // Writes return false when the object is missing (update/delete) or
  // already exists (insert, also for a duplicate token_hash or key_alias).
  // Each write records its audit event in the same transaction (only when it
  // changed something) and bumps change_version. Updates keep spend,
  // created_at and created_by (the ledger and the insert own them); an update
  // that takes another key's alias throws StoreError(conflict).
  virtual bool insert_key(const KeyRecord& key, const AuditEvent& audit) = 0;
  virtual bool update_key(const KeyRecord& key, const AuditEvent& audit) = 0;  // by key_id
  virtual bool delete_key(const std::string& key_id, const AuditEvent& audit) = 0;
  virtual std::optional<KeyRecord> find_key(const std::string& key_id) = 0;
  virtual std::optional<KeyRecord> find_key_by_hash(const std::string& token_hash) = 0;
  // team_id/user_id filter when not empty; ordered by created_at, key_id.
  virtual std::vector<KeyRecord> list_keys(const std::string& team_id, const std::string& user_id,
                                           int limit, int offset) = 0;

  virtual bool insert_team(const TeamRecord& team, const AuditEvent& audit) = 0;
  virtual bool update_team(const TeamRecord& team, const AuditEvent& audit) = 0;
  // Also detaches the team's keys and users (team_id = "").
  virtual bool delete_team(const std::string& team_id, const AuditEvent& audit) = 0;
  virtual std::optional<TeamRecord> find_team(const std::string& team_id) = 0;
  virtual std::vector<TeamRecord> list_teams(int limit, int offset) = 0;

  virtual bool insert_user(const UserRecord& user, const AuditEvent& audit) = 0;
  virtual bool update_user(const UserRecord& user, const AuditEvent& audit) = 0;
  virtual bool delete_user(const std::string& user_id, const AuditEvent& audit) = 0;
  virtual std::optional<UserRecord> find_user(const std::string& user_id) = 0;
  virtual std::vector<UserRecord> list_users(const std::string& team_id, int limit, int offset) = 0;

  // Creates or replaces an end user's budget settings (spend is kept).
  virtual void upsert_end_user(const EndUserRecord& end_user, const AuditEvent& audit) = 0;
  virtual std::optional<EndUserRecord> find_end_user(const std::string& end_user_id) = 0;

  // Everything the gateway caches, in one consistent read.
  struct Snapshot {
    int64_t version = 0;
    std::vector<KeyRecord> keys;
    std::vector<TeamRecord> teams;
    std::vector<UserRecord> users;
    std::vector<EndUserRecord> end_users;
  };
  virtual Snapshot snapshot() = 0;

  // The ledger. One transaction per batch: spend rows are inserted unless
  // their request_id is already present (then ignored: shipping is
  // idempotent); for each newly inserted spend row the daily rollup and the
  // spend of its key, team, user and end user grow by its cost. Rejection
  // rows go to their own table, equally idempotent. Within one batch only
  // the first row of a request_id counts (the others are duplicates).
  virtual ShipResult ship(std::span<const SpendRowView> rows) = 0;
  // The same for owned rows (tests, tools): ships views of them.
  ShipResult ship(const std::vector<SpendRow>& rows);

  // Ordered by start_time, request_id; cost_usd comes back with 10 places.
  virtual std::vector<SpendRow> spend_logs(const SpendQuery& q) = 0;
  virtual std::vector<SpendRow> rejections(const SpendQuery& q) = 0;
  // From spend_logs (exact); failed = status >= 400 or error_type set; days
  // are UTC; ordered by group.
  virtual std::vector<ReportRow> spend_report(const ReportQuery& q) = 0;
  // Newest first.
  virtual std::vector<AuditEvent> audit_events(const std::string& object_id, int limit) = 0;

  // Budget periods: every key, team, user and end user whose budget_reset_at
  // is at or before `now` gets spend = 0 and its next reset time (from
  // budget_duration, stepping past `now`). Returns how many were reset.
  virtual int reset_budgets(TimePoint now) = 0;
};

// "postgresql://..." / "postgres://..." or "sqlite:///abs/path", "sqlite://rel/path",
// "sqlite::memory:" (tests). Throws StoreError(invalid) on anything else.
std::function<std::unique_ptr<Store>()> store_factory(const std::string& database_url);

// Budget durations: "<n>s", "<n>m", "<n>h", "<n>d", "<n>w", "<n>mo" (calendar
// months, UTC). nullopt for anything else.
std::optional<TimePoint> next_budget_reset(const std::string& duration, TimePoint from);
bool valid_budget_duration(const std::string& duration);

// Decimal USD with 10 places ("0.0000123400"); negative input is clamped to 0.
std::string format_usd(double usd);

}  // namespace tollgate
