#include "providers/gemini/gemini_response.h"

#include "accounting/token_estimate.h"
#include <algorithm>
#include <cstring>
#include <random>
#include <set>

#include <openssl/evp.h>
#include <spdlog/spdlog.h>

#include "providers/json_fields.h"
#include "providers/gemini/thought_signatures.h"

namespace tollgate::gemini {
namespace {

using nlohmann::json;

int64_t count(const json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_number()) return 0;
  if (it->is_number_float()) return it->get<double>() > 0 ? static_cast<int64_t>(it->get<double>()) : 0;
  return std::max<int64_t>(0, it->get<int64_t>());
}

std::string random_suffix(std::size_t n) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  static const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::string out;
  for (std::size_t i = 0; i < n; ++i) out += alphabet[rng() % 62];
  return out;
}

std::string base64_floats(const json& values) {
  std::string packed;
  for (const auto& v : values) {
    float f = v.is_number() ? static_cast<float>(v.get<double>()) : 0.0f;
    unsigned char bytes[4];
    std::memcpy(bytes, &f, 4);  // x86/ARM hosts are little-endian, as OpenAI's encoding is
    packed.append(reinterpret_cast<const char*>(bytes), 4);
  }
  std::string b64(4 * ((packed.size() + 2) / 3), '\0');
  EVP_EncodeBlock(reinterpret_cast<unsigned char*>(b64.data()), reinterpret_cast<const unsigned char*>(packed.data()),
                  static_cast<int>(packed.size()));
  return b64;
}

// One candidate -> message fields and finish_reason.
json translate_candidate(const json& cand, std::size_t position, const ResponseOptions& options) {
  std::string text, reasoning;
  bool has_text = false;
  json tool_calls = json::array();
  const json* parts = nullptr;
  if (auto c = cand.find("content"); c != cand.end() && c->is_object()) {
    if (auto p = c->find("parts"); p != c->end() && p->is_array()) parts = &*p;
  }
  if (parts) {
    for (const auto& part : *parts) {
      if (!part.is_object()) continue;
      if (auto t = part.find("text"); t != part.end() && t->is_string()) {
        if (json_true(part, "thought")) {
          reasoning += t->get<std::string>();
        } else {
          text += t->get<std::string>();
          has_text = true;
        }
      } else if (auto fc = part.find("functionCall"); fc != part.end() && fc->is_object()) {
        std::string id = json_string(*fc, "id");
        if (id.empty()) id = options.tool_call_id();
        json args = fc->contains("args") && !(*fc)["args"].is_null() ? (*fc)["args"] : json::object();
        tool_calls.push_back({{"id", id},
                              {"type", "function"},
                              {"function", {{"name", json_string(*fc, "name")}, {"arguments", args.dump()}}}});
        if (auto sig = part.find("thoughtSignature"); sig != part.end() && sig->is_string() && options.signatures) {
          options.signatures->put(id, options.signature_model, sig->get<std::string>());
        }
      }
    }
  }
  const std::string reason = json_string(cand, "finishReason");
  const int index = cand.contains("index") && cand["index"].is_number_integer() ? cand["index"].get<int>()
                                                                                 : static_cast<int>(position);
  json choice = {{"index", index},
                 {"finish_reason", map_finish_reason(reason, !tool_calls.empty())},
                 {"logprobs", nullptr}};
  if (options.endpoint == Endpoint::completions) {
    choice["text"] = text;
    return choice;
  }
  json message = {{"role", "assistant"}, {"content", has_text ? json(text) : json(nullptr)}, {"refusal", nullptr}};
  if (!tool_calls.empty()) message["tool_calls"] = std::move(tool_calls);
  if (!reasoning.empty()) message["reasoning_content"] = reasoning;
  choice["message"] = std::move(message);
  return choice;
}

}  // namespace

std::string make_tool_call_id() { return "call_" + random_suffix(24); }

std::string map_finish_reason(const std::string& reason, bool has_function_calls) {
  static const std::set<std::string> filtered = {"SAFETY",       "BLOCKLIST", "PROHIBITED_CONTENT",       "SPII",
                                                 "IMAGE_SAFETY", "LANGUAGE",  "IMAGE_PROHIBITED_CONTENT", "RECITATION",
                                                 "IMAGE_RECITATION"};
  if (reason == "MAX_TOKENS") return "length";
  if (filtered.count(reason)) return "content_filter";
  if (reason == "MALFORMED_FUNCTION_CALL" || reason == "UNEXPECTED_TOOL_CALL" || reason == "TOO_MANY_TOOL_CALLS") {
    spdlog::warn("gemini finished with {}: reported to the client as stop", reason);
    return "stop";
  }
  return has_function_calls ? "tool_calls" : "stop";
}

Usage usage_from_gemini(const json& meta) {
  if (!meta.is_object()) return Usage{};
  const int64_t thoughts = count(meta, "thoughtsTokenCount");
  json openai = {{"prompt_tokens", count(meta, "promptTokenCount") + count(meta, "toolUsePromptTokenCount")},
                 {"completion_tokens", count(meta, "candidatesTokenCount") + thoughts},
                 {"prompt_tokens_details", {{"cached_tokens", count(meta, "cachedContentTokenCount")}}},
                 {"completion_tokens_details", {{"reasoning_tokens", thoughts}}}};
  Usage u = usage_from_openai(openai);  // clamps details to subsets of their parents
  if (meta.contains("totalTokenCount") && count(meta, "totalTokenCount") != u.total_tokens()) {
    spdlog::debug("gemini totalTokenCount {} differs from prompt + completion {}", count(meta, "totalTokenCount"),
                  u.total_tokens());
  }
  return u;
}

Result<json> translate_generate_response(const json& native, const ResponseOptions& options, Usage& usage) {
  if (!native.is_object()) return ApiError::bad_gateway("the upstream returned a non-object JSON body", "upstream_protocol_error");
  const bool chat = options.endpoint != Endpoint::completions;
  json choices = json::array();
  if (auto cands = native.find("candidates"); cands != native.end() && cands->is_array()) {
    for (std::size_t i = 0; i < cands->size(); ++i) {
      if ((*cands)[i].is_object()) choices.push_back(translate_candidate((*cands)[i], i, options));
    }
  }
  if (choices.empty()) {
    const json& feedback = json_member(native, "promptFeedback");
    if (!feedback.is_object() || !feedback.contains("blockReason")) {
      return ApiError::bad_gateway("the upstream response has no candidates", "upstream_protocol_error");
    }
    // A blocked prompt is an answer, not a failure: the filter is the reason.
    json choice = {{"index", 0}, {"finish_reason", "content_filter"}, {"logprobs", nullptr}};
    if (chat) {
      choice["message"] = {{"role", "assistant"}, {"content", nullptr}, {"refusal", nullptr}};
    } else {
      choice["text"] = "";
    }
    choices.push_back(std::move(choice));
  }
  std::string id = json_string(native, "responseId");
  if (id.empty()) id = (chat ? "chatcmpl-" : "cmpl-") + random_suffix(24);
  json out = {{"id", id},
              {"object", chat ? "chat.completion" : "text_completion"},
              {"created", options.created},
              {"model", native.contains("modelVersion") && native["modelVersion"].is_string() ? native["modelVersion"]
                                                                                            : json(options.model)},
              {"choices", std::move(choices)}};
  usage = usage_from_gemini(json_member(native, "usageMetadata"));
  if (usage.source != UsageSource::none) out["usage"] = usage.to_openai_json();
  return out;
}

Result<json> translate_embed_response(const json& native, const std::vector<std::string>& inputs,
                                      const std::string& model, bool base64, Usage& usage) {
  if (!native.is_object()) return ApiError::bad_gateway("the upstream returned a non-object JSON body", "upstream_protocol_error");
  std::vector<const json*> vectors;
  int64_t vertex_tokens = 0;
  bool vertex_counted = false;
  if (auto e = native.find("embedding"); e != native.end() && e->is_object()) {
    vectors.push_back(e->contains("values") ? &(*e)["values"] : nullptr);
  } else if (auto es = native.find("embeddings"); es != native.end() && es->is_array()) {
    for (const auto& one : *es) vectors.push_back(one.is_object() && one.contains("values") ? &one["values"] : nullptr);
  } else if (auto ps = native.find("predictions"); ps != native.end() && ps->is_array()) {
    for (const auto& p : *ps) {
      // Pointers into `native`: a ternary with a json() temporary would copy.
      const json* emb = p.is_object() && p.contains("embeddings") ? &p["embeddings"] : nullptr;
      vectors.push_back(emb && emb->is_object() && emb->contains("values") ? &(*emb)["values"] : nullptr);
      if (emb && emb->is_object() && emb->contains("statistics") && (*emb)["statistics"].is_object()) {
        vertex_tokens += count((*emb)["statistics"], "token_count");
        vertex_counted = true;
      }
    }
  }
  if (vectors.size() != inputs.size()) {
    return ApiError::bad_gateway("the upstream returned " + std::to_string(vectors.size()) + " embeddings for " +
                                     std::to_string(inputs.size()) + " inputs",
                                 "upstream_protocol_error");
  }
  json data = json::array();
  for (std::size_t i = 0; i < vectors.size(); ++i) {
    if (!vectors[i] || !vectors[i]->is_array()) {
      return ApiError::bad_gateway("the upstream returned an embedding without values", "upstream_protocol_error");
    }
    data.push_back({{"object", "embedding"},
                    {"index", i},
                    {"embedding", base64 ? json(base64_floats(*vectors[i])) : *vectors[i]}});
  }
  usage = Usage{};
  if (vertex_counted) {
    usage.prompt_tokens = vertex_tokens;
    usage.source = UsageSource::provider_final;
  } else {
    for (const auto& text : inputs) usage.prompt_tokens += estimate_tokens(text);
    usage.source = UsageSource::estimated;  // the Gemini API reports no token counts here
  }
  return json{{"object", "list"},
              {"model", model},
              {"data", std::move(data)},
              {"usage", {{"prompt_tokens", usage.prompt_tokens}, {"total_tokens", usage.prompt_tokens}}}};
}

}  // namespace tollgate::gemini
