#include "middleware/policy.h"

#include <algorithm>
#include <array>

namespace tollgate {
namespace {

// A route entry is a set of atoms: exact paths, or prefixes (that admit
// every path starting with them). Admission and coverage both read them, so
// a group means the same when a request is admitted and when it is granted.
struct Atom {
  std::string_view text;
  bool prefix;
};

// At most six atoms, held by value: admission runs on every request.
struct Atoms {
  std::array<Atom, 6> items{};
  std::size_t size = 0;
  const Atom* begin() const { return items.data(); }
  const Atom* end() const { return items.data() + size; }
};

Atoms atoms_of(std::string_view entry) {
  if (entry == "llm_api_routes" || entry == "openai_routes") {
    return {{{{"/v1/chat/", true}, {"/v1/completions", true}, {"/v1/embeddings", true}, {"/v1/messages", true},
              {"/v1/responses", true}, {"/v1/models", true}}},
            6};
  }
  if (entry == "info_routes") return {{{{"/key/info", false}, {"/team/info", false}, {"/user/info", false}}}, 3};
  if (entry == "management_routes") {
    return {{{{"/key/", true}, {"/team/", true}, {"/user/", true}, {"/customer/", true}, {"/end_user/", true}}}, 5};
  }
  if (entry == "spend_tracking_routes") return {{{{"/spend/", true}}}, 1};
  if (entry.size() > 2 && entry.ends_with("/*")) {
    entry.remove_suffix(1);  // keep the slash: "/key/*" admits "/key/x", not "/keyboard"
    return {{{{entry, true}}}, 1};
  }
  return {{{{entry, false}}}, 1};
}

bool admits(const Atom& a, std::string_view path) { return a.prefix ? path.starts_with(a.text) : path == a.text; }

bool entry_allows(std::string_view entry, std::string_view path) {
  const auto atoms = atoms_of(entry);
  return std::any_of(atoms.begin(), atoms.end(), [&](const Atom& a) { return admits(a, path); });
}

const std::vector<std::string>& default_routes() {
  static const std::vector<std::string> routes{"llm_api_routes", "info_routes"};
  return routes;
}

}  // namespace

bool model_list_allows(const std::vector<std::string>& models, const std::string& model) {
  if (models.empty()) return true;
  return std::any_of(models.begin(), models.end(),
                     [&](const std::string& m) { return m == model || m == "*" || m == "all-proxy-models"; });
}

std::vector<std::string> effective_routes(const std::vector<std::string>& allowed_routes) {
  return allowed_routes.empty() ? default_routes() : allowed_routes;
}

bool routes_allow(const std::vector<std::string>& allowed_routes, std::string_view path) {
  const auto& entries = allowed_routes.empty() ? default_routes() : allowed_routes;
  return std::any_of(entries.begin(), entries.end(), [&](const std::string& e) { return entry_allows(e, path); });
}

bool routes_cover(const std::vector<std::string>& allowed_routes, std::string_view entry) {
  const auto& entries = allowed_routes.empty() ? default_routes() : allowed_routes;
  for (const Atom& a : atoms_of(entry)) {
    const bool covered = std::any_of(entries.begin(), entries.end(), [&](const std::string& e) {
      for (const Atom& b : atoms_of(e)) {
        // An exact path is covered by any atom admitting it; a prefix only by
        // a prefix it extends (a set of exact paths never covers a prefix).
        if (a.prefix ? (b.prefix && a.text.starts_with(b.text)) : admits(b, a.text)) return true;
      }
      return false;
    });
    if (!covered) return false;
  }
  return true;
}

bool Policy::allowed(const Principal& p, const std::string& model) {
  if (p.is_master) return true;
  if (!model_list_allows(p.allowed_models, model)) return false;
  if (p.key && !model_list_allows(p.key->models, model)) return false;
  if (p.team && !model_list_allows(p.team->models, model)) return false;
  if (p.user && !model_list_allows(p.user->models, model)) return false;
  return true;
}

boost::asio::awaitable<Decision> Policy::on_request(RequestContext& ctx) {
  if (ctx.endpoint == Endpoint::admin || ctx.endpoint == Endpoint::health) co_return std::nullopt;
  if (ctx.principal && ctx.principal->key && !routes_allow(ctx.principal->key->allowed_routes, ctx.path)) {
    co_return ApiError::forbidden("This API key is not allowed to call " + ctx.path + ".");
  }
  if (ctx.endpoint != Endpoint::chat_completions && ctx.endpoint != Endpoint::completions &&
      ctx.endpoint != Endpoint::embeddings && ctx.endpoint != Endpoint::model) {
    co_return std::nullopt;
  }
  const Principal* p = ctx.principal ? &*ctx.principal : nullptr;
  bool via_alias = false;
  if (p && p->key) {
    if (auto it = p->key->aliases.find(ctx.requested_model); it != p->key->aliases.end()) {
      ctx.route_model = it->second;
      via_alias = true;
    }
  }
  const std::string& model = ctx.route_model.empty() ? ctx.requested_model : ctx.route_model;
  if (!config_->find_model(model)) {
    co_return ApiError::not_found("The model `" + ctx.requested_model + "` does not exist or you do not have access to it.",
                                  "model_not_found", "model");
  }
  // An alias the key was given is permission for its target too.
  if (p && !allowed(*p, model) && !(via_alias && allowed(*p, ctx.requested_model))) {
    co_return ApiError::forbidden("This API key is not allowed to use the model `" + ctx.requested_model + "`.");
  }
  co_return std::nullopt;
}

}  // namespace tollgate
