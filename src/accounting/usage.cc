#include "tollgate/usage.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

#include <nlohmann/json.hpp>

namespace tollgate {
namespace {

using nlohmann::json;

// Upstreams are not trusted to send well-formed counts; a bad field must not
// fail a request that already succeeded, so anything unusable reads as absent.
std::optional<int64_t> count_field(const json& obj, const char* key) {
  if (!obj.is_object()) return std::nullopt;
  auto it = obj.find(key);
  if (it == obj.end()) return std::nullopt;
  if (it->is_number_unsigned()) {
    const auto v = it->get<uint64_t>();
    if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
    return static_cast<int64_t>(v);
  }
  if (it->is_number_integer()) {
    const auto v = it->get<int64_t>();
    return v >= 0 ? std::optional<int64_t>(v) : std::nullopt;
  }
  if (it->is_number_float()) {
    const double v = it->get<double>();
    // 2^62: far above any real count, and safely representable as int64.
    if (!std::isfinite(v) || v < 0 || v > 4.6e18) return std::nullopt;
    return static_cast<int64_t>(v);
  }
  return std::nullopt;
}

const json& child(const json& obj, const char* key) {
  static const json null_json;
  if (!obj.is_object()) return null_json;
  auto it = obj.find(key);
  return it == obj.end() ? null_json : *it;
}

bool is_word_byte(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

bool is_space(unsigned char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

int64_t estimate_string(const json& j) {
  return j.is_string() ? estimate_tokens(j.get_ref<const std::string&>()) : 0;
}

// Why 765: the size of an image is unknown without decoding it; a 1024x1024
// image at high detail costs 4 tiles x 170 + 85, the common case for photos.
constexpr int64_t kImageLowDetailTokens = 85;
constexpr int64_t kImageDefaultTokens = 765;

int64_t estimate_content(const json& content) {
  if (content.is_string()) return estimate_string(content);
  if (!content.is_array()) return 0;
  int64_t n = 0;
  for (const auto& part : content) {
    if (!part.is_object()) continue;
    const json& type = child(part, "type");
    if (!type.is_string()) continue;
    const auto& t = type.get_ref<const std::string&>();
    if (t == "text") {
      n += estimate_string(child(part, "text"));
    } else if (t == "refusal") {
      n += estimate_string(child(part, "refusal"));
    } else if (t == "image_url") {
      const json& detail = child(child(part, "image_url"), "detail");
      const bool low = detail.is_string() && detail.get_ref<const std::string&>() == "low";
      n += low ? kImageLowDetailTokens : kImageDefaultTokens;
    }
  }
  return n;
}

}  // namespace

nlohmann::json Usage::to_openai_json() const {
  json j = {{"prompt_tokens", prompt_tokens},
            {"completion_tokens", completion_tokens},
            {"total_tokens", total_tokens()}};
  if (cached_tokens != 0 || cache_write_tokens != 0) {
    json details = json::object();
    details["cached_tokens"] = cached_tokens;
    if (cache_write_tokens != 0) details["cache_write_tokens"] = cache_write_tokens;
    j["prompt_tokens_details"] = std::move(details);
  }
  if (reasoning_tokens != 0) {
    j["completion_tokens_details"] = {{"reasoning_tokens", reasoning_tokens}};
  }
  return j;
}

Usage usage_from_openai(const nlohmann::json& usage) {
  Usage u;
  if (!usage.is_object()) return u;
  u.source = UsageSource::provider_final;

  u.completion_tokens = count_field(usage, "completion_tokens").value_or(0);
  if (auto p = count_field(usage, "prompt_tokens")) {
    u.prompt_tokens = *p;
  } else if (auto t = count_field(usage, "total_tokens"); t && *t >= u.completion_tokens) {
    u.prompt_tokens = *t - u.completion_tokens;
  }

  const json& prompt_details = child(usage, "prompt_tokens_details");
  auto cached = count_field(prompt_details, "cached_tokens");
  if (!cached) cached = count_field(usage, "prompt_cache_hit_tokens");  // DeepSeek
  u.cached_tokens = cached.value_or(0);
  u.cache_write_tokens = count_field(prompt_details, "cache_write_tokens").value_or(0);
  u.reasoning_tokens =
      count_field(child(usage, "completion_tokens_details"), "reasoning_tokens").value_or(0);

  // Details are subsets of their parent (§1.7); a detail larger than its parent
  // would otherwise be billed as tokens that were never sent.
  u.cached_tokens = std::min(u.cached_tokens, u.prompt_tokens);
  u.cache_write_tokens = std::min(u.cache_write_tokens, u.prompt_tokens - u.cached_tokens);
  u.reasoning_tokens = std::min(u.reasoning_tokens, u.completion_tokens);
  return u;
}

const char* to_string(UsageSource s) {
  switch (s) {
    case UsageSource::none: return "none";
    case UsageSource::provider_final: return "provider_final";
    case UsageSource::provider_partial: return "provider_partial";
    case UsageSource::estimated: return "estimated";
  }
  return "none";
}

int64_t estimate_tokens(std::string_view text) {
  int64_t runs = 0;
  enum class Run { none, word, punct } run = Run::none;
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) {
      // UTF-8 lead byte: 2-byte sequences are alphabetic scripts (Latin
      // accents, Greek, Cyrillic) and join a word; 3- and 4-byte ones (CJK,
      // emoji) usually cost at least a token per character.
      std::size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
      len = std::min(len, text.size() - i);
      if (len >= 3) {
        ++runs;
        run = Run::none;
      } else if (run != Run::word) {
        ++runs;
        run = Run::word;
      }
      i += len;
      continue;
    }
    if (is_space(c)) {
      run = Run::none;
    } else if (is_word_byte(c)) {
      if (run != Run::word) ++runs;
      run = Run::word;
    } else {
      if (run != Run::punct) ++runs;
      run = Run::punct;
    }
    ++i;
  }
  if (runs == 0) return 0;
  const auto by_bytes = static_cast<int64_t>((text.size() + 3) / 4);
  return std::max(by_bytes, runs);
}

int64_t estimate_chat_prompt_tokens(const nlohmann::json& messages) {
  constexpr int64_t kPerMessage = 3;
  constexpr int64_t kReplyPrimer = 3;
  int64_t n = kReplyPrimer;
  if (!messages.is_array()) return n;
  for (const auto& m : messages) {
    if (!m.is_object()) continue;
    n += kPerMessage;
    n += estimate_string(child(m, "role"));
    n += estimate_content(child(m, "content"));
    if (const json& name = child(m, "name"); name.is_string()) n += 1 + estimate_string(name);
    const json& calls = child(m, "tool_calls");
    if (!calls.is_array()) continue;
    for (const auto& call : calls) {
      if (!call.is_object()) continue;
      const json& fn = child(call, "function");
      n += kPerMessage + estimate_string(child(fn, "name")) +
           estimate_string(child(fn, "arguments"));
    }
  }
  return n;
}

}  // namespace tollgate
