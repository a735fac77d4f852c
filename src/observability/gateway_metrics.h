#pragma once
// The gateway's metrics (docs/operations.md lists them): what the session,
// router, reloader and database pool report, and what is read from shared
// state at scrape time (in-flight requests, connections, the ledger, each
// deployment's circuit).

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "observability/metrics.h"
#include "router/deployment_state.h"
#include "tollgate/request_context.h"

namespace tollgate {

class GatewayMetrics {
 public:
  // Scrape-time readings from the rest of the gateway; any may be empty.
  struct Sources {
    std::function<double()> in_flight;
    std::function<double()> open_connections;
    std::function<double()> spool_bytes;
    std::function<double()> pending_rows;
    std::function<double()> shipping_lag_seconds;
    std::function<double()> traces_dropped;
    std::function<double()> config_generation;
  };
  GatewayMetrics(std::shared_ptr<DeploymentRegistry> deployments, Sources sources);

  // One finished request (after pricing): requests, latencies, tokens, cost,
  // errors. Label values come from `config` (a model it does not name is
  // "other"), never from what a client sent.
  void request_completed(const RequestContext& ctx, const Config& config);
  // An exception or failure inside the gateway, answered as internal_error.
  void internal_error();
  // A connection refused because server.max_connections were open.
  void connection_refused();
  void upstream_attempt(const std::string& provider, const std::string& deployment, std::chrono::microseconds elapsed);
  void retry(const std::string& deployment, const char* failure_class);
  void fallback(const std::string& from, const std::string& to, const char* kind);
  void health_check_failed(const std::string& deployment);
  void config_reload(bool ok);
  void database_call(const char* operation, std::chrono::microseconds elapsed);

  // The exposition text, with the state of the deployments the serving
  // config lists (`deployment_ids`) read now; series of deployments a reload
  // removed are dropped.
  std::string render(const std::set<std::string>& deployment_ids);
  MetricsRegistry& registry() { return registry_; }

 private:
  std::shared_ptr<DeploymentRegistry> deployments_;
  MetricsRegistry registry_;
  Counter& requests_;
  Histogram& duration_;
  Histogram& upstream_;
  Histogram& overhead_;
  Histogram& ttft_;
  Counter& tokens_;
  Counter& cost_;
  Counter& errors_;
  Counter& internal_errors_;
  Counter& refused_connections_;
  Counter& retries_;
  Counter& fallbacks_;
  Gauge& circuit_;
  Counter& cooldowns_;
  Gauge& deployment_in_flight_;
  Counter& health_failures_;
  Counter& reloads_;
  Histogram& database_;
  std::mutex render_mu_;
  std::map<std::string, uint64_t> cooldowns_seen_;  // per deployment, under render_mu_
};

}  // namespace tollgate
