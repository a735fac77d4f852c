#pragma once
// The router: serves one request through its model group's deployments and
// then its fallbacks, while nothing has reached the client.
//
// For each group, the strategy (router.strategy or the model's own) orders
// the deployments that carry the required tags; the first one whose circuit
// and rpm/tpm admit it gets the attempt. A failed attempt is retried while
// its error class has retries left in router.retry_policy (a different
// deployment first, without waiting; the same one after backoff or the
// upstream's retry-after, capped). Then the next group: the general
// fallbacks, or the context-window / content-policy fallbacks when the
// upstream said the prompt is too long or refused it for content (the
// context-window ones also up front, when the estimated prompt does not fit
// the model's window).
//
// One Router per worker thread and config generation; deployment state
// (circuits, load, latency) is shared through the DeploymentRegistry.

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <random>

#include <boost/asio/awaitable.hpp>

#include "router/deployment_state.h"
#include "router/strategy.h"
#include "tollgate/config.h"
#include "tollgate/pricing.h"
#include "tollgate/provider.h"
#include "tollgate/request_context.h"
#include "tollgate/response_sink.h"

namespace tollgate {

class GatewayMetrics;

// What routers share beyond their config.
struct RouterEnv {
  std::shared_ptr<DeploymentRegistry> deployments;  // required
  std::shared_ptr<const PriceTable> prices;         // lowest_cost and context windows; may be null
  std::shared_ptr<GatewayMetrics> metrics;          // may be null
};

class Router {
 public:
  using Sleep = std::function<boost::asio::awaitable<void>(std::chrono::milliseconds)>;

  // `providers` maps provider names to this worker's instances. `sleep`
  // waits between attempts (tests inject one that records and returns).
  Router(std::shared_ptr<const Config> config, std::map<std::string, std::unique_ptr<Provider>> providers,
         Sleep sleep, uint64_t seed, RouterEnv env = {});

  // Serves ctx through the model group and writes the outcome to `sink`:
  // the response, an error response, or (after the stream started) an error
  // event. Fills ctx's routing and outcome fields.
  boost::asio::awaitable<void> route(RequestContext& ctx, ResponseSink& sink);

  // One active health check of every deployment of every model: a one-token
  // chat request each, in turn, within router.health_checks.timeout_ms. The
  // verdicts go to the deployments' states.
  boost::asio::awaitable<void> check_health();
  // POST /v1/messages/count_tokens: the exact count from the first deployment
  // of the model (in routing order, within the key's tags) whose provider
  // speaks the Messages API natively, relayed to `sink`. False when none does
  // or its answer failed, with nothing sent: the caller then estimates. No
  // retries, no spend: counting generates nothing.
  boost::asio::awaitable<bool> count_tokens(RequestContext& ctx, ResponseSink& sink);

  // The order the strategy would try a group's deployments in, ignoring
  // circuits (exposed for tests).
  std::vector<const DeploymentConfig*> attempt_order(const ModelConfig& model, bool stream = false);

  const Config& config() const { return *config_; }

 private:
  struct Plan;
  struct Attempted;

  std::chrono::milliseconds backoff(int retry, const AttemptOutcome& last);
  std::optional<int64_t> context_window(const ModelConfig& model) const;
  std::optional<double> price_per_million(const DeploymentConfig& d) const;
  std::vector<Candidate> candidates(const ModelConfig& model, const std::map<std::string, std::string>& tags,
                                    RoutingStrategy strategy);

  std::shared_ptr<const Config> config_;
  std::map<std::string, std::unique_ptr<Provider>> providers_;
  Sleep sleep_;
  std::mt19937_64 rng_;
  RouterEnv env_;
};

// Sleeps on a steady_timer of the current executor.
Router::Sleep timer_sleep();

// Whether a deployment carries every required tag.
bool has_tags(const DeploymentConfig& d, const std::map<std::string, std::string>& required);

}  // namespace tollgate
