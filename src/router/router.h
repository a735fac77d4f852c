#pragma once
// Router, first version: a model name maps to a group of weighted
// deployments. Each request gets `retries + 1` attempts over the group
// (weighted order, backoff and upstream retry-after between attempts), then
// the model's fallbacks in order, but only while nothing has reached the
// client. One Router per worker thread.

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <random>

#include <boost/asio/awaitable.hpp>

#include "tollgate/config.h"
#include "tollgate/provider.h"
#include "tollgate/request_context.h"
#include "tollgate/response_sink.h"

namespace tollgate {

class Router {
 public:
  using Sleep = std::function<boost::asio::awaitable<void>(std::chrono::milliseconds)>;

  // `providers` maps provider names to this worker's instances. `sleep`
  // waits between attempts (tests inject one that records and returns).
  Router(std::shared_ptr<const Config> config, std::map<std::string, std::unique_ptr<Provider>> providers,
         Sleep sleep, uint64_t seed);

  // Serves ctx through the model group and writes the outcome to `sink`:
  // the response, an error response, or (after the stream started) an error
  // event. Fills ctx's routing and outcome fields.
  boost::asio::awaitable<void> route(RequestContext& ctx, ResponseSink& sink);

  // The weighted attempt order for a model group (exposed for tests).
  std::vector<const DeploymentConfig*> attempt_order(const ModelConfig& model);

 private:
  std::chrono::milliseconds backoff(int attempt, const AttemptOutcome& last);

  std::shared_ptr<const Config> config_;
  std::map<std::string, std::unique_ptr<Provider>> providers_;
  Sleep sleep_;
  std::mt19937_64 rng_;
};

// Sleeps on a steady_timer of the current executor.
Router::Sleep timer_sleep();

}  // namespace tollgate
