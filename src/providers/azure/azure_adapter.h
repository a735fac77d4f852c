#pragma once
// Azure OpenAI (wire formats §4.5, conformance case T30). The body is the
// OpenAI one; what differs is the URL (deployment path and api-version, or the
// v1 API), the credential header, and the content-filter annotations Azure
// adds: kept in non-streaming bodies (passed through), stripped from streams,
// where annotation-only chunks would break clients that index choices[0].

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "providers/openai/openai_adapter.h"
#include "providers/provider_adapter.h"

namespace tollgate::azure {

// The request target for `endpoint` on `deployment` below `base_path` (the
// path part of base_url). A base path ending in "/openai/v1" selects the v1
// API (no deployment segment, no api-version); otherwise the deployment-based
// form /openai/deployments/{deployment}{/chat/completions|...}?api-version=...
// is used, with "/openai" added unless base_path already ends with it. Empty
// for an endpoint Azure does not serve.
std::string request_target(std::string_view base_path, Endpoint endpoint, std::string_view deployment,
                           std::string_view api_version);

// Removes Azure's content-filter annotations from one decoded stream chunk:
// top-level prompt_filter_results / prompt_annotations, per-choice
// content_filter_results / content_filter_offsets, and choices left with an
// empty delta, no finish_reason and no logprobs. Returns false when nothing
// is left for the client (no choice and no usage): the chunk is dropped.
bool strip_stream_annotations(nlohmann::json& chunk);

// OpenAiSseDecoder plus strip_stream_annotations on every chunk.
class AzureSseDecoder final : public StreamDecoder {
 public:
  std::optional<ApiError> feed(std::string_view bytes, std::vector<nlohmann::json>& out) override;
  std::optional<ApiError> finish(std::vector<nlohmann::json>& out) override;
  bool complete() const override { return inner_.complete(); }

 private:
  void keep_useful(std::vector<nlohmann::json>& decoded, std::vector<nlohmann::json>& out);
  openai::OpenAiSseDecoder inner_;
  std::vector<nlohmann::json> decoded_;
};

// Azure's errors are OpenAI-shaped; a filtered prompt is HTTP 400 with
// error.code "content_filter" (innererror ResponsibleAIPolicyViolation) and
// stays a client 400 with code content_filter. The rest maps as for OpenAI.
UpstreamFailure map_error(int status, std::string_view body, std::optional<int> retry_after_seconds);

}  // namespace tollgate::azure

namespace tollgate {

// `type: azure`.
class AzureAdapter final : public ProviderAdapter {
 public:
  // `config` must outlive the adapter (it is part of the shared Config).
  explicit AzureAdapter(const ProviderConfig& config);

  std::string kind() const override { return "azure"; }
  const ProviderProfile& stream_profile() const override { return profile_; }
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
  ProviderProfile profile_;
};

}  // namespace tollgate
