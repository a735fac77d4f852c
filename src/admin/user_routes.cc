// /user/* and /customer/* (end user) routes of the admin API.

#include "admin/admin_api.h"
#include "admin/records_json.h"

namespace tollgate {

namespace asio = boost::asio;
using nlohmann::json;

namespace {

ApiError user_not_found() { return ApiError::not_found("No such user.", "user_not_found", "user_id"); }

std::optional<ApiError> check_user_access(const CallerBounds& b, const UserRecord& u) {
  if (b.master) return std::nullopt;
  if (!b.team_id.empty() && u.team_id == b.team_id) return std::nullopt;
  return ApiError::forbidden("You can only manage users of your own team.", "not_allowed");
}

std::optional<ApiError> check_user_team(Store& s, const UserRecord& u) {
  if (!u.team_id.empty() && !s.find_team(u.team_id)) {
    return ApiError::bad_request("Unknown team_id '" + u.team_id + "'. Create it with /team/new first.", "team_id", "team_not_found");
  }
  return std::nullopt;
}

std::optional<ApiError> read_id(const json& body, const char* field, std::string& out, bool required) {
  auto it = body.find(field);
  if (it == body.end() || it->is_null()) {
    if (required) return ApiError::bad_request("Missing '" + std::string(field) + "'.", field, "missing_required_parameter");
    return std::nullopt;
  }
  if (!it->is_string() || it->get_ref<const std::string&>().empty() || it->get_ref<const std::string&>().size() > 256) {
    return ApiError::bad_request("Invalid '" + std::string(field) + "': expected a string of 1 to 256 characters.", field);
  }
  out = it->get<std::string>();
  return std::nullopt;
}

}  // namespace

asio::awaitable<AdminReply> AdminApi::user_new(Call& c) {
  const TimePoint now = now_();
  UserRecord u;
  u.user_id = random_hex(16);
  u.created_at = u.updated_at = now;
  if (auto e = read_id(c.body, "user_id", u.user_id, false)) co_return error_reply(*e);
  if (auto e = apply_user_fields(c.body, u, now)) co_return error_reply(*e);
  if (!c.bounds.master && u.user_role.starts_with("proxy_admin")) {
    co_return error_reply(ApiError::forbidden("Only the master key can create proxy admins.", "privilege_escalation"));
  }
  if (auto e = check_team_membership(c.bounds, u.team_id)) co_return error_reply(*e);
  if (auto e = check_subset(entitlements_of(u), c.bounds.rights)) co_return error_reply(*e);
  std::optional<ApiError> error;
  bool inserted = false;
  const AuditEvent ev = audit(c, "user.new", "user", u.user_id, nullptr, user_json(u));
  std::function<void(Store&)> job = [&](Store& s) {
    error = check_user_team(s, u);
    if (!error) inserted = s.insert_user(u, ev);
  };
  co_await db(job);
  if (error) co_return error_reply(*error);
  if (!inserted) co_return error_reply(ApiError::bad_request("A user with this user_id already exists.", "user_id", "conflict"));
  co_await refresh();
  co_return json_reply(user_json(u));
}

asio::awaitable<AdminReply> AdminApi::user_update(Call& c) {
  std::string id;
  if (auto e = read_id(c.body, "user_id", id, true)) co_return error_reply(*e);
  std::optional<UserRecord> found;
  std::function<void(Store&)> load = [&](Store& s) { found = s.find_user(id); };
  co_await db(load);
  if (!found) co_return error_reply(user_not_found());
  if (auto e = check_user_access(c.bounds, *found)) co_return error_reply(*e);
  UserRecord u = *found;
  const TimePoint now = now_();
  if (auto e = apply_user_fields(c.body, u, now)) co_return error_reply(*e);
  if (!c.bounds.master && u.user_role != found->user_role) {
    co_return error_reply(ApiError::forbidden("Only the master key can change a user's role.", "privilege_escalation"));
  }
  if (auto e = check_team_membership(c.bounds, u.team_id)) co_return error_reply(*e);
  if (auto e = check_subset(entitlements_of(u), c.bounds.rights)) co_return error_reply(*e);
  u.updated_at = now;
  std::optional<ApiError> error;
  bool updated = false;
  const AuditEvent ev = audit(c, "user.update", "user", id, user_json(*found), user_json(u));
  std::function<void(Store&)> job = [&](Store& s) {
    error = check_user_team(s, u);
    if (!error) updated = s.update_user(u, ev);
  };
  co_await db(job);
  if (error) co_return error_reply(*error);
  if (!updated) co_return error_reply(user_not_found());
  co_await refresh();
  co_return json_reply(user_json(u));
}

asio::awaitable<AdminReply> AdminApi::user_delete(Call& c) {
  auto it = c.body.find("user_ids");
  if (it == c.body.end() || !it->is_array() || it->empty()) {
    co_return error_reply(ApiError::bad_request("Name the users to delete in 'user_ids' (an array).", "user_ids", "missing_required_parameter"));
  }
  std::vector<std::string> ids;
  for (const auto& v : *it) {
    if (!v.is_string()) co_return error_reply(ApiError::bad_request("Invalid 'user_ids': expected an array of strings.", "user_ids"));
    ids.push_back(v.get<std::string>());
  }
  std::vector<UserRecord> users;
  std::optional<std::string> missing;
  std::function<void(Store&)> load = [&](Store& s) {
    for (const auto& id : ids) {
      auto u = s.find_user(id);
      if (!u) {
        missing = id;
        return;
      }
      users.push_back(*u);
    }
  };
  co_await db(load);
  if (missing) co_return error_reply(ApiError::not_found("No such user: " + *missing + ". Nothing was deleted.", "user_not_found", "user_ids"));
  for (const auto& u : users) {
    if (auto e = check_user_access(c.bounds, u)) co_return error_reply(*e);
  }
  std::vector<AuditEvent> events;
  for (const auto& u : users) events.push_back(audit(c, "user.delete", "user", u.user_id, user_json(u), nullptr));
  json deleted = json::array();
  std::function<void(Store&)> job = [&](Store& s) {
    for (std::size_t i = 0; i < users.size(); ++i) {
      if (s.delete_user(users[i].user_id, events[i])) deleted.push_back(users[i].user_id);
    }
  };
  co_await db(job);
  co_await refresh();
  co_return json_reply({{"deleted_users", deleted}});
}

asio::awaitable<AdminReply> AdminApi::user_info(Call& c) {
  std::string id = c.query.count("user_id") ? c.query.at("user_id") : "";
  if (id.empty() && c.caller.key) id = c.caller.key->user_id;  // the caller's own user
  if (id.empty()) co_return error_reply(ApiError::bad_request("Missing 'user_id' query parameter.", "user_id", "missing_required_parameter"));
  std::optional<UserRecord> user;
  std::vector<KeyRecord> keys;
  std::function<void(Store&)> load = [&](Store& s) {
    user = s.find_user(id);
    if (user) keys = s.list_keys("", id, 100000, 0);
  };
  co_await db(load);
  if (!user) co_return error_reply(user_not_found());
  const bool own = c.caller.key && c.caller.key->user_id == id;
  if (!own) {
    if (!may_call(c.caller, "/user/update")) co_return error_reply(ApiError::forbidden("You may only read your own user.", "not_allowed"));
    if (auto e = check_user_access(c.bounds, *user)) co_return error_reply(*e);
  }
  json key_list = json::array();
  for (const auto& k : keys) key_list.push_back(key_json(k));
  co_return json_reply({{"user_id", id}, {"user_info", user_json(*user)}, {"keys", key_list}});
}

asio::awaitable<AdminReply> AdminApi::user_list(Call& c) {
  int page = 1, size = 25;
  try {
    if (c.query.count("page")) page = std::max(1, std::stoi(c.query.at("page")));
    if (c.query.count("page_size")) size = std::clamp(std::stoi(c.query.at("page_size")), 1, 1000);
  } catch (const std::exception&) {
    co_return error_reply(ApiError::bad_request("Invalid 'page' or 'page_size': expected integers.", "page"));
  }
  std::string team = c.query.count("team_id") ? c.query.at("team_id") : "";
  if (!c.bounds.master) {
    if (c.bounds.team_id.empty()) co_return json_reply({{"users", json::array()}, {"total", 0}, {"page", page}, {"page_size", size}, {"total_pages", 0}});
    team = c.bounds.team_id;
  }
  std::vector<UserRecord> users;
  std::function<void(Store&)> load = [&](Store& s) { users = s.list_users(team, 100000, 0); };
  co_await db(load);
  json out = json::array();
  const std::size_t first = static_cast<std::size_t>(page - 1) * static_cast<std::size_t>(size);
  for (std::size_t i = first; i < users.size() && i < first + static_cast<std::size_t>(size); ++i) out.push_back(user_json(users[i]));
  const int total = static_cast<int>(users.size());
  co_return json_reply({{"users", out}, {"total", total}, {"page", page}, {"page_size", size}, {"total_pages", (total + size - 1) / size}});
}

asio::awaitable<AdminReply> AdminApi::customer_upsert(Call& c) {
  if (!c.bounds.master) co_return error_reply(ApiError::forbidden("Only the master key can manage end users.", "not_allowed"));
  std::string id;
  if (auto e = read_id(c.body, "user_id", id, true)) co_return error_reply(*e);
  std::optional<EndUserRecord> found;
  std::function<void(Store&)> load = [&](Store& s) { found = s.find_end_user(id); };
  co_await db(load);
  EndUserRecord e = found.value_or(EndUserRecord{});
  e.end_user_id = id;
  if (auto err = apply_end_user_fields(c.body, e, now_())) co_return error_reply(*err);
  const AuditEvent ev = audit(c, found ? "customer.update" : "customer.new", "end_user", id,
                             found ? end_user_json(*found) : json(nullptr), end_user_json(e));
  std::function<void(Store&)> job = [&](Store& s) { s.upsert_end_user(e, ev); };
  co_await db(job);
  co_await refresh();
  co_return json_reply(end_user_json(e));
}

asio::awaitable<AdminReply> AdminApi::customer_info(Call& c) {
  const std::string id = c.query.count("end_user_id") ? c.query.at("end_user_id") : "";
  if (id.empty()) co_return error_reply(ApiError::bad_request("Missing 'end_user_id' query parameter.", "end_user_id", "missing_required_parameter"));
  if (!c.bounds.master) co_return error_reply(ApiError::forbidden("Only the master key can read end users.", "not_allowed"));
  std::optional<EndUserRecord> found;
  std::function<void(Store&)> load = [&](Store& s) { found = s.find_end_user(id); };
  co_await db(load);
  if (!found) co_return error_reply(ApiError::not_found("No such end user.", "end_user_not_found", "end_user_id"));
  co_return json_reply(end_user_json(*found));
}

}  // namespace tollgate
