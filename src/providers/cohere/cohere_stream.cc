// Cohere Chat v2 stream events -> OpenAI chat.completion.chunk objects.
#include "providers/cohere/cohere_translate.h"
#include "providers/json_fields.h"

#include "tollgate/json_document.h"

namespace tollgate::cohere {
namespace {

using nlohmann::json;

// delta.message.<key>, or null.
const json* message_delta(const json& event, const char* key) {
  auto d = event.find("delta");
  if (d == event.end() || !d->is_object()) return nullptr;
  auto m = d->find("message");
  if (m == d->end() || !m->is_object()) return nullptr;
  auto it = m->find(key);
  return it == m->end() ? nullptr : &*it;
}

std::string string_at(const json* obj, const char* key) {
  if (!obj || !obj->is_object()) return {};
  auto it = obj->find(key);
  return it != obj->end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

json ChatStreamDecoder::chunk(json delta, json finish) const {
  return {{"id", "chatcmpl-" + (id_.empty() ? std::string("cohere") : id_)},
          {"object", "chat.completion.chunk"},
          {"created", created_},
          {"model", model_},
          {"choices", json::array({{{"index", 0}, {"delta", std::move(delta)}, {"finish_reason", std::move(finish)}}})}};
}

std::optional<ApiError> ChatStreamDecoder::on_event(const std::string& name, const json& event, std::vector<json>& out) {
  const std::string type = json_string(event, "type", name);
  if (type == "message-start") {
    if (auto id = event.find("id"); id != event.end() && id->is_string()) id_ = id->get<std::string>();
    out.push_back(chunk({{"role", "assistant"}, {"content", ""}}));
  } else if (type == "content-delta") {
    const json* content = message_delta(event, "content");
    if (auto t = string_at(content, "text"); !t.empty()) out.push_back(chunk({{"content", t}}));
    if (auto t = string_at(content, "thinking"); !t.empty()) out.push_back(chunk({{"reasoning_content", t}}));
  } else if (type == "tool-plan-delta") {
    // The text a model says before calling tools; content, as OpenAI models send it.
    if (const json* plan = message_delta(event, "tool_plan"); plan && plan->is_string() && !plan->get_ref<const std::string&>().empty()) {
      out.push_back(chunk({{"content", *plan}}));
    }
  } else if (type == "tool-call-start") {
    const json* call = message_delta(event, "tool_calls");
    if (call && call->is_array() && !call->empty()) call = &(*call)[0];
    const int64_t upstream_index = json_int(event, "index", static_cast<int64_t>(tool_index_.size()));
    const int index = static_cast<int>(tool_index_.size());
    tool_index_[upstream_index] = index;
    const json* fn = call && call->is_object() && call->contains("function") ? &(*call)["function"] : nullptr;
    // Arguments start empty (wire formats §1.8 invariant 3); any the start
    // event carries follow as the first fragment.
    out.push_back(chunk({{"tool_calls", json::array({{{"index", index},
                                                      {"id", string_at(call, "id")},
                                                      {"type", "function"},
                                                      {"function", {{"name", string_at(fn, "name")}, {"arguments", ""}}}}})}}));
    if (auto args = string_at(fn, "arguments"); !args.empty()) {
      out.push_back(chunk({{"tool_calls", json::array({{{"index", index}, {"function", {{"arguments", args}}}}})}}));
    }
  } else if (type == "tool-call-delta") {
    const json* call = message_delta(event, "tool_calls");
    if (call && call->is_array() && !call->empty()) call = &(*call)[0];
    const json* fn = call && call->is_object() && call->contains("function") ? &(*call)["function"] : nullptr;
    const std::string args = string_at(fn, "arguments");
    if (args.empty() || tool_index_.empty()) return std::nullopt;
    auto it = tool_index_.find(json_int(event, "index", -1));
    const int index = it != tool_index_.end() ? it->second : static_cast<int>(tool_index_.size()) - 1;
    out.push_back(chunk({{"tool_calls", json::array({{{"index", index}, {"function", {{"arguments", args}}}}})}}));
  } else if (type == "message-end") {
    done_ = true;
    const json delta = event.contains("delta") && event["delta"].is_object() ? event["delta"] : json::object();
    const std::string reason = json_string(delta, "finish_reason");
    if (is_error_reason(reason)) {
      std::string detail = delta.contains("error") && delta["error"].is_string() ? ": " + delta["error"].get<std::string>() : "";
      return ApiError::bad_gateway("the upstream reported an error mid-stream (" + reason + ")" + detail,
                                   "upstream_stream_error");
    }
    out.push_back(chunk(json::object(), finish_reason(reason, !tool_index_.empty())));
    if (auto usage = usage_from_cohere(delta.contains("usage") ? delta["usage"] : json()); usage.source != UsageSource::none) {
      json u = chunk(json::object());
      u["choices"] = json::array();
      u["usage"] = usage.to_openai_json();
      out.push_back(std::move(u));
    }
  } else if (type == "error" || (event.contains("message") && !event.contains("type"))) {
    done_ = true;
    std::string message = event.contains("message") && event["message"].is_string() ? event["message"].get<std::string>() : "";
    return ApiError::bad_gateway(message.empty() ? "the upstream reported an error mid-stream"
                                                 : "the upstream reported an error mid-stream: " + message,
                                 "upstream_stream_error");
  }
  // content-start/end, tool-call-end, citation-*, debug: nothing for OpenAI clients.
  return std::nullopt;
}

std::optional<ApiError> ChatStreamDecoder::take(std::vector<json>& out) {
  std::optional<ApiError> error;
  for (const auto& ev : events_) {
    if (done_ || error) break;
    if (ev.data == "[DONE]") {
      done_ = true;
      break;
    }
    json event = parse_json_or_discarded(ev.data);
    if (event.is_discarded() || !event.is_object()) {
      error = ApiError::bad_gateway("the upstream sent malformed JSON in its stream", "upstream_protocol_error");
      break;
    }
    error = on_event(ev.event, event, out);
  }
  events_.clear();
  return error;
}

std::optional<ApiError> ChatStreamDecoder::feed(std::string_view bytes, std::vector<json>& out) {
  if (!parser_.feed(bytes, events_)) {
    return ApiError::bad_gateway("the upstream sent an oversized stream event", "upstream_protocol_error");
  }
  return take(out);
}

std::optional<ApiError> ChatStreamDecoder::finish(std::vector<json>& out) {
  parser_.finish(events_);
  return take(out);
}

}  // namespace tollgate::cohere
