#include "providers/bedrock/bedrock_adapter.h"

#include "providers/adapter_factory.h"
#include "providers/bedrock/bedrock_embeddings.h"
#include "providers/bedrock/bedrock_request.h"
#include "providers/bedrock/bedrock_response.h"
#include "providers/bedrock/bedrock_stream.h"
#include "providers/bedrock/sigv4.h"
#include "tollgate/pricing.h"

namespace tollgate {

using nlohmann::json;

namespace {

constexpr std::string_view kEventStreamType = "application/vnd.amazon.eventstream";

std::optional<int64_t> model_output_limit(const std::string& model) {
  auto price = PriceTable::bundled()->find("bedrock", model);
  return price ? price->max_output_tokens : std::nullopt;
}

}  // namespace

BedrockAdapter::BedrockAdapter(const ProviderConfig& config, Clock clock)
    : config_(config),
      clock_(std::move(clock)),
      url_(*UpstreamUrl::parse(config.base_url)),
      profile_(ProviderProfiles::bundled().find("generic")) {
  if (!clock_) clock_ = [] { return std::chrono::system_clock::now(); };
}

Result<NativeRequest> BedrockAdapter::build_request(const RequestContext& ctx, const DeploymentConfig& deployment,
                                                    std::vector<std::string>& notes) const {
  std::string action;
  Result<json> body = json();
  if (ctx.endpoint == Endpoint::chat_completions) {
    bedrock::ConverseOptions options{config_.params, model_output_limit(deployment.model)};
    body = bedrock::to_converse_request(ctx.body.view(), options, notes);
    action = ctx.stream ? "converse-stream" : "converse";
  } else if (ctx.endpoint == Endpoint::embeddings) {
    body = bedrock::to_embedding_request(ctx.body.view(), deployment.model, config_.params, notes);
    action = "invoke";
  } else {
    return ApiError::bad_request("Bedrock models served by this gateway support /v1/chat/completions and "
                                 "/v1/embeddings only.",
                                 {}, "unsupported_endpoint");
  }
  if (!body) return body.error();

  NativeRequest out{url_, {}};
  out.request.target = url_.base_path + bedrock::model_path(deployment.model, action);
  // These exact bytes are signed: nothing may re-serialise the body later.
  out.request.body = body->dump(-1, ' ', false, json::error_handler_t::replace);
  out.request.headers.emplace_back("content-type", "application/json");
  out.request.headers.emplace_back("accept", ctx.stream ? std::string(kEventStreamType) : "application/json");
  for (const auto& [k, v] : config_.headers) out.request.headers.emplace_back(k, v);

  if (!config_.api_key.empty()) {
    out.request.headers.emplace_back("authorization", "Bearer " + config_.api_key);
  } else if (!config_.aws_access_key_id.empty() && !config_.aws_secret_access_key.empty()) {
    const sigv4::Credentials creds{config_.aws_access_key_id, config_.aws_secret_access_key, config_.aws_session_token};
    sigv4::sign_request(out.request, url_.host_header(), creds, config_.region, "bedrock", clock_());
  } else {
    return ApiError::bad_gateway("the Bedrock provider has no AWS credentials configured", "upstream_auth_error");
  }
  return out;
}

Result<json> BedrockAdapter::translate_response(const RequestContext& ctx, json native, Usage& usage) const {
  if (ctx.endpoint == Endpoint::embeddings) {
    return bedrock::from_embedding_response(native, ctx.body.view(), ctx.deployment_model, usage);
  }
  return bedrock::from_converse_response(native, ctx.deployment_model, bedrock::structured_output_tool(ctx.body.view()), usage);
}

Result<std::unique_ptr<StreamDecoder>> BedrockAdapter::stream_decoder(const RequestContext& ctx,
                                                                      std::string_view content_type) const {
  if (content_type.find(kEventStreamType) == std::string_view::npos) {
    return ApiError::bad_gateway("the upstream did not answer with an AWS event stream", "upstream_protocol_error");
  }
  return std::unique_ptr<StreamDecoder>(std::make_unique<bedrock::ConverseStreamDecoder>(
      ctx.deployment_model, bedrock::structured_output_tool(ctx.body.view())));
}

UpstreamFailure BedrockAdapter::map_error(int status, std::string_view body, std::optional<int> retry_after) const {
  return bedrock::map_bedrock_error(status, bedrock::error_type_name({}, body), bedrock::error_message(body),
                                    retry_after);
}

UpstreamFailure BedrockAdapter::map_error_response(int status, const HeaderLookup& header, std::string_view body,
                                                   std::optional<int> retry_after) const {
  return bedrock::map_bedrock_error(status, bedrock::error_type_name(header("x-amzn-errortype"), body),
                                    bedrock::error_message(body), retry_after);
}

std::unique_ptr<ProviderAdapter> make_bedrock_adapter(const ProviderConfig& config) {
  return std::make_unique<BedrockAdapter>(config);
}

}  // namespace tollgate
