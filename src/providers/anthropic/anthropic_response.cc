#include "providers/anthropic/anthropic_response.h"

#include <algorithm>

#include "providers/json_fields.h"
#include "providers/anthropic/anthropic_request.h"

namespace tollgate::anthropic {
namespace {

using nlohmann::json;

void take_count(const json& obj, const char* key, int64_t& into, bool& seen) {
  if (!obj.is_object()) return;
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_number()) return;
  const double v = it->get<double>();
  if (v < 0) return;
  // Clamped far above any real count, so that sums of counters cannot
  // overflow (an integer beyond int64 would otherwise read as negative).
  constexpr int64_t kMaxCount = int64_t{1} << 40;
  into = v >= static_cast<double>(kMaxCount) ? kMaxCount
         : it->is_number_integer()           ? it->get<int64_t>()
                                             : static_cast<int64_t>(v);
  seen = true;
}

}  // namespace

void AnthropicUsage::update(const json& usage) {
  if (!usage.is_object()) return;
  take_count(usage, "input_tokens", input, seen);
  take_count(usage, "output_tokens", output, seen);
  take_count(usage, "cache_creation_input_tokens", cache_creation, seen);
  take_count(usage, "cache_read_input_tokens", cache_read, seen);
  if (auto d = usage.find("output_tokens_details"); d != usage.end()) take_count(*d, "thinking_tokens", thinking, seen);
}

Usage AnthropicUsage::normalized() const {
  Usage u;
  if (!seen) return u;
  // input_tokens counts only the uncached part of the prompt.
  u.prompt_tokens = input + cache_creation + cache_read;
  u.completion_tokens = output;
  u.cached_tokens = cache_read;
  u.cache_write_tokens = cache_creation;
  u.reasoning_tokens = std::min(thinking, output);
  u.source = UsageSource::provider_final;
  return u;
}

std::string finish_reason_for(const std::string& stop_reason) {
  if (stop_reason == "max_tokens" || stop_reason == "model_context_window_exceeded") return "length";
  if (stop_reason == "tool_use") return "tool_calls";
  if (stop_reason == "refusal") return "content_filter";
  // end_turn, stop_sequence, pause_turn (a paused server tool) and values
  // newer than this code.
  return "stop";
}

std::string openai_id(const std::string& message_id, bool completion) {
  return (completion ? "cmpl-" : "chatcmpl-") + (message_id.empty() ? std::string("anthropic") : message_id);
}

Result<json> translate_message(const json& native, const ResponseOptions& options, Usage& usage) {
  if (!native.is_object() || !native.contains("content") || !native["content"].is_array()) {
    return ApiError::bad_gateway("the upstream response has no content array", "upstream_protocol_error");
  }
  std::string text, reasoning, json_answer;
  bool json_answered = false;
  json tool_calls = json::array();
  json thinking_blocks = json::array();
  for (const auto& block : native["content"]) {
    const std::string type = json_string(block, "type");
    if (type == "text") {
      text += json_string(block, "text");
    } else if (type == "tool_use") {
      const json input = block.contains("input") ? block["input"] : json::object();
      if (options.json_tool && json_string(block, "name") == kJsonToolName) {
        json_answer = input.dump(-1, ' ', false, json::error_handler_t::replace);
        json_answered = true;
        continue;
      }
      tool_calls.push_back({{"id", json_string(block, "id")},
                            {"type", "function"},
                            {"function", {{"name", json_string(block, "name")},
                                          {"arguments", input.dump(-1, ' ', false, json::error_handler_t::replace)}}}});
    } else if (type == "thinking") {
      reasoning += json_string(block, "thinking");
      thinking_blocks.push_back({{"type", "thinking"}, {"thinking", json_string(block, "thinking")},
                                 {"signature", json_string(block, "signature")}});
    } else if (type == "redacted_thinking") {
      thinking_blocks.push_back({{"type", "redacted_thinking"}, {"data", json_string(block, "data")}});
    }
    // Server-tool blocks (server_tool_use, web_search_tool_result, ...) have
    // no OpenAI counterpart.
  }

  std::string finish = finish_reason_for(json_string(native, "stop_reason"));
  if (json_answered) {
    text = json_answer;
    if (tool_calls.empty()) finish = "stop";
  }
  json message = {{"role", "assistant"}, {"refusal", nullptr}};
  message["content"] = text.empty() && !tool_calls.empty() ? json(nullptr) : json(text);
  if (!tool_calls.empty()) message["tool_calls"] = std::move(tool_calls);
  if (!reasoning.empty()) message["reasoning_content"] = reasoning;
  if (!thinking_blocks.empty()) message["thinking_blocks"] = std::move(thinking_blocks);

  AnthropicUsage raw;
  if (native.contains("usage")) raw.update(native["usage"]);
  usage = raw.normalized();

  json out = {{"id", openai_id(json_string(native, "id"), options.completion)},
              {"object", options.completion ? "text_completion" : "chat.completion"},
              {"created", options.created},
              {"model", json_string(native, "model")}};
  if (options.completion) {
    out["choices"] = json::array({{{"index", 0}, {"text", text}, {"logprobs", nullptr}, {"finish_reason", finish}}});
  } else {
    out["choices"] = json::array({{{"index", 0}, {"message", std::move(message)}, {"logprobs", nullptr}, {"finish_reason", finish}}});
  }
  if (raw.seen) out["usage"] = usage.to_openai_json();
  return out;
}

}  // namespace tollgate::anthropic
