#include "providers/anthropic/anthropic_adapter.h"

#include <chrono>
#include <optional>

#include "providers/adapter_factory.h"
#include "providers/anthropic/anthropic_errors.h"
#include "providers/anthropic/anthropic_response.h"
#include "providers/anthropic/anthropic_stream.h"
#include "tollgate/pricing.h"

namespace tollgate {

using nlohmann::json;

namespace {

int64_t now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

AnthropicAdapter::AnthropicAdapter(const ProviderConfig& config)
    : config_(config),
      url_(*UpstreamUrl::parse(config.base_url)),
      profile_(*ProviderProfiles::bundled().find("generic")) {
  const std::string& base = url_.base_path;
  target_ = base.size() >= 3 && base.compare(base.size() - 3, 3, "/v1") == 0 ? base + "/messages" : base + "/v1/messages";
}

Result<NativeRequest> AnthropicAdapter::build_request(const RequestContext& ctx, const DeploymentConfig& deployment,
                                                      std::vector<std::string>& notes) const {
  std::optional<RequestBody> converted;  // a completion as a chat request
  JsonView chat;
  switch (ctx.endpoint) {
    case Endpoint::chat_completions: chat = ctx.body.view(); break;
    case Endpoint::completions: {
      auto c = anthropic::completion_to_chat(ctx.body);
      if (!c) return c.error();
      converted = std::move(*c);
      chat = converted->view();
      break;
    }
    case Endpoint::embeddings:
      return ApiError::bad_request("The model '" + ctx.requested_model +
                                       "' is served by Anthropic, which has no embeddings API: /v1/embeddings is not available for it.",
                                   "model", "unsupported_endpoint");
    default: return ApiError::internal("endpoint has no Anthropic route");
  }

  anthropic::RequestOptions options;
  options.model = deployment.model;
  options.policy = config_.params;
  options.budgets = budgets_;
  if (auto price = PriceTable::bundled()->find("anthropic", deployment.model)) options.max_output_tokens = price->max_output_tokens;
  auto body = anthropic::build_messages_body(chat, options, notes);
  if (!body) return body.error();
  if (ctx.stream) (*body)["stream"] = true;

  NativeRequest out{url_, {}};
  out.request.target = target_;
  out.request.body = body->dump(-1, ' ', false, json::error_handler_t::replace);
  out.request.headers.emplace_back("content-type", "application/json");
  out.request.headers.emplace_back("accept", ctx.stream ? "text/event-stream" : "application/json");
  // Only the provider's key goes upstream, never the client's credentials.
  if (!config_.api_key.empty()) out.request.headers.emplace_back("x-api-key", config_.api_key);
  out.request.headers.emplace_back("anthropic-version", config_.api_version.empty() ? "2023-06-01" : config_.api_version);
  for (const auto& [k, v] : config_.headers) out.request.headers.emplace_back(k, v);
  return out;
}

Result<NativeRequest> AnthropicAdapter::build_native_messages(const RequestContext& ctx,
                                                              const DeploymentConfig& deployment) const {
  if (!ctx.anthropic_body) return ApiError::internal("no Anthropic request to pass through");
  // The client's bytes, only the model spliced in (json_patch.h).
  RequestBody body = *ctx.anthropic_body;
  body.set("model", deployment.model);
  NativeRequest out{url_, {}};
  out.request.target = ctx.anthropic_count_tokens ? target_ + "/count_tokens" : target_;
  out.request.body = body.serialize();
  const bool stream = !ctx.anthropic_count_tokens && ctx.stream;
  out.request.headers.emplace_back("content-type", "application/json");
  out.request.headers.emplace_back("accept", stream ? "text/event-stream" : "application/json");
  if (!config_.api_key.empty()) out.request.headers.emplace_back("x-api-key", config_.api_key);
  // The client's API version and betas (its features, its request's shape);
  // the provider's configured version when it names none.
  const std::string& version = !ctx.anthropic_version.empty() ? ctx.anthropic_version
                               : config_.api_version.empty() ? std::string("2023-06-01")
                                                             : config_.api_version;
  out.request.headers.emplace_back("anthropic-version", version);
  // One anthropic-beta: the client's betas, then any the provider's
  // configuration adds that the client did not name.
  std::string betas = ctx.anthropic_beta;
  for (const auto& [k, v] : config_.headers) {
    if (k != "anthropic-beta") {
      out.request.headers.emplace_back(k, v);
      continue;
    }
    std::string_view rest = v;
    while (!rest.empty()) {
      const auto comma = rest.find(',');
      std::string_view beta = rest.substr(0, comma);
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
      while (!beta.empty() && beta.front() == ' ') beta.remove_prefix(1);
      while (!beta.empty() && beta.back() == ' ') beta.remove_suffix(1);
      if (beta.empty() || ("," + betas + ",").find("," + std::string(beta) + ",") != std::string::npos) continue;
      betas += (betas.empty() ? "" : ",") + std::string(beta);
    }
  }
  if (!betas.empty()) out.request.headers.emplace_back("anthropic-beta", betas);
  return out;
}

Result<json> AnthropicAdapter::translate_response(const RequestContext& ctx, json native, Usage& usage) const {
  anthropic::ResponseOptions options;
  options.created = now_seconds();
  options.completion = ctx.endpoint == Endpoint::completions;
  options.json_tool = !options.completion && anthropic::expects_json_tool(ctx.body.view());
  return anthropic::translate_message(native, options, usage);
}

Result<std::unique_ptr<StreamDecoder>> AnthropicAdapter::stream_decoder(const RequestContext& ctx,
                                                                        std::string_view content_type) const {
  if (content_type.find("text/event-stream") == std::string_view::npos) {
    return ApiError::bad_gateway("the upstream did not answer with an event stream", "upstream_protocol_error");
  }
  anthropic::ResponseOptions options;
  options.created = now_seconds();
  options.completion = ctx.endpoint == Endpoint::completions;
  options.json_tool = !options.completion && anthropic::expects_json_tool(ctx.body.view());
  return std::unique_ptr<StreamDecoder>(std::make_unique<anthropic::AnthropicStreamDecoder>(options));
}

UpstreamFailure AnthropicAdapter::map_error(int status, std::string_view body, std::optional<int> retry_after) const {
  return anthropic::map_http_error(status, body, retry_after);
}

std::unique_ptr<ProviderAdapter> make_anthropic_adapter(const ProviderConfig& config) {
  return std::make_unique<AnthropicAdapter>(config);
}

}  // namespace tollgate
