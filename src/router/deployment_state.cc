#include "router/deployment_state.h"

#include <algorithm>

namespace tollgate {

namespace {

constexpr double kEwmaAlpha = 0.3;  // weight of the newest sample

double ms(std::chrono::microseconds d) { return static_cast<double>(d.count()) / 1000.0; }

void ewma(std::optional<double>& avg, double sample) {
  avg = avg ? kEwmaAlpha * sample + (1 - kEwmaAlpha) * *avg : sample;
}

int64_t minute_of(DeploymentState::Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::minutes>(t.time_since_epoch()).count();
}

}  // namespace

const char* to_string(CircuitState s) {
  switch (s) {
    case CircuitState::closed: return "closed";
    case CircuitState::open: return "open";
    case CircuitState::half_open: return "half_open";
  }
  return "closed";
}

const char* to_string(FailureClass f) {
  switch (f) {
    case FailureClass::none: return "none";
    case FailureClass::connect: return "connect";
    case FailureClass::timeout: return "timeout";
    case FailureClass::rate_limited: return "rate_limited";
    case FailureClass::server: return "server";
    case FailureClass::client: return "client";
    case FailureClass::cancelled: return "cancelled";
  }
  return "none";
}

bool counts_against_deployment(FailureClass f) {
  return f == FailureClass::connect || f == FailureClass::timeout || f == FailureClass::rate_limited ||
         f == FailureClass::server;
}

DeploymentState::Admission DeploymentState::try_admit(Clock::time_point now, int64_t rpm, int64_t tpm) {
  std::lock_guard lock(mu_);
  roll_minute(now);
  if ((rpm > 0 && minute_requests_ >= rpm) || (tpm > 0 && minute_tokens_ >= tpm)) {
    Admission full;
    full.minute_full = true;
    return full;
  }
  Admission a;
  switch (state_) {
    case CircuitState::closed:
      a.admitted = true;
      break;
    case CircuitState::open:
      if (now - opened_at_ < cooldown_) return {};
      state_ = CircuitState::half_open;
      [[fallthrough]];
    case CircuitState::half_open:
      if (probe_running_) return {};
      probe_running_ = true;
      a.admitted = a.probe = true;
      break;
  }
  ++in_flight_;
  ++minute_requests_;
  return a;
}

void DeploymentState::on_success(const CircuitBreakerConfig& policy, Clock::time_point now, bool probe,
                                 std::chrono::microseconds latency, std::optional<std::chrono::microseconds> ttft,
                                 int64_t tokens) {
  std::lock_guard lock(mu_);
  in_flight_ = std::max<int64_t>(0, in_flight_ - 1);
  roll_minute(now);
  minute_tokens_ += std::max<int64_t>(0, tokens);
  ewma(latency_ewma_ms_, ms(latency));
  if (ttft) ewma(ttft_ewma_ms_, ms(*ttft));
  consecutive_failures_ = 0;
  record_window(policy, now, false);
  if (probe) {
    probe_running_ = false;
    if (state_ == CircuitState::half_open) state_ = CircuitState::closed;
  }
}

void DeploymentState::on_failure(const CircuitBreakerConfig& policy, Clock::time_point now, bool probe,
                                 FailureClass failure, const std::string& error) {
  std::lock_guard lock(mu_);
  in_flight_ = std::max<int64_t>(0, in_flight_ - 1);
  if (probe) probe_running_ = false;
  if (!counts_against_deployment(failure)) return;
  last_error_ = error;
  ++consecutive_failures_;
  record_window(policy, now, true);
  if (state_ == CircuitState::half_open) {
    open(now, policy);  // the probe failed
    return;
  }
  if (state_ == CircuitState::closed &&
      ((policy.failures > 0 && consecutive_failures_ >= policy.failures) || rate_tripped(policy, now))) {
    open(now, policy);
  }
}

void DeploymentState::on_neutral(Clock::time_point now, bool probe, int64_t tokens) {
  std::lock_guard lock(mu_);
  in_flight_ = std::max<int64_t>(0, in_flight_ - 1);
  roll_minute(now);
  minute_tokens_ += std::max<int64_t>(0, tokens);
  if (probe) probe_running_ = false;
}

void DeploymentState::on_health_check(const CircuitBreakerConfig& policy, Clock::time_point now, bool ok,
                                      const std::string& error) {
  std::lock_guard lock(mu_);
  health_ok_ = ok;
  if (ok) {
    if (state_ == CircuitState::closed) {
      consecutive_failures_ = 0;
      record_window(policy, now, false);
    } else if (now - opened_at_ >= cooldown_ && !probe_running_) {
      state_ = CircuitState::closed;  // the check was the probe
      consecutive_failures_ = 0;
    }
    return;
  }
  last_error_ = "health check: " + error;
  ++consecutive_failures_;
  record_window(policy, now, true);
  if (state_ == CircuitState::half_open && !probe_running_) {
    open(now, policy);
  } else if (state_ == CircuitState::closed &&
             ((policy.failures > 0 && consecutive_failures_ >= policy.failures) || rate_tripped(policy, now))) {
    open(now, policy);
  }
}

void DeploymentState::open(Clock::time_point now, const CircuitBreakerConfig& policy) {
  state_ = CircuitState::open;
  opened_at_ = now;
  cooldown_ = std::chrono::milliseconds(policy.cooldown_ms);
  ++cooldowns_;
}

void DeploymentState::record_window(const CircuitBreakerConfig& policy, Clock::time_point now, bool failed) {
  const int64_t slice_ms = std::max<int64_t>(1, policy.window_ms / kSlices);
  const int64_t index = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() / slice_ms;
  Slice& s = slices_[index % kSlices];
  if (s.index != index) s = Slice{index, 0, 0};
  ++s.attempts;
  if (failed) ++s.failures;
}

bool DeploymentState::rate_tripped(const CircuitBreakerConfig& policy, Clock::time_point now) const {
  if (policy.failure_rate <= 0) return false;
  const int64_t slice_ms = std::max<int64_t>(1, policy.window_ms / kSlices);
  const int64_t index = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() / slice_ms;
  int64_t attempts = 0, failures = 0;
  for (const auto& s : slices_) {
    if (s.index >= 0 && index - s.index < kSlices) {
      attempts += s.attempts;
      failures += s.failures;
    }
  }
  return attempts >= std::max(1, policy.min_requests) &&
         static_cast<double>(failures) >= policy.failure_rate * static_cast<double>(attempts);
}

void DeploymentState::roll_minute(Clock::time_point now) {
  const int64_t m = minute_of(now);
  if (m != minute_index_) {
    minute_index_ = m;
    minute_requests_ = 0;
    minute_tokens_ = 0;
  }
}

DeploymentState::Snapshot DeploymentState::snapshot(Clock::time_point now) const {
  std::lock_guard lock(mu_);
  Snapshot s;
  s.state = state_;
  if (state_ == CircuitState::open) {
    const auto left = cooldown_ - std::chrono::duration_cast<std::chrono::milliseconds>(now - opened_at_);
    s.cooldown_remaining = std::max(std::chrono::milliseconds(0), left);
  }
  s.in_flight = in_flight_;
  s.consecutive_failures = consecutive_failures_;
  s.latency_ewma_ms = latency_ewma_ms_;
  s.ttft_ewma_ms = ttft_ewma_ms_;
  const bool this_minute = minute_index_ == minute_of(now);
  s.minute_requests = this_minute ? minute_requests_ : 0;
  s.minute_tokens = this_minute ? minute_tokens_ : 0;
  s.cooldowns = cooldowns_;
  s.last_error = last_error_;
  s.health_check_ok = health_ok_;
  return s;
}

DeploymentRegistry::DeploymentRegistry(std::function<Clock::time_point()> now)
    : now_(now ? std::move(now) : [] { return Clock::now(); }) {}

std::shared_ptr<DeploymentState> DeploymentRegistry::get(const std::string& id) {
  std::lock_guard lock(mu_);
  auto& s = states_[id];
  if (!s) s = std::make_shared<DeploymentState>();
  return s;
}

std::vector<std::pair<std::string, std::shared_ptr<DeploymentState>>> DeploymentRegistry::all() const {
  std::lock_guard lock(mu_);
  return {states_.begin(), states_.end()};
}

}  // namespace tollgate
