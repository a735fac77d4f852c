#include "middleware/limits_middleware.h"

#include <fmt/format.h>

#include "accounting/token_estimate.h"
#include "middleware/parallel_limiter.h"
#include "middleware/rate_limiter.h"

namespace tollgate {

namespace {

bool is_llm(Endpoint e) {
  return e == Endpoint::chat_completions || e == Endpoint::completions || e == Endpoint::embeddings;
}

std::optional<int64_t> find_limit(const std::map<std::string, int64_t>& m, const std::string& model) {
  auto it = m.find(model);
  return it == m.end() ? std::nullopt : std::optional<int64_t>(it->second);
}

void add(std::vector<RateScope>& out, std::string id, std::optional<int64_t> rpm, std::optional<int64_t> tpm) {
  if (!rpm && !tpm) return;
  RateScope s;
  s.id = std::move(id);
  s.rpm = rpm;
  s.tpm = tpm;
  out.push_back(std::move(s));
}

void add_model_limits(std::vector<RateScope>& out, const std::string& prefix, const Limits& l, const std::string& model) {
  add(out, prefix + "|model:" + model, find_limit(l.model_rpm_limit, model), find_limit(l.model_tpm_limit, model));
}

void set_window_headers(RequestContext& ctx, const char* kind, const RateDecision::Window& w) {
  // Plain concatenation: fmt's general formatter cost more than the rest
  // of the rate check (callgrind).
  ctx.response_headers.emplace_back(std::string("x-ratelimit-limit-") + kind, std::to_string(w.limit));
  ctx.response_headers.emplace_back(std::string("x-ratelimit-remaining-") + kind,
                                    std::to_string(std::max<int64_t>(0, w.remaining)));
  ctx.response_headers.emplace_back(std::string("x-ratelimit-reset-") + kind, format_rate_reset(w.reset));
}

}  // namespace

int64_t estimate_request_tokens(const RequestContext& ctx) {
  const JsonView body = ctx.body.view();
  int64_t tokens = ctx.endpoint == Endpoint::chat_completions ? estimate_request_input_tokens(body)
                                                               : estimate_prompt_tokens(body);
  for (const char* k : {"max_completion_tokens", "max_tokens"}) {
    const JsonView v = body[k];
    // Validation bounds these to 2^31 - 1, so the sum cannot overflow.
    if (v.is_number_integer() && v.as_int64() > 0) {
      tokens += std::min<int64_t>(v.as_int64(), INT32_MAX);
      break;
    }
  }
  return tokens;
}

std::vector<RateScope> LimitsMiddleware::rate_scopes(const RequestContext& ctx) {
  std::vector<RateScope> out;
  if (!ctx.principal || !ctx.principal->key) return out;
  const Principal& p = *ctx.principal;
  const std::string& model = ctx.route_model.empty() ? ctx.requested_model : ctx.route_model;
  const std::string key = "key:" + p.key->key_id;
  add(out, key, p.key->limits.rpm_limit, p.key->limits.tpm_limit);
  add_model_limits(out, key, p.key->limits, model);
  if (p.team) {
    const std::string team = "team:" + p.team->team_id;
    add(out, team, p.team->limits.rpm_limit, p.team->limits.tpm_limit);
    add_model_limits(out, team, p.team->limits, model);
  }
  if (p.user) add(out, "user:" + p.user->user_id, p.user->limits.rpm_limit, p.user->limits.tpm_limit);
  return out;
}

std::vector<ParallelScope> LimitsMiddleware::parallel_scopes(const RequestContext& ctx) {
  std::vector<ParallelScope> out;
  if (!ctx.principal || !ctx.principal->key) return out;
  const Principal& p = *ctx.principal;
  auto add_scope = [&](std::string id, const Limits& l) {
    if (l.max_parallel_requests) out.push_back({std::move(id), l.max_parallel_requests});
  };
  add_scope("key:" + p.key->key_id, p.key->limits);
  if (p.team) add_scope("team:" + p.team->team_id, p.team->limits);
  if (p.user) add_scope("user:" + p.user->user_id, p.user->limits);
  return out;
}

boost::asio::awaitable<Decision> LimitsMiddleware::on_request(RequestContext& ctx) {
  if (!is_llm(ctx.endpoint)) co_return std::nullopt;
  auto parallel = parallel_scopes(ctx);
  if (!parallel.empty()) {
    const ParallelDecision p = parallel_->acquire(parallel);
    if (!p.allowed) {
      co_return ApiError::rate_limited(fmt::format("Too many requests in flight for {} ({} of max_parallel_requests {}).",
                                                   p.limited_scope.substr(0, p.limited_scope.find(':')), p.in_flight, p.limit),
                                       1);
    }
    ctx.parallel_permit = p.permit;
  }
  auto scopes = rate_scopes(ctx);
  if (scopes.empty()) co_return std::nullopt;
  ctx.estimated_tokens = estimate_request_tokens(ctx);
  const RateDecision d = rate_->admit(scopes, ctx.estimated_tokens);
  if (d.requests) set_window_headers(ctx, "requests", *d.requests);
  if (d.tokens) set_window_headers(ctx, "tokens", *d.tokens);
  if (!d.allowed) {
    parallel_->release(ctx.parallel_permit);
    ctx.parallel_permit = 0;
    const std::string what = d.limited_kind == RateKind::tokens ? "tokens per minute" : "requests per minute";
    co_return ApiError::rate_limited("Rate limit reached for " + d.limited_scope.substr(0, d.limited_scope.find(':')) +
                                         " (" + what + "). Retry after " + std::to_string(d.retry_after_seconds) + " s.",
                                     d.retry_after_seconds);
  }
  ctx.rate_admitted = true;
  co_return std::nullopt;
}

void LimitsMiddleware::on_complete(const RequestContext& ctx) {
  if (ctx.parallel_permit) parallel_->release(ctx.parallel_permit);
  if (ctx.rate_admitted) {
    // A request that never reached an upstream used no tokens; one without
    // usage keeps its estimate.
    const int64_t actual = ctx.usage.source == UsageSource::none ? (ctx.reached_router ? ctx.estimated_tokens : 0)
                                                                 : ctx.usage.total_tokens();
    // The scopes come from the principal's records captured at auth, so
    // they are the ones admitted.
    rate_->correct(rate_scopes(ctx), ctx.estimated_tokens, actual);
  }
}

}  // namespace tollgate
