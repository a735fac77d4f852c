#include "api/anthropic_response.h"

#include "tollgate/json_document.h"

#include <algorithm>

namespace tollgate {
namespace {

using nlohmann::json;

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

std::string string_at(const json& obj, const char* key) {
  if (!obj.is_object()) return {};
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string();
}

json error_object(const std::string& type, std::string message) {
  return {{"type", "error"}, {"error", {{"type", type}, {"message", std::move(message)}}}};
}

// OpenAI assistant content: a string, or (some upstreams) an array of parts.
std::string content_text(const json& content) {
  if (content.is_string()) return content.get<std::string>();
  std::string out;
  if (content.is_array()) {
    for (const auto& part : content) out += string_at(part, "text");
  }
  return out;
}

json tool_input(const json& arguments) {
  if (!arguments.is_string()) return arguments.is_object() ? arguments : json::object();
  json parsed = parse_json_or_discarded(arguments.get<std::string>());
  // Anthropic's input is always an object; a model that produced something
  // else gets {} and the client's tool validation reports it to the model.
  return parsed.is_object() ? parsed : json::object();
}

json message_from_completion(const json& completion, const Usage& usage, const std::string& request_id) {
  const json& message = completion["choices"][0]["message"];
  json content = json::array();
  std::string reasoning = string_at(message, "reasoning_content");
  if (reasoning.empty()) reasoning = string_at(message, "reasoning");
  if (!reasoning.empty()) content.push_back({{"type", "thinking"}, {"thinking", reasoning}, {"signature", ""}});
  std::string text = message.contains("content") ? content_text(message["content"]) : std::string();
  const std::string refusal = string_at(message, "refusal");
  if (text.empty()) text = refusal;
  if (!text.empty()) content.push_back({{"type", "text"}, {"text", text}});
  bool has_tool_use = false;
  if (auto calls = message.find("tool_calls"); calls != message.end() && calls->is_array()) {
    for (const auto& call : *calls) {
      if (!call.is_object() || !call.contains("function") || !call["function"].is_object()) continue;
      const json& fn = call["function"];
      content.push_back({{"type", "tool_use"},
                         {"id", string_at(call, "id")},
                         {"name", string_at(fn, "name")},
                         {"input", tool_input(fn.contains("arguments") ? fn["arguments"] : json())}});
      has_tool_use = true;
    }
  }
  json finish = completion["choices"][0].contains("finish_reason") ? completion["choices"][0]["finish_reason"] : json();
  if (!refusal.empty() && finish == "stop") finish = "content_filter";
  return {{"id", anthropic_message_id(completion.contains("id") ? completion["id"] : json(), "msg_" + request_id)},
          {"type", "message"},
          {"role", "assistant"},
          {"model", string_at(completion, "model")},
          {"content", std::move(content)},
          {"stop_reason", anthropic_stop_reason(finish, has_tool_use)},
          {"stop_sequence", nullptr},
          {"usage", anthropic_usage(usage)}};
}

}  // namespace

const char* anthropic_error_type(int status) {
  switch (status) {
    case 401: return "authentication_error";
    case 403: return "permission_error";
    case 404: return "not_found_error";
    case 413: return "request_too_large";
    case 429: return "rate_limit_error";
    case 503:
    case 529: return "overloaded_error";
    case 504: return "timeout_error";
    default: return status >= 500 ? "api_error" : "invalid_request_error";
  }
}

json anthropic_error(int status, std::string_view openai_error_body, const std::string& request_id) {
  json parsed = parse_json_or_discarded(openai_error_body);
  std::string message;
  if (parsed.is_object() && parsed.contains("error")) message = string_at(parsed["error"], "message");
  if (message.empty()) message = "The request failed with HTTP status " + std::to_string(status) + ".";
  json out = error_object(anthropic_error_type(status), std::move(message));
  out["request_id"] = request_id;
  return out;
}

json anthropic_stream_error(const json& event) {
  const json& e = event.is_object() && event.contains("error") ? event["error"] : json();
  const std::string type = string_at(e, "type");
  const std::string code = string_at(e, "code");
  std::string message = string_at(e, "message");
  if (message.empty()) message = "The upstream stream failed.";
  std::string mapped = "api_error";
  if (code == "overloaded" || code == "service_unavailable") {
    mapped = "overloaded_error";
  } else if (type == "rate_limit_error" || code == "rate_limit_exceeded") {
    mapped = "rate_limit_error";
  } else if (type == "timeout_error" || type == "timeout" || code == "upstream_timeout") {
    mapped = "timeout_error";
  } else if (type == "invalid_request_error" || type == "authentication_error" || type == "permission_error") {
    mapped = type;
  }
  return error_object(mapped, std::move(message));
}

std::string anthropic_stop_reason(const json& finish_reason, bool has_tool_use) {
  const std::string r = finish_reason.is_string() ? finish_reason.get<std::string>() : std::string();
  if (r == "length") return "max_tokens";
  if (r == "tool_calls" || r == "function_call") return "tool_use";
  if (r == "content_filter") return "refusal";
  return has_tool_use ? "tool_use" : "end_turn";
}

json anthropic_usage(const Usage& u) {
  const int64_t uncached = std::max<int64_t>(0, u.prompt_tokens - u.cached_tokens - u.cache_write_tokens);
  return {{"input_tokens", uncached},
          {"cache_creation_input_tokens", u.cache_write_tokens},
          {"cache_read_input_tokens", u.cached_tokens},
          {"output_tokens", u.completion_tokens}};
}

std::string anthropic_message_id(const json& openai_id, const std::string& fallback) {
  std::string id = openai_id.is_string() ? openai_id.get<std::string>() : std::string();
  if (id.starts_with("chatcmpl-")) id.erase(0, 9);
  if (id.starts_with("msg_")) return id;
  return id.empty() ? fallback : "msg_" + id;
}

AnthropicReply anthropic_reply(int status, std::string_view body, const Usage& usage, const std::string& request_id) {
  if (status != 200) return {status, dump(anthropic_error(status, body, request_id))};
  json completion = parse_json_or_discarded(body);
  const bool well_formed = completion.is_object() && completion.contains("choices") && completion["choices"].is_array() &&
                           !completion["choices"].empty() && completion["choices"][0].is_object() &&
                           completion["choices"][0].contains("message") && completion["choices"][0]["message"].is_object();
  if (!well_formed) {
    json err = error_object("api_error", "The upstream returned a response that is not a chat completion.");
    err["request_id"] = request_id;
    return {502, dump(err)};
  }
  const Usage u = usage.source != UsageSource::none ? usage : usage_from_openai(completion.value("usage", json()));
  return {200, dump(message_from_completion(completion, u, request_id))};
}

}  // namespace tollgate
