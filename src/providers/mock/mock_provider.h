#pragma once
// The built-in `mock` provider: deterministic answers computed in-process, so
// a new user can call the gateway with no upstream at all. Streams go through
// the same StreamNormalizer as real upstreams.

#include "tollgate/config.h"
#include "tollgate/provider.h"

namespace tollgate {

class MockProvider final : public Provider {
 public:
  explicit MockProvider(const ProviderConfig& config) : config_(config) {}

  std::string kind() const override { return "mock"; }
  boost::asio::awaitable<AttemptOutcome> call(RequestContext& ctx, const DeploymentConfig& deployment,
                                              const AttemptLimits& limits, ResponseSink& sink) override;

 private:
  const ProviderConfig& config_;
};

// The mock's reply text for a request body (exposed for tests).
std::string mock_reply_text(JsonView body);

}  // namespace tollgate
