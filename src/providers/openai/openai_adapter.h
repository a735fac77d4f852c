#pragma once
// Pure translation between the gateway's OpenAI-shaped requests and an OpenAI
// or OpenAI-compatible upstream, driven by a ProviderProfile (wire formats §5).
// No I/O; every function is deterministic and tested with fixtures.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "providers/provider_adapter.h"
#include "tollgate/config.h"
#include "tollgate/error.h"
#include "tollgate/request_body.h"
#include "tollgate/provider.h"
#include "tollgate/provider_profile.h"
#include "tollgate/request_context.h"
#include "tollgate/usage.h"
#include "providers/sse_parser.h"

namespace tollgate::openai {

struct PreparedRequest {
  std::string path;  // appended to the provider's base_url, e.g. "/chat/completions"
  std::string body;
};

// The upstream request for `endpoint`. The model becomes the deployment's
// model; streams always ask for usage where the profile allows it; profile
// renames and drops apply. `notes` collects human-readable adjustments
// (e.g. "dropped logprobs") for the x-tollgate-notes response header.
// Changed members are spliced into the client's bytes; the rest is
// forwarded as it came (a profile that edits messages rebuilds those only).
Result<PreparedRequest> prepare_request(Endpoint endpoint, const RequestBody& client_body,
                                        const DeploymentConfig& deployment,
                                        const ProviderProfile& profile,
                                        std::vector<std::string>& notes);

// A non-streaming upstream body made safe for clients: finish reasons mapped,
// upstream-only fields stripped, usage extracted into `usage`.
Result<nlohmann::json> normalize_response(Endpoint endpoint, nlohmann::json upstream,
                                          const ProviderProfile& profile, Usage& usage);

// The same over a parsed upstream body, answering its bytes untouched when
// normalize_response would change nothing (the usual case: no usage paths,
// no fields to strip, every finish_reason present and not remapped); else
// the tree path.
Result<std::string> normalize_response_body(Endpoint endpoint, const JsonDocument& upstream,
                                            const ProviderProfile& profile, Usage& usage);

// Maps an upstream error status and body (any of the family's error shapes)
// to what the client sees. An upstream 401/403 concerns the gateway's own
// provider key, so it becomes 502, never a client 401.
UpstreamFailure map_upstream_error(int status, std::string_view body,
                                   std::optional<int> retry_after_seconds);

// Mistral needs tool-call ids of exactly 9 [a-zA-Z0-9]; ids that already
// qualify are kept, others are hashed deterministically so that an assistant
// turn and its tool results stay paired.
std::string alnum9_tool_id(std::string_view original);

// SSE `data:` events of Chat/Completions streams, passed through as chunks;
// `[DONE]` ends the stream and a `{"error":...}` event becomes an error.
class OpenAiSseDecoder final : public StreamDecoder {
 public:
  std::optional<ApiError> feed(std::string_view bytes, std::vector<nlohmann::json>& out) override;
  std::optional<ApiError> finish(std::vector<nlohmann::json>& out) override;
  bool complete() const override { return done_; }

 private:
  std::optional<ApiError> take(std::vector<nlohmann::json>& out);
  SseParser parser_;
  std::vector<SseEvent> events_;
  bool done_ = false;
};

}  // namespace tollgate::openai

namespace tollgate {

// `type: openai` and `type: openai_compatible`.
class OpenAiAdapter final : public ProviderAdapter {
 public:
  // `config` must outlive the adapter (it is part of the shared Config).
  explicit OpenAiAdapter(const ProviderConfig& config);

  std::string kind() const override;
  const ProviderProfile& stream_profile() const override { return *profile_; }
  Result<NativeRequest> build_request(const RequestContext& ctx, const DeploymentConfig& deployment,
                                      std::vector<std::string>& notes) const override;
  Result<nlohmann::json> translate_response(const RequestContext& ctx, nlohmann::json native,
                                            Usage& usage) const override;
  Result<std::string> translate_response_body(const RequestContext& ctx, const JsonDocument& native,
                                              Usage& usage) const override;
  Result<std::unique_ptr<StreamDecoder>> stream_decoder(const RequestContext& ctx,
                                                        std::string_view content_type) const override;
  UpstreamFailure map_error(int status, std::string_view body, std::optional<int> retry_after_seconds) const override;

 private:
  const ProviderConfig& config_;
  UpstreamUrl url_;
  const ProviderProfile* profile_;
};

}  // namespace tollgate
