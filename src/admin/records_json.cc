#include "admin/records_json.h"

#include "storage/sql_values.h"

#include <cstdio>
#include <ctime>
#include <set>

namespace tollgate {

using nlohmann::json;

std::string iso8601(TimePoint t) {
  // The store's formatter, in ISO 8601 dress: "2026-11-21T10:00:00.000Z".
  std::string s = storage::format_time(std::chrono::floor<std::chrono::milliseconds>(t));
  s[10] = 'T';
  s.resize(23);
  return s + "Z";
}

std::optional<TimePoint> parse_time(const std::string& s) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0, ms = 0;
  std::size_t used = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2d%zn", &y, &mo, &d, &used) != 3 || used != 10) return std::nullopt;
  std::string rest = s.substr(10);
  if (!rest.empty()) {
    int n = 0;
    if ((rest[0] != 'T' && rest[0] != ' ') || std::sscanf(rest.c_str() + 1, "%2d:%2d:%2d%n", &h, &mi, &sec, &n) != 3)
      return std::nullopt;
    rest = rest.substr(1 + static_cast<std::size_t>(n));
    if (!rest.empty() && rest[0] == '.') {
      std::size_t i = 1;
      int digits = 0;
      while (i < rest.size() && std::isdigit(static_cast<unsigned char>(rest[i]))) {
        if (digits < 3) ms = ms * 10 + (rest[i] - '0');
        ++digits;
        ++i;
      }
      if (digits == 0) return std::nullopt;
      for (int k = digits; k < 3; ++k) ms *= 10;
      rest = rest.substr(i);
    }
    if (!(rest.empty() || rest == "Z" || rest == "+00:00")) return std::nullopt;
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) return std::nullopt;
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = sec;
  const std::time_t t = timegm(&tm);
  return SystemClock::from_time_t(t) + std::chrono::milliseconds(ms);
}

namespace {

json opt(const std::optional<double>& v) { return v ? json(*v) : json(nullptr); }
json opt(const std::optional<int64_t>& v) { return v ? json(*v) : json(nullptr); }
json opt(const std::optional<TimePoint>& v) { return v ? json(iso8601(*v)) : json(nullptr); }
json str_or_null(const std::string& s) { return s.empty() ? json(nullptr) : json(s); }

// Reads the fields of one admin body. Every field is checked by exactly one
// read_*; whatever is left unread at the end is unknown.
class Fields {
 public:
  Fields(const json& body, std::set<std::string> skip) : body_(body), seen_(std::move(skip)) {}

  const json* get(const char* name) {
    seen_.insert(name);
    auto it = body_.find(name);
    return it == body_.end() ? nullptr : &*it;
  }
  bool string(const char* name, std::string& out, std::size_t max = 256) {
    const json* v = get(name);
    if (!v) return false;
    if (v->is_null()) {
      out.clear();
      return true;
    }
    if (!v->is_string()) return fail(name, "a string");
    const auto& s = v->get_ref<const std::string&>();
    if (s.size() > max) return fail(name, "at most " + std::to_string(max) + " characters");
    for (unsigned char c : s) {
      if (c < 0x20 || c == 0x7f) return fail(name, "a string without control characters");
    }
    out = s;
    return true;
  }
  void strings(const char* name, std::vector<std::string>& out) {
    const json* v = get(name);
    if (!v) return;
    if (v->is_null()) {
      out.clear();
      return;
    }
    if (!v->is_array()) {
      fail(name, "an array of strings");
      return;
    }
    std::vector<std::string> items;
    for (const auto& e : *v) {
      if (!e.is_string() || e.get_ref<const std::string&>().empty() || e.get_ref<const std::string&>().size() > 256) {
        fail(name, "an array of non-empty strings");
        return;
      }
      items.push_back(e.get<std::string>());
    }
    out = std::move(items);
  }
  void string_map(const char* name, std::map<std::string, std::string>& out) {
    const json* v = get(name);
    if (!v) return;
    if (v->is_null()) {
      out.clear();
      return;
    }
    if (!v->is_object()) {
      fail(name, "an object of strings");
      return;
    }
    std::map<std::string, std::string> m;
    for (const auto& [k, e] : v->items()) {
      if (!e.is_string() || k.empty()) {
        fail(name, "an object of strings");
        return;
      }
      m[k] = e.get<std::string>();
    }
    out = std::move(m);
  }
  void int_map(const char* name, std::map<std::string, int64_t>& out) {
    const json* v = get(name);
    if (!v) return;
    if (v->is_null()) {
      out.clear();
      return;
    }
    if (!v->is_object()) {
      fail(name, "an object of non-negative integers");
      return;
    }
    std::map<std::string, int64_t> m;
    for (const auto& [k, e] : v->items()) {
      if (!e.is_number_integer() || e.get<int64_t>() < 0) {
        fail(name, "an object of non-negative integers");
        return;
      }
      m[k] = e.get<int64_t>();
    }
    out = std::move(m);
  }
  void money(const char* name, std::optional<double>& out) {
    const json* v = get(name);
    if (!v) return;
    if (v->is_null()) {
      out.reset();
      return;
    }
    if (!v->is_number() || v->get<double>() < 0 || v->get<double>() > 1e12) {
      fail(name, "a non-negative number of USD, or null");
      return;
    }
    out = v->get<double>();
  }
  void count(const char* name, std::optional<int64_t>& out) {
    const json* v = get(name);
    if (!v) return;
    if (v->is_null()) {
      out.reset();
      return;
    }
    if (!v->is_number_integer() || v->get<int64_t>() < 0) {
      fail(name, "a non-negative integer, or null");
      return;
    }
    out = v->get<int64_t>();
  }
  void boolean(const char* name, bool& out) {
    const json* v = get(name);
    if (!v) return;
    if (!v->is_boolean()) {
      fail(name, "true or false");
      return;
    }
    out = v->get<bool>();
  }
  void object(const char* name, json& out) {
    const json* v = get(name);
    if (!v) return;
    if (v->is_null()) {
      out = json::object();
      return;
    }
    if (!v->is_object()) {
      fail(name, "an object");
      return;
    }
    if (v->dump().size() > 64 * 1024) {
      fail(name, "an object of at most 64 KiB");
      return;
    }
    out = *v;
  }
  void limits(Limits& l, TimePoint now) {
    money("max_budget", l.max_budget);
    money("soft_budget", l.soft_budget);
    std::string duration = l.budget_duration;
    if (string("budget_duration", duration, 16)) {
      if (!duration.empty() && !valid_budget_duration(duration)) {
        fail("budget_duration", "a duration such as \"30s\", \"10m\", \"1h\", \"1d\", \"7d\", \"2w\" or \"1mo\"");
      } else if (duration != l.budget_duration) {
        l.budget_duration = duration;
        l.budget_reset_at = duration.empty() ? std::nullopt : next_budget_reset(duration, now);
      }
    }
    count("rpm_limit", l.rpm_limit);
    count("tpm_limit", l.tpm_limit);
    count("max_parallel_requests", l.max_parallel_requests);
    int_map("model_rpm_limit", l.model_rpm_limit);
    int_map("model_tpm_limit", l.model_tpm_limit);
  }
  // LiteLLM fields accepted for compatibility and not acted on.
  void ignore(std::initializer_list<const char*> names) {
    for (const char* n : names) seen_.insert(n);
  }

  std::optional<ApiError> finish() {
    if (error_) return error_;
    for (const auto& [k, v] : body_.items()) {
      if (!seen_.count(k)) {
        return ApiError::bad_request("Unknown field '" + k + "'. See docs/admin-api.md for the fields this route takes.", k,
                                     "unknown_field");
      }
    }
    return std::nullopt;
  }
  bool fail(const char* name, const std::string& expected) {
    if (!error_) error_ = ApiError::bad_request("Invalid '" + std::string(name) + "': expected " + expected + ".", name);
    return false;
  }

 private:
  const json& body_;
  std::set<std::string> seen_;
  std::optional<ApiError> error_;
};

std::optional<ApiError> not_object(const json& body) {
  if (!body.is_object()) return ApiError::bad_request("The request body must be a JSON object.", {}, "invalid_json");
  return std::nullopt;
}

}  // namespace

json limits_json(const Limits& l) {
  return {{"max_budget", opt(l.max_budget)},
          {"soft_budget", opt(l.soft_budget)},
          {"budget_duration", str_or_null(l.budget_duration)},
          {"budget_reset_at", opt(l.budget_reset_at)},
          {"rpm_limit", opt(l.rpm_limit)},
          {"tpm_limit", opt(l.tpm_limit)},
          {"max_parallel_requests", opt(l.max_parallel_requests)},
          {"model_rpm_limit", l.model_rpm_limit},
          {"model_tpm_limit", l.model_tpm_limit}};
}

json key_json(const KeyRecord& k) {
  json j = limits_json(k.limits);
  j.update({{"token", k.token_hash},
            {"key_id", k.key_id},
            {"key_name", k.key_name},
            {"key_alias", str_or_null(k.key_alias)},
            {"team_id", str_or_null(k.team_id)},
            {"user_id", str_or_null(k.user_id)},
            {"models", k.models},
            {"aliases", k.aliases},
            {"allowed_routes", k.allowed_routes},
            {"spend", k.spend},
            {"expires", opt(k.expires)},
            {"blocked", k.blocked},
            {"metadata", k.metadata},
            {"tags", k.tags},
            {"created_by", k.created_by},
            {"created_at", iso8601(k.created_at)},
            {"updated_at", iso8601(k.updated_at)}});
  return j;
}

json team_json(const TeamRecord& t) {
  json j = limits_json(t.limits);
  j.update({{"team_id", t.team_id},
            {"team_alias", str_or_null(t.team_alias)},
            {"models", t.models},
            {"spend", t.spend},
            {"blocked", t.blocked},
            {"metadata", t.metadata},
            {"tags", t.tags},
            {"created_at", iso8601(t.created_at)},
            {"updated_at", iso8601(t.updated_at)}});
  return j;
}

json user_json(const UserRecord& u) {
  json j = limits_json(u.limits);
  j.update({{"user_id", u.user_id},
            {"user_email", str_or_null(u.user_email)},
            {"user_alias", str_or_null(u.user_alias)},
            {"user_role", str_or_null(u.user_role)},
            {"team_id", str_or_null(u.team_id)},
            {"teams", u.team_id.empty() ? json::array() : json::array({u.team_id})},
            {"models", u.models},
            {"spend", u.spend},
            {"metadata", u.metadata},
            {"created_at", iso8601(u.created_at)},
            {"updated_at", iso8601(u.updated_at)}});
  return j;
}

json end_user_json(const EndUserRecord& e) {
  json j = limits_json(e.limits);
  j.update({{"user_id", e.end_user_id}, {"alias", str_or_null(e.alias)}, {"spend", e.spend}, {"blocked", e.blocked}});
  return j;
}

json spend_row_json(const SpendRow& r) {
  return {{"request_id", r.request_id},
          {"startTime", iso8601(r.start_time)},
          {"endTime", iso8601(r.end_time)},
          {"key_id", str_or_null(r.key_id)},
          {"key_alias", str_or_null(r.key_alias)},
          {"key_name", str_or_null(r.key_name)},
          {"team_id", str_or_null(r.team_id)},
          {"user", str_or_null(r.user_id)},
          {"end_user", str_or_null(r.end_user)},
          {"call_type", r.route},
          {"model", r.requested_model},
          {"model_group", str_or_null(r.model_group)},
          {"deployment", str_or_null(r.deployment)},
          {"custom_llm_provider", str_or_null(r.provider)},
          {"api_base", str_or_null(r.api_base)},
          {"stream", r.stream},
          {"status", r.status},
          {"error_type", str_or_null(r.error_type)},
          {"prompt_tokens", r.prompt_tokens},
          {"completion_tokens", r.completion_tokens},
          {"total_tokens", r.prompt_tokens + r.completion_tokens},
          {"cached_tokens", r.cached_tokens},
          {"reasoning_tokens", r.reasoning_tokens},
          {"spend", std::stod(r.cost_usd)},
          {"spend_exact", r.cost_usd},
          {"latency_ms", r.latency_ms},
          {"ttft_ms", r.ttft_ms ? json(*r.ttft_ms) : json(nullptr)},
          {"overhead_ms", r.overhead_ms},
          {"cache_hit", r.cache_hit},
          {"request_tags", r.tags},
          {"metadata", r.metadata}};
}

std::optional<ApiError> apply_key_fields(const json& body, KeyRecord& k, TimePoint now) {
  if (auto e = not_object(body)) return e;
  Fields f(body, {"key"});
  f.string("key_alias", k.key_alias);
  f.string("team_id", k.team_id);
  f.string("user_id", k.user_id);
  f.strings("models", k.models);
  f.string_map("aliases", k.aliases);
  f.strings("allowed_routes", k.allowed_routes);
  f.boolean("blocked", k.blocked);
  f.object("metadata", k.metadata);
  f.strings("tags", k.tags);
  f.limits(k.limits, now);
  std::string duration;
  if (const json* d = f.get("duration"); d) {
    if (d->is_null()) {
      k.expires.reset();
    } else if (f.string("duration", duration, 16)) {
      auto until = valid_budget_duration(duration) ? next_budget_reset(duration, now) : std::nullopt;
      if (!until) {
        f.fail("duration", "a duration such as \"30m\", \"1h\", \"7d\" or \"1mo\", or null for no expiry");
      } else {
        k.expires = until;
      }
    }
  }
  f.ignore({"send_invite_email", "permissions", "guardrails", "config", "key_type", "enforced_params", "soft_budget_cooldown"});
  return f.finish();
}

std::optional<ApiError> apply_team_fields(const json& body, TeamRecord& t, TimePoint now) {
  if (auto e = not_object(body)) return e;
  Fields f(body, {"team_id"});
  f.string("team_alias", t.team_alias);
  f.strings("models", t.models);
  f.boolean("blocked", t.blocked);
  f.object("metadata", t.metadata);
  f.strings("tags", t.tags);
  f.limits(t.limits, now);
  f.ignore({"members_with_roles", "members", "organization_id", "guardrails", "team_member_permissions"});
  return f.finish();
}

std::optional<ApiError> apply_user_fields(const json& body, UserRecord& u, TimePoint now) {
  if (auto e = not_object(body)) return e;
  Fields f(body, {"user_id"});
  f.string("user_email", u.user_email);
  f.string("user_alias", u.user_alias);
  std::string role = u.user_role;
  if (f.string("user_role", role, 64)) {
    static const std::set<std::string> roles{"", "proxy_admin", "proxy_admin_viewer", "internal_user",
                                             "internal_user_viewer"};
    if (!roles.count(role)) {
      f.fail("user_role", "one of proxy_admin, proxy_admin_viewer, internal_user, internal_user_viewer");
    } else {
      u.user_role = role;
    }
  }
  f.string("team_id", u.team_id);
  f.strings("models", u.models);
  f.object("metadata", u.metadata);
  f.limits(u.limits, now);
  f.ignore({"auto_create_key", "send_invite_email", "teams", "password"});
  return f.finish();
}

std::optional<ApiError> apply_end_user_fields(const json& body, EndUserRecord& e, TimePoint now) {
  if (auto err = not_object(body)) return err;
  Fields f(body, {"user_id"});
  f.string("alias", e.alias);
  f.boolean("blocked", e.blocked);
  f.limits(e.limits, now);
  f.ignore({"allowed_model_region", "default_model", "budget_id"});
  return f.finish();
}

}  // namespace tollgate
