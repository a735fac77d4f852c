#include "providers/openai/openai_adapter.h"

#include "providers/json_fields.h"

#include "tollgate/json_document.h"

#include <algorithm>
#include <cctype>
#include <cstdint>

namespace tollgate::openai {
namespace {

using nlohmann::json;

bool is_alnum9(std::string_view id) {
  return id.size() == 9 && std::all_of(id.begin(), id.end(), [](unsigned char c) { return std::isalnum(c); });
}

void remap_tool_ids(json& messages) {
  for (auto& m : messages) {
    if (!m.is_object()) continue;
    if (auto tc = m.find("tool_calls"); tc != m.end() && tc->is_array()) {
      for (auto& call : *tc) {
        if (call.is_object() && call.contains("id") && call["id"].is_string()) {
          call["id"] = alnum9_tool_id(call["id"].get<std::string>());
        }
      }
    }
    if (auto id = m.find("tool_call_id"); id != m.end() && id->is_string()) {
      *id = alnum9_tool_id(id->get<std::string>());
    }
  }
}

// Profiles that rewrite messages (field drops, tool-call id formats) rebuild
// the messages member; every other request forwards it untouched.
void apply_message_profile(RequestBody& body, const ProviderProfile& profile) {
  if (profile.drop_message_fields.empty() && profile.drop_assistant_fields.empty() && !profile.tool_call_id_alnum9) {
    return;
  }
  const JsonView view = body["messages"];
  if (!view.is_array()) return;
  json messages = view.to_json();
  for (auto& m : messages) {
    if (!m.is_object()) continue;
    for (const auto& f : profile.drop_message_fields) m.erase(f);
    if (json_string(m, "role") == "assistant") {
      for (const auto& f : profile.drop_assistant_fields) m.erase(f);
    }
  }
  if (profile.tool_call_id_alnum9) remap_tool_ids(messages);
  body.set("messages", std::move(messages));
}

std::string path_for(Endpoint e) {
  switch (e) {
    case Endpoint::chat_completions: return "/chat/completions";
    case Endpoint::completions: return "/completions";
    case Endpoint::embeddings: return "/embeddings";
    default: return {};
  }
}

std::string error_message_from(const json& j) {
  // {"error":{"message":..}}, {"error":"..."}, {"object":"error","message":..}, {"message":..}
  if (auto e = j.find("error"); e != j.end()) {
    if (e->is_string()) return e->get<std::string>();
    if (e->is_object() && e->contains("message") && (*e)["message"].is_string()) return (*e)["message"].get<std::string>();
  }
  if (auto m = j.find("message"); m != j.end() && m->is_string()) return m->get<std::string>();
  if (auto d = j.find("detail"); d != j.end() && d->is_string()) return d->get<std::string>();
  return {};
}

std::string error_field(const json& j, const char* key) {
  const json* src = &j;
  if (auto e = j.find("error"); e != j.end() && e->is_object()) src = &*e;
  if (auto it = src->find(key); it != src->end()) {
    if (it->is_string()) return it->get<std::string>();
    if (it->is_number_integer()) return std::to_string(it->get<int64_t>());
  }
  return {};
}

}  // namespace

std::string alnum9_tool_id(std::string_view original) {
  if (is_alnum9(original)) return std::string(original);
  // FNV-1a 64, then base62: stable across processes and versions.
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : original) {
    h ^= c;
    h *= 1099511628211ull;
  }
  static const char* alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  std::string out(9, '0');
  for (int i = 0; i < 9; ++i) {
    out[i] = alphabet[h % 62];
    h /= 62;
    if (h == 0) h = 0x9E3779B97F4A7C15ull ^ static_cast<uint64_t>(i);
  }
  return out;
}

Result<PreparedRequest> prepare_request(Endpoint endpoint, const RequestBody& client_body,
                                        const DeploymentConfig& deployment,
                                        const ProviderProfile& profile,
                                        std::vector<std::string>& notes) {
  PreparedRequest out;
  out.path = path_for(endpoint);
  if (out.path.empty()) return ApiError::internal("endpoint has no upstream route");

  RequestBody body = client_body;
  body.set("model", deployment.model);

  if (const JsonView n = body["n"]; profile.require_n_equals_1 && n.present() && !(n.is_number() && n.as_double() == 1)) {
    return ApiError::bad_request("this model supports only n=1", "n", "unsupported_parameter");
  }
  for (const auto& p : profile.drop_params) {
    if (body.contains(p)) {
      body.erase(p);
      notes.push_back("dropped " + p);
    }
  }
  for (const auto& [from, to] : profile.rename_params) {
    if (const JsonView v = body[from]; v.present()) {
      json value = v.to_json();
      body.erase(from);
      body.set(to, std::move(value));
    }
  }
  if (endpoint != Endpoint::embeddings && body["stream"].as_bool() && profile.stream_usage_opt_in) {
    // Usage is always metered, whatever the client asked (DESIGN invariant 4);
    // the normalizer strips the chunk again for clients that did not ask.
    const JsonView so = body["stream_options"];
    if (!(so["include_usage"].as_bool())) {
      json options = so.is_object() ? so.to_json() : json::object();
      options["include_usage"] = true;
      body.set("stream_options", std::move(options));
    }
  }
  apply_message_profile(body, profile);
  out.body = body.serialize();
  return out;
}

Result<json> normalize_response(Endpoint endpoint, json upstream, const ProviderProfile& profile,
                                Usage& usage) {
  if (!upstream.is_object()) return ApiError::bad_gateway("upstream returned a non-object JSON body", "upstream_protocol_error");
  if (auto u = upstream.find("usage"); u != upstream.end() && u->is_object()) usage = usage_from_openai(*u);
  for (const auto& path : profile.usage_paths) {
    const json* cur = &upstream;
    std::size_t start = 0;
    while (cur && start <= path.size()) {
      auto end = std::min(path.find('.', start), path.size());
      auto it = cur->is_object() ? cur->find(path.substr(start, end - start)) : cur->end();
      cur = cur->is_object() && it != cur->end() ? &*it : nullptr;
      start = end + 1;
    }
    if (cur && cur->is_object()) {
      usage = usage_from_openai(*cur);
      upstream["usage"] = usage.to_openai_json();
    }
  }
  for (const auto& f : profile.strip_chunk_fields) upstream.erase(f);

  if (endpoint == Endpoint::embeddings) {
    if (!upstream.contains("data") || !upstream["data"].is_array()) {
      return ApiError::bad_gateway("upstream embeddings response has no data array", "upstream_protocol_error");
    }
    return upstream;
  }
  auto choices = upstream.find("choices");
  if (choices == upstream.end() || !choices->is_array()) {
    return ApiError::bad_gateway("upstream response has no choices", "upstream_protocol_error");
  }
  for (auto& c : *choices) {
    if (!c.is_object()) continue;
    for (const auto& f : profile.strip_choice_fields) c.erase(f);
    auto fr = c.find("finish_reason");
    if (fr != c.end() && fr->is_string()) {
      auto m = profile.finish_reasons.find(fr->get<std::string>());
      if (m != profile.finish_reasons.end()) *fr = m->second;
    } else if (fr == c.end() || fr->is_null()) {
      bool tools = c.contains("message") && c["message"].is_object() && c["message"].contains("tool_calls");
      c["finish_reason"] = tools ? "tool_calls" : "stop";
    }
  }
  return upstream;
}

namespace {

// Whether normalize_response would leave `upstream` as it is.
bool normalized_already(Endpoint endpoint, JsonView upstream, const ProviderProfile& profile) {
  if (!upstream.is_object() || !profile.usage_paths.empty()) return false;
  for (const auto& f : profile.strip_chunk_fields) {
    if (upstream.contains(f)) return false;
  }
  if (endpoint == Endpoint::embeddings) return upstream["data"].is_array();
  const JsonView choices = upstream["choices"];
  if (!choices.is_array()) return false;
  for (JsonView c : choices.elements()) {
    if (!c.is_object()) continue;
    for (const auto& f : profile.strip_choice_fields) {
      if (c.contains(f)) return false;
    }
    const JsonView fr = c["finish_reason"];
    if (!fr.is_string() || profile.finish_reasons.count(fr.str())) return false;
  }
  return true;
}

}  // namespace

Result<std::string> normalize_response_body(Endpoint endpoint, const JsonDocument& upstream,
                                            const ProviderProfile& profile, Usage& usage) {
  const JsonView root = upstream.root();
  if (!normalized_already(endpoint, root, profile)) {
    auto tree = normalize_response(endpoint, root.to_json(), profile, usage);
    if (!tree) return tree.error();
    return tree->dump(-1, ' ', false, json::error_handler_t::replace);
  }
  if (const JsonView u = root["usage"]; u.is_object()) usage = usage_from_openai(u.to_json());
  return std::string(upstream.text());
}

UpstreamFailure map_upstream_error(int status, std::string_view body, std::optional<int> retry_after_seconds) {
  auto parsed = parse_json_tree(body);
  const json j = parsed ? std::move(parsed.value()) : json();
  std::string upstream_message = error_message_from(j);
  std::string upstream_code = error_field(j, "code");
  std::string upstream_param = error_field(j, "param");
  auto with_detail = [&](std::string base) {
    return upstream_message.empty() ? base : base + ": " + upstream_message;
  };

  if (status == 401 || status == 403) {
    // Upstream messages about the provider key can echo parts of it. Another
    // deployment may hold a working key, so this fails over like a 5xx.
    return {ApiError::bad_gateway("the upstream provider rejected the gateway's credentials", "upstream_auth_error"),
            FailureClass::server};
  }
  if (status == 429) {
    auto e = ApiError::rate_limited(with_detail("upstream rate limit reached"), retry_after_seconds);
    if (upstream_code == "insufficient_quota") {
      // Quota exhaustion does not pass with time: fail over, do not wait.
      e.code = upstream_code;
      return {e, FailureClass::server};
    }
    return {e, FailureClass::rate_limited};
  }
  if (status == 408 || status == 504) {
    return {ApiError::gateway_timeout(with_detail("upstream timed out")), FailureClass::timeout};
  }
  if (status == 503 || status == 529) {
    return {ApiError::unavailable(with_detail("upstream overloaded"), retry_after_seconds.value_or(1)),
            FailureClass::server};
  }
  if (status >= 500) {
    return {ApiError::bad_gateway(with_detail("upstream error (HTTP " + std::to_string(status) + ")")),
            FailureClass::server};
  }
  if (status == 404) {
    // A deployment misconfiguration: another deployment may serve it.
    return {ApiError::bad_gateway(with_detail("upstream does not serve the configured model or route"),
                                  "upstream_not_found"),
            FailureClass::server};
  }
  if (status == 413) {
    return {ApiError::payload_too_large(with_detail("upstream rejected the request size")), FailureClass::client};
  }
  auto e = ApiError::bad_request(upstream_message.empty() ? "upstream rejected the request" : upstream_message,
                                 upstream_param, upstream_code.empty() ? "upstream_bad_request" : upstream_code);
  return {e, FailureClass::client};
}

}  // namespace tollgate::openai

namespace tollgate::openai {

using nlohmann::json;

std::optional<ApiError> OpenAiSseDecoder::take(std::vector<json>& out) {
  for (auto& ev : events_) {
    if (done_) break;
    if (ev.data == "[DONE]") {
      done_ = true;
      break;
    }
    auto parsed = parse_json_tree(ev.data);
    if (!parsed || !parsed.value().is_object()) {
      return ApiError::bad_gateway("the upstream sent malformed JSON in its stream", "upstream_protocol_error");
    }
    json chunk = std::move(parsed.value());
    if (auto err = chunk.find("error"); err != chunk.end() && !err->is_null()) {
      std::string message = error_message_from(chunk);
      return ApiError::bad_gateway(message.empty() ? "the upstream reported an error mid-stream"
                                                   : "the upstream reported an error mid-stream: " + message,
                                   "upstream_stream_error");
    }
    out.push_back(std::move(chunk));
  }
  events_.clear();
  return std::nullopt;
}

std::optional<ApiError> OpenAiSseDecoder::feed(std::string_view bytes, std::vector<json>& out) {
  if (!parser_.feed(bytes, events_)) {
    return ApiError::bad_gateway("the upstream sent an oversized stream event", "upstream_protocol_error");
  }
  return take(out);
}

std::optional<ApiError> OpenAiSseDecoder::finish(std::vector<json>& out) {
  parser_.finish(events_);
  return take(out);
}

}  // namespace tollgate::openai

namespace tollgate {

using nlohmann::json;

OpenAiAdapter::OpenAiAdapter(const ProviderConfig& config)
    : config_(config), url_(*UpstreamUrl::parse(config.base_url)) {
  const auto& profiles = ProviderProfiles::bundled();
  profile_ = config.profile.empty() ? nullptr : profiles.find(config.profile);
  if (!profile_ && config.type == ProviderType::openai) profile_ = profiles.find("openai");
  if (!profile_) {
    const bool default_port = (url_.tls && url_.port == "443") || (!url_.tls && url_.port == "80");
    profile_ = &profiles.for_host(default_port ? url_.host : url_.host + ":" + url_.port);
  }
}

std::string OpenAiAdapter::kind() const {
  if (config_.type == ProviderType::openai) return "openai";
  return profile_->name == "generic" ? "openai_compatible" : profile_->name;
}

Result<NativeRequest> OpenAiAdapter::build_request(const RequestContext& ctx, const DeploymentConfig& deployment,
                                                   std::vector<std::string>& notes) const {
  auto prepared = openai::prepare_request(ctx.endpoint, ctx.body, deployment, *profile_, notes);
  if (!prepared) return prepared.error();
  NativeRequest out{url_, {}};
  out.request.target = url_.base_path + prepared->path;
  out.request.body = std::move(prepared->body);
  out.request.headers.emplace_back("content-type", "application/json");
  out.request.headers.emplace_back("accept", ctx.stream ? "text/event-stream" : "application/json");
  // The client's own Authorization never goes upstream: only the provider's key.
  if (!config_.api_key.empty()) out.request.headers.emplace_back("authorization", "Bearer " + config_.api_key);
  for (const auto& [k, v] : config_.headers) out.request.headers.emplace_back(k, v);
  return out;
}

Result<json> OpenAiAdapter::translate_response(const RequestContext& ctx, json native, Usage& usage) const {
  return openai::normalize_response(ctx.endpoint, std::move(native), *profile_, usage);
}

Result<std::string> OpenAiAdapter::translate_response_body(const RequestContext& ctx, const JsonDocument& native,
                                                           Usage& usage) const {
  return openai::normalize_response_body(ctx.endpoint, native, *profile_, usage);
}

Result<std::unique_ptr<StreamDecoder>> OpenAiAdapter::stream_decoder(const RequestContext&,
                                                                     std::string_view content_type) const {
  if (content_type.find("text/event-stream") == std::string_view::npos) {
    return ApiError::bad_gateway("the upstream did not answer with an event stream", "upstream_protocol_error");
  }
  return std::unique_ptr<StreamDecoder>(std::make_unique<openai::OpenAiSseDecoder>());
}

UpstreamFailure OpenAiAdapter::map_error(int status, std::string_view body, std::optional<int> retry_after) const {
  return openai::map_upstream_error(status, body, retry_after);
}

}  // namespace tollgate
