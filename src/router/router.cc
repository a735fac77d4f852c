#include "router/router.h"

#include <algorithm>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

namespace tollgate {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

Router::Sleep timer_sleep() {
  return [](std::chrono::milliseconds d) -> asio::awaitable<void> {
    asio::steady_timer t(co_await asio::this_coro::executor, d);
    co_await t.async_wait(asio::use_awaitable);
  };
}

Router::Router(std::shared_ptr<const Config> config, std::map<std::string, std::unique_ptr<Provider>> providers,
               Sleep sleep, uint64_t seed)
    : config_(std::move(config)), providers_(std::move(providers)), sleep_(std::move(sleep)), rng_(seed) {}

std::vector<const DeploymentConfig*> Router::attempt_order(const ModelConfig& model) {
  // Weighted sampling without replacement: the first pick follows the
  // weights; the rest are the remaining deployments to fail over to.
  std::vector<const DeploymentConfig*> pool;
  for (const auto& d : model.deployments) pool.push_back(&d);
  std::vector<const DeploymentConfig*> order;
  while (!pool.empty()) {
    double total = 0;
    for (auto* d : pool) total += d->weight;
    std::uniform_real_distribution<double> dist(0, total);
    double x = dist(rng_);
    std::size_t pick = pool.size() - 1;
    for (std::size_t i = 0; i < pool.size(); ++i) {
      if (x < pool[i]->weight) {
        pick = i;
        break;
      }
      x -= pool[i]->weight;
    }
    order.push_back(pool[pick]);
    pool.erase(pool.begin() + static_cast<std::ptrdiff_t>(pick));
  }
  return order;
}

std::chrono::milliseconds Router::backoff(int attempt, const AttemptOutcome& last) {
  const auto& rc = config_->router;
  if (last.retry_after_ms) {
    return std::chrono::milliseconds(std::clamp(*last.retry_after_ms, 0, rc.retry_after_max_ms));
  }
  if (rc.backoff_initial_ms <= 0) return std::chrono::milliseconds(0);
  long base = std::min<long>(rc.backoff_max_ms, static_cast<long>(rc.backoff_initial_ms) << std::min(attempt, 16));
  // Full jitter keeps many gateways from retrying in lockstep.
  std::uniform_int_distribution<long> jitter(base / 2, base);
  return std::chrono::milliseconds(jitter(rng_));
}

asio::awaitable<void> Router::route(RequestContext& ctx, ResponseSink& sink) {
  const auto& rc = config_->router;
  const auto deadline = ctx.start + std::chrono::milliseconds(rc.total_ms);
  const std::vector<std::string> request_notes = ctx.notes;  // from before routing
  const std::string& first_group = ctx.route_model.empty() ? ctx.requested_model : ctx.route_model;
  std::vector<std::string> groups{first_group};
  if (const auto* m = config_->find_model(first_group)) {
    for (const auto& f : m->fallbacks) groups.push_back(f);
  }

  AttemptOutcome last;
  last.failure = FailureClass::server;
  last.error = ApiError::unavailable("no deployment could serve the request");
  int attempt_no = 0;
  bool stop = false;
  for (const auto& group : groups) {
    const auto* model = config_->find_model(group);
    if (!model || model->deployments.empty() || stop) continue;
    auto order = attempt_order(*model);
    for (int i = 0; i <= rc.retries && !stop; ++i) {
      if (Clock::now() >= deadline) {
        last.failure = FailureClass::timeout;
        last.error = ApiError::gateway_timeout("the request exceeded the gateway's total timeout");
        stop = true;
        break;
      }
      if (attempt_no > 0) {
        auto wait = backoff(attempt_no - 1, last);
        if (Clock::now() + wait >= deadline) {
          stop = true;
          break;
        }
        if (wait.count() > 0) co_await sleep_(wait);
      }
      const auto& d = *order[static_cast<std::size_t>(i) % order.size()];
      auto pit = providers_.find(d.provider);
      if (pit == providers_.end()) continue;
      ctx.model_group = group;
      ctx.deployment_model = d.model;
      ctx.provider_name = d.provider;
      ctx.provider_type = pit->second->kind();
      if (const auto* pc = config_->find_provider(d.provider)) ctx.api_base = pc->base_url;
      ctx.attempts = ++attempt_no;
      ctx.notes = request_notes;  // notes describe the attempt that answers, not earlier ones

      AttemptLimits limits;
      limits.connect = std::chrono::milliseconds(rc.connect_ms);
      limits.first_byte = std::chrono::milliseconds(rc.first_byte_ms);
      limits.deadline = deadline;
      limits.keepalive_interval = std::chrono::milliseconds(config_->server.keepalive_interval_ms);

      const auto attempt_start = Clock::now();
      auto outcome = co_await pit->second->call(ctx, d, limits, sink);
      ctx.upstream_time += std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - attempt_start);
      if (outcome.ok()) {
        ctx.status = 200;
        co_return;
      }
      last = outcome;
      spdlog::info("[{}] attempt {} on {}/{} failed: {}", ctx.request_id, ctx.attempts, d.provider, d.model,
                   outcome.error ? outcome.error->message : "unknown");
      if (outcome.failure == FailureClass::cancelled || sink.committed() || sink.client_gone()) stop = true;
      if (!outcome.retryable()) stop = true;
    }
  }

  const ApiError err = last.error.value_or(ApiError::internal("request failed"));
  ctx.error_type = err.code.empty() ? err.type : err.code;
  if (last.failure == FailureClass::cancelled || sink.client_gone()) {
    ctx.client_disconnected = true;
    ctx.status = 499;  // nginx's convention for "client closed request"
    co_return;
  }
  if (sink.committed()) {
    // Honest streams: the client learns the stream failed; no fake finish_reason.
    ctx.status = err.status;
    const std::string event = err.stream_event();
    co_await sink.send_event(event);
    co_await sink.end_stream();
    co_return;
  }
  ctx.status = err.status;
  HeaderList headers;
  if (err.retry_after_seconds) headers.emplace_back("retry-after", std::to_string(*err.retry_after_seconds));
  std::string body = err.body();
  co_await sink.send_response(err.status, std::move(body), std::move(headers));
}

}  // namespace tollgate
