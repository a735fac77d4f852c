// /spend/logs and /spend/report.

#include "admin/admin_api.h"
#include "admin/records_json.h"

namespace tollgate {

namespace asio = boost::asio;
using nlohmann::json;

namespace {

// A date alone means the whole day: as an end it is inclusive.
std::optional<ApiError> read_range(const QueryParams& q, std::optional<TimePoint>& start, std::optional<TimePoint>& end) {
  if (auto it = q.find("start_date"); it != q.end() && !it->second.empty()) {
    start = parse_time(it->second);
    if (!start) return ApiError::bad_request("Invalid 'start_date': expected YYYY-MM-DD or an ISO 8601 UTC time.", "start_date");
  }
  if (auto it = q.find("end_date"); it != q.end() && !it->second.empty()) {
    end = parse_time(it->second);
    if (!end) return ApiError::bad_request("Invalid 'end_date': expected YYYY-MM-DD or an ISO 8601 UTC time.", "end_date");
    if (it->second.size() == 10) *end += std::chrono::hours(24);
  }
  if (start && end && *end <= *start) return ApiError::bad_request("'end_date' must be after 'start_date'.", "end_date");
  return std::nullopt;
}

std::string csv_field(const std::string& s) {
  std::string v = s;
  // Spreadsheets run cells that start with these as formulas.
  if (!v.empty() && (v[0] == '=' || v[0] == '+' || v[0] == '-' || v[0] == '@')) v = "'" + v;
  if (v.find_first_of(",\"\r\n") == std::string::npos) return v;
  std::string out = "\"";
  for (char c : v) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::optional<ReportGroup> parse_group(const std::string& s) {
  if (s == "key" || s == "api_key") return ReportGroup::key;
  if (s == "team" || s == "team_id") return ReportGroup::team;
  if (s == "user" || s == "user_id") return ReportGroup::user;
  if (s == "end_user" || s == "customer") return ReportGroup::end_user;
  if (s == "model") return ReportGroup::model;
  if (s == "provider") return ReportGroup::provider;
  if (s == "day" || s == "date") return ReportGroup::day;
  return std::nullopt;
}

// Resolves api_key (the key, its token hash or its key_id) to a key_id.
std::string key_id_for(Store& s, const std::string& ref) {
  std::optional<KeyRecord> k;
  if (ref.starts_with("sk-")) {
    k = s.find_key_by_hash(sha256_hex(ref));
  } else if (ref.size() == 64) {
    k = s.find_key_by_hash(ref);
  } else {
    k = s.find_key(ref);
  }
  return k ? k->key_id : "\x01no-such-key";  // matches nothing
}

}  // namespace

asio::awaitable<AdminReply> AdminApi::spend_logs(Call& c) {
  SpendQuery q;
  if (auto e = read_range(c.query, q.start, q.end)) co_return error_reply(*e);
  auto get = [&](const char* k) { return c.query.count(k) ? c.query.at(k) : std::string(); };
  q.team_id = get("team_id");
  q.user_id = get("user_id");
  q.end_user = get("end_user");
  q.request_id = get("request_id");
  q.model_group = get("model");
  try {
    if (c.query.count("size")) q.limit = std::clamp(std::stoi(c.query.at("size")), 1, 10000);
    if (c.query.count("page")) q.offset = (std::max(1, std::stoi(c.query.at("page"))) - 1) * q.limit;
  } catch (const std::exception&) {
    co_return error_reply(ApiError::bad_request("Invalid 'page' or 'size': expected integers.", "page"));
  }
  const std::string api_key = get("api_key");
  std::vector<SpendRow> rows;
  std::function<void(Store&)> load = [&](Store& s) {
    if (!api_key.empty()) q.key_id = key_id_for(s, api_key);
    // Scoped callers read their team's rows, or their own key's.
    if (!c.bounds.master) {
      if (!c.bounds.team_id.empty()) {
        q.team_id = c.bounds.team_id;
      } else {
        q.key_id = c.bounds.key_id;
      }
    }
    rows = s.spend_logs(q);
  };
  co_await db(load);
  json out = json::array();
  for (const auto& r : rows) out.push_back(spend_row_json(r));
  co_return json_reply(out);
}

asio::awaitable<AdminReply> AdminApi::spend_report(Call& c) {
  ReportQuery q;
  std::optional<TimePoint> start, end;
  if (auto e = read_range(c.query, start, end)) co_return error_reply(*e);
  const TimePoint now = now_();
  q.end = end.value_or(now + std::chrono::hours(24));
  q.start = start.value_or(q.end - std::chrono::hours(24 * 30));
  const std::string group = c.query.count("group_by") ? c.query.at("group_by") : "day";
  auto g = parse_group(group);
  if (!g) {
    co_return error_reply(ApiError::bad_request("Invalid 'group_by': expected key, team, user, end_user, model, provider or day.", "group_by"));
  }
  q.group_by = *g;
  const std::string format = c.query.count("format") ? c.query.at("format") : "json";
  if (format != "json" && format != "csv") co_return error_reply(ApiError::bad_request("Invalid 'format': expected json or csv.", "format"));
  q.team_id = c.query.count("team_id") ? c.query.at("team_id") : "";
  const std::string api_key = c.query.count("api_key") ? c.query.at("api_key") : "";
  std::vector<ReportRow> rows;
  std::function<void(Store&)> load = [&](Store& s) {
    if (!api_key.empty()) q.key_id = key_id_for(s, api_key);
    if (!c.bounds.master) {
      if (!c.bounds.team_id.empty()) {
        q.team_id = c.bounds.team_id;
      } else {
        q.key_id = c.bounds.key_id;
      }
    }
    rows = s.spend_report(q);
  };
  co_await db(load);
  if (format == "csv") {
    std::string csv = csv_field(group) + ",requests,failed_requests,prompt_tokens,completion_tokens,spend_usd\r\n";
    for (const auto& r : rows) {
      csv += csv_field(r.group) + "," + std::to_string(r.requests) + "," + std::to_string(r.failed_requests) + "," +
             std::to_string(r.prompt_tokens) + "," + std::to_string(r.completion_tokens) + "," + r.cost_usd + "\r\n";
    }
    co_return AdminReply{200, std::move(csv), "text/csv; charset=utf-8", {}, {}};
  }
  json out = json::array();
  for (const auto& r : rows) {
    out.push_back({{"group_by", group},
                   {group, r.group},
                   {"requests", r.requests},
                   {"failed_requests", r.failed_requests},
                   {"prompt_tokens", r.prompt_tokens},
                   {"completion_tokens", r.completion_tokens},
                   {"spend", std::stod(r.cost_usd)},
                   {"spend_exact", r.cost_usd}});
  }
  co_return json_reply({{"start_date", iso8601(q.start)}, {"end_date", iso8601(q.end)}, {"group_by", group}, {"data", out}});
}

}  // namespace tollgate
