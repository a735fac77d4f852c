#include "providers/bedrock/bedrock_stream.h"

#include "tollgate/json_document.h"
#include "providers/json_fields.h"

#include "providers/bedrock/bedrock_response.h"

namespace tollgate::bedrock {

using nlohmann::json;

namespace {

ApiError protocol_error(std::string what) {
  return ApiError::bad_gateway("the upstream sent a malformed event stream: " + what, "upstream_protocol_error");
}

const std::string* string_at(const json& obj, const char* key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? &it->get_ref<const std::string&>() : nullptr;
}

}  // namespace

ConverseStreamDecoder::ConverseStreamDecoder(std::string model, std::string structured_tool)
    : model_(std::move(model)), structured_tool_(std::move(structured_tool)) {}

json ConverseStreamDecoder::chunk(json delta, json finish_reason) const {
  return {{"object", "chat.completion.chunk"},
          {"model", model_},
          {"choices", json::array({{{"index", 0}, {"delta", std::move(delta)}, {"finish_reason", std::move(finish_reason)}}})}};
}

void ConverseStreamDecoder::emit_finish(std::vector<json>& out) {
  std::string finish = finish_reason_from(stop_reason_.value_or(""));
  if (next_tool_ > 0 && finish == "stop") finish = "tool_calls";
  if (next_tool_ == 0 && finish == "tool_calls") finish = "stop";
  out.push_back(chunk(json::object(), finish));
}

std::optional<ApiError> ConverseStreamDecoder::feed(std::string_view bytes, std::vector<json>& out) {
  if (done_) return std::nullopt;
  messages_.clear();
  auto framing = frames_.feed(bytes, messages_);
  // Messages decoded before a corrupt frame are still delivered.
  for (const auto& msg : messages_) {
    if (done_) break;
    if (auto e = on_message(msg, out)) return e;
  }
  if (framing && !done_) return protocol_error(*framing);
  return std::nullopt;
}

std::optional<ApiError> ConverseStreamDecoder::finish(std::vector<json>& out) {
  if (done_) return std::nullopt;
  if (frames_.pending_bytes() > 0) return protocol_error("the body ended inside a frame");
  if (stop_reason_) {
    // messageStop without metadata: the answer is whole, only usage is missing.
    emit_finish(out);
    done_ = true;
  }
  return std::nullopt;
}

std::optional<ApiError> ConverseStreamDecoder::on_message(const EventStreamMessage& msg, std::vector<json>& out) {
  const std::string kind = msg.header(":message-type");
  if (kind == "exception") {
    return map_bedrock_error(0, error_type_name(msg.header(":exception-type"), {}), error_message(msg.payload),
                             std::nullopt)
        .error;
  }
  if (kind == "error") {
    return map_bedrock_error(0, error_type_name(msg.header(":error-code"), {}), msg.header(":error-message"),
                             std::nullopt)
        .error;
  }
  if (kind != "event") return std::nullopt;
  json payload = parse_json_or_discarded(msg.payload);
  if (payload.is_discarded() || !payload.is_object()) return protocol_error("an event payload is not a JSON object");
  return on_event(msg.header(":event-type"), payload, out);
}

std::optional<ApiError> ConverseStreamDecoder::on_event(const std::string& type, const json& payload,
                                                        std::vector<json>& out) {
  if (type == "messageStart") {
    out.push_back(chunk({{"role", "assistant"}, {"content", ""}}));
  } else if (type == "contentBlockStart") {
    const int block = static_cast<int>(json_int(payload, "contentBlockIndex"));
    const json& start = payload.contains("start") ? payload["start"] : json();
    if (start.is_object() && start.contains("toolUse") && start["toolUse"].is_object()) {
      const json& tu = start["toolUse"];
      const std::string name = json_string(tu, "name");
      if (!structured_tool_.empty() && name == structured_tool_) {
        structured_blocks_.insert(block);
        return std::nullopt;
      }
      const int index = next_tool_++;
      tool_index_[block] = index;
      out.push_back(chunk({{"tool_calls", json::array({{{"index", index},
                                                        {"id", json_string(tu, "toolUseId")},
                                                        {"type", "function"},
                                                        {"function", {{"name", name}, {"arguments", ""}}}}})}}));
    }
  } else if (type == "contentBlockDelta") {
    return on_delta(payload, out);
  } else if (type == "messageStop") {
    stop_reason_ = json_string(payload, "stopReason", "end_turn");
  } else if (type == "metadata") {
    emit_finish(out);
    if (payload.contains("usage") && payload["usage"].is_object()) {
      out.push_back({{"object", "chat.completion.chunk"},
                     {"model", model_},
                     {"choices", json::array()},
                     {"usage", usage_from_bedrock(payload["usage"]).to_openai_json()}});
    }
    done_ = true;
  }
  // contentBlockStop and unknown events carry nothing for the client.
  return std::nullopt;
}

std::optional<ApiError> ConverseStreamDecoder::on_delta(const json& payload, std::vector<json>& out) {
  const int block = static_cast<int>(json_int(payload, "contentBlockIndex"));
  const json& delta = payload.contains("delta") ? payload["delta"] : json();
  if (const std::string* text = string_at(delta, "text")) {
    if (!text->empty()) out.push_back(chunk({{"content", *text}}));
  } else if (delta.is_object() && delta.contains("toolUse")) {
    const std::string* input = string_at(delta["toolUse"], "input");
    if (!input || input->empty()) return std::nullopt;
    if (structured_blocks_.count(block)) {
      out.push_back(chunk({{"content", *input}}));
      return std::nullopt;
    }
    auto it = tool_index_.find(block);
    if (it == tool_index_.end()) return protocol_error("a toolUse delta without its contentBlockStart");
    out.push_back(chunk({{"tool_calls", json::array({{{"index", it->second}, {"function", {{"arguments", *input}}}}})}}));
  } else if (delta.is_object() && delta.contains("reasoningContent")) {
    // Signatures and redacted reasoning have no OpenAI field; only text is shown.
    if (const std::string* text = string_at(delta["reasoningContent"], "text"); text && !text->empty()) {
      out.push_back(chunk({{"reasoning_content", *text}}));
    }
  }
  return std::nullopt;
}

}  // namespace tollgate::bedrock
