#include "router/router.h"

#include "accounting/token_estimate.h"
#include <algorithm>
#include <cctype>
#include <set>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include "api/anthropic_messages_request.h"
#include "observability/gateway_metrics.h"
#include "observability/trace_context.h"

namespace tollgate {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool mentions(const std::string& text, std::initializer_list<const char*> needles) {
  const std::string l = lower(text);
  return std::any_of(needles.begin(), needles.end(), [&](const char* n) { return l.find(n) != std::string::npos; });
}

// The upstream said the prompt does not fit the model's context window.
bool is_context_window_error(const ApiError& e) {
  return e.code == "context_length_exceeded" || e.code == "string_above_max_length" ||
         mentions(e.message, {"context length", "context window", "maximum context", "prompt is too long"});
}

// The upstream refused the request for its content.
bool is_content_policy_error(const ApiError& e) {
  return e.code == "content_policy_violation" || e.code == "content_filter" ||
         mentions(e.message, {"content management policy", "content policy", "content filter"});
}

std::string tags_text(const std::map<std::string, std::string>& tags) {
  std::string out;
  for (const auto& [k, v] : tags) out += (out.empty() ? "" : ",") + k + "=" + v;
  return out;
}

// A sink that discards everything: active health checks need no client.
struct NullSink : ResponseSink {
  asio::awaitable<bool> send_response(int, std::string, HeaderList) override { co_return true; }
  asio::awaitable<bool> start_stream(HeaderList) override { co_return true; }
  asio::awaitable<bool> send_event(std::string_view) override { co_return true; }
  asio::awaitable<bool> send_comment(std::string_view) override { co_return true; }
  asio::awaitable<bool> send_named_event(std::string_view, std::string_view) override { co_return true; }
  asio::awaitable<void> end_stream() override { co_return; }
  asio::awaitable<void> wait_client_gone() override {
    // Never: the "client" of a health check stays until the check ends.
    asio::steady_timer forever(co_await asio::this_coro::executor, Clock::time_point::max());
    co_await forever.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  bool committed() const override { return false; }
  bool client_gone() const override { return false; }
};

// Settles a deployment's admission (its in-flight count, a half-open probe)
// on every way out of an attempt, an exception from a provider included.
struct AdmissionGuard {
  DeploymentState& state;
  const DeploymentRegistry& registry;
  bool probe;
  bool settled = false;
  ~AdmissionGuard() {
    if (!settled) state.on_neutral(registry.now(), probe, 0);
  }
};

}  // namespace

Router::Sleep timer_sleep() {
  return [](milliseconds d) -> asio::awaitable<void> {
    asio::steady_timer t(co_await asio::this_coro::executor, d);
    co_await t.async_wait(asio::use_awaitable);
  };
}

bool has_tags(const DeploymentConfig& d, const std::map<std::string, std::string>& required) {
  return std::all_of(required.begin(), required.end(), [&](const auto& kv) {
    auto it = d.tags.find(kv.first);
    return it != d.tags.end() && it->second == kv.second;
  });
}

namespace {

int retries_for(const RouterConfig& rc, FailureClass f) {
  const auto& p = rc.retry_policy;
  switch (f) {
    case FailureClass::connect: return p.connect.value_or(rc.retries);
    case FailureClass::timeout: return p.timeout.value_or(rc.retries);
    case FailureClass::rate_limited: return p.rate_limited.value_or(rc.retries);
    case FailureClass::server: return p.server.value_or(rc.retries);
    default: return 0;
  }
}

}  // namespace

Router::Router(std::shared_ptr<const Config> config, std::map<std::string, std::unique_ptr<Provider>> providers,
               Sleep sleep, uint64_t seed, RouterEnv env)
    : config_(std::move(config)), providers_(std::move(providers)), sleep_(std::move(sleep)), rng_(seed),
      env_(std::move(env)) {
  if (!env_.deployments) env_.deployments = std::make_shared<DeploymentRegistry>();
}

std::optional<double> Router::price_per_million(const DeploymentConfig& d) const {
  if (!env_.prices) return std::nullopt;
  auto pit = providers_.find(d.provider);
  if (pit == providers_.end()) return std::nullopt;
  auto price = env_.prices->find(pit->second->kind(), d.model);
  if (!price) return std::nullopt;
  return price->input_per_million + price->output_per_million;
}

std::optional<int64_t> Router::context_window(const ModelConfig& model) const {
  if (model.context_window) return model.context_window;
  // The smallest window among the group's deployments the table knows.
  std::optional<int64_t> window;
  if (!env_.prices) return window;
  for (const auto& d : model.deployments) {
    auto pit = providers_.find(d.provider);
    if (pit == providers_.end()) continue;
    auto price = env_.prices->find(pit->second->kind(), d.model);
    if (price && price->context_window) window = window ? std::min(*window, *price->context_window) : *price->context_window;
  }
  return window;
}

std::vector<Candidate> Router::candidates(const ModelConfig& model, const std::map<std::string, std::string>& tags,
                                          RoutingStrategy strategy) {
  std::vector<Candidate> out;
  const auto now = env_.deployments->now();
  for (const auto& d : model.deployments) {
    if (!has_tags(d, tags) || !providers_.count(d.provider)) continue;
    Candidate c;
    c.deployment = &d;
    // Only what the strategy orders by (weighted needs neither).
    if (strategy != RoutingStrategy::weighted && strategy != RoutingStrategy::lowest_cost) {
      c.stats = env_.deployments->get(d.id)->snapshot(now);
    }
    if (strategy == RoutingStrategy::lowest_cost) c.price_per_million = price_per_million(d);
    out.push_back(std::move(c));
  }
  return out;
}

std::vector<const DeploymentConfig*> Router::attempt_order(const ModelConfig& model, bool stream) {
  const auto strategy = model.strategy.value_or(config_->router.strategy);
  auto cands = candidates(model, {}, strategy);
  std::vector<const DeploymentConfig*> out;
  for (auto i : order_candidates(strategy, cands, stream, rng_)) {
    out.push_back(cands[i].deployment);
  }
  return out;
}

milliseconds Router::backoff(int retry, const AttemptOutcome& last) {
  const auto& rc = config_->router;
  if (last.retry_after_ms) return milliseconds(std::clamp(*last.retry_after_ms, 0, rc.retry_after_max_ms));
  if (rc.backoff_initial_ms <= 0) return milliseconds(0);
  long base = std::min<long>(rc.backoff_max_ms, static_cast<long>(rc.backoff_initial_ms) << std::min(retry, 16));
  // Full jitter keeps many gateways from retrying in lockstep.
  std::uniform_int_distribution<long> jitter(base / 2, base);
  return milliseconds(jitter(rng_));
}

// One model group to try, and why it is in the plan.
struct Router::Plan {
  struct Step {
    std::string group;
    const char* kind = "primary";  // primary | general | context_window | content_policy
    std::string from;
  };
  std::vector<Step> steps;
  std::set<std::string> planned;
  // Adds `groups` after position `at` (or at the end), skipping planned ones.
  void add(const std::vector<std::string>& groups, const char* kind, const std::string& from,
           std::size_t at = SIZE_MAX) {
    std::size_t pos = std::min(at, steps.size());
    for (const auto& g : groups) {
      if (!planned.insert(g).second) continue;
      steps.insert(steps.begin() + static_cast<std::ptrdiff_t>(pos++), Step{g, kind, from});
    }
  }
};

asio::awaitable<void> Router::route(RequestContext& ctx, ResponseSink& sink) {
  const auto& rc = config_->router;
  const int total_ms = ctx.timeout_override_ms ? std::min(*ctx.timeout_override_ms, rc.total_ms) : rc.total_ms;
  const auto deadline = ctx.start + milliseconds(total_ms);
  const std::vector<std::string> request_notes = ctx.notes;  // from before routing
  const std::string first_group = ctx.route_model.empty() ? ctx.requested_model : ctx.route_model;
  const ModelConfig* first = config_->find_model(first_group);

  // Tags: the key's restriction, narrowed by the request's.
  std::map<std::string, std::string> key_tags;
  if (ctx.principal) key_tags = ctx.principal->route_tags;
  std::map<std::string, std::string> required = key_tags;
  for (const auto& [k, v] : ctx.route_tags) required.emplace(k, v);
  std::optional<ApiError> refusal;
  if (first && !required.empty()) {
    auto any = [&](const std::map<std::string, std::string>& tags) {
      return std::any_of(first->deployments.begin(), first->deployments.end(),
                         [&](const DeploymentConfig& d) { return has_tags(d, tags); });
    };
    const bool conflict = std::any_of(ctx.route_tags.begin(), ctx.route_tags.end(), [&](const auto& kv) {
      auto it = key_tags.find(kv.first);
      return it != key_tags.end() && it->second != kv.second;
    });
    if (!any(key_tags) || conflict) {
      refusal = ApiError::forbidden("Your key may only use deployments tagged " + tags_text(key_tags) +
                                            "; model `" + first_group + "` has none that match.",
                                     "deployment_not_allowed");
    } else if (!any(required)) {
      refusal = ApiError::bad_request("No deployment of model `" + first_group + "` has the tags " +
                                          tags_text(required) + " asked for in x-tollgate-route-tags.",
                                      {}, "no_matching_deployment");
    }
  }

  Plan plan;
  if (first && !refusal) {
    // A prompt that cannot fit goes straight to a context-window fallback
    // that can hold it (when one is configured and the window is known).
    bool rerouted = false;
    if (!first->context_window_fallbacks.empty()) {
      const auto window = context_window(*first);
      const int64_t estimate = window ? estimate_request_input_tokens(ctx.body.view()) : 0;
      if (window && estimate > *window) {
        for (const auto& f : first->context_window_fallbacks) {
          const auto* fm = config_->find_model(f);
          if (!fm) continue;
          const auto w = context_window(*fm);
          if (w && *w < estimate) continue;
          plan.add({f}, "context_window", first_group);
          ctx.notes.push_back("prompt of about " + std::to_string(estimate) + " tokens exceeds the " +
                              std::to_string(*window) + "-token window of " + first_group + "; routed to " + f);
          rerouted = true;
          break;
        }
      }
    }
    if (!rerouted) plan.add({first_group}, "primary", "");
    plan.add(ctx.fallback_override ? *ctx.fallback_override : first->fallbacks, "general", first_group);
  }
  const std::vector<std::string> notes_before_attempts = ctx.notes;

  AttemptOutcome last;
  last.failure = FailureClass::server;
  last.error = refusal ? *refusal : ApiError::unavailable("no deployment could serve the request");
  if (refusal) last.failure = FailureClass::client;
  std::optional<milliseconds> soonest;  // the earliest cooldown end among refused deployments
  std::optional<milliseconds> minute_left;  // set when a deployment's rpm/tpm refused it
  int attempt_no = 0;
  bool stop = false;
  for (std::size_t gi = 0; gi < plan.steps.size() && !stop; ++gi) {
    const Plan::Step step = plan.steps[gi];  // a copy: the plan may grow below
    const auto* model = config_->find_model(step.group);
    if (!model) continue;
    const auto strategy = model->strategy.value_or(rc.strategy);
    auto cands = candidates(*model, required, strategy);
    if (cands.empty()) continue;
    std::map<FailureClass, int> retries_used;
    int retries_in_group = 0;
    int max_retries = 0;
    for (auto f : {FailureClass::connect, FailureClass::timeout, FailureClass::rate_limited, FailureClass::server}) {
      max_retries = std::max(max_retries, retries_for(rc, f));
    }
    std::set<const DeploymentConfig*> tried;
    const DeploymentConfig* last_pick = nullptr;
    bool counted_fallback = false;
    const char* pending_retry = nullptr;  // failure class of the attempt being retried
    for (;;) {
      if (Clock::now() >= deadline) {
        last.failure = FailureClass::timeout;
        last.error = ApiError::gateway_timeout("the request exceeded the gateway's total timeout");
        stop = true;
        break;
      }
      // The strategy's order, deployments not yet tried first; the first
      // one whose circuit and minute admit it gets the attempt.
      if (retries_in_group > 0) cands = candidates(*model, required, strategy);  // fresh load and latency
      auto order = order_candidates(strategy, cands, ctx.stream, rng_);
      std::stable_partition(order.begin(), order.end(), [&](std::size_t i) { return !tried.count(cands[i].deployment); });
      const auto now = env_.deployments->now();
      const DeploymentConfig* pick = nullptr;
      std::shared_ptr<DeploymentState> state;
      DeploymentState::Admission admission;
      for (auto i : order) {
        const auto& d = *cands[i].deployment;
        auto st = env_.deployments->get(d.id);
        admission = st->try_admit(now, d.rpm.value_or(0), d.tpm.value_or(0));
        if (admission.admitted) {
          pick = &d;
          state = std::move(st);
          break;
        }
        if (admission.minute_full) {
          const auto into = std::chrono::duration_cast<milliseconds>(now.time_since_epoch()) % std::chrono::minutes(1);
          minute_left = std::chrono::minutes(1) - into;
          continue;
        }
        const auto snap = st->snapshot(now);
        if (snap.state == CircuitState::open && (!soonest || snap.cooldown_remaining < *soonest)) {
          soonest = snap.cooldown_remaining;
        }
      }
      if (!pick) break;  // nothing here can take it now: the next group
      AdmissionGuard admitted{*state, *env_.deployments, admission.probe};
      if (retries_in_group > 0 && pick == last_pick) {
        // The same deployment again: back off, or wait as long as it asked.
        const auto wait = backoff(retries_in_group - 1, last);
        if (Clock::now() + wait >= deadline) {
          stop = true;
          break;  // the guard gives the admission back
        }
        if (wait.count() > 0) co_await sleep_(wait);
      }
      if (pending_retry && env_.metrics) env_.metrics->retry(last_pick->id, pending_retry);
      pending_retry = nullptr;
      if (std::string_view(step.kind) != "primary" && !counted_fallback && env_.metrics) {
        env_.metrics->fallback(step.from, step.group, step.kind);
        counted_fallback = true;
      }
      const auto& d = *pick;
      auto& provider = *providers_.at(d.provider);
      ctx.model_group = step.group;
      ctx.deployment_model = d.model;
      ctx.deployment_id = d.id;
      ctx.provider_name = d.provider;
      ctx.provider_type = provider.kind();
      if (const auto* pc = config_->find_provider(d.provider)) ctx.api_base = pc->base_url;
      ctx.attempts = ++attempt_no;
      ctx.notes = notes_before_attempts;  // notes describe the attempt that answers, not earlier ones
      if (!(ctx.anthropic_body && provider.speaks_anthropic_messages())) {
        // This attempt sends the Anthropic request translated, not natively.
        ctx.notes.insert(ctx.notes.end(), ctx.translation_notes.begin(), ctx.translation_notes.end());
      }
      ctx.usage = Usage{};
      ctx.response_native = false;

      AttemptRecord record;
      record.deployment_id = d.id;
      record.provider = d.provider;
      record.provider_type = ctx.provider_type;
      record.model = d.model;
      record.model_group = step.group;
      if (!ctx.trace_id.empty()) {
        record.span_id = new_span_id();
        ctx.upstream_traceparent =
            format_traceparent(TraceContext{ctx.trace_id, record.span_id, ctx.trace_sampled});
      }
      AttemptLimits limits;
      limits.connect = milliseconds(rc.connect_ms);
      limits.first_byte = milliseconds(rc.first_byte_ms);
      limits.deadline = deadline;
      limits.keepalive_interval = milliseconds(config_->server.keepalive_interval_ms);

      record.wall_start = SystemClock::now();
      const auto attempt_start = Clock::now();
      auto outcome = co_await provider.call(ctx, d, limits, sink);
      const auto attempt_end = Clock::now();
      record.wall_end = SystemClock::now();
      const auto elapsed = std::chrono::duration_cast<std::chrono::microseconds>(attempt_end - attempt_start);
      ctx.upstream_time += elapsed;
      std::optional<std::chrono::microseconds> ttft;
      if (ctx.first_byte && *ctx.first_byte >= attempt_start) {
        ttft = std::chrono::duration_cast<std::chrono::microseconds>(*ctx.first_byte - attempt_start);
      }
      const auto done = env_.deployments->now();
      record.status = outcome.ok() ? 200 : outcome.error ? outcome.error->status : 502;
      record.error = outcome.ok() || !outcome.error ? "" : outcome.error->code.empty() ? outcome.error->type
                                                                                        : outcome.error->code;
      record.failure = to_string(outcome.failure);
      ctx.attempt_log.push_back(record);
      if (env_.metrics) env_.metrics->upstream_attempt(d.provider, d.id, elapsed);
      admitted.settled = true;
      if (outcome.ok()) {
        state->on_success(rc.circuit_breaker, done, admission.probe, elapsed, ttft, ctx.usage.total_tokens());
        ctx.status = 200;
        co_return;
      }
      const std::string message = outcome.error ? outcome.error->message : "unknown";
      if (counts_against_deployment(outcome.failure)) {
        state->on_failure(rc.circuit_breaker, done, admission.probe, outcome.failure, message);
      } else {
        state->on_neutral(done, admission.probe, ctx.usage.total_tokens());
      }
      last = outcome;
      tried.insert(pick);
      last_pick = pick;
      spdlog::info("[{}] attempt {} on {} ({}) failed: {}", ctx.request_id, ctx.attempts, d.id, step.group, message);
      if (outcome.failure == FailureClass::cancelled || sink.committed() || sink.client_gone()) {
        stop = true;
        break;
      }
      if (outcome.failure == FailureClass::client) {
        // The request itself was refused; two refusals have a fallback kind.
        if (outcome.error && is_context_window_error(*outcome.error) && !model->context_window_fallbacks.empty()) {
          plan.add(model->context_window_fallbacks, "context_window", step.group, gi + 1);
        } else if (outcome.error && is_content_policy_error(*outcome.error) &&
                   !model->content_policy_fallbacks.empty()) {
          plan.add(model->content_policy_fallbacks, "content_policy", step.group, gi + 1);
        } else {
          stop = true;
        }
        break;
      }
      if (!outcome.retryable()) {
        stop = true;
        break;
      }
      ++retries_in_group;
      if (++retries_used[outcome.failure] > retries_for(rc, outcome.failure) || retries_in_group > max_retries) break;
      pending_retry = to_string(outcome.failure);  // counted when the retry is made
    }
  }

  if (attempt_no == 0 && minute_left && !soonest && !refusal) {
    // Every deployment that could serve it has used its rpm/tpm this minute.
    const int seconds = static_cast<int>((minute_left->count() + 999) / 1000);
    last.failure = FailureClass::rate_limited;
    last.error = ApiError::rate_limited("Every deployment of model `" + first_group +
                                           "` is at its configured rpm/tpm for this minute; retry in " +
                                           std::to_string(seconds) + " s.",
                                       std::max(1, seconds));
  } else if (attempt_no == 0 && soonest && !refusal) {
    // Every deployment that could serve it is cooling down after failures.
    const int seconds = static_cast<int>((soonest->count() + 999) / 1000);
    last.failure = FailureClass::server;
    last.error = ApiError::unavailable("Every deployment of model `" + first_group +
                                           "` is cooling down after failures; retry in " + std::to_string(seconds) +
                                           " s.",
                                       std::max(1, seconds));
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

asio::awaitable<bool> Router::count_tokens(RequestContext& ctx, ResponseSink& sink) {
  const std::string group = ctx.route_model.empty() ? ctx.requested_model : ctx.route_model;
  const ModelConfig* model = config_->find_model(group);
  if (!model) co_return false;
  std::map<std::string, std::string> required;
  if (ctx.principal) required = ctx.principal->route_tags;
  for (const auto& [k, v] : ctx.route_tags) required.emplace(k, v);
  for (const DeploymentConfig* d : attempt_order(*model)) {
    if (!has_tags(*d, required)) continue;
    auto& provider = *providers_.at(d->provider);
    if (!provider.speaks_anthropic_messages()) continue;
    ctx.model_group = group;
    ctx.deployment_model = d->model;
    ctx.deployment_id = d->id;
    ctx.provider_name = d->provider;
    ctx.provider_type = provider.kind();
    ctx.response_native = false;
    const auto& rc = config_->router;
    AttemptLimits limits;
    limits.connect = milliseconds(rc.connect_ms);
    limits.first_byte = milliseconds(rc.first_byte_ms);
    limits.deadline = ctx.start + milliseconds(rc.total_ms);
    limits.keepalive_interval = milliseconds(config_->server.keepalive_interval_ms);
    auto outcome = co_await provider.call(ctx, *d, limits, sink);
    if (outcome.ok() || sink.committed() || sink.client_gone()) {
      ctx.status = outcome.ok() ? 200 : outcome.error ? outcome.error->status : 502;
      co_return true;
    }
    spdlog::info("[{}] count_tokens on {} failed ({}); estimating instead", ctx.request_id, d->id,
                 outcome.error ? outcome.error->message : "unknown");
    co_return false;
  }
  co_return false;
}

asio::awaitable<void> Router::check_health() {
  const auto& hc = config_->router.health_checks;
  const auto timeout = milliseconds(std::max(1, hc.timeout_ms));
  std::set<std::string> checked;
  for (const auto& model : config_->models) {
    for (const auto& d : model.deployments) {
      if (!d.health_check || !checked.insert(d.id).second) continue;
      auto pit = providers_.find(d.provider);
      if (pit == providers_.end()) continue;
      RequestContext probe;
      probe.request_id = "health-check";
      probe.endpoint = Endpoint::chat_completions;
      probe.method = "POST";
      probe.path = "/v1/chat/completions";
      probe.requested_model = probe.route_model = probe.model_group = model.name;
      probe.body = nlohmann::json{{"model", model.name},
                                  {"messages", nlohmann::json::array({{{"role", "user"}, {"content", "ping"}}})},
                                  {"max_tokens", 1}};
      AttemptLimits limits;
      limits.connect = std::min(timeout, milliseconds(config_->router.connect_ms));
      limits.first_byte = timeout;
      limits.deadline = Clock::now() + timeout;
      limits.keepalive_interval = timeout;
      NullSink sink;
      auto outcome = co_await pit->second->call(probe, d, limits, sink);
      // A 4xx answer still shows a live, authorised deployment.
      const bool ok = outcome.ok() || outcome.failure == FailureClass::client;
      const std::string error = ok || !outcome.error ? "" : outcome.error->message;
      env_.deployments->get(d.id)->on_health_check(config_->router.circuit_breaker, env_.deployments->now(), ok, error);
      if (!ok) {
        if (env_.metrics) env_.metrics->health_check_failed(d.id);
        spdlog::warn("health check of {} failed: {}", d.id, error);
      }
    }
  }
}

}  // namespace tollgate
