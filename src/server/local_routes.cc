#include "server/local_routes.h"

#include <ctime>

#include <nlohmann/json.hpp>

#include "admin/admin_api.h"
#include "api/responses_routes.h"
#include "middleware/policy.h"

namespace tollgate {

namespace http = boost::beast::http;
using nlohmann::json;

namespace {

// Decodes %XX in a path segment (model ids may contain '/' as %2F).
std::string percent_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

ApiError method_not_allowed(std::string_view method, const std::string& path, const char* allowed) {
  return {405, "invalid_request_error", "method_not_allowed",
          "Method " + std::string(method) + " is not allowed on " + path + "; use " + allowed + ".", {}, {}};
}

const int64_t kStartedAt = static_cast<int64_t>(std::time(nullptr));

}  // namespace

Route resolve_route(http::verb method, std::string_view target) {
  Route r;
  std::string_view path = target.substr(0, target.find('?'));
  if (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  const std::string_view m = http::to_string(method);

  if (path == "/health/liveliness" || path == "/health/liveness" || path == "/health/readiness" || path == "/" ||
      path == "/health" || path == "/metrics") {
    r.path = std::string(path);
    r.endpoint = Endpoint::health;
    r.local = true;
    if (method != http::verb::get && method != http::verb::head) r.error = method_not_allowed(m, r.path, "GET");
    if (r.error) r.local = false;
    return r;
  }
  // The admin API (LiteLLM's paths, no /v1); AdminApi checks methods.
  for (std::string_view prefix : {"/key/", "/team/", "/user/", "/customer/", "/spend/"}) {
    if (path.starts_with(prefix)) {
      // /key/{key}/regenerate carries a raw key, and a client may paste one
      // into any path: the path that logs, spans and rows record names the
      // route, never what the client put there (AdminApi reads the target
      // itself).
      r.path = AdminApi::recorded_path(path);
      r.endpoint = Endpoint::admin;
      return r;
    }
  }
  std::string p = path.starts_with("/v1/") ? std::string(path) : "/v1" + std::string(path);
  r.path = p;
  auto expect = [&](http::verb want, Endpoint e) {
    r.endpoint = e;
    if (method != want) r.error = method_not_allowed(m, p, want == http::verb::post ? "POST" : "GET");
  };
  if (p == "/v1/chat/completions") {
    expect(http::verb::post, Endpoint::chat_completions);
  } else if (p == "/v1/completions") {
    expect(http::verb::post, Endpoint::completions);
  } else if (p == "/v1/embeddings") {
    expect(http::verb::post, Endpoint::embeddings);
  } else if (p == "/v1/messages") {
    expect(http::verb::post, Endpoint::messages);
  } else if (p == "/v1/messages/count_tokens") {
    expect(http::verb::post, Endpoint::count_tokens);
  } else if (p == "/v1/responses") {
    expect(http::verb::post, Endpoint::responses);
  } else if (p == "/v1/models") {
    expect(http::verb::get, Endpoint::models);
  } else if (auto rp = parse_responses_path(p); rp.kind != ResponsesPath::Kind::none) {
    // The path recorded (logs, metrics, rows) names the route, not the id.
    if (rp.kind == ResponsesPath::Kind::input_tokens) {
      expect(http::verb::post, Endpoint::response_input_tokens);
    } else if (rp.kind == ResponsesPath::Kind::input_items) {
      r.path = "/v1/responses/{id}/input_items";
      r.endpoint = Endpoint::response_input_items;
      if (method != http::verb::get) r.error = method_not_allowed(m, r.path, "GET");
    } else {
      r.path = "/v1/responses/{id}";
      r.endpoint = Endpoint::response_object;
      if (method != http::verb::get && method != http::verb::delete_) r.error = method_not_allowed(m, r.path, "GET or DELETE");
    }
  } else if (p.starts_with("/v1/models/") && p.size() > 11) {
    expect(http::verb::get, Endpoint::model);
    r.model_id = percent_decode(std::string_view(p).substr(11));
  } else {
    r.error = ApiError::not_found("Unknown request URL: " + std::string(m) + " " + std::string(path) +
                                      ". Please check the URL for typos.",
                                  "unknown_url");
  }
  return r;
}

LocalReply local_reply(const Route& route, const SharedState& state, const Config& config) {
  LocalReply r;
  if (route.path == "/health/readiness") {
    const bool draining = state.draining.load();
    r.status = draining ? 503 : 200;
    r.body = json{{"status", draining ? "draining" : "ready"},
                  {"models", config.models.size()},
                  {"version", TOLLGATE_VERSION}}
                 .dump();
    return r;
  }
  if (route.path == "/") {
    r.body = json{{"name", "tollgate"}, {"version", TOLLGATE_VERSION}}.dump();
    return r;
  }
  r.body = json{{"status", "healthy"}}.dump();
  return r;
}

LocalReply models_reply(const Route& route, const RequestContext& ctx, const Config& config) {
  auto entry = [](const ModelConfig& m) {
    return json{{"id", m.name}, {"object", "model"}, {"created", kStartedAt}, {"owned_by", "tollgate"}};
  };
  LocalReply r;
  if (route.endpoint == Endpoint::model) {
    // Policy already answered 404/403 for unknown or forbidden ids and
    // resolved a key's alias to its target; the client sees the name it used.
    const std::string& target = ctx.route_model.empty() ? route.model_id : ctx.route_model;
    const auto* m = config.find_model(target);
    if (!m) {
      r.status = 404;
      r.body = ApiError::not_found("The model `" + route.model_id + "` does not exist.", "model_not_found", "model").body();
      return r;
    }
    json e = entry(*m);
    e["id"] = route.model_id;
    r.body = e.dump();
    return r;
  }
  json data = json::array();
  for (const auto& m : config.models) {
    if (!ctx.principal || Policy::allowed(*ctx.principal, m.name)) data.push_back(entry(m));
  }
  r.body = json{{"object", "list"}, {"data", data}}.dump();
  return r;
}

}  // namespace tollgate
