#pragma once
// Privilege rules of the admin API: a caller can never grant more than it
// holds. Pure functions over records, so they are tested without a server.
//
// The master key is unbounded. Any other caller is a virtual key whose
// allowed_routes admit the admin route; its rights are its Entitlements
// (admin/entitlements.h: its key's, narrowed by its team's and its user's).
// Whatever it creates or updates (keys, teams, users) must fit inside them
// (check_subset), it may only touch keys of its own team (or, without a
// team, keys it created), assign only its own team and users of it, block
// or unblock keys only with the routes that do so, and never change its own
// key.

#include <optional>
#include <string>
#include <vector>

#include "admin/entitlements.h"
#include "tollgate/error.h"
#include "tollgate/request_context.h"
#include "tollgate/store.h"

namespace tollgate {

struct CallerBounds {
  bool master = false;
  std::string actor;    // for audit events
  std::string key_id;   // the caller's own key
  std::string team_id;  // "" when the caller has no team
  std::string user_id;  // "" when the caller's key has no user
  Entitlements rights;
};

CallerBounds bounds_of(const Principal& p);

// May `caller` call this admin route at all? (403 otherwise.) The */info
// routes are open to every virtual key, for its own objects.
bool may_call(const Principal& caller, std::string_view route);

// May the caller modify (or read) this key? Not its own key for writes.
std::optional<ApiError> check_key_access(const CallerBounds& b, const KeyRecord& key, bool write);
// The team a new or updated object may belong to.
std::optional<ApiError> check_team_membership(const CallerBounds& b, const std::string& team_id);
// The user a key is given (`user` is the stored record of `user_id`, when it
// exists): the caller's own user, or a user of the caller's team.
std::optional<ApiError> check_user_assignment(const CallerBounds& b, const std::string& user_id, const UserRecord* user);
// A change of an existing key's `blocked`, by any route: blocking needs the
// /key/block right, unblocking the /key/unblock right.
std::optional<ApiError> check_blocked_change(const CallerBounds& b, bool was_blocked, bool blocked);

}  // namespace tollgate
