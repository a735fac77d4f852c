#include "providers/gemini/gemini_adapter.h"

#include <cctype>
#include <stdexcept>

#include "providers/adapter_factory.h"
#include "providers/gemini/gemini_errors.h"
#include "providers/gemini/gemini_request.h"
#include "providers/gemini/gemini_response.h"
#include "providers/gemini/gemini_stream.h"

namespace tollgate {
namespace {

using nlohmann::json;

bool ends_with_version(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) return false;
  const std::string last = path.substr(slash + 1);
  return last.size() >= 2 && last[0] == 'v' && std::isdigit(static_cast<unsigned char>(last[1]));
}

// Model ids go into a path segment: anything unusual is percent-encoded so
// that it cannot change the route.
std::string path_segment(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '@') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

int64_t now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

GeminiAdapter::GeminiAdapter(const ProviderConfig& config, gemini::ThoughtSignatureStore* signatures,
                             gemini::VertexTokenSource::Clock clock)
    : config_(config),
      profile_(ProviderProfiles::bundled().find("generic")),
      signatures_(signatures ? signatures : &gemini::ThoughtSignatureStore::shared()) {
  auto url = UpstreamUrl::parse(config.base_url);
  if (!url) throw std::runtime_error("provider \"" + config.name + "\": base_url: " + url.error().message);
  url_ = std::move(url.value());
  if (!profile_) throw std::runtime_error("the bundled provider profiles have no \"generic\" profile");
  std::string base = url_.base_path;
  if (vertex()) {
    if (!ends_with_version(base)) base += "/v1";
    prefix_ = base + "/projects/" + path_segment(config.project) + "/locations/" + path_segment(config.location) +
              "/publishers/google/models/";
    auto account = gemini::ServiceAccount::load(config.credentials_file);
    if (!account) throw std::runtime_error("provider \"" + config.name + "\": credentials_file: " + account.error().message);
    tokens_ = std::make_unique<gemini::VertexTokenSource>(std::move(account.value()), config.token_url, std::move(clock));
  } else {
    if (!ends_with_version(base)) base += "/v1beta";
    prefix_ = base + "/models/";
  }
}

GeminiAdapter::~GeminiAdapter() = default;

std::string GeminiAdapter::kind() const { return vertex() ? "vertex" : "gemini"; }

std::string GeminiAdapter::target(const std::string& model, const std::string& method) const {
  std::string m = model;
  if (m.starts_with("models/")) m = m.substr(7);
  return prefix_ + path_segment(m) + method;
}

Result<NativeRequest> GeminiAdapter::build_request(const RequestContext& ctx, const DeploymentConfig& deployment,
                                                   std::vector<std::string>& notes) const {
  NativeRequest out{url_, {}};
  if (ctx.endpoint == Endpoint::embeddings) {
    auto embed = gemini::embed_request(ctx.body.view(), deployment.model, vertex());
    if (!embed) return embed.error();
    out.request.target = target(deployment.model, embed->method);
    out.request.body = embed->body.dump(-1, ' ', false, json::error_handler_t::replace);
  } else if (ctx.endpoint == Endpoint::chat_completions || ctx.endpoint == Endpoint::completions) {
    gemini::RequestOptions options{deployment.model, config_.params, signatures_};
    auto body = gemini::generate_request(ctx.endpoint, ctx.body.view(), options, notes);
    if (!body) return body.error();
    out.request.target = target(deployment.model, ctx.stream ? ":streamGenerateContent?alt=sse" : ":generateContent");
    out.request.body = body->dump(-1, ' ', false, json::error_handler_t::replace);
  } else {
    return ApiError::internal("endpoint has no upstream route");
  }
  out.request.headers.emplace_back("content-type", "application/json");
  out.request.headers.emplace_back("accept", ctx.stream ? "text/event-stream" : "application/json");
  // A header, not ?key=: URLs end up in logs.
  if (!vertex() && !config_.api_key.empty()) out.request.headers.emplace_back("x-goog-api-key", config_.api_key);
  for (const auto& [k, v] : config_.headers) out.request.headers.emplace_back(k, v);
  return out;
}

Result<json> GeminiAdapter::translate_response(const RequestContext& ctx, json native, Usage& usage) const {
  if (ctx.endpoint == Endpoint::embeddings) {
    auto embed = gemini::embed_request(ctx.body.view(), ctx.deployment_model, vertex());
    if (!embed) return embed.error();
    const bool base64 = ctx.body.view().value("encoding_format", "float") == "base64";
    return gemini::translate_embed_response(native, embed->inputs, ctx.deployment_model, base64, usage);
  }
  gemini::ResponseOptions options;
  options.endpoint = ctx.endpoint;
  options.model = ctx.deployment_model;
  options.signature_model = ctx.deployment_model;
  options.signatures = signatures_;
  options.created = now_seconds();
  return gemini::translate_generate_response(native, options, usage);
}

Result<std::unique_ptr<StreamDecoder>> GeminiAdapter::stream_decoder(const RequestContext& ctx,
                                                                     std::string_view content_type) const {
  if (content_type.find("text/event-stream") == std::string_view::npos) {
    return ApiError::bad_gateway("the upstream did not answer with an event stream", "upstream_protocol_error");
  }
  gemini::ResponseOptions options;
  options.endpoint = ctx.endpoint;
  options.model = ctx.deployment_model;
  options.signature_model = ctx.deployment_model;
  options.signatures = signatures_;
  options.created = now_seconds();
  return std::unique_ptr<StreamDecoder>(std::make_unique<gemini::GeminiStreamDecoder>(std::move(options), config_.api_key));
}

UpstreamFailure GeminiAdapter::map_error(int status, std::string_view body, std::optional<int> retry_after) const {
  // A rejected bearer token (revoked, rotated key) must not be reused until
  // it expires: the next attempt fetches a new one.
  if (tokens_ && status == 401) tokens_->invalidate();
  return gemini::map_error(status, body, retry_after, config_.api_key);
}

boost::asio::awaitable<std::optional<ApiError>> GeminiAdapter::authorize(NativeRequest& request, UpstreamPool& pool) {
  if (!tokens_) co_return std::nullopt;
  auto token = co_await tokens_->token(pool);
  if (!token) {
    std::optional<ApiError> error = token.error();
    co_return error;
  }
  request.request.headers.emplace_back("authorization", "Bearer " + token.value());
  co_return std::nullopt;
}

std::unique_ptr<ProviderAdapter> make_gemini_adapter(const ProviderConfig& config) {
  return std::make_unique<GeminiAdapter>(config);
}

}  // namespace tollgate
