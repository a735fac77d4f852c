#include "accounting/token_estimate.h"

#include <algorithm>
#include <limits>

namespace tollgate {
namespace {

bool is_word_byte(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

bool is_space(unsigned char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

// Sums that cannot overflow, however many parts a hostile request has.
int64_t add(int64_t a, int64_t b) {
  int64_t out;
  if (__builtin_add_overflow(a, b, &out)) return std::numeric_limits<int64_t>::max();
  return out;
}

int64_t estimate_string(JsonView j) { return j.is_string() ? estimate_tokens(j.as_string()) : 0; }

// Why 765: the size of an image is unknown without decoding it; a 1024x1024
// image at high detail costs 4 tiles x 170 + 85, the common case for photos.
constexpr int64_t kImageLowDetailTokens = 85;
constexpr int64_t kImageDefaultTokens = 765;

int64_t estimate_content(JsonView content) {
  if (content.is_string()) return estimate_string(content);
  int64_t n = 0;
  for (JsonView part : content.elements()) {
    const JsonView type = part["type"];
    if (type == "text") {
      n = add(n, estimate_string(part["text"]));
    } else if (type == "refusal") {
      n = add(n, estimate_string(part["refusal"]));
    } else if (type == "image_url") {
      n = add(n, part["image_url"]["detail"] == "low" ? kImageLowDetailTokens : kImageDefaultTokens);
    }
  }
  return n;
}

}  // namespace

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

int64_t estimate_chat_prompt_tokens(JsonView messages) {
  constexpr int64_t kPerMessage = 3;
  constexpr int64_t kReplyPrimer = 3;
  int64_t n = kReplyPrimer;
  for (JsonView m : messages.elements()) {
    if (!m.is_object()) continue;
    n = add(n, kPerMessage + estimate_string(m["role"]));
    n = add(n, estimate_content(m["content"]));
    if (const JsonView name = m["name"]; name.is_string()) n = add(n, 1 + estimate_string(name));
    for (JsonView call : m["tool_calls"].elements()) {
      if (!call.is_object()) continue;
      const JsonView fn = call["function"];
      n = add(n, kPerMessage + estimate_string(fn["name"]));
      n = add(n, estimate_string(fn["arguments"]));
    }
  }
  return n;
}

int64_t estimate_request_input_tokens(JsonView body) {
  if (!body.is_object()) return 0;
  int64_t n = 0;
  if (const JsonView m = body["messages"]; m.present()) n = estimate_chat_prompt_tokens(m);
  for (JsonView tool : body["tools"].elements()) {
    const JsonView fn = tool["function"];
    if (!fn.present()) continue;
    n = add(n, add(estimate_tokens(fn.dump()), 8));
  }
  return n;
}

int64_t estimate_prompt_tokens(JsonView body) {
  if (const JsonView m = body["messages"]; m.present()) return estimate_chat_prompt_tokens(m);
  for (const char* key : {"prompt", "input"}) {  // completions, embeddings
    const JsonView p = body[key];
    if (!p.present()) continue;
    if (p.is_string()) return estimate_tokens(p.as_string());
    int64_t n = 0;
    for (JsonView item : p.elements()) {
      if (item.is_string()) n = add(n, estimate_tokens(item.as_string()));
      else if (item.is_array()) n = add(n, static_cast<int64_t>(item.size()));  // token ids
      else if (item.is_number_integer()) n = add(n, 1);
    }
    return n;
  }
  return 0;
}

}  // namespace tollgate
