#pragma once
// `type: gemini` (Generative Language API, x-goog-api-key) and `type: vertex`
// (Vertex AI, OAuth bearer token from a service account): one translation,
// two endpoints and two ways to authenticate (wire formats §3).
//
// URLs: gemini  {base_url}/v1beta/models/{model}:generateContent
//       vertex  {base_url}/v1/projects/{project}/locations/{location}/publishers/google/models/{model}:generateContent
// with :streamGenerateContent?alt=sse for streams and :embedContent /
// :batchEmbedContents (gemini) or :predict (vertex) for embeddings. A
// base_url that already ends in a version segment (/v1beta, /v1, ...) is used
// as it is.

#include <memory>
#include <string>

#include "providers/gemini/thought_signatures.h"
#include "providers/gemini/vertex_auth.h"
#include "providers/provider_adapter.h"

namespace tollgate {

class GeminiAdapter final : public ProviderAdapter {
 public:
  // `config` must outlive the adapter. For vertex, reads and checks the
  // service-account key; throws std::runtime_error (start-up) if it is
  // unusable. `signatures` defaults to the process-wide store.
  explicit GeminiAdapter(const ProviderConfig& config, gemini::ThoughtSignatureStore* signatures = nullptr,
                         gemini::VertexTokenSource::Clock clock = {});
  ~GeminiAdapter() override;

  std::string kind() const override;
  const ProviderProfile& stream_profile() const override { return *profile_; }
  Result<NativeRequest> build_request(const RequestContext& ctx, const DeploymentConfig& deployment,
                                      std::vector<std::string>& notes) const override;
  Result<nlohmann::json> translate_response(const RequestContext& ctx, nlohmann::json native,
                                            Usage& usage) const override;
  Result<std::unique_ptr<StreamDecoder>> stream_decoder(const RequestContext& ctx,
                                                        std::string_view content_type) const override;
  UpstreamFailure map_error(int status, std::string_view body, std::optional<int> retry_after_seconds) const override;
  // vertex: adds `authorization: Bearer <token>`; gemini: nothing to do.
  boost::asio::awaitable<std::optional<ApiError>> authorize(NativeRequest& request, UpstreamPool& pool) override;

  // The path (and query) for `method` (":generateContent", ...) on `model`.
  std::string target(const std::string& model, const std::string& method) const;

 private:
  bool vertex() const { return config_.type == ProviderType::vertex; }

  const ProviderConfig& config_;
  UpstreamUrl url_;
  std::string prefix_;  // path up to and including ".../models/"
  const ProviderProfile* profile_;
  gemini::ThoughtSignatureStore* signatures_;
  std::unique_ptr<gemini::VertexTokenSource> tokens_;  // vertex only
};

}  // namespace tollgate
