#include "observability/access_log.h"

#include <cstdio>

#include <nlohmann/json.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace tollgate {
namespace {

double ms_between(RequestContext::Clock::time_point a, RequestContext::Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

double round3(double v) { return static_cast<double>(static_cast<int64_t>(v * 1000 + 0.5)) / 1000; }

}  // namespace

std::string format_access_log(const RequestContext& ctx, bool json) {
  const auto end = ctx.end.value_or(RequestContext::Clock::now());
  const double latency = ms_between(ctx.start, end);
  const double ttfb = ctx.first_byte ? ms_between(ctx.start, *ctx.first_byte) : -1;
  const std::string key = ctx.principal ? ctx.principal->key_name : "";
  if (json) {
    nlohmann::json j = {
        {"request_id", ctx.request_id},
        {"trace_id", ctx.trace_id},
        {"method", ctx.method},
        {"path", ctx.path},
        {"status", ctx.status},
        {"key", key},
        {"model", ctx.requested_model},
        {"model_group", ctx.model_group},
        {"provider", ctx.provider_name},
        {"deployment", ctx.deployment_model},
        {"deployment_id", ctx.deployment_id},
        {"stream", ctx.stream},
        {"attempts", ctx.attempts},
        {"prompt_tokens", ctx.usage.prompt_tokens},
        {"completion_tokens", ctx.usage.completion_tokens},
        {"cached_tokens", ctx.usage.cached_tokens},
        {"reasoning_tokens", ctx.usage.reasoning_tokens},
        {"usage_source", to_string(ctx.usage.source)},
        {"cost_usd", ctx.cost_usd ? nlohmann::json(*ctx.cost_usd) : nlohmann::json(nullptr)},
        {"latency_ms", round3(latency)},
        {"ttfb_ms", ttfb < 0 ? nlohmann::json(nullptr) : nlohmann::json(round3(ttfb))},
        {"client_disconnected", ctx.client_disconnected},
        {"error", ctx.error_type.empty() ? nlohmann::json(nullptr) : nlohmann::json(ctx.error_type)},
    };
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  char cost[32] = "-";
  if (ctx.cost_usd) std::snprintf(cost, sizeof cost, "%.8f", *ctx.cost_usd);
  // Client-chosen strings are JSON-escaped so a model name cannot forge lines.
  auto q = [](const std::string& s) { return nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); };
  return fmt::format(
      "{} {} {} {} key={} model={} provider={} deployment={} stream={} attempts={} tokens={}/{} cached={} reasoning={} "
      "usage={} cost_usd={} latency_ms={:.1f} ttfb_ms={:.1f} trace_id={}{}{}",
      ctx.request_id, ctx.method, q(ctx.path), ctx.status, q(key), q(ctx.requested_model), ctx.provider_name,
      q(ctx.deployment_model), ctx.stream, ctx.attempts, ctx.usage.prompt_tokens, ctx.usage.completion_tokens,
      ctx.usage.cached_tokens, ctx.usage.reasoning_tokens, to_string(ctx.usage.source), cost, latency, ttfb,
      ctx.trace_id.empty() ? "-" : ctx.trace_id, ctx.client_disconnected ? " client_disconnected" : "", ctx.error_type.empty() ? "" : " error=" + ctx.error_type);
}

void write_access_log(const RequestContext& ctx, bool json) {
  static thread_local std::shared_ptr<spdlog::logger> logger;
  if (!logger) logger = spdlog::get("access");
  // Nothing is formatted for a line the level drops.
  if (!logger || !logger->should_log(spdlog::level::info)) return;
  logger->info(format_access_log(ctx, json));
}

void setup_logging(const std::string& level) {
  auto lvl = spdlog::level::from_str(level);
  spdlog::set_level(lvl);
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %^%l%$ [%n] %v");
  if (!spdlog::get("access")) {
    auto access = spdlog::stdout_color_mt("access");
    access->set_pattern("%v");
    access->set_level(lvl <= spdlog::level::info ? spdlog::level::info : lvl);
  }
}

}  // namespace tollgate
