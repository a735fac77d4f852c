#pragma once
// `type: cohere`: Chat v2 (POST {base_url}/v2/chat) and Embed v2 (POST
// {base_url}/v2/embed) with `Authorization: Bearer`. Translation lives in
// cohere_translate.h; this class only wires it to the ProviderAdapter
// interface. Cohere has no legacy completions endpoint: /v1/completions
// requests get a 400.

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "providers/provider_adapter.h"

namespace tollgate {

class CohereAdapter final : public ProviderAdapter {
 public:
  using Clock = std::function<int64_t()>;  // seconds since the epoch, for `created`

  // `config` must outlive the adapter (it is part of the shared Config).
  explicit CohereAdapter(const ProviderConfig& config, Clock clock = {});

  std::string kind() const override { return "cohere"; }
  const ProviderProfile& stream_profile() const override { return *profile_; }
  Result<NativeRequest> build_request(const RequestContext& ctx, const DeploymentConfig& deployment,
                                      std::vector<std::string>& notes) const override;
  Result<nlohmann::json> translate_response(const RequestContext& ctx, nlohmann::json native,
                                            Usage& usage) const override;
  Result<std::unique_ptr<StreamDecoder>> stream_decoder(const RequestContext& ctx,
                                                        std::string_view content_type) const override;
  UpstreamFailure map_error(int status, std::string_view body, std::optional<int> retry_after_seconds) const override;

 private:
  const ProviderConfig& config_;
  UpstreamUrl url_;
  const ProviderProfile* profile_;
  Clock clock_;
};

}  // namespace tollgate
