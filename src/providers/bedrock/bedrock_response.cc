#include "providers/bedrock/bedrock_response.h"

#include "tollgate/json_document.h"
#include "providers/json_fields.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <random>

namespace tollgate::bedrock {
namespace {

using nlohmann::json;

int64_t count(const json& usage, const char* key) {
  auto it = usage.find(key);
  if (it == usage.end() || !it->is_number()) return 0;
  if (it->is_number_unsigned()) return static_cast<int64_t>(std::min<uint64_t>(it->get<uint64_t>(), INT64_MAX / 4));
  const double v = it->get<double>();
  return v > 0 && v < 4.6e18 ? static_cast<int64_t>(v) : 0;
}

int64_t now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  }
  return true;
}

// The HTTP status Bedrock documents for an error type; 0 when unknown.
int status_of(std::string_view type) {
  static const std::pair<const char*, int> kStatuses[] = {
      {"ValidationException", 400},          {"AccessDeniedException", 403},
      {"UnrecognizedClientException", 403},  {"ResourceNotFoundException", 404},
      {"ModelTimeoutException", 408},        {"ModelErrorException", 424},
      {"ThrottlingException", 429},          {"ModelNotReadyException", 429},
      {"ServiceQuotaExceededException", 400}, {"InternalServerException", 500},
      {"ModelStreamErrorException", 424},    {"ServiceUnavailableException", 503},
  };
  for (const auto& [name, status] : kStatuses) {
    if (iequals(type, name)) return status;
  }
  return 0;
}

// Errors about the gateway's own AWS credentials, whatever status they came with.
bool is_credential_error(std::string_view type) {
  for (const char* name : {"AccessDeniedException", "UnrecognizedClientException", "InvalidSignatureException",
                           "IncompleteSignatureException", "ExpiredTokenException", "InvalidClientTokenId",
                           "MissingAuthenticationTokenException", "SignatureDoesNotMatch", "ExpiredToken"}) {
    if (iequals(type, name)) return true;
  }
  return false;
}

}  // namespace

std::string finish_reason_from(std::string_view stop_reason) {
  if (stop_reason == "max_tokens" || stop_reason == "model_context_window_exceeded") return "length";
  if (stop_reason == "tool_use") return "tool_calls";
  if (stop_reason == "guardrail_intervened" || stop_reason == "content_filtered") return "content_filter";
  return "stop";
}

Usage usage_from_bedrock(const json& usage) {
  Usage u;
  if (!usage.is_object()) return u;
  u.cached_tokens = count(usage, "cacheReadInputTokens");
  u.cache_write_tokens = count(usage, "cacheWriteInputTokens");
  u.prompt_tokens = count(usage, "inputTokens") + u.cached_tokens + u.cache_write_tokens;
  u.completion_tokens = count(usage, "outputTokens");
  u.source = UsageSource::provider_final;
  return u;
}

std::string random_completion_id() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  static const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::string out = "chatcmpl-";
  for (int i = 0; i < 24; ++i) out += alphabet[rng() % 62];
  return out;
}

Result<json> from_converse_response(const json& native, std::string_view model, std::string_view structured_tool,
                                    Usage& usage) {
  const json* message = nullptr;
  if (native.is_object() && native.contains("output") && native["output"].is_object()) {
    auto it = native["output"].find("message");
    if (it != native["output"].end() && it->is_object()) message = &*it;
  }
  if (!message) return ApiError::bad_gateway("the upstream response has no output message", "upstream_protocol_error");

  std::string text, reasoning;
  bool has_text = false, unwrapped = false;
  json tool_calls = json::array();
  const json content = message->contains("content") && (*message)["content"].is_array() ? (*message)["content"] : json::array();
  for (const auto& block : content) {
    if (!block.is_object()) continue;
    if (auto t = block.find("text"); t != block.end() && t->is_string()) {
      text += t->get<std::string>();
      has_text = true;
    } else if (auto tu = block.find("toolUse"); tu != block.end() && tu->is_object()) {
      const json input = tu->contains("input") ? (*tu)["input"] : json::object();
      const std::string name = json_string(*tu, "name");
      if (!structured_tool.empty() && name == structured_tool) {
        text += input.dump(-1, ' ', false, json::error_handler_t::replace);
        has_text = unwrapped = true;
        continue;
      }
      tool_calls.push_back({{"id", json_string(*tu, "toolUseId")},
                            {"type", "function"},
                            {"function", {{"name", name}, {"arguments", input.dump(-1, ' ', false, json::error_handler_t::replace)}}}});
    } else if (auto rc = block.find("reasoningContent"); rc != block.end() && rc->is_object()) {
      if (auto rt = rc->find("reasoningText"); rt != rc->end() && rt->is_object() && rt->contains("text") &&
                                               (*rt)["text"].is_string()) {
        reasoning += (*rt)["text"].get<std::string>();
      }
    }
  }

  std::string finish = finish_reason_from(json_string(native, "stopReason"));
  if (!tool_calls.empty() && finish == "stop") finish = "tool_calls";
  if (tool_calls.empty() && finish == "tool_calls") finish = "stop";
  if (unwrapped && finish == "tool_calls") finish = "stop";

  json msg = {{"role", "assistant"},
              {"content", has_text || tool_calls.empty() ? json(text) : json(nullptr)},
              {"refusal", nullptr}};
  if (!tool_calls.empty()) msg["tool_calls"] = std::move(tool_calls);
  if (!reasoning.empty()) msg["reasoning_content"] = reasoning;

  usage = usage_from_bedrock(native.contains("usage") ? native["usage"] : json());
  json out = {{"id", random_completion_id()},
              {"object", "chat.completion"},
              {"created", now_seconds()},
              {"model", model},
              {"choices", json::array({{{"index", 0}, {"message", std::move(msg)}, {"logprobs", nullptr},
                                        {"finish_reason", finish}}})}};
  if (usage.source != UsageSource::none) out["usage"] = usage.to_openai_json();
  return out;
}

std::string error_type_name(std::string_view errortype_header, std::string_view body) {
  std::string_view raw = errortype_header;
  std::string from_body;
  if (raw.empty()) {
    json j = parse_json_or_discarded(body);
    if (j.is_object()) {
      for (const char* key : {"__type", "code", "Code"}) {
        if (auto it = j.find(key); it != j.end() && it->is_string()) {
          from_body = it->get<std::string>();
          break;
        }
      }
    }
    raw = from_body;
  }
  if (auto hash = raw.rfind('#'); hash != std::string_view::npos) raw = raw.substr(hash + 1);
  raw = raw.substr(0, raw.find(':'));
  std::string out(raw);
  if (!out.empty()) out[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(out[0])));
  return out;
}

std::string error_message(std::string_view body) {
  json j = parse_json_or_discarded(body);
  if (!j.is_object()) return {};
  for (const char* key : {"message", "Message"}) {
    if (auto it = j.find(key); it != j.end() && it->is_string()) return it->get<std::string>();
  }
  return {};
}

UpstreamFailure map_bedrock_error(int status, std::string_view type, std::string_view message,
                                  std::optional<int> retry_after_seconds) {
  const int known = status_of(type);
  if (status == 0) status = known != 0 ? known : 500;
  auto with_detail = [&](std::string base) {
    return message.empty() ? base : base + ": " + std::string(message);
  };

  if (is_credential_error(type) || status == 401 || status == 403) {
    // The gateway's AWS credentials were refused. AWS's text can name the
    // access key id, so none of it is passed on; another deployment may hold
    // working credentials, so this fails over like a 5xx.
    return {ApiError::bad_gateway("the upstream provider rejected the gateway's credentials", "upstream_auth_error"),
            FailureClass::server};
  }
  if (iequals(type, "ServiceQuotaExceededException")) {
    auto e = ApiError::rate_limited(with_detail("upstream quota exceeded"), retry_after_seconds);
    e.code = "insufficient_quota";
    return {e, FailureClass::server};
  }
  if (iequals(type, "ThrottlingException") || iequals(type, "ModelNotReadyException") || (known == 0 && status == 429)) {
    return {ApiError::rate_limited(with_detail("upstream rate limit reached"), retry_after_seconds),
            FailureClass::rate_limited};
  }
  if (iequals(type, "ServiceUnavailableException") || (known == 0 && status == 503)) {
    return {ApiError::unavailable(with_detail("upstream overloaded"), retry_after_seconds.value_or(1)),
            FailureClass::server};
  }
  if (iequals(type, "ModelTimeoutException") || (known == 0 && (status == 408 || status == 504))) {
    return {ApiError::gateway_timeout(with_detail("upstream model timed out")), FailureClass::timeout};
  }
  if (iequals(type, "ResourceNotFoundException") || (known == 0 && status == 404)) {
    // A deployment misconfiguration (model id, region, access not granted):
    // another deployment may serve it.
    return {ApiError::bad_gateway(with_detail("upstream does not serve the configured model"), "upstream_not_found"),
            FailureClass::server};
  }
  if (iequals(type, "ModelStreamErrorException")) {
    return {ApiError::bad_gateway(with_detail("the upstream model failed mid-stream"), "upstream_stream_error"),
            FailureClass::server};
  }
  if (iequals(type, "ValidationException") || (known == 0 && status >= 400 && status < 500)) {
    std::string msg = message.empty() ? "upstream rejected the request" : std::string(message);
    std::string code = "upstream_bad_request";
    if (msg.find("too long") != std::string::npos || msg.find("context length") != std::string::npos) {
      code = "context_length_exceeded";
    }
    if (status == 413) return {ApiError::payload_too_large(with_detail("upstream rejected the request size")), FailureClass::client};
    return {ApiError::bad_request(std::move(msg), {}, std::move(code)), FailureClass::client};
  }
  // InternalServerException, ModelErrorException and unknown 5xx.
  return {ApiError::bad_gateway(with_detail("upstream error (" + (type.empty() ? "HTTP " + std::to_string(status)
                                                                                : std::string(type)) + ")")),
          FailureClass::server};
}

}  // namespace tollgate::bedrock
