#pragma once
// The gateway server: N worker threads, each with its own io_context,
// acceptor (SO_REUSEPORT), upstream connection pool, providers and router.
// Sessions live on one worker and never cross threads.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "router/router.h"
#include "tollgate/config.h"
#include "tollgate/middleware.h"
#include "tollgate/pricing.h"

namespace tollgate {

class Worker;

struct GatewayOptions {
  // How the router waits between attempts; default: a real timer.
  Router::Sleep sleep;
  uint64_t seed = 0;  // 0: random
};

// State shared by every worker: immutable config and services, plus counters.
struct SharedState {
  std::shared_ptr<const Config> config;
  std::shared_ptr<const PriceTable> prices;
  MiddlewareChain chain;
  std::atomic<bool> draining{false};
  std::atomic<int64_t> open_connections{0};
  std::atomic<int64_t> in_flight{0};
  std::atomic<uint64_t> requests_total{0};
  std::mutex idle_mu;
  std::condition_variable idle_cv;  // notified when open_connections drops
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

  const std::string& bound_host() const { return host_; }
  uint16_t port() const { return port_; }
  SharedState& state() { return *state_; }

 private:
  std::shared_ptr<SharedState> state_;
  GatewayOptions options_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<std::thread> threads_;
  std::string host_;
  uint16_t port_ = 0;
  bool stopped_ = false;
};

bool is_loopback_host(const std::string& host);

}  // namespace tollgate
