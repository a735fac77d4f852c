#pragma once
// Provider for `type: openai` and `type: openai_compatible`: translation by
// openai_adapter.h, transport by the shared upstream client, streams through
// the StreamNormalizer. One instance per worker thread.

#include <memory>

#include "providers/upstream_client.h"
#include "tollgate/config.h"
#include "tollgate/provider.h"
#include "tollgate/provider_profile.h"

namespace tollgate {

class OpenAiProvider final : public Provider {
 public:
  // `config` must outlive the provider (it is part of the shared Config).
  OpenAiProvider(const ProviderConfig& config, UpstreamPool& pool);

  std::string kind() const override;
  boost::asio::awaitable<AttemptOutcome> call(RequestContext& ctx, const DeploymentConfig& deployment,
                                              const AttemptLimits& limits, ResponseSink& sink) override;

 private:
  class StreamRun;
  UpstreamRequest build_request(const RequestContext& ctx, std::string path, std::string body) const;

  const ProviderConfig& config_;
  UpstreamPool& pool_;
  UpstreamUrl url_;
  const ProviderProfile* profile_;
};

}  // namespace tollgate
