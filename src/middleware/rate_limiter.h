#pragma once
// Requests-per-minute and tokens-per-minute limits per scope ("key:<id>",
// "team:<id>", "key:<id>|model:<m>" ...), by GCRA (the generic cell rate
// algorithm): each scope keeps a theoretical arrival time (TAT); a request of
// cost n moves it by n * (60 s / limit), and is admitted while TAT stays
// within 60 s of now. This is exact (no window-edge bursts beyond the limit)
// and needs one number per scope.
//
// Tokens are estimated at admission and corrected with the real count at
// completion (up or down; a correction never banks credit below "now"). A
// single request whose estimate exceeds a whole minute's tokens is admitted
// when that scope's bucket is empty, and then holds the scope until its cost
// has drained; otherwise it could never run.
//
// Admission over several scopes is all-or-nothing. Limits are passed on each
// call, so a changed limit applies at once. Thread-safe. Idle scopes are
// dropped.

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "tollgate/store.h"

namespace tollgate {

struct RateScope {
  std::string id;
  std::optional<int64_t> rpm;
  std::optional<int64_t> tpm;
};

struct RateDecision {
  bool allowed = true;
  std::string limited_scope;   // denial: the scope that refused
  std::string limited_kind;    // denial: "requests" or "tokens"
  int retry_after_seconds = 0;  // denial: >= 1
  struct Window {
    int64_t limit = 0;
    int64_t remaining = 0;  // after this request (when admitted)
    std::chrono::milliseconds reset{0};  // until the window is full again
  };
  // The most constrained scope's window, for x-ratelimit-* headers.
  std::optional<Window> requests, tokens;
  uint64_t ticket = 0;  // admitted with a token limit: pass to correct()
};

class RateLimiter {
 public:
  using Now = std::function<TimePoint()>;
  explicit RateLimiter(Now now);

  RateDecision admit(const std::vector<RateScope>& scopes, int64_t estimated_tokens);
  // Replaces the ticket's estimate by the actual token count. Unknown or
  // already corrected tickets are ignored.
  void correct(uint64_t ticket, int64_t actual_tokens);
  // Scopes currently held in memory (for tests).
  std::size_t tracked_scopes() const;

 private:
  using Nanos = std::chrono::nanoseconds;
  struct Ticket {
    std::vector<std::pair<std::string, Nanos>> token_scopes;  // scope key, interval per token
    int64_t estimate = 0;
    TimePoint issued{};
  };
  void sweep(TimePoint now);

  Now now_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, TimePoint> tat_;  // "<scope>#r" / "<scope>#t"
  std::unordered_map<uint64_t, Ticket> tickets_;
  uint64_t next_ticket_ = 1;
  uint64_t admits_ = 0;
};

// OpenAI's duration format for x-ratelimit-reset-*: "20ms", "1s", "6m0s", "1h2m3s".
std::string format_reset_duration(std::chrono::milliseconds d);

}  // namespace tollgate
