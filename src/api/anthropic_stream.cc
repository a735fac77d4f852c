#include "api/anthropic_stream.h"

#include "tollgate/json_document.h"

#include "api/anthropic_response.h"

namespace tollgate {
namespace {

using nlohmann::json;

NamedEvent event(const char* name, const json& payload) {
  return {name, payload.dump(-1, ' ', false, json::error_handler_t::replace)};
}

const std::string* string_field(const json& obj, const char* key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? &it->get_ref<const std::string&>() : nullptr;
}

}  // namespace

AnthropicStreamTranslator::AnthropicStreamTranslator(int64_t input_tokens_estimate, std::string fallback_id)
    : input_tokens_estimate_(input_tokens_estimate), fallback_id_(std::move(fallback_id)) {}

std::vector<NamedEvent> AnthropicStreamTranslator::on_payload(std::string_view payload) {
  std::vector<NamedEvent> out;
  if (finished_) return out;
  if (payload == "[DONE]") {
    finish_message(out);
    return out;
  }
  json chunk = parse_json_or_discarded(payload);
  if (!chunk.is_object()) return out;
  if (chunk.contains("error")) {
    out.push_back(event("error", anthropic_stream_error(chunk)));
    finished_ = true;
    return out;
  }
  ensure_started(chunk, out);
  if (auto u = chunk.find("usage"); u != chunk.end() && u->is_object() && !u->empty()) usage_ = usage_from_openai(*u);
  if (auto choices = chunk.find("choices"); choices != chunk.end() && choices->is_array()) {
    for (const auto& choice : *choices) {
      // Anthropic messages have one choice; the gateway never asks for more.
      if (!choice.is_object()) continue;
      const auto index = choice.find("index");
      if (index == choice.end() || *index == 0) on_choice(choice, out);
    }
  }
  return out;
}

void AnthropicStreamTranslator::ensure_started(const json& chunk, std::vector<NamedEvent>& out) {
  if (started_) return;
  started_ = true;
  const std::string* model = string_field(chunk, "model");
  Usage estimate;
  estimate.prompt_tokens = input_tokens_estimate_;
  json message = {{"id", anthropic_message_id(chunk.contains("id") ? chunk["id"] : json(), fallback_id_)},
                  {"type", "message"},
                  {"role", "assistant"},
                  {"model", model ? *model : std::string()},
                  {"content", json::array()},
                  {"stop_reason", nullptr},
                  {"stop_sequence", nullptr},
                  {"usage", anthropic_usage(estimate)}};
  out.push_back(event("message_start", {{"type", "message_start"}, {"message", std::move(message)}}));
}

void AnthropicStreamTranslator::open_block(BlockKind kind, json content_block, std::vector<NamedEvent>& out) {
  close_block(out);
  open_kind_ = kind;
  open_index_ = next_index_++;
  out.push_back(event("content_block_start",
                      {{"type", "content_block_start"}, {"index", open_index_}, {"content_block", std::move(content_block)}}));
}

void AnthropicStreamTranslator::close_block(std::vector<NamedEvent>& out) {
  if (open_kind_ == BlockKind::none) return;
  out.push_back(event("content_block_stop", {{"type", "content_block_stop"}, {"index", open_index_}}));
  open_kind_ = BlockKind::none;
  open_index_ = -1;
}

void AnthropicStreamTranslator::delta(int index, json d, std::vector<NamedEvent>& out) {
  out.push_back(event("content_block_delta", {{"type", "content_block_delta"}, {"index", index}, {"delta", std::move(d)}}));
}

void AnthropicStreamTranslator::on_tool_fragment(const json& call, std::vector<NamedEvent>& out) {
  if (!call.is_object()) return;
  const int64_t tool_index = call.contains("index") && call["index"].is_number_integer() ? call["index"].get<int64_t>() : 0;
  const json& fn = call.contains("function") ? call["function"] : json();
  auto it = tool_blocks_.find(tool_index);
  if (it == tool_blocks_.end()) {
    const std::string* id = string_field(call, "id");
    const std::string* name = string_field(fn, "name");
    json block = {{"type", "tool_use"},
                  {"id", id && !id->empty() ? *id : "toolu_" + fallback_id_ + "_" + std::to_string(tool_index)},
                  {"name", name ? *name : std::string()},
                  {"input", json::object()}};
    open_block(BlockKind::tool_use, std::move(block), out);
    it = tool_blocks_.emplace(tool_index, open_index_).first;
  }
  const std::string* arguments = string_field(fn, "arguments");
  if (arguments && !arguments->empty()) {
    delta(it->second, {{"type", "input_json_delta"}, {"partial_json", *arguments}}, out);
  }
}

void AnthropicStreamTranslator::on_choice(const json& choice, std::vector<NamedEvent>& out) {
  if (const json* d = choice.contains("delta") ? &choice["delta"] : nullptr; d && d->is_object()) {
    const std::string* reasoning = string_field(*d, "reasoning_content");
    if (!reasoning || reasoning->empty()) reasoning = string_field(*d, "reasoning");
    if (reasoning && !reasoning->empty()) {
      if (open_kind_ != BlockKind::thinking) {
        open_block(BlockKind::thinking, {{"type", "thinking"}, {"thinking", ""}, {"signature", ""}}, out);
      }
      delta(open_index_, {{"type", "thinking_delta"}, {"thinking", *reasoning}}, out);
    }
    for (const char* key : {"content", "refusal"}) {
      const std::string* text = string_field(*d, key);
      if (!text || text->empty()) continue;
      if (open_kind_ != BlockKind::text) open_block(BlockKind::text, {{"type", "text"}, {"text", ""}}, out);
      delta(open_index_, {{"type", "text_delta"}, {"text", *text}}, out);
      if (std::string_view(key) == "refusal") finish_reason_ = "content_filter";
    }
    if (auto calls = d->find("tool_calls"); calls != d->end() && calls->is_array()) {
      for (const auto& call : *calls) on_tool_fragment(call, out);
    }
  }
  if (auto fr = choice.find("finish_reason"); fr != choice.end() && fr->is_string()) {
    if (!finish_reason_.is_string() || finish_reason_ != "content_filter") finish_reason_ = *fr;
    close_block(out);
  }
}

void AnthropicStreamTranslator::finish_message(std::vector<NamedEvent>& out) {
  ensure_started(json::object(), out);
  close_block(out);
  Usage usage = usage_;
  if (usage.source == UsageSource::none) usage.prompt_tokens = input_tokens_estimate_;
  json d = {{"stop_reason", anthropic_stop_reason(finish_reason_, !tool_blocks_.empty())}, {"stop_sequence", nullptr}};
  out.push_back(event("message_delta", {{"type", "message_delta"}, {"delta", std::move(d)}, {"usage", anthropic_usage(usage)}}));
  out.push_back(event("message_stop", {{"type", "message_stop"}}));
  finished_ = true;
}

}  // namespace tollgate
