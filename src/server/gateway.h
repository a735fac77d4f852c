#pragma once
// The gateway server: N worker threads, each with its own io_context,
// acceptor (SO_REUSEPORT), upstream connection pool, providers and router.
// Sessions live on one worker and never cross threads.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "router/router.h"
#include "storage/directory.h"
#include "tollgate/config.h"
#include "tollgate/middleware.h"
#include "tollgate/pricing.h"

namespace tollgate {

class Worker;
class DbPool;
class Ledger;
class BudgetBook;
class RateLimiter;
class ParallelLimiter;
class AdminApi;
class GatewayMetrics;
class OtlpExporter;
class RejectionTally;
class ResponseArchive;

struct GatewayOptions {
  // How the router waits between attempts; default: a real timer.
  Router::Sleep sleep;
  uint64_t seed = 0;  // 0: random
  // Wall clock for key expiry, budgets and rate limits; default: the system's.
  std::function<TimePoint()> now;
  // Ledger tuning for tests (spool path and bound come from the config).
  std::chrono::milliseconds ledger_retry_initial{200};
  // Steady clock for circuit cooldowns and deployment statistics; default:
  // the real one. Tests move it forward instead of sleeping.
  std::function<std::chrono::steady_clock::time_point()> steady_now;
  // Wraps each provider a worker builds (tests inject faults with it).
  using DecorateProvider =
      std::function<std::unique_ptr<Provider>(const ProviderConfig&, std::unique_ptr<Provider>)>;
  DecorateProvider decorate_provider;
};

// One loaded config and what is built from it. A request takes the current
// generation when it starts and keeps it to its end, so a reload never
// changes a request midway; the old generation goes when its last request does.
struct Generation {
  uint64_t number = 1;
  std::shared_ptr<const Config> config;
  std::shared_ptr<const PriceTable> prices;
  std::shared_ptr<const MiddlewareChain> chain;
  std::shared_ptr<OtlpExporter> tracer;  // null: no span export
};

// State shared by every worker: the config generations, services, counters.
struct SharedState {
  // The config the gateway started with. Its server, database and ledger
  // settings are the ones in force (a reload cannot change them); everything
  // else comes from current().
  std::shared_ptr<const Config> config;
  std::shared_ptr<const Generation> current() const {
    std::lock_guard lock(generation_mu);
    return generation;
  }
  void publish(std::shared_ptr<const Generation> g) {
    std::lock_guard lock(generation_mu);
    generation = std::move(g);
  }
  std::function<TimePoint()> now;
  // Circuits, load and latency of every deployment, across reloads.
  std::shared_ptr<DeploymentRegistry> deployments;
  std::shared_ptr<GatewayMetrics> metrics;
  // With a database (config.database): the store pool, the cached keys, the
  // ledger and the admin API. Null without one.
  std::shared_ptr<DbPool> db;
  std::shared_ptr<DirectoryHolder> directory;
  std::shared_ptr<Ledger> ledger;
  std::shared_ptr<AdminApi> admin;
  // Stored responses of the Responses API: in the database when there is
  // one, else in memory. Always present.
  std::shared_ptr<ResponseArchive> responses;
  // Always present (static keys have no budgets, but limits are per key).
  std::shared_ptr<BudgetBook> budgets;
  std::shared_ptr<RateLimiter> rate_limiter;
  std::shared_ptr<ParallelLimiter> parallel;
  // Refusals before authentication, tallied instead of one row each.
  std::shared_ptr<RejectionTally> rejections;
  // server.max_connections, resolved at start (never 0).
  std::size_t max_connections = 0;
  std::atomic<bool> draining{false};
  std::atomic<int64_t> open_connections{0};
  std::atomic<int64_t> in_flight{0};
  std::atomic<uint64_t> requests_total{0};
  std::mutex idle_mu;
  std::condition_variable idle_cv;  // notified when open_connections drops and when in_flight reaches 0

 private:
  mutable std::mutex generation_mu;
  std::shared_ptr<const Generation> generation;
};

class Gateway {
 public:
  explicit Gateway(std::shared_ptr<const Config> config, GatewayOptions options = {});
  ~Gateway();
  Gateway(const Gateway&) = delete;
  Gateway& operator=(const Gateway&) = delete;

  // Binds the listener and starts the workers. Returns the bound port (useful
  // with port 0). Throws std::runtime_error when it cannot listen.
  uint16_t start();
  // Stops accepting, lets in-flight requests finish up to the drain deadline,
  // closes idle connections, then stops the workers. Blocks; idempotent.
  void shutdown();

  // Replaces the running config with `next` (already loaded and valid as a
  // file): builds the new generation in full first; new requests use it,
  // in-flight ones finish on theirs. Settings that need a restart keep their
  // running values (a warning names them). Returns the error, if any, with
  // the old config still serving.
  std::optional<std::string> reload(std::shared_ptr<Config> next);
  // Counts and logs a reload that failed before reaching the gateway.
  void reload_failed(const std::string& why);
  // One round of active health checks on the first worker; blocks until done.
  void check_health_now();
  // Blocks until no request is being served (each finished request has
  // recorded its spend row, metrics and spans), or the timeout passes.
  // True when idle. For tests: a client has its response before the
  // gateway's bookkeeping for it ends.
  bool wait_idle(std::chrono::milliseconds timeout);

  const std::string& bound_host() const { return host_; }
  uint16_t port() const { return port_; }
  SharedState& state() { return *state_; }

 private:
  void open_database();
  void maintenance_loop();
  void maintenance_round();
  // Records the tallies of refused requests whose minute is over (all: every one).
  void flush_rejections(bool all);
  void seed_budgets_from_spool(const Directory& dir);
  void stop_workers();
  std::shared_ptr<const Generation> build_generation(std::shared_ptr<const Config> config, uint64_t number,
                                                     const Generation* previous);
  void start_health_loop();

  std::shared_ptr<SharedState> state_;
  GatewayOptions options_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<std::thread> threads_;
  std::string host_;
  uint16_t port_ = 0;
  bool stopped_ = false;
  // Picks up other instances' key changes and resets budget periods.
  std::thread maintenance_;
  std::mutex maintenance_mu_;
  std::condition_variable maintenance_cv_;
  bool maintenance_stop_ = false;
  bool migrated_ = false;
  int maintenance_failures_ = 0;
  TimePoint last_budget_reset_{};
  std::mutex reload_mu_;
};

bool is_loopback_host(const std::string& host);

}  // namespace tollgate
