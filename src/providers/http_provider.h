#pragma once
// The one Provider for every HTTP upstream: the adapter translates, the
// shared upstream client carries bytes, the StreamNormalizer keeps the
// client-facing stream invariants. One instance per worker thread.

#include <memory>

#include "providers/param_policy.h"
#include "providers/provider_adapter.h"
#include "providers/upstream_client.h"
#include "tollgate/provider.h"

namespace tollgate {

class HttpProvider final : public Provider {
 public:
  // `params` is the provider's parameter policy (param_policy.h), applied to
  // each attempt's request before the adapter builds it.
  HttpProvider(std::unique_ptr<ProviderAdapter> adapter, UpstreamPool& pool, ParamPolicy params = ParamPolicy::drop)
      : adapter_(std::move(adapter)), pool_(pool), params_(params) {
    ModelCapabilityTable::bundled();  // parsed at start-up, never first on a request
  }

  std::string kind() const override { return adapter_->kind(); }
  bool speaks_anthropic_messages() const override { return adapter_->accepts_native_messages(); }
  boost::asio::awaitable<AttemptOutcome> call(RequestContext& ctx, const DeploymentConfig& deployment,
                                              const AttemptLimits& limits, ResponseSink& sink) override;

 private:
  class StreamRun;
  std::unique_ptr<ProviderAdapter> adapter_;
  UpstreamPool& pool_;
  ParamPolicy params_;
};

// A rough prompt size for when the upstream reports no usage (wire formats §6).
int64_t prompt_estimate(const RequestContext& ctx);

}  // namespace tollgate
