#include "middleware/parallel_limiter.h"

namespace tollgate {

bool ParallelLimiter::acquire(const std::vector<std::pair<std::string, int64_t>>& scopes) {
  std::lock_guard lock(mu_);
  for (const auto& [id, limit] : scopes) {
    auto it = in_flight_.find(id);
    if ((it == in_flight_.end() ? 0 : it->second) >= limit) return false;
  }
  for (const auto& [id, limit] : scopes) ++in_flight_[id];
  return true;
}

void ParallelLimiter::release(const std::vector<std::string>& scopes) {
  std::lock_guard lock(mu_);
  for (const auto& id : scopes) {
    auto it = in_flight_.find(id);
    if (it == in_flight_.end()) continue;
    if (--it->second <= 0) in_flight_.erase(it);
  }
}

int64_t ParallelLimiter::in_flight(const std::string& scope) const {
  std::lock_guard lock(mu_);
  auto it = in_flight_.find(scope);
  return it == in_flight_.end() ? 0 : it->second;
}

}  // namespace tollgate
