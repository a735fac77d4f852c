#pragma once
// Privilege rules of the admin API: a caller can never grant more than it
// holds. Pure functions over records, so they are tested without a server.
//
// The master key is unbounded. Any other caller is a virtual key whose
// allowed_routes admit the admin route; its bounds are the intersection of
// its key's, its team's and its user's: models, routes, budgets, rate and
// parallel limits, expiry, and its team. Whatever it creates or updates
// (keys, teams, users) must fit inside those bounds, it may only touch keys
// of its own team (or, without a team, keys it created), and it may never
// change its own key.

#include <optional>
#include <string>
#include <vector>

#include "tollgate/error.h"
#include "tollgate/request_context.h"
#include "tollgate/store.h"

namespace tollgate {

struct CallerBounds {
  bool master = false;
  std::string actor;                              // for audit events
  std::string key_id;                             // the caller's own key
  std::optional<std::vector<std::string>> models;  // nullopt: every model
  std::vector<std::string> routes;                // the key's allowed_routes
  std::optional<double> max_budget;
  std::optional<int64_t> rpm_limit, tpm_limit, max_parallel_requests;
  std::optional<TimePoint> expires;
  std::string team_id;  // "" when the caller has no team
};

CallerBounds bounds_of(const Principal& p);

// May `caller` call this admin route at all? (403 otherwise.) The */info
// routes are open to every virtual key, for its own objects.
bool may_call(const Principal& caller, std::string_view route);

// nullopt when `models`, `limits` (and `routes`/`expires` when given) fit
// within the caller's bounds; else a 403 naming the first field that does not.
std::optional<ApiError> check_grant(const CallerBounds& b, const std::vector<std::string>& models, const Limits& limits,
                                    const std::vector<std::string>* routes = nullptr,
                                    const std::optional<TimePoint>* expires = nullptr);

// May the caller modify (or read) this key? Not its own key for writes.
std::optional<ApiError> check_key_access(const CallerBounds& b, const KeyRecord& key, bool write);
// The team a new or updated object may belong to.
std::optional<ApiError> check_team_membership(const CallerBounds& b, const std::string& team_id);

}  // namespace tollgate
