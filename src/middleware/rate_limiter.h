#pragma once
// RateLimiter: requests-per-minute and tokens-per-minute limits per scope
// ("key:<id>", "team:<id>", "user:<id>", "key:<id>/model:<m>", ... any string),
// as GCRA (a leaky bucket that refills continuously: a limit of N per minute
// admits a burst of N, then one more every 60s/N). Pure: no I/O; time comes
// from the injected steady clock.
//
// Limits are passed on every call, so a config change applies to the next
// request. A scope's state is one bucket level per kind; it drains at the
// limit given on the call that reads it.
//
// Token limits are charged with an estimate at admission and corrected with
// the real count afterwards (correct()); the correction may be positive (the
// bucket fills past what admission checked, so later requests wait longer) or
// negative (tokens given back, never below empty).
//
// Thread-safety: every member function may be called from any thread; one
// mutex guards the state. The clock is called outside the lock.

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace tollgate {

struct RateScope {
  std::string id;
  std::optional<int64_t> rpm;  // none: no request limit for this scope
  std::optional<int64_t> tpm;  // none: no token limit for this scope
};

enum class RateKind { none, requests, tokens };
const char* rate_kind_name(RateKind k);  // "", "requests", "tokens"

struct RateDecision {
  bool allowed = true;
  // On denial: the scope and kind that need the longest wait, and that wait
  // in whole seconds (rounded up, at least 1) for `retry-after`.
  std::string limited_scope;
  RateKind limited_kind = RateKind::none;
  int retry_after_seconds = 0;

  // The x-ratelimit-* numbers of the most constrained scope per kind (least
  // remaining after this request; on denial, before it since nothing was
  // consumed). Absent when no scope has a limit of that kind.
  //   x-ratelimit-limit-requests      requests->limit
  //   x-ratelimit-remaining-requests  requests->remaining
  //   x-ratelimit-reset-requests      format_rate_reset(requests->reset)
  // and the same for tokens.
  struct Window {
    std::string scope;
    int64_t limit = 0;      // per minute
    int64_t remaining = 0;  // what a request could use right now; >= 0
    std::chrono::milliseconds reset{0};  // until the bucket is back to full (rounded up)
  };
  std::optional<Window> requests;
  std::optional<Window> tokens;
};

// A reset duration as OpenAI writes it (Go's time.Duration format at
// millisecond precision): 0 -> "0s", 20ms -> "20ms", 1s -> "1s",
// 1500ms -> "1.5s", 6min -> "6m0s", 1h2m3.4s -> "1h2m3.4s". Negative -> "0s".
std::string format_rate_reset(std::chrono::milliseconds d);

class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  using Now = std::function<Clock::time_point()>;

  explicit RateLimiter(Now now);

  // Admits one request with `estimated_tokens` (< 0 counts as 0) if every
  // scope allows it; then charges one request to each scope with an rpm and
  // the estimate to each scope with a tpm. If any scope denies, nothing is
  // charged anywhere. A duplicated scope id counts once.
  //
  // Per kind and scope, with limit L per minute and a request costing c
  // (1 request, or the estimated tokens): admitted if c fits in what the
  // bucket has left, or — so a request larger than the whole limit can ever
  // run — if c > L and the bucket is completely empty. Such an oversize
  // request overfills the bucket; the scope then waits until it has drained
  // below L - c' for the next request c'. L <= 0 denies every request with
  // a retry-after of 60s.
  RateDecision admit(const std::vector<RateScope>& scopes, int64_t estimated_tokens);

  // After the response: charges actual - estimated tokens to every scope that
  // has a tpm (pass the same scopes and estimate as admit()). Positive deltas
  // are charged even past the limit; negative ones give tokens back, not
  // below empty. Never denies; 0 delta is a no-op.
  void correct(const std::vector<RateScope>& scopes, int64_t estimated_tokens,
               int64_t actual_tokens);

  // Drops scopes whose buckets have fully drained (idle for at least their
  // window). admit() does this lazily at most once per minute; returns how
  // many were dropped.
  size_t sweep();
  size_t size() const;  // scopes with state, for tests and metrics

 private:
  // Level in token-nanoseconds (tokens * window): drains by `limit` per
  // nanosecond, so every step is exact integer arithmetic whatever the limit.
  struct Bucket {
    __int128 level = 0;
    int64_t at_ns = 0;       // time of `level`
    int64_t empty_at_ns = 0;  // when it drains to 0 at the last limit used
  };
  struct Entry {
    Bucket requests;
    Bucket tokens;
  };

  int64_t now_ns() const;
  int64_t monotonic_locked(int64_t now);
  size_t sweep_locked(int64_t now);

  Now now_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Entry> entries_;
  int64_t last_sweep_ns_ = 0;
  int64_t latest_ns_ = INT64_MIN;  // latest time seen under the lock
};

}  // namespace tollgate
