#include "admin/grants.h"

#include "middleware/policy.h"

namespace tollgate {

CallerBounds bounds_of(const Principal& p) {
  CallerBounds b;
  b.master = p.is_master;
  b.actor = p.actor();
  b.rights = entitlements_of(p);
  if (p.is_master || !p.key) return b;
  b.key_id = p.key->key_id;
  b.team_id = p.key->team_id;
  b.user_id = p.key->user_id;
  return b;
}

bool may_call(const Principal& caller, std::string_view route) {
  if (caller.is_master) return true;
  if (!caller.key) return false;  // static keys from the YAML are for the LLM API only
  // Any virtual key may read its own key, team and user; the handlers check
  // that what is read is the caller's own unless it manages such objects.
  if (route == "/key/info" || route == "/team/info" || route == "/user/info") return true;
  return routes_allow(caller.key->allowed_routes, route);
}

std::optional<ApiError> check_key_access(const CallerBounds& b, const KeyRecord& key, bool write) {
  if (b.master) return std::nullopt;
  if (key.key_id == b.key_id) {
    if (!write) return std::nullopt;
    return ApiError::forbidden("A key cannot change itself; ask an administrator.", "privilege_escalation");
  }
  const bool mine = b.team_id.empty() ? key.created_by == b.key_id : key.team_id == b.team_id;
  if (!mine) {
    return ApiError::forbidden(b.team_id.empty() ? "You can only manage keys you created."
                                                 : "You can only manage keys of your own team.",
                               "not_allowed");
  }
  return std::nullopt;
}

std::optional<ApiError> check_team_membership(const CallerBounds& b, const std::string& team_id) {
  if (b.master || team_id == b.team_id) return std::nullopt;
  return escalation("team_id", b.team_id.empty()
                                   ? "You have no team, so you cannot assign one; ask an administrator."
                                   : "You can only assign your own team ('" + b.team_id + "').");
}

std::optional<ApiError> check_user_assignment(const CallerBounds& b, const std::string& user_id, const UserRecord* user) {
  if (b.master || user_id.empty() || user_id == b.user_id) return std::nullopt;
  if (b.team_id.empty()) {
    return escalation("user_id", "You have no team, so you can only assign your own user" +
                                     (b.user_id.empty() ? std::string(" (you have none)") : " ('" + b.user_id + "')") +
                                     ".");
  }
  if (!user || user->team_id != b.team_id) {
    return escalation("user_id", "You cannot assign the user '" + user_id + "': only users of your own team ('" +
                                     b.team_id + "').");
  }
  return std::nullopt;
}

std::optional<ApiError> check_blocked_change(const CallerBounds& b, bool was_blocked, bool blocked) {
  if (b.master || was_blocked == blocked) return std::nullopt;
  if (blocked && !b.rights.may_block) {
    return escalation("blocked", "You cannot block keys: that needs the route /key/block, which you do not hold.");
  }
  if (!blocked && !b.rights.may_unblock) {
    return escalation("blocked", "You cannot unblock keys: that needs the route /key/unblock, which you do not hold.");
  }
  return std::nullopt;
}

}  // namespace tollgate
