#include "middleware/policy.h"

#include <algorithm>

namespace tollgate {
namespace {

bool is_llm_route(std::string_view path) {
  return path.starts_with("/v1/chat/") || path.starts_with("/v1/completions") || path.starts_with("/v1/embeddings") ||
         path.starts_with("/v1/messages") || path.starts_with("/v1/models");
}

bool is_info_route(std::string_view path) {
  return path == "/key/info" || path == "/team/info" || path == "/user/info";
}

bool is_management_route(std::string_view path) {
  return path.starts_with("/key/") || path.starts_with("/team/") || path.starts_with("/user/") ||
         path.starts_with("/customer/") || path.starts_with("/end_user/");
}

bool entry_allows(std::string_view entry, std::string_view path) {
  if (entry == "llm_api_routes" || entry == "openai_routes") return is_llm_route(path);
  if (entry == "info_routes") return is_info_route(path);
  if (entry == "management_routes") return is_management_route(path);
  if (entry == "spend_tracking_routes") return path.starts_with("/spend/");
  if (entry.size() > 2 && entry.ends_with("/*")) {
    entry.remove_suffix(1);  // keep the slash: "/key/*" admits "/key/x", not "/keyboard"
    return path.starts_with(entry);
  }
  return entry == path;
}

}  // namespace

bool model_list_allows(const std::vector<std::string>& models, const std::string& model) {
  if (models.empty()) return true;
  return std::any_of(models.begin(), models.end(),
                     [&](const std::string& m) { return m == model || m == "*" || m == "all-proxy-models"; });
}

bool routes_allow(const std::vector<std::string>& allowed_routes, std::string_view path) {
  if (allowed_routes.empty()) return is_llm_route(path) || is_info_route(path);
  return std::any_of(allowed_routes.begin(), allowed_routes.end(),
                     [&](const std::string& e) { return entry_allows(e, path); });
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
