#include "api/responses_response.h"

#include <random>

#include "tollgate/json_document.h"

namespace tollgate {
namespace {

using nlohmann::json;

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

std::string string_at(const json& obj, const char* key) {
  if (!obj.is_object()) return {};
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string();
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

json output_from_completion(const json& message, const std::string& response_id) {
  json output = json::array();
  std::string reasoning = string_at(message, "reasoning_content");
  if (reasoning.empty()) reasoning = string_at(message, "reasoning");
  if (!reasoning.empty()) {
    output.push_back({{"id", response_item_id("rs_", response_id, output.size())},
                      {"type", "reasoning"},
                      {"summary", json::array({{{"type", "summary_text"}, {"text", reasoning}}})}});
  }
  std::string text = message.contains("content") ? content_text(message["content"]) : std::string();
  if (text.empty()) text = string_at(message, "refusal");
  if (!text.empty()) {
    output.push_back({{"id", response_item_id("msg_", response_id, output.size())},
                      {"type", "message"},
                      {"status", "completed"},
                      {"role", "assistant"},
                      {"content", json::array({{{"type", "output_text"},
                                                {"text", text},
                                                {"annotations", json::array()},
                                                {"logprobs", json::array()}}})}});
  }
  if (auto calls = message.find("tool_calls"); calls != message.end() && calls->is_array()) {
    for (const auto& call : *calls) {
      if (!call.is_object() || !call.contains("function") || !call["function"].is_object()) continue;
      const json& fn = call["function"];
      std::string call_id = string_at(call, "id");
      if (call_id.empty()) call_id = "call_" + response_id.substr(std::min<std::size_t>(5, response_id.size())) + "_" +
                                     std::to_string(output.size());
      json arguments = fn.contains("arguments") ? fn["arguments"] : json();
      output.push_back({{"id", response_item_id("fc_", response_id, output.size())},
                        {"type", "function_call"},
                        {"status", "completed"},
                        {"call_id", call_id},
                        {"name", string_at(fn, "name")},
                        {"arguments", arguments.is_string() ? arguments.get<std::string>()
                                      : arguments.is_null() ? std::string("{}")
                                                            : dump(arguments)}});
    }
  }
  return output;
}

}  // namespace

std::string new_response_id() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id = "resp_";
  for (int i = 0; i < 3; ++i) {
    uint64_t r = rng();
    for (int k = 0; k < 16; ++k, r >>= 4) id += kHex[r & 15];
  }
  return id;
}

std::string response_item_id(std::string_view prefix, std::string_view response_id, std::size_t output_index) {
  if (response_id.starts_with("resp_")) response_id.remove_prefix(5);
  std::string id(prefix);
  id += response_id;
  id += "_";
  id += std::to_string(output_index);
  return id;
}

json responses_usage(const Usage& u) {
  return {{"input_tokens", u.prompt_tokens},
          {"input_tokens_details", {{"cached_tokens", u.cached_tokens}}},
          {"output_tokens", u.completion_tokens},
          {"output_tokens_details", {{"reasoning_tokens", u.reasoning_tokens}}},
          {"total_tokens", u.total_tokens()}};
}

json response_object(const ResponseEnvelope& env, std::string_view status, const std::string& model, json output,
                     const Usage* usage, json incomplete_details, json error) {
  json r = {{"id", env.id},
            {"object", "response"},
            {"created_at", env.created_at},
            {"status", status},
            {"background", false},
            {"error", std::move(error)},
            {"incomplete_details", std::move(incomplete_details)},
            {"model", model},
            {"output", std::move(output)},
            {"usage", usage ? responses_usage(*usage) : json(nullptr)}};
  if (env.echo.is_object()) {
    for (const auto& [k, v] : env.echo.items()) r[k] = v;
  }
  return r;
}

json responses_error(const json& openai_error) {
  const json& e = openai_error.is_object() && openai_error.contains("error") ? openai_error["error"] : json();
  const std::string type = string_at(e, "type");
  const std::string code = string_at(e, "code");
  std::string message = string_at(e, "message");
  if (message.empty()) message = "The upstream stream failed.";
  std::string mapped = "server_error";
  if (code == "context_length_exceeded" || code == "insufficient_quota" || code == "rate_limit_exceeded") {
    mapped = code;
  } else if (type == "rate_limit_error" || type == "rate_limit_exceeded" || code == "rate_limited") {
    mapped = "rate_limit_exceeded";
  } else if (code == "budget_exceeded" || type == "budget_exceeded" || type == "insufficient_quota") {
    mapped = "insufficient_quota";
  } else if (type == "invalid_request_error") {
    mapped = "invalid_prompt";
  }
  return {{"code", mapped}, {"message", std::move(message)}};
}

json incomplete_details_for(const json& finish_reason) {
  if (finish_reason == "length") return {{"reason", "max_output_tokens"}};
  if (finish_reason == "content_filter") return {{"reason", "content_filter"}};
  return nullptr;
}

ResponsesReply responses_reply(int status, std::string_view body, const Usage& usage, const ResponseEnvelope& env) {
  if (status != 200) return {status, std::string(body)};
  json completion = parse_json_or_discarded(body);
  const bool well_formed = completion.is_object() && completion.contains("choices") && completion["choices"].is_array() &&
                           !completion["choices"].empty() && completion["choices"][0].is_object() &&
                           completion["choices"][0].contains("message") && completion["choices"][0]["message"].is_object();
  if (!well_formed) {
    json err = {{"error",
                 {{"message", "The upstream returned a response that is not a chat completion."},
                  {"type", "server_error"},
                  {"param", nullptr},
                  {"code", "upstream_protocol_error"}}}};
    return {502, dump(err)};
  }
  const Usage u = usage.source != UsageSource::none ? usage : usage_from_openai(completion.value("usage", json()));
  const json& choice = completion["choices"][0];
  json details = incomplete_details_for(choice.contains("finish_reason") ? choice["finish_reason"] : json());
  const char* state = details.is_null() ? "completed" : "incomplete";
  json output = output_from_completion(choice["message"], env.id);
  return {200, dump(response_object(env, state, string_at(completion, "model"), std::move(output), &u, std::move(details)))};
}

}  // namespace tollgate
