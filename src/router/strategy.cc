#include "router/strategy.h"

#include <algorithm>
#include <limits>
#include <numeric>

namespace tollgate {

namespace {

std::vector<std::size_t> weighted_order(const std::vector<Candidate>& c, std::mt19937_64& rng) {
  // Weighted sampling without replacement.
  std::vector<std::size_t> pool(c.size());
  std::iota(pool.begin(), pool.end(), 0);
  std::vector<std::size_t> order;
  while (!pool.empty()) {
    double total = 0;
    for (auto i : pool) total += c[i].deployment->weight;
    std::uniform_real_distribution<double> dist(0, total);
    double x = dist(rng);
    std::size_t pick = pool.size() - 1;
    for (std::size_t k = 0; k < pool.size(); ++k) {
      const double w = c[pool[k]].deployment->weight;
      if (x < w) {
        pick = k;
        break;
      }
      x -= w;
    }
    order.push_back(pool[pick]);
    pool.erase(pool.begin() + static_cast<std::ptrdiff_t>(pick));
  }
  return order;
}

// Shuffles, then sorts by `key` ascending, keeping the shuffled order among
// equal keys.
template <class Key>
std::vector<std::size_t> sorted_order(const std::vector<Candidate>& c, std::mt19937_64& rng, Key key) {
  std::vector<std::size_t> order(c.size());
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), rng);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return key(c[a]) < key(c[b]); });
  return order;
}

}  // namespace

double headroom(const DeploymentConfig& d, const DeploymentState::Snapshot& s) {
  double room = 1.0;
  if (d.rpm && *d.rpm > 0) {
    room = std::min(room, 1.0 - static_cast<double>(s.minute_requests) / static_cast<double>(*d.rpm));
  }
  if (d.tpm && *d.tpm > 0) {
    room = std::min(room, 1.0 - static_cast<double>(s.minute_tokens) / static_cast<double>(*d.tpm));
  }
  return std::max(0.0, room);
}

std::vector<std::size_t> order_candidates(RoutingStrategy strategy, const std::vector<Candidate>& candidates,
                                          bool stream, std::mt19937_64& rng) {
  switch (strategy) {
    case RoutingStrategy::weighted:
      return weighted_order(candidates, rng);
    case RoutingStrategy::least_busy:
      return sorted_order(candidates, rng, [](const Candidate& c) { return c.stats.in_flight; });
    case RoutingStrategy::lowest_latency:
      return sorted_order(candidates, rng, [stream](const Candidate& c) {
        const auto& s = c.stats;
        const auto& first = stream ? s.ttft_ewma_ms : s.latency_ewma_ms;
        return first ? *first : s.latency_ewma_ms.value_or(0.0);
      });
    case RoutingStrategy::lowest_cost:
      return sorted_order(candidates, rng, [](const Candidate& c) {
        return c.price_per_million.value_or(std::numeric_limits<double>::infinity());
      });
    case RoutingStrategy::usage_based:
      return sorted_order(candidates, rng,
                          [](const Candidate& c) { return -headroom(*c.deployment, c.stats); });
  }
  return weighted_order(candidates, rng);
}

}  // namespace tollgate
