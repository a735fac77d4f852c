#pragma once
// `type: anthropic`: the Messages API (wire formats §2) behind the
// ProviderAdapter interface. Translation lives in anthropic_request,
// anthropic_messages, anthropic_response, anthropic_stream and
// anthropic_errors; this class only wires it to the shared transport.
//
// Endpoints: /v1/chat/completions -> POST {base_url}/v1/messages (a base_url
// that already ends in /v1 gets only /messages). /v1/completions is emulated
// by wrapping the prompt in one user message. /v1/embeddings has no
// Anthropic counterpart: a 400 naming the endpoint, and no upstream call.
// Headers: x-api-key, anthropic-version (ProviderConfig::api_version),
// content-type, plus the provider's configured headers.
//
// Native pass-through (accepts_native_messages): a request that came in on
// /v1/messages or /v1/messages/count_tokens goes to {base}/v1/messages (or
// .../count_tokens) with the client's body as it is, only `model` spliced to
// the deployment's, and the client's anthropic-version and anthropic-beta.

#include <memory>
#include <string>

#include "providers/anthropic/anthropic_request.h"
#include "providers/provider_adapter.h"
#include "providers/upstream_client.h"
#include "tollgate/config.h"

namespace tollgate {

class AnthropicAdapter final : public ProviderAdapter {
 public:
  // `config` must outlive the adapter (it is part of the shared Config).
  explicit AnthropicAdapter(const ProviderConfig& config);

  std::string kind() const override { return "anthropic"; }
  const ProviderProfile& stream_profile() const override { return profile_; }
  Result<NativeRequest> build_request(const RequestContext& ctx, const DeploymentConfig& deployment,
                                      std::vector<std::string>& notes) const override;
  Result<nlohmann::json> translate_response(const RequestContext& ctx, nlohmann::json native,
                                            Usage& usage) const override;
  Result<std::unique_ptr<StreamDecoder>> stream_decoder(const RequestContext& ctx,
                                                        std::string_view content_type) const override;
  UpstreamFailure map_error(int status, std::string_view body, std::optional<int> retry_after_seconds) const override;
  // Anthropic clients' requests go through as they are (native pass-through).
  bool accepts_native_messages() const override { return true; }
  Result<NativeRequest> build_native_messages(const RequestContext& ctx,
                                              const DeploymentConfig& deployment) const override;

 private:
  const ProviderConfig& config_;
  UpstreamUrl url_;
  std::string target_;
  const ProviderProfile& profile_;
  anthropic::ThinkingBudgets budgets_;
};

}  // namespace tollgate
