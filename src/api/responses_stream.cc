#include "api/responses_stream.h"

#include "tollgate/json_document.h"

namespace tollgate {
namespace {

using nlohmann::json;

const std::string* string_field(const json& obj, const char* key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? &it->get_ref<const std::string&>() : nullptr;
}

}  // namespace

ResponsesStreamTranslator::ResponsesStreamTranslator(ResponseEnvelope envelope, int64_t input_tokens_estimate)
    : env_(std::move(envelope)), input_tokens_estimate_(input_tokens_estimate) {}

void ResponsesStreamTranslator::emit(std::vector<ResponsesEvent>& out, const char* type, json payload) {
  payload["type"] = type;
  payload["sequence_number"] = sequence_++;
  out.push_back({type, payload.dump(-1, ' ', false, json::error_handler_t::replace)});
}

std::vector<ResponsesEvent> ResponsesStreamTranslator::on_payload(std::string_view payload) {
  std::vector<ResponsesEvent> out;
  if (finished_) return out;
  if (payload == "[DONE]") {
    finish(out);
    return out;
  }
  json chunk = parse_json_or_discarded(payload);
  if (!chunk.is_object()) return out;
  if (chunk.contains("error")) {
    fail(responses_error(chunk), out);
    return out;
  }
  ensure_started(chunk, out);
  if (auto u = chunk.find("usage"); u != chunk.end() && u->is_object() && !u->empty()) usage_ = usage_from_openai(*u);
  if (auto choices = chunk.find("choices"); choices != chunk.end() && choices->is_array()) {
    for (const auto& choice : *choices) {
      // A Response has one answer; the gateway never asks for more choices.
      if (!choice.is_object()) continue;
      const auto index = choice.find("index");
      if (index == choice.end() || *index == 0) on_choice(choice, out);
    }
  }
  return out;
}

std::vector<ResponsesEvent> ResponsesStreamTranslator::on_end() {
  std::vector<ResponsesEvent> out;
  if (finished_) return out;
  fail(responses_error({{"error", {{"type", "server_error"}, {"message", "The upstream stream ended before the response completed."}}}}),
       out);
  return out;
}

void ResponsesStreamTranslator::ensure_started(const json& chunk, std::vector<ResponsesEvent>& out) {
  if (started_) return;
  started_ = true;
  if (const std::string* model = string_field(chunk, "model")) model_ = *model;
  json response = response_object(env_, "in_progress", model_, json::array(), nullptr);
  emit(out, "response.created", {{"response", response}});
  emit(out, "response.in_progress", {{"response", std::move(response)}});
}

ResponsesStreamTranslator::Item& ResponsesStreamTranslator::open_item(Kind kind, json body,
                                                                      std::vector<ResponsesEvent>& out) {
  close_text_items(out);
  const std::size_t index = items_.size();
  const char* prefix = kind == Kind::reasoning ? "rs_" : kind == Kind::message ? "msg_" : "fc_";
  Item item{kind, response_item_id(prefix, env_.id, index), std::move(body), {}, true};
  item.body["id"] = item.id;
  emit(out, "response.output_item.added", {{"output_index", index}, {"item", item.body}});
  if (kind == Kind::reasoning) {
    emit(out, "response.reasoning_summary_part.added",
         {{"item_id", item.id}, {"output_index", index}, {"summary_index", 0}, {"part", {{"type", "summary_text"}, {"text", ""}}}});
  } else if (kind == Kind::message) {
    emit(out, "response.content_part.added",
         {{"item_id", item.id},
          {"output_index", index},
          {"content_index", 0},
          {"part", {{"type", "output_text"}, {"text", ""}, {"annotations", json::array()}, {"logprobs", json::array()}}}});
  }
  items_.push_back(std::move(item));
  if (kind != Kind::function_call) open_text_ = static_cast<std::ptrdiff_t>(index);
  return items_.back();
}

void ResponsesStreamTranslator::close_item(std::size_t index, std::vector<ResponsesEvent>& out) {
  Item& item = items_[index];
  if (!item.open) return;
  item.open = false;
  if (item.kind == Kind::reasoning) {
    json part = {{"type", "summary_text"}, {"text", item.text}};
    emit(out, "response.reasoning_summary_text.done",
         {{"item_id", item.id}, {"output_index", index}, {"summary_index", 0}, {"text", item.text}});
    emit(out, "response.reasoning_summary_part.done",
         {{"item_id", item.id}, {"output_index", index}, {"summary_index", 0}, {"part", part}});
    item.body["summary"] = json::array({std::move(part)});
  } else if (item.kind == Kind::message) {
    json part = {{"type", "output_text"}, {"text", item.text}, {"annotations", json::array()}, {"logprobs", json::array()}};
    emit(out, "response.output_text.done",
         {{"item_id", item.id}, {"output_index", index}, {"content_index", 0}, {"text", item.text}, {"logprobs", json::array()}});
    emit(out, "response.content_part.done",
         {{"item_id", item.id}, {"output_index", index}, {"content_index", 0}, {"part", part}});
    item.body["content"] = json::array({std::move(part)});
    item.body["status"] = "completed";
  } else {
    item.body["arguments"] = item.text;
    item.body["status"] = "completed";
    emit(out, "response.function_call_arguments.done",
         {{"item_id", item.id}, {"output_index", index}, {"name", item.body["name"]}, {"arguments", item.text}});
  }
  emit(out, "response.output_item.done", {{"output_index", index}, {"item", item.body}});
  if (open_text_ == static_cast<std::ptrdiff_t>(index)) open_text_ = -1;
}

void ResponsesStreamTranslator::close_text_items(std::vector<ResponsesEvent>& out) {
  if (open_text_ >= 0) close_item(static_cast<std::size_t>(open_text_), out);
}

void ResponsesStreamTranslator::close_all(std::vector<ResponsesEvent>& out) {
  for (std::size_t i = 0; i < items_.size(); ++i) close_item(i, out);
}

void ResponsesStreamTranslator::on_tool_fragment(const json& call, std::vector<ResponsesEvent>& out) {
  if (!call.is_object()) return;
  const int64_t tool_index = call.contains("index") && call["index"].is_number_integer() ? call["index"].get<int64_t>() : 0;
  const json fn = call.contains("function") && call["function"].is_object() ? call["function"] : json::object();
  auto it = tools_.find(tool_index);
  if (it == tools_.end()) {
    const std::string* id = string_field(call, "id");
    const std::string* name = string_field(fn, "name");
    std::string call_id = id && !id->empty() ? *id : response_item_id("call_", env_.id, items_.size());
    json body = {{"type", "function_call"},
                 {"status", "in_progress"},
                 {"arguments", ""},
                 {"call_id", std::move(call_id)},
                 {"name", name ? *name : std::string()}};
    open_item(Kind::function_call, std::move(body), out);
    it = tools_.emplace(tool_index, items_.size() - 1).first;
  }
  Item& item = items_[it->second];
  const std::string* arguments = string_field(fn, "arguments");
  if (arguments && !arguments->empty() && item.open) {
    item.text += *arguments;
    streamed_bytes_ += arguments->size();
    emit(out, "response.function_call_arguments.delta",
         {{"item_id", item.id}, {"output_index", it->second}, {"delta", *arguments}});
  }
}

void ResponsesStreamTranslator::on_choice(const json& choice, std::vector<ResponsesEvent>& out) {
  if (auto d = choice.find("delta"); d != choice.end() && d->is_object()) {
    const std::string* reasoning = string_field(*d, "reasoning_content");
    if (!reasoning || reasoning->empty()) reasoning = string_field(*d, "reasoning");
    if (reasoning && !reasoning->empty()) {
      if (open_text_ < 0 || items_[static_cast<std::size_t>(open_text_)].kind != Kind::reasoning) {
        open_item(Kind::reasoning, {{"type", "reasoning"}, {"summary", json::array()}}, out);
      }
      Item& item = items_[static_cast<std::size_t>(open_text_)];
      item.text += *reasoning;
      streamed_bytes_ += reasoning->size();
      emit(out, "response.reasoning_summary_text.delta",
           {{"item_id", item.id}, {"output_index", open_text_}, {"summary_index", 0}, {"delta", *reasoning}});
    }
    for (const char* key : {"content", "refusal"}) {
      const std::string* text = string_field(*d, key);
      if (!text || text->empty()) continue;
      if (open_text_ < 0 || items_[static_cast<std::size_t>(open_text_)].kind != Kind::message) {
        open_item(Kind::message,
                  {{"type", "message"}, {"status", "in_progress"}, {"role", "assistant"}, {"content", json::array()}}, out);
      }
      Item& item = items_[static_cast<std::size_t>(open_text_)];
      item.text += *text;
      streamed_bytes_ += text->size();
      emit(out, "response.output_text.delta",
           {{"item_id", item.id}, {"output_index", open_text_}, {"content_index", 0}, {"delta", *text}, {"logprobs", json::array()}});
      if (std::string_view(key) == "refusal") finish_reason_ = "content_filter";
    }
    if (auto calls = d->find("tool_calls"); calls != d->end() && calls->is_array()) {
      for (const auto& call : *calls) on_tool_fragment(call, out);
    }
  }
  if (auto fr = choice.find("finish_reason"); fr != choice.end() && fr->is_string()) {
    if (!(finish_reason_ == "content_filter")) finish_reason_ = *fr;
    close_all(out);
  }
}

json ResponsesStreamTranslator::output_items() const {
  json output = json::array();
  for (const Item& item : items_) {
    json body = item.body;
    if (item.open) {
      // Cut short (a failed stream): what arrived, marked incomplete.
      body["status"] = "incomplete";
      if (item.kind == Kind::function_call) body["arguments"] = item.text;
      if (item.kind == Kind::message) {
        body["content"] = json::array(
            {{{"type", "output_text"}, {"text", item.text}, {"annotations", json::array()}, {"logprobs", json::array()}}});
      }
      if (item.kind == Kind::reasoning) {
        body.erase("status");
        body["summary"] = json::array({{{"type", "summary_text"}, {"text", item.text}}});
      }
    }
    output.push_back(std::move(body));
  }
  return output;
}

void ResponsesStreamTranslator::finish(std::vector<ResponsesEvent>& out) {
  ensure_started(json::object(), out);
  close_all(out);
  Usage usage = usage_;
  if (usage.source == UsageSource::none) {
    usage.prompt_tokens = input_tokens_estimate_;
    usage.completion_tokens = static_cast<int64_t>((streamed_bytes_ + 3) / 4);
  }
  json details = incomplete_details_for(finish_reason_);
  const bool complete = details.is_null();
  final_ = response_object(env_, complete ? "completed" : "incomplete", model_, output_items(), &usage, std::move(details));
  emit(out, complete ? "response.completed" : "response.incomplete", {{"response", final_}});
  finished_ = true;
}

void ResponsesStreamTranslator::fail(const json& error, std::vector<ResponsesEvent>& out) {
  ensure_started(json::object(), out);
  Usage usage = usage_;
  if (usage.source == UsageSource::none) {
    usage.prompt_tokens = input_tokens_estimate_;
    usage.completion_tokens = static_cast<int64_t>((streamed_bytes_ + 3) / 4);
  }
  final_ = response_object(env_, "failed", model_, output_items(), &usage, nullptr, error);
  emit(out, "response.failed", {{"response", final_}});
  finished_ = true;
}

}  // namespace tollgate
