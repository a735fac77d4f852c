#pragma once
// ParallelLimiter: at most N requests in flight per scope ("key:<id>",
// "team:<id>", ...). Pure: no I/O, no clock.
//
//   auto p = limiter.acquire(scopes);   // on_request; deny with 429 if !p.allowed
//   limiter.release(p.permit);          // on_complete, on every outcome
//
// Thread-safety: every member function may be called from any thread; one
// mutex guards the counters.

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace tollgate {

struct ParallelScope {
  std::string id;
  std::optional<int64_t> max_parallel;  // none: not limited (and not counted)
};

struct ParallelDecision {
  bool allowed = false;
  uint64_t permit = 0;  // when allowed: pass to release(); never 0
  // On denial: the first scope, in the caller's order, that is full.
  std::string limited_scope;
  int64_t limit = 0;
  int64_t in_flight = 0;
};

class ParallelLimiter {
 public:
  // Takes one slot on every scope with a max_parallel, all or nothing: if any
  // is full (in flight >= max; max <= 0 is always full) nothing is taken. A
  // duplicated scope id counts once. Limits are read on each call, so a
  // lowered limit applies to new requests at once (those in flight finish).
  // A scope list without limits is allowed and still returns a permit.
  ParallelDecision acquire(const std::vector<ParallelScope>& scopes);

  // Gives back the permit's slots. Releasing 0, an unknown permit or one
  // already released does nothing; returns whether slots were given back.
  bool release(uint64_t permit);

  int64_t in_flight(const std::string& scope) const;  // 0 for an unknown scope
  size_t permits() const;  // permits not yet released

 private:
  mutable std::mutex mu_;
  std::unordered_map<std::string, int64_t> in_flight_;  // only scopes with > 0
  std::unordered_map<uint64_t, std::vector<std::string>> permits_;
  uint64_t next_permit_ = 1;
};

}  // namespace tollgate
