// Cohere Chat v2 / Embed v2 responses and errors -> OpenAI shapes.
#include <cstring>

#include <openssl/evp.h>

#include "providers/cohere/cohere_translate.h"
#include "providers/json_fields.h"
#include "providers/openai/openai_adapter.h"

namespace tollgate::cohere {
namespace {

using nlohmann::json;

// Cohere reports some counts as floats (5.0); missing or negative -> nullopt.
std::optional<int64_t> count(const json& obj, const char* key) {
  if (!obj.is_object()) return std::nullopt;
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_number()) return std::nullopt;
  const double v = it->get<double>();
  if (v < 0) return std::nullopt;
  return static_cast<int64_t>(v);
}

std::string arguments_of(const json& fn) {
  const json& args = json_member(fn, "arguments");
  if (args.is_string()) return args.get<std::string>();
  if (args.is_object() || args.is_array()) return args.dump();
  return "{}";
}

std::string base64_floats(const json& values) {
  std::string packed;
  packed.reserve(values.size() * 4);
  for (const auto& v : values) {
    const float f = v.is_number() ? static_cast<float>(v.get<double>()) : 0.0f;
    char bytes[4];
    std::memcpy(bytes, &f, 4);  // x86/ARM little-endian, as OpenAI sends it
    packed.append(bytes, 4);
  }
  std::string b64(4 * ((packed.size() + 2) / 3), '\0');
  EVP_EncodeBlock(reinterpret_cast<unsigned char*>(b64.data()), reinterpret_cast<const unsigned char*>(packed.data()),
                  static_cast<int>(packed.size()));
  return b64;
}

}  // namespace

Usage usage_from_cohere(const json& usage) {
  Usage u;
  if (!usage.is_object()) return u;
  const json& billed = json_member(usage, "billed_units");
  const json& tokens = json_member(usage, "tokens");
  auto prompt = count(billed, "input_tokens");
  if (!prompt) prompt = count(tokens, "input_tokens");
  auto completion = count(billed, "output_tokens");
  if (!completion) completion = count(tokens, "output_tokens");
  if (!prompt && !completion) return u;
  u.prompt_tokens = prompt.value_or(0);
  u.completion_tokens = completion.value_or(0);
  u.cached_tokens = std::min(count(usage, "cached_tokens").value_or(0), u.prompt_tokens);
  u.source = UsageSource::provider_final;
  return u;
}

bool is_error_reason(std::string_view r) { return r == "ERROR" || r == "ERROR_TOXIC" || r == "ERROR_LIMIT" || r == "TIMEOUT"; }

std::string finish_reason(std::string_view r, bool had_tool_calls) {
  if (r == "COMPLETE" || r == "STOP_SEQUENCE") return had_tool_calls ? "tool_calls" : "stop";
  if (r == "MAX_TOKENS") return "length";
  if (r == "TOOL_CALL") return "tool_calls";
  return had_tool_calls ? "tool_calls" : "stop";
}

Result<json> chat_response(const json& native, const std::string& model, int64_t created, Usage& usage) {
  const json& message = json_member(native, "message");
  if (!message.is_object()) return ApiError::bad_gateway("the upstream response has no message", "upstream_protocol_error");
  const std::string reason = json_member(native, "finish_reason").is_string() ? native["finish_reason"].get<std::string>() : "";
  if (is_error_reason(reason)) {
    return ApiError::bad_gateway("the upstream ended the generation with " + reason, "upstream_error");
  }

  std::string text, thinking;
  bool has_text = false;
  if (const json& content = json_member(message, "content"); content.is_array()) {
    for (const auto& part : content) {
      const std::string type = part.is_object() ? json_string(part, "type", "text") : "";
      if (type == "text" && part.contains("text") && part["text"].is_string()) {
        text += part["text"].get<std::string>();
        has_text = true;
      } else if (type == "thinking" && part.contains("thinking") && part["thinking"].is_string()) {
        thinking += part["thinking"].get<std::string>();
      }
    }
  } else if (content.is_string()) {
    text = content.get<std::string>();
    has_text = true;
  }

  json tool_calls = json::array();
  if (const json& calls = json_member(message, "tool_calls"); calls.is_array()) {
    for (const auto& call : calls) {
      const json& fn = json_member(call, "function");
      tool_calls.push_back({{"id", json_string(call, "id")},
                            {"type", "function"},
                            {"function", {{"name", json_string(fn, "name")}, {"arguments", arguments_of(fn)}}}});
    }
  }
  if (!tool_calls.empty() && !has_text && json_member(message, "tool_plan").is_string()) {
    text = message["tool_plan"].get<std::string>();
    has_text = !text.empty();
  }

  const bool called_tools = !tool_calls.empty();
  json msg = {{"role", "assistant"}, {"content", has_text ? json(text) : json(nullptr)}, {"refusal", nullptr}};
  if (called_tools) msg["tool_calls"] = std::move(tool_calls);
  if (!thinking.empty()) msg["reasoning_content"] = thinking;

  json out = {{"id", "chatcmpl-" + (native.contains("id") && native["id"].is_string() ? native["id"].get<std::string>() : std::string("cohere"))},
              {"object", "chat.completion"},
              {"created", created},
              {"model", model},
              {"choices", json::array({{{"index", 0},
                                        {"message", std::move(msg)},
                                        {"logprobs", nullptr},
                                        {"finish_reason", finish_reason(reason, called_tools)}}})}};
  usage = usage_from_cohere(json_member(native, "usage"));
  if (usage.source != UsageSource::none) out["usage"] = usage.to_openai_json();
  return out;
}

Result<json> embed_response(const json& native, const std::string& model, bool base64, Usage& usage) {
  // embedding_types given: {"embeddings": {"float": [[...]]}}; otherwise a bare array.
  const json& embeddings = json_member(native, "embeddings");
  const json& vectors = embeddings.is_object() ? json_member(embeddings, "float") : embeddings;
  if (!vectors.is_array()) {
    return ApiError::bad_gateway("the upstream embeddings response has no float embeddings", "upstream_protocol_error");
  }
  json data = json::array();
  for (std::size_t i = 0; i < vectors.size(); ++i) {
    json embedding = base64 ? json(base64_floats(vectors[i])) : vectors[i];
    data.push_back({{"object", "embedding"}, {"index", i}, {"embedding", std::move(embedding)}});
  }
  json out = {{"object", "list"}, {"model", model}, {"data", std::move(data)}};
  const json& billed = json_member(json_member(native, "meta"), "billed_units");
  if (auto tokens = count(billed, "input_tokens")) {
    usage.prompt_tokens = *tokens;
    usage.source = UsageSource::provider_final;
    out["usage"] = {{"prompt_tokens", *tokens}, {"total_tokens", *tokens}};
  }
  return out;
}

UpstreamFailure map_error(int status, std::string_view body, std::optional<int> retry_after_seconds) {
  if (status == 498) {
    // Cohere's "invalid token": the gateway's key, never the client's.
    return {ApiError::bad_gateway("the upstream provider rejected the gateway's credentials", "upstream_auth_error"),
            FailureClass::server};
  }
  if (status == 402) {
    // Billing: another deployment may have a funded key; time will not help.
    auto e = ApiError::rate_limited("the upstream account has no remaining credit", std::nullopt);
    e.code = "insufficient_quota";
    return {e, FailureClass::server};
  }
  if (status == 499) {
    return {ApiError::bad_gateway("the upstream cancelled the request", "upstream_error"), FailureClass::server};
  }
  // Cohere's {"message": ...} body is one of the shapes the OpenAI mapper
  // reads; 401/403 never echo it.
  return openai::map_upstream_error(status, body, retry_after_seconds);
}

}  // namespace tollgate::cohere
