#include "providers/gemini/gemini_stream.h"

#include "providers/json_fields.h"

#include "tollgate/json_document.h"

#include "providers/gemini/gemini_errors.h"
#include "providers/gemini/thought_signatures.h"

namespace tollgate::gemini {
namespace {

using nlohmann::json;

// promptFeedback.blockReason: the prompt itself was refused.
constexpr const char* kBlocked = "<prompt blocked>";

}  // namespace

GeminiStreamDecoder::GeminiStreamDecoder(ResponseOptions options, std::string secret)
    : options_(std::move(options)), secret_(std::move(secret)) {}

json GeminiStreamDecoder::chunk(int index, json delta) const {
  const bool chat = options_.endpoint != Endpoint::completions;
  json choice = {{"index", index}, {"finish_reason", nullptr}};
  if (chat) {
    choice["delta"] = std::move(delta);
  } else {
    choice["text"] = delta.is_object() && delta.contains("content") ? delta["content"] : json("");
  }
  return {{"id", id_},
          {"object", chat ? "chat.completion.chunk" : "text_completion"},
          {"created", options_.created},
          {"model", model_},
          {"choices", json::array({std::move(choice)})}};
}

json GeminiStreamDecoder::text_chunk(int index, const std::string& text) const {
  return chunk(index, json{{"content", text}});
}

std::optional<ApiError> GeminiStreamDecoder::on_event(const json& event, std::vector<json>& out) {
  if (auto err = event.find("error"); err != event.end() && !err->is_null()) {
    int status = err->is_object() && err->contains("code") && (*err)["code"].is_number_integer()
                     ? (*err)["code"].get<int>()
                     : 500;
    auto mapped = map_error_json(status, event, std::nullopt, secret_);
    return mapped.error;
  }
  if (id_.empty()) {
    id_ = json_string(event, "responseId");
    if (id_.empty()) id_ = (options_.endpoint == Endpoint::completions ? "cmpl-" : "chatcmpl-") + make_tool_call_id().substr(5);
    model_ = event.contains("modelVersion") && event["modelVersion"].is_string() ? event["modelVersion"].get<std::string>()
                                                                                 : options_.model;
  }
  if (auto u = event.find("usageMetadata"); u != event.end() && u->is_object()) usage_meta_ = *u;

  const bool chat = options_.endpoint != Endpoint::completions;
  auto cands = event.find("candidates");
  if (cands == event.end() || !cands->is_array() || cands->empty()) {
    auto fb = event.find("promptFeedback");
    if (fb != event.end() && fb->is_object() && fb->contains("blockReason") && candidates_.empty()) {
      if (chat) out.push_back(chunk(0, json{{"role", "assistant"}, {"content", ""}}));
      candidates_[0].finish_reason = kBlocked;
    }
    return std::nullopt;
  }
  for (std::size_t pos = 0; pos < cands->size(); ++pos) {
    const json& cand = (*cands)[pos];
    if (!cand.is_object()) continue;
    const int index = cand.contains("index") && cand["index"].is_number_integer() ? cand["index"].get<int>()
                                                                                   : static_cast<int>(pos);
    const bool fresh = !candidates_.count(index);
    Candidate& state = candidates_[index];
    if (fresh && chat) out.push_back(chunk(index, json{{"role", "assistant"}, {"content", ""}}));

    const json* parts = nullptr;
    if (auto c = cand.find("content"); c != cand.end() && c->is_object()) {
      if (auto p = c->find("parts"); p != c->end() && p->is_array()) parts = &*p;
    }
    for (std::size_t k = 0; parts && k < parts->size(); ++k) {
      const json& part = (*parts)[k];
      if (!part.is_object()) continue;
      if (auto t = part.find("text"); t != part.end() && t->is_string()) {
        const std::string& text = t->get_ref<const std::string&>();
        if (text.empty()) continue;
        if (json_true(part, "thought")) {
          if (chat) out.push_back(chunk(index, json{{"reasoning_content", text}}));
        } else {
          out.push_back(text_chunk(index, text));
        }
      } else if (auto fc = part.find("functionCall"); fc != part.end() && fc->is_object() && chat) {
        std::string id = json_string(*fc, "id");
        if (id.empty()) id = options_.tool_call_id();
        json args = fc->contains("args") && !(*fc)["args"].is_null() ? (*fc)["args"] : json::object();
        if (auto sig = part.find("thoughtSignature"); sig != part.end() && sig->is_string() && options_.signatures) {
          options_.signatures->put(id, options_.signature_model, sig->get<std::string>());
        }
        // Gemini sends each call whole: one chunk carries id, name and all arguments.
        json call = {{"index", state.tool_calls++},
                     {"id", id},
                     {"type", "function"},
                     {"function", {{"name", json_string(*fc, "name")}, {"arguments", args.dump()}}}};
        out.push_back(chunk(index, json{{"tool_calls", json::array({std::move(call)})}}));
      }
    }
    if (auto fr = cand.find("finishReason"); fr != cand.end() && fr->is_string() && !fr->get_ref<const std::string&>().empty()) {
      state.finish_reason = fr->get<std::string>();
    }
  }
  return std::nullopt;
}

std::optional<ApiError> GeminiStreamDecoder::take(std::vector<json>& out) {
  for (const auto& ev : events_) {
    if (failed_) break;
    if (ev.data.empty()) continue;
    json event = parse_json_or_discarded(ev.data);
    if (event.is_discarded() || !event.is_object()) {
      failed_ = true;
      events_.clear();
      return ApiError::bad_gateway("the upstream sent malformed JSON in its stream", "upstream_protocol_error");
    }
    if (auto err = on_event(event, out)) {
      failed_ = true;
      events_.clear();
      return err;
    }
  }
  events_.clear();
  return std::nullopt;
}

std::optional<ApiError> GeminiStreamDecoder::feed(std::string_view bytes, std::vector<json>& out) {
  if (failed_ || complete_) return std::nullopt;
  if (!parser_.feed(bytes, events_)) {
    failed_ = true;
    return ApiError::bad_gateway("the upstream sent an oversized stream event", "upstream_protocol_error");
  }
  return take(out);
}

std::optional<ApiError> GeminiStreamDecoder::finish(std::vector<json>& out) {
  if (failed_ || complete_) return std::nullopt;
  parser_.finish(events_);
  if (auto err = take(out)) return err;
  bool finished = !candidates_.empty();
  for (const auto& [index, state] : candidates_) finished = finished && !state.finish_reason.empty();
  if (!finished) {
    failed_ = true;
    return ApiError::bad_gateway("the upstream closed the stream before it was complete", "upstream_stream_truncated");
  }
  for (const auto& [index, state] : candidates_) {
    json c = chunk(index, json::object());
    c["choices"][0]["finish_reason"] = state.finish_reason == kBlocked
                                           ? "content_filter"
                                           : map_finish_reason(state.finish_reason, state.tool_calls > 0);
    out.push_back(std::move(c));
  }
  Usage usage = usage_from_gemini(usage_meta_);
  if (usage.source != UsageSource::none) {
    out.push_back({{"id", id_},
                   {"object", options_.endpoint == Endpoint::completions ? "text_completion" : "chat.completion.chunk"},
                   {"created", options_.created},
                   {"model", model_},
                   {"choices", json::array()},
                   {"usage", usage.to_openai_json()}});
  }
  complete_ = true;
  return std::nullopt;
}

}  // namespace tollgate::gemini
