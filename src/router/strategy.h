#pragma once
// Routing strategies: the order in which a model group's deployments are
// tried for one request. The router then admits the first one whose circuit
// and rpm/tpm allow it.

#include <optional>
#include <random>
#include <vector>

#include "router/deployment_state.h"
#include "tollgate/config.h"

namespace tollgate {

struct Candidate {
  const DeploymentConfig* deployment = nullptr;
  DeploymentState::Snapshot stats;
  std::optional<double> price_per_million;  // input + output, when the price table knows it
};

// Indexes into `candidates`, best first. Ties are broken at random so equal
// deployments share the load.
//   weighted        weighted random order (the first pick follows the weights)
//   least_busy      fewest in-flight attempts
//   lowest_latency  lowest EWMA of time to first token (streams) or of total
//                   latency; unmeasured deployments first, so they get measured
//   lowest_cost     cheapest input+output price; unknown prices last
//   usage_based     most rpm/tpm headroom left this minute; no limit = full
std::vector<std::size_t> order_candidates(RoutingStrategy strategy, const std::vector<Candidate>& candidates,
                                          bool stream, std::mt19937_64& rng);

// Fraction of the deployment's rpm/tpm still free this minute (1: no limits).
double headroom(const DeploymentConfig& d, const DeploymentState::Snapshot& s);

}  // namespace tollgate
