#pragma once
// What the gateway knows about each deployment's health and load, shared by
// every worker and kept across config reloads (keyed by deployment id):
//   - a circuit breaker: after `failures` consecutive failed attempts, or a
//     failure rate over a window, the deployment cools down; when the cooldown
//     has passed exactly one probe request is let through, and its outcome
//     closes the circuit or opens it again;
//   - in-flight attempts (least_busy), latency EWMAs (lowest_latency), and
//     requests and tokens in the current minute (usage_based);
//   - the last active health check's verdict.
// Time comes from an injected steady clock, so tests drive cooldowns without
// sleeping.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "tollgate/config.h"
#include "tollgate/provider.h"

namespace tollgate {

enum class CircuitState { closed, open, half_open };
const char* to_string(CircuitState s);

// Whether an attempt's failure says something about the deployment (and so
// counts against its circuit). Client errors and cancellations do not.
bool counts_against_deployment(FailureClass f);
const char* to_string(FailureClass f);

class DeploymentState {
 public:
  using Clock = std::chrono::steady_clock;

  // Admission for one attempt. Closed: always. Open: refused until the
  // cooldown has passed, then the caller becomes the single probe (half
  // open). Half open: refused while the probe runs. `rpm`/`tpm` refuse a
  // deployment whose current minute is used up (0: no limit).
  struct Admission {
    bool admitted = false;
    bool probe = false;
    bool minute_full = false;  // refused: rpm or tpm used up this minute
  };
  Admission try_admit(Clock::time_point now, int64_t rpm, int64_t tpm);

  // The attempt's outcome (exactly once per admitted attempt). `tokens` is
  // the attempt's total token count (usage_based); latencies feed the EWMAs.
  void on_success(const CircuitBreakerConfig& policy, Clock::time_point now, bool probe,
                  std::chrono::microseconds latency, std::optional<std::chrono::microseconds> ttft, int64_t tokens);
  void on_failure(const CircuitBreakerConfig& policy, Clock::time_point now, bool probe, FailureClass failure,
                  const std::string& error);
  // An attempt that says nothing about the deployment (client error,
  // cancellation): releases its in-flight slot and, for a probe, lets the
  // next request probe instead.
  void on_neutral(Clock::time_point now, bool probe, int64_t tokens);

  // Active health checks: a failure counts like a failed attempt; a success
  // after the cooldown closes an open circuit (the check was the probe).
  void on_health_check(const CircuitBreakerConfig& policy, Clock::time_point now, bool ok, const std::string& error);

  struct Snapshot {
    CircuitState state = CircuitState::closed;
    std::chrono::milliseconds cooldown_remaining{0};
    int64_t in_flight = 0;
    int consecutive_failures = 0;
    std::optional<double> latency_ewma_ms;
    std::optional<double> ttft_ewma_ms;
    int64_t minute_requests = 0;
    int64_t minute_tokens = 0;
    uint64_t cooldowns = 0;  // times the circuit opened
    std::string last_error;
    std::optional<bool> health_check_ok;  // none: never checked
  };
  Snapshot snapshot(Clock::time_point now) const;

 private:
  // A window of per-slice attempt/failure counts for the failure rate.
  static constexpr int kSlices = 10;
  struct Slice {
    int64_t index = -1;  // which slice of time it counts
    int64_t attempts = 0;
    int64_t failures = 0;
  };

  void open(Clock::time_point now, const CircuitBreakerConfig& policy);
  void record_window(const CircuitBreakerConfig& policy, Clock::time_point now, bool failed);
  bool rate_tripped(const CircuitBreakerConfig& policy, Clock::time_point now) const;
  void roll_minute(Clock::time_point now);

  mutable std::mutex mu_;
  CircuitState state_ = CircuitState::closed;
  Clock::time_point opened_at_{};
  std::chrono::milliseconds cooldown_{0};
  bool probe_running_ = false;
  int consecutive_failures_ = 0;
  Slice slices_[kSlices];
  int64_t in_flight_ = 0;
  std::optional<double> latency_ewma_ms_;
  std::optional<double> ttft_ewma_ms_;
  int64_t minute_index_ = -1;
  int64_t minute_requests_ = 0;
  int64_t minute_tokens_ = 0;
  uint64_t cooldowns_ = 0;
  std::string last_error_;
  std::optional<bool> health_ok_;
};

// Every deployment's state by id. Entries are created on first use and kept
// (a reload that renames a deployment starts it fresh; one that keeps the id
// keeps its circuit and statistics).
class DeploymentRegistry {
 public:
  using Clock = DeploymentState::Clock;
  explicit DeploymentRegistry(std::function<Clock::time_point()> now = nullptr);

  std::shared_ptr<DeploymentState> get(const std::string& id);
  Clock::time_point now() const { return now_(); }
  // Ids with state, sorted.
  std::vector<std::pair<std::string, std::shared_ptr<DeploymentState>>> all() const;

 private:
  std::function<Clock::time_point()> now_;
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<DeploymentState>> states_;
};

}  // namespace tollgate
