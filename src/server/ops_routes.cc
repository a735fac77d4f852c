#include "server/ops_routes.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <cctype>
#include <set>

#include <nlohmann/json.hpp>

#include "observability/gateway_metrics.h"
#include "router/deployment_state.h"

namespace tollgate {

namespace {

using json = nlohmann::json;

LocalReply error_reply(const ApiError& e) {
  LocalReply r;
  r.status = e.status;
  r.body = e.body();
  return r;
}

std::string presented(const RequestContext& ctx) {
  // The scheme is case-insensitive (RFC 9110), as in the auth middleware.
  constexpr std::string_view kBearer = "bearer ";
  const auto& a = ctx.authorization;
  if (a.size() > kBearer.size() &&
      std::equal(kBearer.begin(), kBearer.end(), a.begin(),
                 [](char x, char y) { return x == std::tolower(static_cast<unsigned char>(y)); })) {
    return a.substr(kBearer.size());
  }
  return ctx.x_api_key;
}

// A base URL without userinfo or query, which could hold credentials.
std::string public_base(const std::string& url) {
  std::string out = url.substr(0, url.find_first_of("?#"));
  const auto scheme = out.find("://");
  const auto host_start = scheme == std::string::npos ? 0 : scheme + 3;
  const auto at = out.find('@', host_start);
  const auto slash = out.find('/', host_start);
  if (at != std::string::npos && (slash == std::string::npos || at < slash)) out.erase(host_start, at + 1 - host_start);
  return out;
}

}  // namespace

bool presents_secret(const RequestContext& ctx, const std::string& secret) {
  const std::string got = presented(ctx);
  return !secret.empty() && got.size() == secret.size() && CRYPTO_memcmp(got.data(), secret.data(), got.size()) == 0;
}

LocalReply metrics_reply(const RequestContext& ctx, SharedState& state, const Config& config) {
  if (!config.metrics.enabled || !state.metrics) {
    return error_reply(ApiError::not_found("Metrics are disabled (metrics.enabled: false).", "unknown_url"));
  }
  if (!config.metrics.bearer_token.empty() && !presents_secret(ctx, config.metrics.bearer_token)) {
    return error_reply(ApiError::unauthorized("GET /metrics needs the metrics bearer token (metrics.bearer_token)."));
  }
  LocalReply r;
  std::set<std::string> ids;
  for (const auto& m : config.models) {
    for (const auto& d : m.deployments) ids.insert(d.id);
  }
  r.body = state.metrics->render(ids);
  r.headers.emplace_back("content-type", std::string(MetricsRegistry::kContentType));
  return r;
}

LocalReply health_reply(const RequestContext& ctx, const SharedState& state, const Config& config) {
  if (!config.master_key.empty() && !presents_secret(ctx, config.master_key)) {
    return error_reply(ApiError::unauthorized("GET /health needs the master key; /health/liveliness and "
                                              "/health/readiness are open."));
  }
  const auto now = state.deployments->now();
  json deployments = json::array();
  std::size_t usable = 0, total = 0;
  for (const auto& model : config.models) {
    for (const auto& d : model.deployments) {
      const auto s = state.deployments->get(d.id)->snapshot(now);
      ++total;
      const bool failing_check = s.health_check_ok && !*s.health_check_ok;
      if (s.state != CircuitState::open && !failing_check) ++usable;
      const auto* provider = config.find_provider(d.provider);
      json entry = {
          {"id", d.id},
          {"model_group", model.name},
          {"provider", d.provider},
          {"model", d.model},
          {"api_base", provider ? public_base(provider->base_url) : ""},
          {"state", to_string(s.state)},
          {"cooldown_remaining_ms", s.cooldown_remaining.count()},
          {"in_flight", s.in_flight},
          {"consecutive_failures", s.consecutive_failures},
          {"cooldowns", s.cooldowns},
          {"latency_ewma_ms", s.latency_ewma_ms ? json(*s.latency_ewma_ms) : json(nullptr)},
          {"ttft_ewma_ms", s.ttft_ewma_ms ? json(*s.ttft_ewma_ms) : json(nullptr)},
          {"requests_this_minute", s.minute_requests},
          {"tokens_this_minute", s.minute_tokens},
          {"last_error", s.last_error.empty() ? json(nullptr) : json(s.last_error)},
          {"health_check", !s.health_check_ok ? "off" : *s.health_check_ok ? "ok" : "failing"},
      };
      if (!d.tags.empty()) entry["tags"] = d.tags;
      deployments.push_back(std::move(entry));
    }
  }
  const char* status = usable == total ? "healthy" : usable == 0 ? "unhealthy" : "degraded";
  LocalReply r;
  r.status = usable == 0 && total > 0 ? 503 : 200;
  r.body = json{{"status", status},
                {"healthy_count", usable},
                {"unhealthy_count", total - usable},
                {"deployments", std::move(deployments)}}
               .dump(-1, ' ', false, json::error_handler_t::replace);
  r.headers.emplace_back("content-type", "application/json");
  return r;
}

}  // namespace tollgate
