// /team/* routes of the admin API.

#include "admin/admin_api.h"
#include "admin/records_json.h"

namespace tollgate {

namespace asio = boost::asio;
using nlohmann::json;

namespace {

std::optional<ApiError> required_id(const json& body, const char* field, std::string& out) {
  auto it = body.find(field);
  if (it == body.end() || !it->is_string() || it->get_ref<const std::string&>().empty()) {
    return ApiError::bad_request("Missing '" + std::string(field) + "'.", field, "missing_required_parameter");
  }
  out = it->get<std::string>();
  return std::nullopt;
}

ApiError team_not_found() { return ApiError::not_found("No such team.", "team_not_found", "team_id"); }

// Team-scoped callers act on their own team only.
std::optional<ApiError> check_team_access(const CallerBounds& b, const std::string& team_id) {
  if (b.master || team_id == b.team_id) return std::nullopt;
  return ApiError::forbidden("You can only manage your own team.", "not_allowed");
}

}  // namespace

asio::awaitable<AdminReply> AdminApi::team_new(Call& c) {
  if (!c.bounds.master && !c.bounds.team_id.empty()) {
    co_return error_reply(ApiError::forbidden("A key that belongs to a team cannot create teams.", "not_allowed"));
  }
  const TimePoint now = now_();
  TeamRecord t;
  t.created_at = t.updated_at = now;
  t.team_id = random_hex(16);
  if (auto it = c.body.find("team_id"); it != c.body.end() && !it->is_null()) {
    if (!it->is_string() || it->get_ref<const std::string&>().empty() || it->get_ref<const std::string&>().size() > 128) {
      co_return error_reply(ApiError::bad_request("Invalid 'team_id': expected a string of 1 to 128 characters.", "team_id"));
    }
    t.team_id = it->get<std::string>();
  }
  if (auto e = apply_team_fields(c.body, t, now)) co_return error_reply(*e);
  if (auto e = check_subset(entitlements_of(t), c.bounds.rights)) co_return error_reply(*e);
  bool inserted = false;
  const AuditEvent ev = audit(c, "team.new", "team", t.team_id, nullptr, team_json(t));
  std::function<void(Store&)> job = [&](Store& s) { inserted = s.insert_team(t, ev); };
  co_await db(job);
  if (!inserted) co_return error_reply(ApiError::bad_request("A team with this team_id already exists.", "team_id", "conflict"));
  co_await refresh();
  co_return json_reply(team_json(t));
}

asio::awaitable<AdminReply> AdminApi::team_update(Call& c) {
  std::string id;
  if (auto e = required_id(c.body, "team_id", id)) co_return error_reply(*e);
  if (auto e = check_team_access(c.bounds, id)) co_return error_reply(*e);
  std::optional<TeamRecord> found;
  std::function<void(Store&)> load = [&](Store& s) { found = s.find_team(id); };
  co_await db(load);
  if (!found) co_return error_reply(team_not_found());
  TeamRecord t = *found;
  const TimePoint now = now_();
  if (auto e = apply_team_fields(c.body, t, now)) co_return error_reply(*e);
  if (auto e = check_subset(entitlements_of(t), c.bounds.rights)) co_return error_reply(*e);
  if (!c.bounds.master && t.blocked != found->blocked) {
    co_return error_reply(ApiError::forbidden("Only the master key can block or unblock a team.", "not_allowed"));
  }
  t.updated_at = now;
  bool updated = false;
  const AuditEvent ev = audit(c, "team.update", "team", id, team_json(*found), team_json(t));
  std::function<void(Store&)> job = [&](Store& s) { updated = s.update_team(t, ev); };
  co_await db(job);
  if (!updated) co_return error_reply(team_not_found());
  co_await refresh();
  co_return json_reply(team_json(t));
}

asio::awaitable<AdminReply> AdminApi::team_delete(Call& c) {
  if (!c.bounds.master) co_return error_reply(ApiError::forbidden("Only the master key can delete teams.", "not_allowed"));
  auto it = c.body.find("team_ids");
  if (it == c.body.end() || !it->is_array() || it->empty()) {
    co_return error_reply(ApiError::bad_request("Name the teams to delete in 'team_ids' (an array).", "team_ids", "missing_required_parameter"));
  }
  std::vector<std::string> ids;
  for (const auto& v : *it) {
    if (!v.is_string()) co_return error_reply(ApiError::bad_request("Invalid 'team_ids': expected an array of strings.", "team_ids"));
    ids.push_back(v.get<std::string>());
  }
  std::optional<std::string> missing;
  std::vector<TeamRecord> teams;
  std::function<void(Store&)> load = [&](Store& s) {
    for (const auto& id : ids) {
      auto t = s.find_team(id);
      if (!t) {
        missing = id;
        return;
      }
      teams.push_back(*t);
    }
  };
  co_await db(load);
  if (missing) co_return error_reply(ApiError::not_found("No such team: " + *missing + ". Nothing was deleted.", "team_not_found", "team_ids"));
  std::vector<AuditEvent> events;
  for (const auto& t : teams) events.push_back(audit(c, "team.delete", "team", t.team_id, team_json(t), nullptr));
  json deleted = json::array();
  std::function<void(Store&)> job = [&](Store& s) {
    for (std::size_t i = 0; i < teams.size(); ++i) {
      if (s.delete_team(teams[i].team_id, events[i])) deleted.push_back(teams[i].team_id);
    }
  };
  co_await db(job);
  co_await refresh();
  co_return json_reply({{"deleted_teams", deleted}});
}

asio::awaitable<AdminReply> AdminApi::team_info(Call& c) {
  const std::string id = c.query.count("team_id") ? c.query.at("team_id") : c.bounds.team_id;
  if (id.empty()) co_return error_reply(ApiError::bad_request("Missing 'team_id' query parameter.", "team_id", "missing_required_parameter"));
  if (auto e = check_team_access(c.bounds, id)) co_return error_reply(*e);
  // Members see their team; its keys are listed only to those who manage keys.
  const bool manager = may_call(c.caller, "/key/update");
  std::optional<TeamRecord> team;
  std::vector<KeyRecord> keys;
  std::function<void(Store&)> load = [&](Store& s) {
    team = s.find_team(id);
    if (team) keys = s.list_keys(id, "", 100000, 0);
  };
  co_await db(load);
  if (!team) co_return error_reply(team_not_found());
  json key_list = json::array();
  if (manager) {
    for (const auto& k : keys) key_list.push_back(key_json(k));
  }
  co_return json_reply({{"team_id", id}, {"team_info", team_json(*team)}, {"keys", key_list}});
}

asio::awaitable<AdminReply> AdminApi::team_list(Call& c) {
  std::vector<TeamRecord> teams;
  std::function<void(Store&)> load = [&](Store& s) { teams = s.list_teams(100000, 0); };
  co_await db(load);
  json out = json::array();
  for (const auto& t : teams) {
    if (c.bounds.master || t.team_id == c.bounds.team_id) out.push_back(team_json(t));
  }
  co_return json_reply(out);
}

}  // namespace tollgate
