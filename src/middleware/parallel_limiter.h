#pragma once
// Requests in flight per scope (max_parallel_requests). acquire() takes one
// slot on every scope or none; release() gives them back and ignores scopes
// it holds no slot for (a double release cannot free someone else's slot
// beyond zero). Thread-safe.

#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace tollgate {

class ParallelLimiter {
 public:
  // (scope, limit) pairs. False, taking nothing, when a scope is full.
  bool acquire(const std::vector<std::pair<std::string, int64_t>>& scopes);
  void release(const std::vector<std::string>& scopes);
  int64_t in_flight(const std::string& scope) const;

 private:
  mutable std::mutex mu_;
  std::unordered_map<std::string, int64_t> in_flight_;
};

}  // namespace tollgate
