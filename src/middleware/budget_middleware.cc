#include "middleware/budget_middleware.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "accounting/request_cost.h"
#include "accounting/token_estimate.h"

namespace tollgate {

using nlohmann::json;

namespace {

bool is_llm(Endpoint e) {
  return e == Endpoint::chat_completions || e == Endpoint::completions || e == Endpoint::embeddings;
}

BudgetScope scope_of(std::string id, const Limits& l, double stored_spend) {
  BudgetScope s;
  s.id = std::move(id);
  s.max_budget = l.max_budget;
  s.soft_budget = l.soft_budget;
  s.duration = l.budget_duration;
  s.reset_at = l.budget_reset_at;
  s.stored_spend = stored_spend;
  return s;
}

std::optional<int64_t> requested_output_limit(JsonView body) {
  for (const char* k : {"max_completion_tokens", "max_tokens"}) {
    const JsonView v = body[k];
    if (v.is_number_integer() && v.as_int64() >= 0) return v.as_int64();
  }
  return std::nullopt;
}

// An upper bound of the prompt's tokens: a token covers at least one byte of
// text, and images (which are not text) count at the estimator's rate.
// The members' bytes as sent are bounded by the body limit, so the sum fits.
int64_t prompt_token_bound(const RequestContext& ctx) {
  int64_t bound = 16;
  for (const char* k : {"messages", "prompt", "input", "tools", "system"}) {
    bound += static_cast<int64_t>(ctx.body.member_bytes(k));
  }
  if (const JsonView m = ctx.body["messages"]; m.present()) bound += estimate_chat_prompt_tokens(m);
  return bound;
}

std::string describe(const std::string& scope) {
  auto colon = scope.find(':');
  if (colon == std::string::npos) return scope;
  std::string kind = scope.substr(0, colon);
  if (kind == "end_user") kind = "end user";
  return kind + " '" + scope.substr(colon + 1) + "'";
}

// A budget as its owner knows it: by alias when there is one.
std::string scope_name(const Directory& dir, const std::string& scope) {
  if (scope.starts_with("key:")) {
    if (auto k = dir.key_by_id(scope.substr(4)); k && !k->key_alias.empty()) return "key '" + k->key_alias + "'";
  } else if (scope.starts_with("team:")) {
    if (auto t = dir.team(scope.substr(5)); t && !t->team_alias.empty()) return "team '" + t->team_alias + "'";
  }
  return describe(scope);
}

}  // namespace

std::vector<BudgetScope> budget_scopes(const Config& config, const Directory& dir, const std::string& key_id,
                                       const std::string& team_id, const std::string& user_id,
                                       const std::string& end_user) {
  std::vector<BudgetScope> scopes;
  // The stored spend of a scope lacks what keys drawing on it spent (they
  // are booked on their own key): add it, so a budget seeded after a restart
  // still counts them.
  auto add = [&](const std::string& id, const Limits& l, double spend) {
    if (std::none_of(scopes.begin(), scopes.end(), [&](const BudgetScope& s) { return s.id == id; })) {
      scopes.push_back(scope_of(id, l, spend + dir.drawn_spend(id)));
    }
  };
  auto add_team = [&](const std::string& id) {
    if (id.empty()) return;
    auto t = dir.team(id);
    add("team:" + id, t ? t->limits : Limits{}, t ? t->spend : 0);
  };
  auto add_user = [&](const std::string& id) {
    if (id.empty()) return;
    auto u = dir.user(id);
    add("user:" + id, u ? u->limits : Limits{}, u ? u->spend : 0);
  };
  if (!key_id.empty()) {
    auto k = dir.key_by_id(key_id);
    add("key:" + key_id, k ? k->limits : Limits{}, k ? k->spend : 0);
  }
  add_team(team_id);
  add_user(user_id);
  // A key minted by another key draws on the budgets of the key that minted
  // it (and of that key's team and user), up the chain: children together
  // cannot spend more than their parent may.
  if (!key_id.empty()) {
    for (const auto& a : dir.ancestors(key_id)) {
      add("key:" + a->key_id, a->limits, a->spend);
      add_team(a->team_id);
      add_user(a->user_id);
    }
  }
  if (!end_user.empty()) {
    auto e = dir.end_user(end_user);
    Limits l = e ? e->limits : Limits{};
    if (!l.max_budget && config.budgets.end_user_max_budget) {
      l.max_budget = config.budgets.end_user_max_budget;
      l.budget_duration = config.budgets.end_user_budget_duration;
    }
    // Clients name end users: without a budget for this one there is nothing
    // to enforce, and tracking it would let a client grow the book at will
    // (its spend is on its rows either way).
    if (l.max_budget || l.soft_budget) {
      BudgetScope scope = scope_of("end_user:" + end_user, l, e ? e->spend : 0);
      scope.evictable = true;
      scopes.push_back(std::move(scope));
    }
  }
  return scopes;
}

double BudgetMiddleware::worst_case_cost(const RequestContext& ctx, std::optional<int64_t>* inject) const {
  const std::string& first = ctx.route_model.empty() ? ctx.requested_model : ctx.route_model;
  std::vector<std::string> groups{first};
  if (const auto* m = config_->find_model(first)) groups.insert(groups.end(), m->fallbacks.begin(), m->fallbacks.end());
  const int64_t prompt = prompt_token_bound(ctx);
  const auto asked = requested_output_limit(ctx.body.view());
  const bool embeddings = ctx.endpoint == Endpoint::embeddings;
  double worst = 0;
  bool needs_default = false;
  for (const auto& g : groups) {
    const auto* model = config_->find_model(g);
    if (!model) continue;
    for (const auto& d : model->deployments) {
      std::optional<ModelPrice> price;
      if (model->price) {
        price = price_from_config(*model->price);
      } else {
        const auto* p = config_->find_provider(d.provider);
        // The adapter's kind is the profile for OpenAI-compatible providers;
        // a miss on "kind/model" still tries the bare model id.
        price = prices_->find(p ? (p->profile.empty() ? std::string(to_string(p->type)) : p->profile) : "", d.model);
      }
      if (!price) continue;
      int64_t output = 0;
      if (!embeddings) {
        if (asked) {
          output = *asked;
        } else if (price->max_output_tokens) {
          output = *price->max_output_tokens;
        } else {
          output = config_->budgets.default_max_output_tokens;
          needs_default = true;
        }
      }
      Usage u;
      u.prompt_tokens = prompt;
      u.completion_tokens = output;
      worst = std::max(worst, cost_usd(u, *price));
    }
  }
  if (inject && needs_default) *inject = config_->budgets.default_max_output_tokens;
  return worst;
}

boost::asio::awaitable<Decision> BudgetMiddleware::on_request(RequestContext& ctx) {
  if (!is_llm(ctx.endpoint) || !ctx.principal) co_return std::nullopt;
  const auto dir = directory_ ? directory_->get() : Directory::empty();
  const Principal& p = *ctx.principal;
  std::vector<BudgetScope> scopes;
  if (p.key) {
    scopes = budget_scopes(*config_, *dir, p.key->key_id, p.key->team_id, p.key->user_id, ctx.end_user);
  } else {
    scopes = budget_scopes(*config_, *dir, "", "", "", ctx.end_user);
  }
  if (scopes.empty()) co_return std::nullopt;
  const bool limited = std::any_of(scopes.begin(), scopes.end(), [](const BudgetScope& s) { return s.max_budget.has_value(); });
  std::optional<int64_t> inject;
  const double amount = worst_case_cost(ctx, limited ? &inject : nullptr);
  const auto ttl = std::chrono::milliseconds(config_->budgets.reservation_ttl_ms > 0 ? config_->budgets.reservation_ttl_ms
                                                                                   : config_->router.total_ms + 60'000);
  auto result = book_->reserve(scopes, amount, ttl);
  if (auto* denial = std::get_if<BudgetBook::Denial>(&result)) {
    std::string name = scope_name(*dir, denial->scope);
    if (p.key && denial->scope != "key:" + p.key->key_id && denial->scope != "team:" + p.key->team_id &&
        denial->scope != "user:" + p.key->user_id && !denial->scope.starts_with("end_user:")) {
      name += " (this key was minted under it and draws on its budget)";
    }
    co_return ApiError::budget_exceeded(fmt::format(
        "Budget exceeded for {}: ${:.6f} spent and ${:.6f} reserved by requests in flight, of a ${:.6f} budget; this "
        "request may cost up to ${:.6f}.",
        name, denial->spent, denial->reserved, denial->max_budget, denial->requested));
  }
  ctx.budget_reservation = std::get<BudgetBook::Reservation>(result).id;
  ctx.reserved_usd = amount;
  if (inject && ctx.endpoint != Endpoint::embeddings) {
    ctx.body.set("max_tokens", *inject);
    ctx.notes.push_back("max_tokens set to " + std::to_string(*inject) + " (budget reservation)");
  }
  co_return std::nullopt;
}

void BudgetMiddleware::on_complete(const RequestContext& ctx) {
  if (!ctx.budget_reservation) return;
  const auto settlement = book_->settle(BudgetBook::Reservation{ctx.budget_reservation}, ctx.cost_usd.value_or(0.0));
  for (const auto& scope : settlement.soft_budget_crossed) {
    spdlog::warn("[{}] soft budget crossed for {}", ctx.request_id, describe(scope));
  }
}

}  // namespace tollgate
