#pragma once
// Rate and parallel-request limits of virtual keys, their teams and users,
// and per-model limits of keys and teams (model_rpm_limit, model_tpm_limit).
// Tokens are estimated before the request (prompt estimate + max_tokens) and
// corrected with the real usage when it completes. Every LLM response carries
// OpenAI's x-ratelimit-* headers for the most constrained window; a denial is
// 429 with retry-after. Parallel slots are released on completion, whatever
// the outcome.

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tollgate/middleware.h"

namespace tollgate {

class RateLimiter;
class ParallelLimiter;
struct RateScope;
struct ParallelScope;

class LimitsMiddleware final : public Middleware {
 public:
  LimitsMiddleware(std::shared_ptr<RateLimiter> rate, std::shared_ptr<ParallelLimiter> parallel)
      : rate_(std::move(rate)), parallel_(std::move(parallel)) {}
  std::string_view name() const override { return "limits"; }
  boost::asio::awaitable<Decision> on_request(RequestContext& ctx) override;
  void on_complete(const RequestContext& ctx) override;

  // The rate scopes that apply to a request (exposed for tests).
  static std::vector<RateScope> rate_scopes(const RequestContext& ctx);
  static std::vector<ParallelScope> parallel_scopes(const RequestContext& ctx);

 private:
  std::shared_ptr<RateLimiter> rate_;
  std::shared_ptr<ParallelLimiter> parallel_;
};

// The request's token estimate for tpm limits: prompt estimate plus the
// requested output limit (max_tokens / max_completion_tokens), when given.
int64_t estimate_request_tokens(const RequestContext& ctx);

}  // namespace tollgate
