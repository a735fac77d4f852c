// The free functions declared at the bottom of tollgate/store.h.

#include <cmath>
#include <cstdio>
#include <stdexcept>

#include "accounting/budget_book.h"
#include "accounting/json_text.h"
#include "storage/pg_store.h"
#include "storage/sql_values.h"
#include "storage/sqlite_store.h"
#include "tollgate/store.h"

namespace tollgate {

std::string tags_json(const std::vector<std::string>& tags) {
  if (tags.empty()) return "[]";
  std::string out = "[";
  for (const auto& t : tags) {
    if (out.size() > 1) out.push_back(',');
    append_json_string(out, t);
  }
  out.push_back(']');
  return out;
}

std::string metadata_json(const nlohmann::json& metadata) {
  if (metadata.is_object() && metadata.empty()) return "{}";
  return metadata.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

SpendRowView view_of(const SpendRow& r, std::string_view tags, std::string_view metadata) {
  SpendRowView v;
  v.kind = r.kind;
  v.request_id = r.request_id;
  v.start_time = r.start_time;
  v.end_time = r.end_time;
  v.key_id = r.key_id;
  v.key_alias = r.key_alias;
  v.key_name = r.key_name;
  v.team_id = r.team_id;
  v.user_id = r.user_id;
  v.end_user = r.end_user;
  v.route = r.route;
  v.requested_model = r.requested_model;
  v.model_group = r.model_group;
  v.deployment = r.deployment;
  v.provider = r.provider;
  v.api_base = r.api_base;
  v.stream = r.stream;
  v.status = r.status;
  v.error_type = r.error_type;
  v.reason = r.reason;
  v.prompt_tokens = r.prompt_tokens;
  v.completion_tokens = r.completion_tokens;
  v.cached_tokens = r.cached_tokens;
  v.reasoning_tokens = r.reasoning_tokens;
  v.cost_usd = r.cost_usd;
  v.latency_ms = r.latency_ms;
  v.ttft_ms = r.ttft_ms;
  v.overhead_ms = r.overhead_ms;
  v.cache_hit = r.cache_hit;
  v.tags_json = tags;
  v.metadata_json = metadata;
  return v;
}

SpendRow to_spend_row(const SpendRowView& v) {
  SpendRow r;
  r.kind = v.kind;
  r.request_id = v.request_id;
  r.start_time = v.start_time;
  r.end_time = v.end_time;
  r.key_id = v.key_id;
  r.key_alias = v.key_alias;
  r.key_name = v.key_name;
  r.team_id = v.team_id;
  r.user_id = v.user_id;
  r.end_user = v.end_user;
  r.route = v.route;
  r.requested_model = v.requested_model;
  r.model_group = v.model_group;
  r.deployment = v.deployment;
  r.provider = v.provider;
  r.api_base = v.api_base;
  r.stream = v.stream;
  r.status = v.status;
  r.error_type = v.error_type;
  r.reason = v.reason;
  r.prompt_tokens = v.prompt_tokens;
  r.completion_tokens = v.completion_tokens;
  r.cached_tokens = v.cached_tokens;
  r.reasoning_tokens = v.reasoning_tokens;
  r.cost_usd = v.cost_usd;
  r.latency_ms = v.latency_ms;
  r.ttft_ms = v.ttft_ms;
  r.overhead_ms = v.overhead_ms;
  r.cache_hit = v.cache_hit;
  auto tags = nlohmann::json::parse(v.tags_json, nullptr, false);
  if (!tags.is_array()) throw std::runtime_error("spend row: tags are not a JSON array");
  for (const auto& t : tags) {
    if (!t.is_string()) throw std::runtime_error("spend row: a tag is not a string");
    r.tags.push_back(t.get<std::string>());
  }
  r.metadata = nlohmann::json::parse(v.metadata_json, nullptr, false);
  if (r.metadata.is_discarded()) throw std::runtime_error("spend row: metadata is not JSON");
  return r;
}

ShipResult Store::ship(const std::vector<SpendRow>& rows) {
  std::vector<std::string> json;
  json.reserve(2 * rows.size());
  std::vector<SpendRowView> views;
  views.reserve(rows.size());
  for (const auto& r : rows) {
    json.push_back(tags_json(r.tags));
    json.push_back(metadata_json(r.metadata));
    views.push_back(view_of(r, json[json.size() - 2], json.back()));
  }
  return ship(std::span<const SpendRowView>(views));
}

std::function<std::unique_ptr<Store>()> store_factory(const std::string& url) {
  if (url.starts_with("postgresql://") || url.starts_with("postgres://")) {
    return [url] { return std::unique_ptr<Store>(std::make_unique<storage::PgStore>(url)); };
  }
  std::string path;
  if (url == "sqlite::memory:") {
    path = ":memory:";
  } else if (url.starts_with("sqlite://") && url.size() > 9) {
    path = url.substr(9);  // "sqlite:///abs" keeps its leading slash
  } else {
    throw StoreError(StoreError::Kind::invalid,
                     "database URL must start with postgresql://, postgres:// or sqlite:// (got \"" +
                         url.substr(0, url.find(':')) + ":...\")");
  }
  return [path] { return std::unique_ptr<Store>(std::make_unique<storage::SqliteStore>(path)); };
}

// One parser for budget durations: the budget book's, which the in-memory
// periods use too, so the stored reset times and the book agree.
bool valid_budget_duration(const std::string& duration) {
  return budget_period_add(duration, TimePoint{}).has_value();
}

std::optional<TimePoint> next_budget_reset(const std::string& duration, TimePoint from) {
  return budget_period_add(duration, from);
}

std::string format_usd(double usd) {
  if (!(usd > 0)) return "0.0000000000";
  return storage::format_money(storage::money_from_double(usd));
}

}  // namespace tollgate
