#include "admin/entitlements.h"

#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "admin/records_json.h"
#include "middleware/auth.h"
#include "middleware/policy.h"

namespace tollgate {
namespace {

using ModelSet = std::optional<std::set<std::string>>;  // nullopt: every model

bool means_all(const std::vector<std::string>& models) {
  return models.empty() || std::any_of(models.begin(), models.end(),
                                       [](const std::string& m) { return m == "*" || m == "all-proxy-models"; });
}

void narrow(ModelSet& acc, const std::vector<std::string>& models) {
  if (means_all(models)) return;
  std::set<std::string> listed(models.begin(), models.end());
  if (!acc) {
    acc = std::move(listed);
    return;
  }
  std::erase_if(*acc, [&](const std::string& m) { return !listed.count(m); });
}

// The model groups reachable with the allow-list `allowed` and the key's
// aliases, as Policy admits a request: a name routes through its alias when
// it has one, and is admitted when either the name or its target is allowed.
std::optional<std::map<std::string, std::string>> reachable(const ModelSet& allowed,
                                                           const std::map<std::string, std::string>& aliases) {
  if (!allowed) return std::nullopt;
  std::map<std::string, std::string> out;
  for (const auto& name : *allowed) {
    auto a = aliases.find(name);
    out.emplace(a == aliases.end() ? name : a->second, name);
  }
  for (const auto& [name, target] : aliases) {
    if (allowed->count(target)) out.emplace(target, name);
  }
  return out;
}

std::vector<std::string> key_routes(const std::vector<std::string>& allowed_routes) {
  auto routes = effective_routes(allowed_routes);
  if (std::find(routes.begin(), routes.end(), "info_routes") == routes.end()) routes.push_back("info_routes");
  return routes;
}

template <class T>
void narrow(std::optional<T>& acc, const std::optional<T>& v) {
  if (v && (!acc || *v < *acc)) acc = v;
}

void narrow(std::map<std::string, int64_t>& acc, const std::map<std::string, int64_t>& v) {
  for (const auto& [model, limit] : v) {
    auto [it, fresh] = acc.emplace(model, limit);
    if (!fresh) it->second = std::min(it->second, limit);
  }
}

void add_limits(Entitlements& e, const char* holder, const Limits& l) {
  if (l.max_budget) e.budgets.push_back({holder, *l.max_budget, l.budget_duration});
  narrow(e.rpm_limit, l.rpm_limit);
  narrow(e.tpm_limit, l.tpm_limit);
  narrow(e.max_parallel_requests, l.max_parallel_requests);
  narrow(e.model_rpm_limit, l.model_rpm_limit);
  narrow(e.model_tpm_limit, l.model_tpm_limit);
}

std::string usd(double v) { return fmt::format("${:.2f}", v); }

std::string per(const std::string& period) { return period.empty() ? " (lifetime)" : " per " + period; }

// Child period at least as long as the parent's: lifetime is the longest.
bool period_fits(const std::string& child, const std::string& parent) {
  if (parent.empty()) return child.empty();
  if (child.empty()) return true;
  const auto c = period_seconds(child), p = period_seconds(parent);
  return c && p && *c >= *p;
}

std::optional<ApiError> check_budgets(const Entitlements& child, const Entitlements& parent) {
  for (const auto& b : parent.budgets) {
    const auto fits = [&](const BudgetRight& c) { return c.max_usd <= b.max_usd + 1e-12 && period_fits(c.period, b.period); };
    if (std::any_of(child.budgets.begin(), child.budgets.end(), fits)) continue;
    const std::string yours = "your " + b.holder + "'s budget of " + usd(b.max_usd) + per(b.period);
    if (child.budgets.empty()) {
      return escalation("max_budget", "You cannot grant an unlimited 'max_budget': " + yours +
                                          " bounds you. Set max_budget at or below it.");
    }
    const auto within = std::find_if(child.budgets.begin(), child.budgets.end(),
                                     [&](const BudgetRight& c) { return c.max_usd <= b.max_usd + 1e-12; });
    if (within != child.budgets.end()) {
      return escalation("budget_duration",
                        "You cannot grant a 'budget_duration' of " +
                            (within->period.empty() ? std::string("lifetime") : "'" + within->period + "'") +
                            ": it is shorter than the period of " + yours +
                            ", so the budget would refill faster than yours. Use " +
                            (b.period.empty() ? std::string("no budget_duration (lifetime)") : "'" + b.period + "' or longer") +
                            ".");
    }
    return escalation("max_budget", "You cannot grant a 'max_budget' of " + usd(child.budgets.front().max_usd) +
                                        ": it is above " + yours + ".");
  }
  return std::nullopt;
}

template <class T>
std::optional<ApiError> within(const char* field, const std::optional<T>& bound, const std::optional<T>& asked) {
  if (!bound) return std::nullopt;
  if (!asked) {
    return escalation(field, "You cannot grant an unlimited '" + std::string(field) + "': yours is " +
                                 std::to_string(*bound) + ". Set it at or below yours.");
  }
  if (*asked > *bound) {
    return escalation(field, "You cannot grant a '" + std::string(field) + "' of " + std::to_string(*asked) +
                                 ": it is above yours (" + std::to_string(*bound) + ").");
  }
  return std::nullopt;
}

std::optional<ApiError> within_per_model(const char* field, const std::map<std::string, int64_t>& bound,
                                         const std::map<std::string, int64_t>& asked,
                                         const std::optional<int64_t>& asked_overall) {
  for (const auto& [model, limit] : bound) {
    std::optional<int64_t> effective = asked_overall;
    if (auto it = asked.find(model); it != asked.end()) narrow(effective, std::optional<int64_t>(it->second));
    if (!effective || *effective > limit) {
      return escalation(field, "You cannot grant more than " + std::to_string(limit) + " for the model `" + model +
                                   "` in '" + field + "': that is your own limit.");
    }
  }
  return std::nullopt;
}

std::optional<ApiError> check_models(const Entitlements& child, const Entitlements& parent) {
  if (!parent.models) return std::nullopt;
  if (!child.models) {
    return escalation("models", "You cannot grant access to every model: list models from your own allow-list.");
  }
  for (const auto& [group, via] : *child.models) {
    if (parent.models->count(group)) continue;
    if (via == group) {
      return escalation("models", "You cannot grant the model `" + group + "`: it is not in your own allow-list.");
    }
    return escalation("aliases", "You cannot grant the alias `" + via + "` -> `" + group + "`: the model `" + group +
                                     "` is not in your own allow-list.");
  }
  return std::nullopt;
}

std::optional<ApiError> check_key_rights(const Entitlements& child, const Entitlements& parent) {
  for (const auto& entry : child.routes) {
    if (routes_cover(parent.routes, entry)) continue;
    const bool implied = entry == "llm_api_routes" || entry == "info_routes";
    return escalation("allowed_routes", "You cannot grant the route '" + entry + "': you do not hold it" +
                                            (implied ? " (an empty allowed_routes means llm_api_routes and info_routes)"
                                                     : "") +
                                            ".");
  }
  for (const auto& [tag, value] : parent.route_tags) {
    auto it = child.route_tags.find(tag);
    if (it == child.route_tags.end() || it->second != value) {
      return escalation("metadata.route_tags", "You cannot grant a key without the route tag " + tag + "=" + value +
                                                   ": your own key is pinned to it. Keep metadata.route_tags." + tag +
                                                   " = \"" + value + "\".");
    }
  }
  if (parent.expires && (!child.expires || *child.expires > *parent.expires)) {
    return escalation("duration", "You cannot grant a key that outlives your own, which expires at " +
                                      iso8601(*parent.expires) + ": set 'duration' so that it expires no later.");
  }
  return std::nullopt;
}

}  // namespace

ApiError escalation(const std::string& field, std::string message) {
  ApiError e = ApiError::forbidden(std::move(message), "privilege_escalation");
  e.param = field;
  return e;
}

std::optional<int64_t> period_seconds(const std::string& duration) {
  std::size_t digits = 0;
  while (digits < duration.size() && std::isdigit(static_cast<unsigned char>(duration[digits]))) ++digits;
  if (digits == 0 || digits > 9) return std::nullopt;
  const int64_t n = std::stoll(duration.substr(0, digits));
  const std::string unit = duration.substr(digits);
  static const std::map<std::string, int64_t> seconds{
      {"s", 1}, {"m", 60}, {"h", 3600}, {"d", 86400}, {"w", 7 * 86400}, {"mo", 30 * 86400}};
  auto it = seconds.find(unit);
  if (it == seconds.end()) return std::nullopt;
  return n * it->second;
}

Entitlements entitlements_of(const Principal& p) {
  Entitlements e;
  if (p.is_master) {
    e.everything = e.may_block = e.may_unblock = true;
    return e;
  }
  e.models.emplace();  // no key: nothing to grant
  if (!p.key) return e;
  ModelSet allowed;
  narrow(allowed, p.key->models);
  if (p.team) narrow(allowed, p.team->models);
  if (p.user) narrow(allowed, p.user->models);
  e.models = reachable(allowed, p.key->aliases);
  e.routes = key_routes(p.key->allowed_routes);
  e.route_tags = p.route_tags;
  add_limits(e, "key", p.key->limits);
  if (p.team) add_limits(e, "team", p.team->limits);
  if (p.user) add_limits(e, "user", p.user->limits);
  e.expires = p.key->expires;
  e.may_block = routes_allow(p.key->allowed_routes, "/key/block");
  e.may_unblock = routes_allow(p.key->allowed_routes, "/key/unblock");
  return e;
}

Entitlements entitlements_of(const KeyRecord& k) {
  Entitlements e;
  e.kind = Entitlements::Kind::key;
  ModelSet allowed;
  narrow(allowed, k.models);
  e.models = reachable(allowed, k.aliases);
  e.routes = key_routes(k.allowed_routes);
  e.route_tags = key_route_tags(k);
  add_limits(e, "key", k.limits);
  e.expires = k.expires;
  return e;
}

namespace {

// A team's or a user's rights: its models (no aliases of its own) and limits.
template <class Record>
Entitlements group_entitlements(Entitlements::Kind kind, const char* holder, const Record& r) {
  Entitlements e;
  e.kind = kind;
  ModelSet allowed;
  narrow(allowed, r.models);
  e.models = reachable(allowed, {});
  add_limits(e, holder, r.limits);
  return e;
}

}  // namespace

Entitlements entitlements_of(const TeamRecord& t) {
  return group_entitlements(Entitlements::Kind::team, "team", t);
}

Entitlements entitlements_of(const UserRecord& u) {
  return group_entitlements(Entitlements::Kind::user, "user", u);
}

std::optional<ApiError> check_subset(const Entitlements& child, const Entitlements& parent) {
  if (parent.everything) return std::nullopt;
  if (auto e = check_models(child, parent)) return e;
  if (auto e = check_budgets(child, parent)) return e;
  if (auto e = within("rpm_limit", parent.rpm_limit, child.rpm_limit)) return e;
  if (auto e = within("tpm_limit", parent.tpm_limit, child.tpm_limit)) return e;
  if (auto e = within("max_parallel_requests", parent.max_parallel_requests, child.max_parallel_requests)) return e;
  if (auto e = within_per_model("model_rpm_limit", parent.model_rpm_limit, child.model_rpm_limit, child.rpm_limit)) return e;
  if (auto e = within_per_model("model_tpm_limit", parent.model_tpm_limit, child.model_tpm_limit, child.tpm_limit)) return e;
  if (child.kind == Entitlements::Kind::key) return check_key_rights(child, parent);
  return std::nullopt;
}

}  // namespace tollgate
