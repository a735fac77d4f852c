#pragma once
// What differs between upstream APIs, behind one interface: how to build the
// native request, how to read its answer, its stream and its errors. Every
// method is pure (no I/O) except authorize(), so adapters are tested with
// fixtures; the transport (HttpProvider) is shared by all of them.

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <nlohmann/json.hpp>

#include "tollgate/json_document.h"

#include "providers/upstream_client.h"
#include "tollgate/config.h"
#include "tollgate/error.h"
#include "tollgate/provider.h"
#include "tollgate/provider_profile.h"
#include "tollgate/request_context.h"
#include "tollgate/usage.h"

namespace tollgate {

// An upstream request and where it goes.
struct NativeRequest {
  UpstreamUrl url;
  UpstreamRequest request;
};

struct UpstreamFailure {
  ApiError error;
  FailureClass failure = FailureClass::server;
};

// Decodes one streamed upstream body into OpenAI chat.completion.chunk (or
// text_completion) objects. Owns the provider's stream state machine. A final
// usage-only chunk (`choices: []`, `usage`) carries the normalised usage.
class StreamDecoder {
 public:
  virtual ~StreamDecoder() = default;
  // Feeds body bytes in any split. Appends complete chunks to `out`. Returns
  // an error to end the stream (an upstream error event, malformed data).
  virtual std::optional<ApiError> feed(std::string_view bytes, std::vector<nlohmann::json>& out) = 0;
  // The body ended. Returns an error if the stream was cut short.
  virtual std::optional<ApiError> finish(std::vector<nlohmann::json>& out) = 0;
  // True once the upstream signalled the end of the stream ([DONE],
  // message_stop, ...); the provider then stops reading.
  virtual bool complete() const = 0;
};

class ProviderAdapter {
 public:
  virtual ~ProviderAdapter() = default;

  // "openai", "anthropic", or an OpenAI-compatible profile name: the price
  // table namespace and what logs show.
  virtual std::string kind() const = 0;
  // The profile applied to streams after decoding (finish reasons, extra
  // usage locations, fields to strip); "generic" for native APIs.
  virtual const ProviderProfile& stream_profile() const = 0;

  // The native request for ctx (endpoint, body, stream flag) on `deployment`.
  // `notes` collects adjustments for the x-tollgate-notes header.
  virtual Result<NativeRequest> build_request(const RequestContext& ctx, const DeploymentConfig& deployment,
                                              std::vector<std::string>& notes) const = 0;
  // A successful non-streaming body, translated to the OpenAI shape.
  virtual Result<nlohmann::json> translate_response(const RequestContext& ctx, nlohmann::json native,
                                                    Usage& usage) const = 0;
  // The same from the parsed upstream body to the client's bytes. The
  // default builds a tree for translate_response and serialises its result;
  // an adapter whose translation usually changes nothing (OpenAI-compatible
  // upstreams) forwards the upstream's bytes untouched when it does not.
  virtual Result<std::string> translate_response_body(const RequestContext& ctx, const JsonDocument& native,
                                                      Usage& usage) const;
  // A decoder for one streamed response, or an error if `content_type` is not
  // this API's stream type.
  virtual Result<std::unique_ptr<StreamDecoder>> stream_decoder(const RequestContext& ctx,
                                                                std::string_view content_type) const = 0;
  // A non-2xx upstream answer, as the client should see it.
  virtual UpstreamFailure map_error(int status, std::string_view body,
                                    std::optional<int> retry_after_seconds) const = 0;
  // The same with the response headers at hand, for APIs that name the error
  // in a header (Bedrock's x-amzn-errortype). `header` returns a response
  // header's value by name, empty when absent. Default: map_error.
  using HeaderLookup = std::function<std::string(std::string_view name)>;
  virtual UpstreamFailure map_error_response(int status, const HeaderLookup& header, std::string_view body,
                                             std::optional<int> retry_after_seconds) const {
    return map_error(status, body, retry_after_seconds);
  }

  // Native pass-through of the Anthropic Messages API: true when this
  // upstream speaks it, so that an Anthropic client's request
  // (ctx.anthropic_body) goes to it as it is, only `model` changed, and the
  // answer comes back unchanged (native_messages.h relays it).
  virtual bool accepts_native_messages() const { return false; }
  // The upstream request for ctx.anthropic_body on `deployment`: POST
  // .../v1/messages, or .../v1/messages/count_tokens when
  // ctx.anthropic_count_tokens. Called only when accepts_native_messages().
  virtual Result<NativeRequest> build_native_messages(const RequestContext& ctx,
                                                      const DeploymentConfig& deployment) const {
    return ApiError::internal("this provider has no native Messages API");
  }

  // Adds credentials that need I/O (an OAuth token). Default: nothing to do.
  virtual boost::asio::awaitable<std::optional<ApiError>> authorize(NativeRequest& request, UpstreamPool& pool) {
    co_return std::nullopt;
  }
};

}  // namespace tollgate
