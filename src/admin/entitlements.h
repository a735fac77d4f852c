#pragma once
// Entitlements: everything a principal, or a key, team or user record, lets
// its holder use, computed once and compared with one rule, child ⊆ parent.
// Every admin route that grants (key generate/update/regenerate, team and
// user new/update) checks the record it would write against the caller's
// entitlements with check_subset; a refusal is a 403 `privilege_escalation`
// whose `param` names the field and whose message names the missing right.
// Pure functions over records: tested without a server.
//
// What each dimension means, and when a child fits its parent:
//  - models: the model groups the holder can reach, by a name in its
//    allow-list or through one of its key's aliases (the alias name allowed,
//    or its target allowed), as Policy admits them. Every group the child
//    reaches must be one the parent reaches; "every model" fits only "every
//    model".
//  - routes: allowed_routes with [] read as llm_api_routes + info_routes
//    (policy.h's one meaning), plus info_routes, which every virtual key may
//    call for its own objects. Each child entry must be covered by the
//    parent's (routes_cover).
//  - route_tags: metadata.route_tags. The child keeps every tag of the
//    parent with the same value (it may add tags).
//  - budgets: one per record that bounds the holder (key, team, user), each
//    with its period. For every parent budget the child needs a budget of at
//    most that amount over a period at least as long (lifetime is the
//    longest; a month counts as 30 days).
//  - rpm/tpm/parallel limits and per-model rpm/tpm: at or below the parent's.
//  - expiry: no later than the parent's.
// Routes, route tags and expiry are rights of keys only; teams and users are
// checked on models, budgets and limits.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "tollgate/error.h"
#include "tollgate/request_context.h"
#include "tollgate/store.h"

namespace tollgate {

struct BudgetRight {
  std::string holder;   // "key", "team" or "user": whose budget it is
  double max_usd = 0;   // per period
  std::string period;   // budget_duration; "" = lifetime
};

struct Entitlements {
  enum class Kind { principal, key, team, user };
  Kind kind = Kind::principal;
  bool everything = false;  // the master key: every right, no bound
  // Model group -> the name that reaches it (the group itself or an alias).
  // nullopt: every model.
  std::optional<std::map<std::string, std::string>> models;
  std::vector<std::string> routes;  // route entries, [] already spelled out
  std::map<std::string, std::string> route_tags;
  std::vector<BudgetRight> budgets;
  std::optional<int64_t> rpm_limit, tpm_limit, max_parallel_requests;
  std::map<std::string, int64_t> model_rpm_limit, model_tpm_limit;
  std::optional<TimePoint> expires;
  bool may_block = false, may_unblock = false;  // rights over other keys' `blocked`
};

// A caller: the master key (everything), or a virtual key narrowed by its
// team and user. Static keys and anonymous callers hold no admin right and
// get empty entitlements (no model, no route).
Entitlements entitlements_of(const Principal& p);
// What a record grants on its own (a key's team and user are not included:
// the record is what the caller writes).
Entitlements entitlements_of(const KeyRecord& k);
Entitlements entitlements_of(const TeamRecord& t);
Entitlements entitlements_of(const UserRecord& u);

// nullopt when `child` fits inside `parent`; else the 403 for the first
// dimension that does not.
std::optional<ApiError> check_subset(const Entitlements& child, const Entitlements& parent);

// A 403 privilege_escalation naming `field` (its `param`).
ApiError escalation(const std::string& field, std::string message);

// Nominal length of a budget period in seconds ("1mo" = 30 days); nullopt
// for "" (lifetime) or a value that is not a duration.
std::optional<int64_t> period_seconds(const std::string& duration);

}  // namespace tollgate
