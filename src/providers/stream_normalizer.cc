#include "providers/stream_normalizer.h"

#include <algorithm>
#include <chrono>
#include <random>

#include "providers/json_fields.h"

namespace tollgate {
namespace {

// A choice index from the upstream is held to what a request may ask for
// (n is at most 128), so a hostile index cannot grow the state.
constexpr int64_t kMaxChoices = 127;

using nlohmann::json;

const json* find_path(const json& j, const std::string& dotted) {
  const json* cur = &j;
  std::size_t start = 0;
  while (start <= dotted.size()) {
    auto end = dotted.find('.', start);
    if (end == std::string::npos) end = dotted.size();
    if (!cur->is_object()) return nullptr;
    auto it = cur->find(dotted.substr(start, end - start));
    if (it == cur->end()) return nullptr;
    cur = &*it;
    start = end + 1;
  }
  return cur;
}

std::string random_id(const char* prefix) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  static const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::string out = prefix;
  for (int i = 0; i < 24; ++i) out += alphabet[rng() % 62];
  return out;
}

std::size_t text_bytes(const json& delta) {
  std::size_t n = 0;
  for (const char* key : {"content", "reasoning_content", "reasoning", "refusal"}) {
    if (auto it = delta.find(key); it != delta.end() && it->is_string()) n += it->get_ref<const std::string&>().size();
  }
  if (auto tc = delta.find("tool_calls"); tc != delta.end() && tc->is_array()) {
    for (const auto& call : *tc) {
      if (auto f = call.find("function"); f != call.end() && f->is_object()) {
        for (const char* key : {"name", "arguments"}) {
          if (auto it = f->find(key); it != f->end() && it->is_string()) n += it->get_ref<const std::string&>().size();
        }
      }
    }
  }
  return n;
}

}  // namespace

StreamNormalizer::StreamNormalizer(Kind kind, bool client_wants_usage, const ProviderProfile& profile)
    : kind_(kind), client_wants_usage_(client_wants_usage), profile_(profile) {}

void StreamNormalizer::capture_usage(const json& chunk) {
  auto take = [&](const json* u) {
    if (u && u->is_object() && !u->empty()) usage_ = usage_from_openai(*u);
  };
  if (auto it = chunk.find("usage"); it != chunk.end()) take(&*it);
  for (const auto& path : profile_.usage_paths) take(find_path(chunk, path));
}

json StreamNormalizer::envelope() const {
  return json{{"id", id_},
              {"object", kind_ == Kind::chat ? "chat.completion.chunk" : "text_completion"},
              {"created", created_},
              {"model", model_}};
}

std::string StreamNormalizer::render(json& chunk) const {
  chunk["id"] = id_;
  chunk["created"] = created_;
  chunk["model"] = model_;
  if (client_wants_usage_) {
    chunk["usage"] = nullptr;
  } else {
    chunk.erase("usage");
  }
  return chunk.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::vector<std::string> StreamNormalizer::on_chunk(json chunk) {
  std::vector<std::string> out;
  if (done_ || !chunk.is_object()) return out;
  capture_usage(chunk);
  for (const auto& field : profile_.strip_chunk_fields) chunk.erase(field);

  auto choices = chunk.find("choices");
  // Usage-only chunks, Azure filter annotations and Groq's empty tail carry no
  // choice: clients index choices[0], so they never see these. They do not
  // fix the stream's identity either (Azure's annotation has an empty id).
  if (choices == chunk.end() || !choices->is_array() || choices->empty()) return out;

  if (id_.is_null()) {
    auto non_empty_string = [&](const char* key) {
      auto it = chunk.find(key);
      return it != chunk.end() && it->is_string() && !it->get_ref<const std::string&>().empty();
    };
    id_ = non_empty_string("id") ? chunk["id"] : json(random_id(kind_ == Kind::chat ? "chatcmpl-" : "cmpl-"));
    created_ = chunk.contains("created") && chunk["created"].is_number_integer() && chunk["created"] != 0
                   ? chunk["created"]
                   : json(std::chrono::duration_cast<std::chrono::seconds>(
                              std::chrono::system_clock::now().time_since_epoch()).count());
    model_ = non_empty_string("model") ? chunk["model"] : json("");
  }
  chunk["object"] = kind_ == Kind::chat ? "chat.completion.chunk" : "text_completion";

  for (auto& choice : *choices) {
    if (!choice.is_object()) continue;
    for (const auto& field : profile_.strip_choice_fields) choice.erase(field);
    const int index = static_cast<int>(std::clamp<int64_t>(json_int(choice, "index"), 0, kMaxChoices));
    choice["index"] = index;
    auto& state = choices_[index];
    auto fr = choice.find("finish_reason");
    if (fr != choice.end() && fr->is_string()) {
      auto mapped = profile_.finish_reasons.find(fr->get<std::string>());
      if (mapped != profile_.finish_reasons.end()) *fr = mapped->second;
    }
    if (kind_ == Kind::chat) {
      auto& delta = choice["delta"];
      if (!delta.is_object()) delta = json::object();
      streamed_bytes_ += text_bytes(delta);
      if (delta.contains("tool_calls")) state.tool_calls = true;
      if (!state.role_sent) {
        delta["role"] = "assistant";
        if (!delta.contains("content") && !delta.contains("tool_calls")) delta["content"] = "";
        state.role_sent = true;
      }
    } else if (auto t = choice.find("text"); t != choice.end() && t->is_string()) {
      streamed_bytes_ += t->get_ref<const std::string&>().size();
    }
    if (fr == choice.end()) {
      choice["finish_reason"] = nullptr;
    } else if (!fr->is_null()) {
      if (state.finished) {
        *fr = nullptr;  // exactly one finish_reason per choice
      } else {
        state.finished = true;
      }
    }
  }
  out.push_back(render(chunk));
  return out;
}

std::vector<std::string> StreamNormalizer::finish() {
  std::vector<std::string> out;
  if (done_) return out;
  done_ = true;
  if (id_.is_null()) {
    id_ = random_id(kind_ == Kind::chat ? "chatcmpl-" : "cmpl-");
    created_ = std::chrono::duration_cast<std::chrono::seconds>(
                   std::chrono::system_clock::now().time_since_epoch()).count();
    model_ = "";
  }
  if (choices_.empty()) choices_[0];  // an empty stream still gets a well-formed answer
  for (auto& [index, state] : choices_) {
    if (state.finished) continue;
    json chunk = envelope();
    json choice = {{"index", index}};
    if (kind_ == Kind::chat) {
      choice["delta"] = json::object();
      if (!state.role_sent) choice["delta"] = {{"role", "assistant"}, {"content", ""}};
      choice["finish_reason"] = state.tool_calls ? "tool_calls" : "stop";
    } else {
      choice["text"] = "";
      choice["finish_reason"] = "stop";
    }
    chunk["choices"] = json::array({choice});
    state.finished = true;
    out.push_back(render(chunk));
  }
  if (client_wants_usage_) {
    json chunk = envelope();
    chunk["choices"] = json::array();
    chunk["usage"] = usage().to_openai_json();
    out.push_back(chunk.dump(-1, ' ', false, json::error_handler_t::replace));
  }
  out.emplace_back("[DONE]");
  return out;
}

Usage StreamNormalizer::usage() const {
  if (usage_.source != UsageSource::none) return usage_;
  Usage u;
  u.prompt_tokens = prompt_estimate_;
  u.completion_tokens = static_cast<int64_t>((streamed_bytes_ + 3) / 4);
  u.source = UsageSource::estimated;
  return u;
}

bool StreamNormalizer::all_finished() const {
  if (choices_.empty()) return false;
  for (const auto& [i, s] : choices_) {
    if (!s.finished) return false;
  }
  return true;
}

}  // namespace tollgate
