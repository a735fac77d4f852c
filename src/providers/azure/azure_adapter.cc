#include "providers/azure/azure_adapter.h"

#include "tollgate/json_document.h"

#include "providers/adapter_factory.h"
#include "providers/json_fields.h"

namespace tollgate::azure {
namespace {

using nlohmann::json;

// Deployment names are [A-Za-z0-9._-]; anything else is escaped rather than
// allowed to change the path.
std::string percent_encode(std::string_view s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::string endpoint_path(Endpoint e) {
  switch (e) {
    case Endpoint::chat_completions: return "/chat/completions";
    case Endpoint::completions: return "/completions";
    case Endpoint::embeddings: return "/embeddings";
    default: return {};
  }
}

bool empty_choice(const json& choice) {
  if (!choice.is_object()) return true;
  if (auto fr = choice.find("finish_reason"); fr != choice.end() && !fr->is_null()) return false;
  if (auto lp = choice.find("logprobs"); lp != choice.end() && !lp->is_null()) return false;
  if (auto t = choice.find("text"); t != choice.end() && t->is_string() && !t->get_ref<const std::string&>().empty()) {
    return false;  // legacy completions
  }
  auto delta = choice.find("delta");
  return delta == choice.end() || !delta->is_object() || delta->empty();
}

}  // namespace

std::string request_target(std::string_view base_path, Endpoint endpoint, std::string_view deployment,
                           std::string_view api_version) {
  const std::string path = endpoint_path(endpoint);
  if (path.empty()) return {};
  std::string base(base_path);
  if (base.ends_with("/openai/v1")) return base + path;
  if (!base.ends_with("/openai")) base += "/openai";
  return base + "/deployments/" + percent_encode(deployment) + path + "?api-version=" + percent_encode(api_version);
}

bool strip_stream_annotations(json& chunk) {
  if (!chunk.is_object()) return false;
  chunk.erase("prompt_filter_results");
  chunk.erase("prompt_annotations");
  if (auto choices = chunk.find("choices"); choices != chunk.end() && choices->is_array()) {
    json kept = json::array();
    for (auto& c : *choices) {
      if (c.is_object()) {
        c.erase("content_filter_results");
        c.erase("content_filter_offsets");
      }
      if (!empty_choice(c)) kept.push_back(std::move(c));
    }
    *choices = std::move(kept);
    if (!choices->empty()) return true;
  }
  // A usage-only chunk ({"choices":[],"usage":{...}}) still matters.
  auto usage = chunk.find("usage");
  return usage != chunk.end() && usage->is_object();
}

void AzureSseDecoder::keep_useful(std::vector<json>& decoded, std::vector<json>& out) {
  for (auto& chunk : decoded) {
    if (strip_stream_annotations(chunk)) out.push_back(std::move(chunk));
  }
  decoded.clear();
}

std::optional<ApiError> AzureSseDecoder::feed(std::string_view bytes, std::vector<json>& out) {
  auto error = inner_.feed(bytes, decoded_);
  keep_useful(decoded_, out);
  return error;
}

std::optional<ApiError> AzureSseDecoder::finish(std::vector<json>& out) {
  auto error = inner_.finish(decoded_);
  keep_useful(decoded_, out);
  return error;
}

UpstreamFailure map_error(int status, std::string_view body, std::optional<int> retry_after_seconds) {
  auto mapped = openai::map_upstream_error(status, body, retry_after_seconds);
  if (status == 400) {
    json j = parse_json_or_discarded(body);
    const json* e = j.is_object() && j.contains("error") && j["error"].is_object() ? &j["error"] : nullptr;
    if (e && json_string(*e, "code") == "content_filter") {
      // A filter verdict on the client's input: the client's to fix, and the
      // same prompt would be filtered by every deployment, so no failover.
      std::string message = json_string(*e, "message");
      if (message.empty()) message = "The prompt was filtered by Azure OpenAI's content management policy.";
      std::string param = e->contains("param") && (*e)["param"].is_string() ? (*e)["param"].get<std::string>() : "prompt";
      return {ApiError::bad_request(message, param, "content_filter"), FailureClass::client};
    }
  }
  return mapped;
}

}  // namespace tollgate::azure

namespace tollgate {

using nlohmann::json;

AzureAdapter::AzureAdapter(const ProviderConfig& config)
    : config_(config),
      url_(*UpstreamUrl::parse(config.base_url)),
      profile_(*ProviderProfiles::bundled().find("generic")) {
  profile_.name = "azure";
  // Dated api-versions before 2024-09-01 reject stream_options: usage is then
  // estimated instead of requested. The v1 API has no api-version.
  const bool v1 = url_.base_path.ends_with("/openai/v1");
  if (!v1 && !config.api_version.empty() && config.api_version < "2024-09-01") {
    profile_.stream_usage_opt_in = false;
    profile_.drop_params.push_back("stream_options");
  }
}

Result<NativeRequest> AzureAdapter::build_request(const RequestContext& ctx, const DeploymentConfig& deployment,
                                                  std::vector<std::string>& notes) const {
  auto target = azure::request_target(url_.base_path, ctx.endpoint, deployment.model, config_.api_version);
  if (target.empty()) return ApiError::bad_request("Azure OpenAI does not serve this endpoint", {}, "unsupported_endpoint");
  auto prepared = openai::prepare_request(ctx.endpoint, ctx.body, deployment, profile_, notes);
  if (!prepared) return prepared.error();
  NativeRequest out{url_, {}};
  out.request.target = std::move(target);
  out.request.body = std::move(prepared->body);
  out.request.headers.emplace_back("content-type", "application/json");
  out.request.headers.emplace_back("accept", ctx.stream ? "text/event-stream" : "application/json");
  // An Entra ID token wins over a key; the client's own credentials never go upstream.
  if (!config_.bearer_token.empty()) {
    out.request.headers.emplace_back("authorization", "Bearer " + config_.bearer_token);
  } else if (!config_.api_key.empty()) {
    out.request.headers.emplace_back("api-key", config_.api_key);
  }
  for (const auto& [k, v] : config_.headers) out.request.headers.emplace_back(k, v);
  return out;
}

Result<json> AzureAdapter::translate_response(const RequestContext& ctx, json native, Usage& usage) const {
  // The generic profile strips nothing: content_filter_results and
  // prompt_filter_results reach the client as Azure sent them.
  return openai::normalize_response(ctx.endpoint, std::move(native), profile_, usage);
}

Result<std::unique_ptr<StreamDecoder>> AzureAdapter::stream_decoder(const RequestContext&,
                                                                    std::string_view content_type) const {
  if (content_type.find("text/event-stream") == std::string_view::npos) {
    return ApiError::bad_gateway("the upstream did not answer with an event stream", "upstream_protocol_error");
  }
  return std::unique_ptr<StreamDecoder>(std::make_unique<azure::AzureSseDecoder>());
}

UpstreamFailure AzureAdapter::map_error(int status, std::string_view body, std::optional<int> retry_after) const {
  return azure::map_error(status, body, retry_after);
}

std::unique_ptr<ProviderAdapter> make_azure_adapter(const ProviderConfig& config) {
  return std::make_unique<AzureAdapter>(config);
}

}  // namespace tollgate
