#pragma once
// `type: bedrock`: Amazon Bedrock Runtime. Chat goes to Converse
// (POST {base_url}/model/{modelId}/converse) or ConverseStream
// (.../converse-stream, binary event-stream answer); embeddings to
// InvokeModel (.../invoke) for Titan and Cohere models. Requests are signed
// with SigV4 for service "bedrock" from the provider's AWS credentials, or
// carry `Authorization: Bearer` when the provider has an api_key (Bedrock
// API keys).

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "providers/provider_adapter.h"
#include "providers/upstream_client.h"
#include "tollgate/config.h"

namespace tollgate {

class BedrockAdapter final : public ProviderAdapter {
 public:
  using Clock = std::function<std::chrono::system_clock::time_point()>;

  // `config` must outlive the adapter (it is part of the shared Config).
  // `clock` dates the signatures (default: the system clock); tests pass a
  // fixed one.
  explicit BedrockAdapter(const ProviderConfig& config, Clock clock = {});

  std::string kind() const override { return "bedrock"; }
  const ProviderProfile& stream_profile() const override { return *profile_; }
  Result<NativeRequest> build_request(const RequestContext& ctx, const DeploymentConfig& deployment,
                                      std::vector<std::string>& notes) const override;
  Result<nlohmann::json> translate_response(const RequestContext& ctx, nlohmann::json native,
                                            Usage& usage) const override;
  Result<std::unique_ptr<StreamDecoder>> stream_decoder(const RequestContext& ctx,
                                                        std::string_view content_type) const override;
  UpstreamFailure map_error(int status, std::string_view body, std::optional<int> retry_after_seconds) const override;
  // The error type comes from x-amzn-errortype, else the body's __type.
  UpstreamFailure map_error_response(int status, const HeaderLookup& header, std::string_view body,
                                     std::optional<int> retry_after_seconds) const override;

 private:
  const ProviderConfig& config_;
  Clock clock_;
  UpstreamUrl url_;
  const ProviderProfile* profile_;
};

}  // namespace tollgate
