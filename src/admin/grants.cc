#include "admin/grants.h"

#include <algorithm>

#include "middleware/policy.h"

namespace tollgate {
namespace {

bool means_all(const std::vector<std::string>& models) {
  return models.empty() || std::any_of(models.begin(), models.end(),
                                       [](const std::string& m) { return m == "*" || m == "all-proxy-models"; });
}

void narrow(std::optional<std::vector<std::string>>& acc, const std::vector<std::string>& models) {
  if (means_all(models)) return;
  if (!acc) {
    acc = models;
    return;
  }
  std::vector<std::string> kept;
  for (const auto& m : *acc) {
    if (std::find(models.begin(), models.end(), m) != models.end()) kept.push_back(m);
  }
  acc = std::move(kept);
}

template <class T>
void narrow(std::optional<T>& acc, const std::optional<T>& v) {
  if (v && (!acc || *v < *acc)) acc = v;
}

void narrow_limits(CallerBounds& b, const Limits& l) {
  narrow(b.max_budget, l.max_budget);
  narrow(b.rpm_limit, l.rpm_limit);
  narrow(b.tpm_limit, l.tpm_limit);
  narrow(b.max_parallel_requests, l.max_parallel_requests);
}

template <class T>
std::optional<ApiError> within(const char* field, const std::optional<T>& bound, const std::optional<T>& asked) {
  if (!bound) return std::nullopt;
  if (!asked) {
    return ApiError::forbidden("You cannot grant an unlimited '" + std::string(field) +
                                   "': your own is limited. Set it at or below yours.",
                               "privilege_escalation");
  }
  if (*asked > *bound) {
    return ApiError::forbidden("You cannot grant a '" + std::string(field) + "' above your own.",
                               "privilege_escalation");
  }
  return std::nullopt;
}

}  // namespace

CallerBounds bounds_of(const Principal& p) {
  CallerBounds b;
  b.master = p.is_master;
  b.actor = p.actor();
  if (p.is_master || !p.key) return b;
  b.key_id = p.key->key_id;
  b.routes = p.key->allowed_routes;
  b.expires = p.key->expires;
  b.team_id = p.key->team_id;
  narrow(b.models, p.key->models);
  narrow_limits(b, p.key->limits);
  if (p.team) {
    narrow(b.models, p.team->models);
    narrow_limits(b, p.team->limits);
  }
  if (p.user) {
    narrow(b.models, p.user->models);
    narrow_limits(b, p.user->limits);
  }
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

std::optional<ApiError> check_grant(const CallerBounds& b, const std::vector<std::string>& models, const Limits& limits,
                                    const std::vector<std::string>* routes, const std::optional<TimePoint>* expires) {
  if (b.master) return std::nullopt;
  if (b.models) {
    if (means_all(models)) {
      return ApiError::forbidden("You cannot grant access to every model: list models from your own allow-list.",
                                 "privilege_escalation");
    }
    for (const auto& m : models) {
      if (std::find(b.models->begin(), b.models->end(), m) == b.models->end()) {
        return ApiError::forbidden("You cannot grant the model `" + m + "`: it is not in your own allow-list.",
                                   "privilege_escalation");
      }
    }
  }
  if (auto e = within("max_budget", b.max_budget, limits.max_budget)) return e;
  if (auto e = within("rpm_limit", b.rpm_limit, limits.rpm_limit)) return e;
  if (auto e = within("tpm_limit", b.tpm_limit, limits.tpm_limit)) return e;
  if (auto e = within("max_parallel_requests", b.max_parallel_requests, limits.max_parallel_requests)) return e;
  if (routes) {
    // Each route granted must be one the caller holds itself, either as the
    // same entry or as a path its own entries admit.
    const std::vector<std::string> implicit{"/v1/chat/completions", "/key/info"};
    const std::vector<std::string>& asked = routes->empty() ? implicit : *routes;
    for (const auto& r : asked) {
      const bool same = std::find(b.routes.begin(), b.routes.end(), r) != b.routes.end();
      if (!same && !(r.starts_with("/") && !r.ends_with("*") && routes_allow(b.routes, r))) {
        return ApiError::forbidden("You cannot grant the route '" + (routes->empty() ? std::string("llm_api_routes") : r) +
                                       "': you do not hold it.",
                                   "privilege_escalation");
      }
    }
  }
  if (expires && b.expires && (!*expires || **expires > *b.expires)) {
    return ApiError::forbidden("You cannot grant a key that outlives your own (set 'duration').", "privilege_escalation");
  }
  return std::nullopt;
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
  return ApiError::forbidden(b.team_id.empty() ? "You have no team, so you cannot assign one; ask an administrator."
                                               : "You can only assign your own team ('" + b.team_id + "').",
                             "privilege_escalation");
}

}  // namespace tollgate
