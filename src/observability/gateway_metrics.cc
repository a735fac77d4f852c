#include "observability/gateway_metrics.h"

namespace tollgate {

namespace {

double seconds(std::chrono::microseconds d) { return static_cast<double>(d.count()) / 1e6; }

}  // namespace

GatewayMetrics::GatewayMetrics(std::shared_ptr<DeploymentRegistry> deployments, Sources sources)
    : deployments_(std::move(deployments)),
      requests_(registry_.counter("tollgate_requests_total", "Requests answered, by model, deployment and outcome.",
                                  {"model", "deployment", "provider", "status", "key_alias"})),
      duration_(registry_.histogram("tollgate_request_duration_seconds",
                                    "Total request latency as the client saw it.", {"model"})),
      upstream_(registry_.histogram("tollgate_upstream_duration_seconds", "Latency of each upstream attempt.",
                                    {"provider", "deployment"})),
      overhead_(registry_.histogram("tollgate_gateway_overhead_seconds",
                                    "Time spent in the gateway itself (total minus upstream).")),
      ttft_(registry_.histogram("tollgate_time_to_first_token_seconds",
                                "Time to the first byte sent to the client.", {"model"})),
      tokens_(registry_.counter("tollgate_tokens_total", "Tokens by model, provider and type.",
                                {"model", "provider", "type"})),
      cost_(registry_.counter("tollgate_cost_usd_total", "Spend in USD at the configured prices.",
                              {"model", "provider", "key_alias"})),
      errors_(registry_.counter("tollgate_errors_total", "Error responses by error type or code.", {"class"})),
      internal_errors_(registry_.counter("tollgate_internal_errors_total",
                                         "Failures inside the gateway, answered as internal_error.")),
      refused_connections_(registry_.counter("tollgate_connections_refused_total",
                                             "Connections refused because server.max_connections were open.")),
      retries_(registry_.counter("tollgate_retries_total", "Attempts retried after a failure, by failure class.",
                                 {"deployment", "class"})),
      fallbacks_(registry_.counter("tollgate_fallbacks_total", "Requests that moved to a fallback model group.",
                                   {"from", "to", "kind"})),
      circuit_(registry_.gauge("tollgate_deployment_circuit_state",
                               "Circuit breaker state: 0 closed, 1 open (cooling down), 2 half open (probing).",
                               {"deployment"})),
      cooldowns_(registry_.counter("tollgate_deployment_cooldowns_total", "Times a deployment's circuit opened.",
                                   {"deployment"})),
      deployment_in_flight_(registry_.gauge("tollgate_deployment_in_flight", "Upstream attempts in flight.",
                                            {"deployment"})),
      health_failures_(registry_.counter("tollgate_health_check_failures_total", "Failed active health checks.",
                                         {"deployment"})),
      reloads_(registry_.counter("tollgate_config_reloads_total", "Config reloads by result.", {"result"})),
      database_(registry_.histogram("tollgate_database_duration_seconds", "Database calls by kind.", {"operation"})) {
  auto gauge = [&](const char* name, const char* help, const std::function<double()>& read) {
    if (read) registry_.gauge_callback(name, help, read);
  };
  gauge("tollgate_in_flight_requests", "Requests being served.", sources.in_flight);
  gauge("tollgate_open_connections", "Open client connections.", sources.open_connections);
  gauge("tollgate_ledger_spool_bytes", "Spend rows queued or spooled, not shipped yet (bytes).", sources.spool_bytes);
  gauge("tollgate_ledger_pending_rows", "Spend rows not shipped to the database yet.", sources.pending_rows);
  gauge("tollgate_ledger_shipping_lag_seconds", "Age of the oldest spend row not shipped yet (0: none).",
        sources.shipping_lag_seconds);
  gauge("tollgate_config_generation", "Config generation serving new requests (1 at start, +1 per reload).",
        sources.config_generation);
  if (sources.traces_dropped) {
    registry_.counter_callback("tollgate_traces_dropped_total", "Spans dropped (export queue full).",
                               sources.traces_dropped);
  }
  reloads_.add({"success"}, 0);
  reloads_.add({"failure"}, 0);
  internal_errors_.add({}, 0);
  refused_connections_.add({}, 0);
}

void GatewayMetrics::internal_error() { internal_errors_.add({}); }

void GatewayMetrics::connection_refused() { refused_connections_.add({}); }

namespace {

// An error type or code as a label: the gateway's and the providers' codes
// are short snake_case words; anything else (an upstream's free text) is "other".
std::string error_label(const std::string& code) {
  if (code.empty() || code.size() > 64) return "other";
  for (char c : code) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-')) return "other";
  }
  return code;
}

}  // namespace

void GatewayMetrics::request_completed(const RequestContext& ctx, const Config& config) {
  // Model names come from the config: the group that served the request, or
  // the configured model a refused request named; anything a client made up
  // is "other".
  const std::string& asked = ctx.route_model.empty() ? ctx.requested_model : ctx.route_model;
  const std::string model = !ctx.model_group.empty() ? ctx.model_group
                            : asked.empty()          ? std::string()
                            : config.find_model(asked) ? asked
                                                       : std::string("other");
  const std::string key = ctx.principal ? ctx.principal->key_name : "";
  const std::string status = std::to_string(ctx.status);
  requests_.add({model, ctx.deployment_id, ctx.provider_name, status, key});
  const auto end = ctx.end.value_or(RequestContext::Clock::now());
  const double total = std::chrono::duration<double>(end - ctx.start).count();
  duration_.observe({model}, total);
  overhead_.observe(std::max(0.0, total - seconds(ctx.upstream_time)));
  if (ctx.first_byte && ctx.status == 200) {
    ttft_.observe({model}, std::chrono::duration<double>(*ctx.first_byte - ctx.start).count());
  }
  const auto& u = ctx.usage;
  if (u.total_tokens() > 0) {
    tokens_.add({model, ctx.provider_name, "prompt"}, static_cast<double>(u.prompt_tokens));
    tokens_.add({model, ctx.provider_name, "completion"}, static_cast<double>(u.completion_tokens));
    if (u.cached_tokens) tokens_.add({model, ctx.provider_name, "cached"}, static_cast<double>(u.cached_tokens));
    if (u.reasoning_tokens) tokens_.add({model, ctx.provider_name, "reasoning"}, static_cast<double>(u.reasoning_tokens));
  }
  if (ctx.cost_usd && *ctx.cost_usd > 0) cost_.add({model, ctx.provider_name, key}, *ctx.cost_usd);
  if (ctx.status >= 400 && !ctx.error_type.empty()) errors_.add({error_label(ctx.error_type)});
}

void GatewayMetrics::upstream_attempt(const std::string& provider, const std::string& deployment,
                                      std::chrono::microseconds elapsed) {
  upstream_.observe({provider, deployment}, seconds(elapsed));
}

void GatewayMetrics::retry(const std::string& deployment, const char* failure_class) {
  retries_.add({deployment, failure_class});
}

void GatewayMetrics::fallback(const std::string& from, const std::string& to, const char* kind) {
  fallbacks_.add({from, to, kind});
}

void GatewayMetrics::health_check_failed(const std::string& deployment) { health_failures_.add({deployment}); }

void GatewayMetrics::config_reload(bool ok) { reloads_.add({ok ? "success" : "failure"}); }

void GatewayMetrics::database_call(const char* operation, std::chrono::microseconds elapsed) {
  database_.observe({operation}, seconds(elapsed));
}

std::string GatewayMetrics::render(const std::set<std::string>& deployment_ids) {
  {
    std::lock_guard lock(render_mu_);
    const auto now = deployments_->now();
    for (const auto& [id, state] : deployments_->all()) {
      if (!deployment_ids.count(id)) {
        circuit_.remove({id});
        deployment_in_flight_.remove({id});
        continue;
      }
      const auto s = state->snapshot(now);
      circuit_.set({id}, static_cast<double>(static_cast<int>(s.state)));
      deployment_in_flight_.set({id}, static_cast<double>(s.in_flight));
      auto& seen = cooldowns_seen_[id];
      cooldowns_.add({id}, static_cast<double>(s.cooldowns - seen));
      seen = s.cooldowns;
    }
  }
  return registry_.render();
}

}  // namespace tollgate
