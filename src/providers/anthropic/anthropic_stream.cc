#include "providers/anthropic/anthropic_stream.h"

#include "tollgate/json_document.h"

#include "providers/anthropic/anthropic_errors.h"
#include "providers/json_fields.h"
#include "providers/anthropic/anthropic_request.h"

namespace tollgate::anthropic {

using nlohmann::json;

namespace {

int64_t block_index(const json& data) {
  auto it = data.find("index");
  return it != data.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
}

}  // namespace

std::optional<ApiError> AnthropicStreamDecoder::feed(std::string_view bytes, std::vector<json>& out) {
  if (!parser_.feed(bytes, events_)) {
    return ApiError::bad_gateway("the upstream sent an oversized stream event", "upstream_protocol_error");
  }
  return take(out);
}

std::optional<ApiError> AnthropicStreamDecoder::finish(std::vector<json>& out) {
  parser_.finish(events_);
  if (auto error = take(out)) return error;
  if (!done_) {
    return ApiError::bad_gateway("the upstream closed the stream before message_stop", "upstream_stream_truncated");
  }
  return std::nullopt;
}

std::optional<ApiError> AnthropicStreamDecoder::take(std::vector<json>& out) {
  std::optional<ApiError> error;
  for (const auto& event : events_) {
    if (done_) break;
    if ((error = handle(event, out))) break;
  }
  events_.clear();
  return error;
}

std::optional<ApiError> AnthropicStreamDecoder::handle(const SseEvent& event, std::vector<json>& out) {
  json data = parse_json_or_discarded(event.data);
  if (data.is_discarded() || !data.is_object()) {
    if (event.event == "error") return map_stream_error(event.data);
    return ApiError::bad_gateway("the upstream sent malformed JSON in its stream", "upstream_protocol_error");
  }
  // The payload's own type is authoritative; the SSE event name is a copy.
  std::string type = json_string(data, "type");
  if (type.empty()) type = event.event;

  if (type == "error") return map_stream_error(event.data);
  if (type == "message_start") {
    start(data.contains("message") ? data["message"] : json::object(), out);
  } else if (type == "content_block_start") {
    block_start(data, out);
  } else if (type == "content_block_delta") {
    block_delta(data, out);
  } else if (type == "content_block_stop") {
    block_stop(data, out);
  } else if (type == "message_delta") {
    if (auto d = data.find("delta"); d != data.end() && d->is_object()) {
      if (auto sr = d->find("stop_reason"); sr != d->end() && sr->is_string()) stop_reason_ = sr->get<std::string>();
    }
    if (data.contains("usage")) usage_.update(data["usage"]);
  } else if (type == "message_stop") {
    stop(out);
  }
  // ping and event types newer than this code: nothing to say to the client.
  return std::nullopt;
}

void AnthropicStreamDecoder::emit(json delta, std::vector<json>& out, json finish_reason) {
  json choice = {{"index", 0}};
  if (options_.completion) {
    choice["text"] = delta.contains("content") ? delta["content"] : json("");
  } else {
    choice["delta"] = std::move(delta);
  }
  choice["finish_reason"] = std::move(finish_reason);
  out.push_back({{"id", openai_id(id_, options_.completion)},
                 {"object", options_.completion ? "text_completion" : "chat.completion.chunk"},
                 {"created", options_.created},
                 {"model", model_},
                 {"choices", json::array({std::move(choice)})}});
}

void AnthropicStreamDecoder::start(const json& message, std::vector<json>& out) {
  if (started_) return;
  started_ = true;
  id_ = json_string(message, "id");
  model_ = json_string(message, "model");
  // Exact input and cache counts; output_tokens here is a placeholder that
  // message_delta replaces.
  if (message.contains("usage")) usage_.update(message["usage"]);
  if (!options_.completion) emit({{"role", "assistant"}, {"content", ""}}, out);
}

void AnthropicStreamDecoder::block_start(const json& data, std::vector<json>& out) {
  if (!started_) start(json::object(), out);
  const json& cb = data.contains("content_block") ? data["content_block"] : json();
  const std::string type = json_string(cb, "type");
  Block& block = blocks_[block_index(data)];
  if (type == "text") {
    block.kind = BlockKind::text;
    if (const std::string text = json_string(cb, "text"); !text.empty()) emit({{"content", text}}, out);
  } else if (type == "tool_use") {
    if (options_.json_tool && json_string(cb, "name") == kJsonToolName) {
      block.kind = BlockKind::json_tool;
      json_answered_ = true;
      return;
    }
    block.kind = BlockKind::tool;
    block.tool_index = next_tool_++;
    if (options_.completion) return;
    // Arguments start empty: the block's `input: {}` is a placeholder, and
    // clients concatenate every fragment that follows.
    emit({{"tool_calls", json::array({{{"index", block.tool_index},
                                       {"id", json_string(cb, "id")},
                                       {"type", "function"},
                                       {"function", {{"name", json_string(cb, "name")}, {"arguments", ""}}}}})}},
         out);
  } else if (type == "thinking") {
    block.kind = BlockKind::thinking;
    block.thinking = json_string(cb, "thinking");
    if (!block.thinking.empty() && !options_.completion) emit({{"reasoning_content", block.thinking}}, out);
  } else if (type == "redacted_thinking") {
    block.kind = BlockKind::redacted_thinking;
    block.data = json_string(cb, "data");
  } else {
    block.kind = BlockKind::other;
  }
}

void AnthropicStreamDecoder::block_delta(const json& data, std::vector<json>& out) {
  if (!started_) start(json::object(), out);
  const json& delta = data.contains("delta") ? data["delta"] : json();
  const std::string type = json_string(delta, "type");
  auto it = blocks_.find(block_index(data));
  Block* block = it == blocks_.end() ? nullptr : &it->second;
  if (type == "text_delta") {
    if (const std::string text = json_string(delta, "text"); !text.empty()) emit({{"content", text}}, out);
  } else if (type == "input_json_delta" && block) {
    const std::string fragment = json_string(delta, "partial_json");
    if (fragment.empty()) return;
    if (block->kind == BlockKind::json_tool) {
      emit({{"content", fragment}}, out);
    } else if (block->kind == BlockKind::tool && !options_.completion) {
      emit({{"tool_calls", json::array({{{"index", block->tool_index}, {"function", {{"arguments", fragment}}}}})}}, out);
    }
  } else if (type == "thinking_delta") {
    const std::string text = json_string(delta, "thinking");
    if (block) block->thinking += text;
    if (!text.empty() && !options_.completion) emit({{"reasoning_content", text}}, out);
  } else if (type == "signature_delta" && block) {
    block->signature += json_string(delta, "signature");
  }
  // citations_delta and newer delta types have no OpenAI counterpart.
}

void AnthropicStreamDecoder::block_stop(const json& data, std::vector<json>& out) {
  auto it = blocks_.find(block_index(data));
  if (it == blocks_.end() || options_.completion) return;
  const Block& block = it->second;
  if (block.kind == BlockKind::thinking) {
    emit({{"thinking_blocks", json::array({{{"type", "thinking"}, {"thinking", block.thinking}, {"signature", block.signature}}})}},
         out);
  } else if (block.kind == BlockKind::redacted_thinking) {
    emit({{"thinking_blocks", json::array({{{"type", "redacted_thinking"}, {"data", block.data}}})}}, out);
  }
}

void AnthropicStreamDecoder::stop(std::vector<json>& out) {
  if (!started_) start(json::object(), out);
  std::string finish = finish_reason_for(stop_reason_);
  // The emulated json answer is content, not a tool call.
  if (json_answered_ && next_tool_ == 0) finish = "stop";
  // The finish chunk comes at message_stop, never at message_delta, so a
  // later message_delta cannot cause a second one.
  emit(json::object(), out, finish);
  if (usage_.seen) {
    out.push_back({{"id", openai_id(id_, options_.completion)},
                   {"object", options_.completion ? "text_completion" : "chat.completion.chunk"},
                   {"created", options_.created},
                   {"model", model_},
                   {"choices", json::array()},
                   {"usage", usage_.normalized().to_openai_json()}});
  }
  done_ = true;
}

}  // namespace tollgate::anthropic
