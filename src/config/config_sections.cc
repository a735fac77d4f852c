#include "config/config_sections.h"

#include <array>
#include <vector>

#include "observability/otlp_exporter.h"
#include "tollgate/store.h"

namespace tollgate::config_detail {

void check_secret(YamlReader& r, const std::string& path, const std::string& secret) {
  if (secret.size() < 8) r.error(path, "must be at least 8 characters");
  if (has_space_or_control(secret)) r.error(path, "must not contain spaces or control characters");
}

bool read_strategy(YamlReader& r, const Fields& f, std::string_view key, RoutingStrategy& out) {
  static constexpr std::array<std::pair<std::string_view, RoutingStrategy>, 5> kStrategies = {{
      {"weighted", RoutingStrategy::weighted},
      {"least_busy", RoutingStrategy::least_busy},
      {"lowest_latency", RoutingStrategy::lowest_latency},
      {"lowest_cost", RoutingStrategy::lowest_cost},
      {"usage_based", RoutingStrategy::usage_based},
  }};
  std::string name;
  if (!r.read_string(f, key, name)) return false;
  for (const auto& [n, st] : kStrategies) {
    if (n == name) {
      out = st;
      return true;
    }
  }
  std::vector<std::string_view> names;
  for (const auto& [n, st] : kStrategies) names.push_back(n);
  r.error(f.at(key), "unknown strategy " + quote(name) + suggestion(name, names) +
                       " (expected weighted, least_busy, lowest_latency, lowest_cost or usage_based)");
  return false;
}

void load_router(YamlReader& r, const Fields& top, RouterConfig& out) {
  const Fields f = r.fields(top.node("router"), "router",
                          {"strategy", "retries", "retry_policy", "circuit_breaker", "health_checks", "backoff",
                           "retry_after_max_ms", "timeouts"});
  read_strategy(r, f, "strategy", out.strategy);
  r.read_int(f, "retries", out.retries, 0, 100);
  const Fields rp = r.fields(f.node("retry_policy"), f.at("retry_policy"), {"connect", "timeout", "rate_limited", "server"});
  for (auto [name, slot] : {std::pair{"connect", &out.retry_policy.connect}, std::pair{"timeout", &out.retry_policy.timeout},
                            std::pair{"rate_limited", &out.retry_policy.rate_limited},
                            std::pair{"server", &out.retry_policy.server}}) {
    int n = 0;
    if (r.read_int(rp, name, n, 0, 100)) *slot = n;
  }
  const Fields cb = r.fields(f.node("circuit_breaker"), f.at("circuit_breaker"),
                           {"failures", "failure_rate", "window_ms", "min_requests", "cooldown_ms"});
  r.read_int(cb, "failures", out.circuit_breaker.failures, 0, 1'000'000);
  if (r.read_double(cb, "failure_rate", out.circuit_breaker.failure_rate, false) && out.circuit_breaker.failure_rate > 1) {
    r.error(cb.at("failure_rate"), "must be between 0 and 1 (a fraction of attempts)");
  }
  r.read_int(cb, "window_ms", out.circuit_breaker.window_ms, 100, 86'400'000);
  r.read_int(cb, "min_requests", out.circuit_breaker.min_requests, 1, 1'000'000);
  r.read_int(cb, "cooldown_ms", out.circuit_breaker.cooldown_ms, 0, 86'400'000);
  const Fields hc = r.fields(f.node("health_checks"), f.at("health_checks"), {"interval_ms", "timeout_ms"});
  const bool interval = r.read_int(hc, "interval_ms", out.health_checks.interval_ms, 0, 86'400'000);
  r.read_int(hc, "timeout_ms", out.health_checks.timeout_ms, 1, 600'000);
  if (interval && out.health_checks.interval_ms > 0 && out.health_checks.interval_ms < 1000) {
    r.error(hc.at("interval_ms"), "must be 0 (off) or at least 1000");
  }
  r.read_int(f, "retry_after_max_ms", out.retry_after_max_ms, 0);

  const Fields b = r.fields(f.node("backoff"), f.at("backoff"), {"initial_ms", "max_ms"});
  const bool initial = r.read_int(b, "initial_ms", out.backoff_initial_ms, 0);
  const bool max = r.read_int(b, "max_ms", out.backoff_max_ms, 0);
  if ((initial || max) && out.backoff_max_ms < out.backoff_initial_ms) {
    r.error(b.at("max_ms"), "must be >= initial_ms (" + std::to_string(out.backoff_initial_ms) + ")");
  }

  const Fields t =
      r.fields(f.node("timeouts"), f.at("timeouts"), {"connect_ms", "first_byte_ms", "total_ms"});
  const bool connect = r.read_int(t, "connect_ms", out.connect_ms, 1);
  const bool first_byte = r.read_int(t, "first_byte_ms", out.first_byte_ms, 1);
  const bool total = r.read_int(t, "total_ms", out.total_ms, 1);
  if ((connect || total) && out.connect_ms > out.total_ms) {
    r.error(t.at("connect_ms"), "must be <= total_ms (" + std::to_string(out.total_ms) + ")");
  }
  if ((first_byte || total) && out.first_byte_ms > out.total_ms) {
    r.error(t.at("first_byte_ms"), "must be <= total_ms (" + std::to_string(out.total_ms) + ")");
  }
}

namespace {

void load_responses(YamlReader& r, const Fields& top, ResponsesConfig& out) {
  const Fields f = r.fields(top.node("responses"), "responses",
                          {"store_default", "retention_days", "max_response_mb", "memory_max_mb"});
  r.read_bool(f, "store_default", out.store_default);
  r.read_int(f, "retention_days", out.retention_days, 0, 36'500);
  int64_t mb = static_cast<int64_t>(out.max_response_bytes >> 20);
  if (r.read_int(f, "max_response_mb", mb, 1, 1'024)) out.max_response_bytes = static_cast<uint64_t>(mb) << 20;
  mb = static_cast<int64_t>(out.memory_max_bytes >> 20);
  if (r.read_int(f, "memory_max_mb", mb, 1, 1'000'000)) out.memory_max_bytes = static_cast<uint64_t>(mb) << 20;
}

}  // namespace

void load_storage(YamlReader& r, const Fields& top, Config& cfg) {
  if (r.read_string(top, "database", cfg.database) && !cfg.database.empty()) {
    const std::string& url = cfg.database;
    if (url.starts_with("sqlite://")) {
      std::string path = url.substr(9);
      if (path.empty()) {
        r.error("database", "sqlite:// needs a file path, e.g. sqlite:///var/lib/tollgate/tollgate.db");
      } else if (path != ":memory:") {
        cfg.database = "sqlite://" + r.resolve_path(path);
      }
    } else if (url == "sqlite::memory:") {
      // tests only; every connection sees its own empty database
    } else if (!url.starts_with("postgresql://") && !url.starts_with("postgres://")) {
      r.error("database", "expected postgresql://user:password@host:port/dbname or sqlite:///path/to/file.db");
    }
  }
  r.read_int(top, "database_pool", cfg.database_pool, 1, 64);
  r.read_int(top, "key_refresh_ms", cfg.key_refresh_ms, 50, 3'600'000);

  const Fields l = r.fields(top.node("ledger"), "ledger",
                          {"spool_dir", "max_spool_mb", "batch_rows", "commit_interval_ms", "ship_interval_ms",
                           "retry_max_ms"});
  std::string spool = "tollgate-spool";
  r.read_string(l, "spool_dir", spool);
  cfg.ledger.spool_dir = r.resolve_path(spool);
  int64_t spool_mb = static_cast<int64_t>(cfg.ledger.max_spool_bytes >> 20);
  if (r.read_int(l, "max_spool_mb", spool_mb, 1, 1'000'000)) cfg.ledger.max_spool_bytes = static_cast<uint64_t>(spool_mb) << 20;
  r.read_int(l, "batch_rows", cfg.ledger.batch_rows, 1, 10'000);
  r.read_int(l, "commit_interval_ms", cfg.ledger.commit_interval_ms, 0, 1'000);
  r.read_int(l, "ship_interval_ms", cfg.ledger.ship_interval_ms, 0, 60'000);
  r.read_int(l, "retry_max_ms", cfg.ledger.retry_max_ms, 10, 600'000);

  const Fields b = r.fields(top.node("budgets"), "budgets",
                          {"default_max_output_tokens", "reservation_ttl_ms", "end_user"});
  r.read_int(b, "default_max_output_tokens", cfg.budgets.default_max_output_tokens, 1, 10'000'000);
  r.read_int(b, "reservation_ttl_ms", cfg.budgets.reservation_ttl_ms, 0);
  const Fields eu = r.fields(b.node("end_user"), b.at("end_user"), {"max_budget", "budget_duration", "max_tracked"});
  r.read_int(eu, "max_tracked", cfg.budgets.end_user_max_tracked, 16, 10'000'000);
  double max_budget = 0;
  if (r.read_double(eu, "max_budget", max_budget, false)) cfg.budgets.end_user_max_budget = max_budget;
  if (r.read_string(eu, "budget_duration", cfg.budgets.end_user_budget_duration) &&
      !cfg.budgets.end_user_budget_duration.empty() && !valid_budget_duration(cfg.budgets.end_user_budget_duration)) {
    r.error(eu.at("budget_duration"), "expected a duration such as 30s, 10m, 1h, 1d, 7d, 2w or 1mo");
  }
  load_responses(r, top, cfg.responses);
  if ((cfg.budgets.end_user_max_budget || top.has("ledger")) && cfg.database.empty()) {
    r.warn("database", "not set: budgets and the ledger need a database; nothing will be recorded");
  }
}

void load_observability(YamlReader& r, const Fields& top, Config& cfg) {
  const Fields m = r.fields(top.node("metrics"), "metrics", {"enabled", "bearer_token"});
  r.read_bool(m, "enabled", cfg.metrics.enabled);
  if (r.read_string(m, "bearer_token", cfg.metrics.bearer_token) && !cfg.metrics.bearer_token.empty()) {
    check_secret(r, m.at("bearer_token"), cfg.metrics.bearer_token);
  }

  const Fields t = r.fields(top.node("tracing"), "tracing", {"otlp_endpoint", "service_name", "headers", "sample_ratio"});
  if (r.read_string(t, "otlp_endpoint", cfg.tracing.otlp_endpoint) && !cfg.tracing.otlp_endpoint.empty()) {
    if (auto why = validate_otlp_endpoint(cfg.tracing.otlp_endpoint)) r.error(t.at("otlp_endpoint"), *why);
  }
  r.read_string(t, "service_name", cfg.tracing.service_name);
  r.read_string_map(t, "headers", cfg.tracing.headers);
  if (r.read_double(t, "sample_ratio", cfg.tracing.sample_ratio, false) && cfg.tracing.sample_ratio > 1) {
    r.error(t.at("sample_ratio"), "must be between 0 and 1");
  }

  const Fields rl = r.fields(top.node("reload"), "reload", {"watch_interval_ms"});
  r.read_int(rl, "watch_interval_ms", cfg.reload.watch_interval_ms, 0, 3'600'000);
  if (cfg.reload.watch_interval_ms > 0 && cfg.reload.watch_interval_ms < 100) {
    r.error(rl.at("watch_interval_ms"), "must be 0 (SIGHUP only) or at least 100");
  }
}

}  // namespace tollgate::config_detail
