#include "providers/cohere/cohere_adapter.h"

#include <chrono>

#include "providers/adapter_factory.h"
#include "providers/cohere/cohere_translate.h"

namespace tollgate {

using nlohmann::json;

CohereAdapter::CohereAdapter(const ProviderConfig& config, Clock clock)
    : config_(config),
      url_(*UpstreamUrl::parse(config.base_url)),
      profile_(ProviderProfiles::bundled().find("generic")),
      clock_(std::move(clock)) {
  if (!clock_) {
    clock_ = [] {
      return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    };
  }
}

Result<NativeRequest> CohereAdapter::build_request(const RequestContext& ctx, const DeploymentConfig& deployment,
                                                   std::vector<std::string>& notes) const {
  Result<json> body = json();
  std::string path;
  if (ctx.endpoint == Endpoint::chat_completions) {
    body = cohere::chat_request(ctx.body.view(), deployment.model, notes);
    path = "/v2/chat";
  } else if (ctx.endpoint == Endpoint::embeddings) {
    body = cohere::embed_request(ctx.body.view(), deployment.model);
    path = "/v2/embed";
  } else {
    return ApiError::bad_request("Cohere models serve /v1/chat/completions and /v1/embeddings only", {},
                                 "unsupported_endpoint");
  }
  if (!body) return body.error();
  NativeRequest out{url_, {}};
  out.request.target = url_.base_path + path;
  out.request.body = body->dump(-1, ' ', false, json::error_handler_t::replace);
  out.request.headers.emplace_back("content-type", "application/json");
  out.request.headers.emplace_back("accept", ctx.stream ? "text/event-stream" : "application/json");
  if (!config_.api_key.empty()) out.request.headers.emplace_back("authorization", "Bearer " + config_.api_key);
  for (const auto& [k, v] : config_.headers) out.request.headers.emplace_back(k, v);
  return out;
}

Result<json> CohereAdapter::translate_response(const RequestContext& ctx, json native, Usage& usage) const {
  if (ctx.endpoint == Endpoint::embeddings) {
    const bool base64 = ctx.body.is_object() && ctx.body.view().value("encoding_format", "float") == "base64";
    return cohere::embed_response(native, ctx.deployment_model, base64, usage);
  }
  return cohere::chat_response(native, ctx.deployment_model, clock_(), usage);
}

Result<std::unique_ptr<StreamDecoder>> CohereAdapter::stream_decoder(const RequestContext& ctx,
                                                                     std::string_view content_type) const {
  if (content_type.find("text/event-stream") == std::string_view::npos) {
    return ApiError::bad_gateway("the upstream did not answer with an event stream", "upstream_protocol_error");
  }
  return std::unique_ptr<StreamDecoder>(std::make_unique<cohere::ChatStreamDecoder>(ctx.deployment_model, clock_()));
}

UpstreamFailure CohereAdapter::map_error(int status, std::string_view body, std::optional<int> retry_after) const {
  return cohere::map_error(status, body, retry_after);
}

std::unique_ptr<ProviderAdapter> make_cohere_adapter(const ProviderConfig& config) {
  return std::make_unique<CohereAdapter>(config);
}

}  // namespace tollgate
