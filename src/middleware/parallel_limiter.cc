#include "middleware/parallel_limiter.h"

#include <unordered_set>

namespace tollgate {

ParallelDecision ParallelLimiter::acquire(const std::vector<ParallelScope>& scopes) {
  ParallelDecision d;
  std::vector<std::string> taken;
  std::unordered_set<std::string_view> seen;
  std::lock_guard lock(mu_);
  for (const auto& s : scopes) {
    if (!s.max_parallel || !seen.insert(s.id).second) continue;
    auto it = in_flight_.find(s.id);
    const int64_t now = it == in_flight_.end() ? 0 : it->second;
    if (now >= *s.max_parallel) {
      d.limited_scope = s.id;
      d.limit = *s.max_parallel;
      d.in_flight = now;
      return d;
    }
    taken.push_back(s.id);
  }
  for (const auto& id : taken) ++in_flight_[id];
  d.allowed = true;
  d.permit = next_permit_++;
  permits_.emplace(d.permit, std::move(taken));
  return d;
}

bool ParallelLimiter::release(uint64_t permit) {
  std::lock_guard lock(mu_);
  auto it = permits_.find(permit);
  if (it == permits_.end()) return false;
  for (const auto& id : it->second) {
    auto c = in_flight_.find(id);
    // Erasing at zero keeps the map as small as the set of busy scopes.
    if (c != in_flight_.end() && --c->second <= 0) in_flight_.erase(c);
  }
  permits_.erase(it);
  return true;
}

int64_t ParallelLimiter::in_flight(const std::string& scope) const {
  std::lock_guard lock(mu_);
  auto it = in_flight_.find(scope);
  return it == in_flight_.end() ? 0 : it->second;
}

size_t ParallelLimiter::permits() const {
  std::lock_guard lock(mu_);
  return permits_.size();
}

}  // namespace tollgate
