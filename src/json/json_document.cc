#include "tollgate/json_document.h"

#include <algorithm>
#include <cstring>

#include <nlohmann/json.hpp>
#include <simdjson.h>

namespace tollgate {

namespace dom = simdjson::dom;

namespace {

// simdjson sizes a document for the worst case (a tape word per input byte
// and more), ~10x the input. Parsing goes into a per-thread scratch document
// that is reused, and the result is copied into buffers of the size it used:
// a request holds about its own size in tape, however it is shaped.
constexpr std::size_t kScratchKeepBytes = 1u << 20;

struct Scratch {
  std::size_t max_depth = 0;
  dom::parser parser;
  dom::document doc;
};

// The per-thread parser for `max_depth` (two depths are in use: clients'
// and upstreams'), or a fresh one for inputs too large to keep buffers for.
// Null when the buffers cannot be allocated: then nothing is parsed (a
// parser without them would size itself with simdjson's default depth).
//
// simdjson refuses a non-empty container at its max_depth but accepts an
// empty one there, so a parser allocated for exactly `max_depth` refused
// documents as deep as the limit allows. It gets one level more, and
// tape_depth() holds documents to the limit.
Scratch* scratch_for(std::size_t max_depth, std::size_t len, std::unique_ptr<Scratch>& oversize) {
  thread_local std::unique_ptr<Scratch> slots[2];
  auto make = [&](std::unique_ptr<Scratch>& slot, std::size_t capacity) -> Scratch* {
    slot = std::make_unique<Scratch>();
    slot->max_depth = max_depth;
    if (slot->parser.allocate(capacity, max_depth + 1) != simdjson::SUCCESS) {
      slot.reset();
      return nullptr;
    }
    return slot.get();
  };
  if (len > kScratchKeepBytes) return make(oversize, len);
  for (auto& s : slots) {
    if (s && s->max_depth == max_depth) return s.get();
  }
  return make(!slots[0] ? slots[0] : slots[1], std::max<std::size_t>(len, 16 * 1024));
}

std::string_view reason_of(simdjson::error_code e) {
  switch (e) {
    case simdjson::DEPTH_ERROR: return "nesting too deep";
    case simdjson::NUMBER_ERROR: return "number out of range or malformed";
    case simdjson::UTF8_ERROR: return "invalid UTF-8";
    case simdjson::STRING_ERROR:
    case simdjson::UNCLOSED_STRING: return "malformed string";
    case simdjson::EMPTY: return "no JSON value";
    default: return "malformed JSON";
  }
}

// Deepest nesting of arrays and objects in a parsed document (the root
// container is 1), empty containers included.
std::size_t tape_depth(const dom::document& doc) {
  const std::size_t tape_len = static_cast<std::size_t>(doc.tape[0] & simdjson::internal::JSON_VALUE_MASK);
  std::size_t depth = 0, deepest = 0;
  for (std::size_t i = 1; i < tape_len; ++i) {
    const char type = static_cast<char>(doc.tape[i] >> 56);
    if (type == '[' || type == '{') {
      deepest = std::max(deepest, ++depth);
    } else if (type == ']' || type == '}') {
      --depth;
    } else if (type == 'l' || type == 'u' || type == 'd') {
      ++i;  // the number's value is the next word
    }
  }
  return deepest;
}

// Copies the used part of a parsed scratch document into `out`.
void copy_used(const dom::document& from, dom::document& out) {
  // The first root word holds the tape's length (the index past the last
  // root word).
  const uint64_t root = from.tape[0];
  const std::size_t tape_len = static_cast<std::size_t>(root & simdjson::internal::JSON_VALUE_MASK);
  std::size_t strings = 0;
  for (std::size_t i = 1; i < tape_len; ++i) {
    const uint64_t word = from.tape[i];
    const char type = static_cast<char>(word >> 56);
    if (type == '"') {
      const std::size_t at = static_cast<std::size_t>(word & simdjson::internal::JSON_VALUE_MASK);
      uint32_t len;
      std::memcpy(&len, &from.string_buf[at], sizeof len);
      strings = std::max(strings, at + sizeof len + len + 1);
    } else if (type == 'l' || type == 'u' || type == 'd') {
      ++i;  // the number's value is the next word
    }
  }
  out.tape.reset(new uint64_t[tape_len]);
  std::memcpy(out.tape.get(), from.tape.get(), tape_len * sizeof(uint64_t));
  out.string_buf.reset(new uint8_t[std::max<std::size_t>(strings, 1)]);
  if (strings) std::memcpy(out.string_buf.get(), from.string_buf.get(), strings);
}

// Every object's keys are distinct: a gateway that reads the first
// "model" and an upstream that reads the last must never disagree.
// Iterative: the depth is bounded, the element count is not.
std::optional<std::string> duplicate_key(dom::element root) {
  thread_local std::vector<dom::element> pending;
  thread_local std::vector<std::string_view> keys;
  pending.clear();
  pending.push_back(root);
  while (!pending.empty()) {
    const dom::element e = pending.back();
    pending.pop_back();
    if (e.type() == dom::element_type::ARRAY) {
      const dom::array items = e.get_array().value_unsafe();
      for (dom::element child : items) {
        if (child.type() == dom::element_type::ARRAY || child.type() == dom::element_type::OBJECT) {
          pending.push_back(child);
        }
      }
      continue;
    }
    if (e.type() != dom::element_type::OBJECT) continue;
    keys.clear();
    const dom::object members = e.get_object().value_unsafe();
    for (auto field : members) {
      keys.push_back(field.key);
      if (field.value.type() == dom::element_type::ARRAY || field.value.type() == dom::element_type::OBJECT) {
        pending.push_back(field.value);
      }
    }
    if (keys.size() < 2) continue;
    if (keys.size() <= 8) {
      for (std::size_t i = 0; i < keys.size(); ++i) {
        for (std::size_t j = i + 1; j < keys.size(); ++j) {
          if (keys[i] == keys[j]) return std::string(keys[i]);
        }
      }
      continue;
    }
    std::sort(keys.begin(), keys.end());
    auto dup = std::adjacent_find(keys.begin(), keys.end());
    if (dup != keys.end()) return std::string(*dup);
  }
  return std::nullopt;
}

// Byte scanning over text already validated by the parser.
bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::size_t skip_ws(std::string_view t, std::size_t p) {
  while (p < t.size() && is_ws(t[p])) ++p;
  return p;
}

// p at an opening quote; returns the index after the closing one.
std::size_t skip_string(std::string_view t, std::size_t p) {
  ++p;
  while (p < t.size()) {
    const char c = t[p];
    if (c == '\\') {
      p += 2;
    } else if (c == '"') {
      return p + 1;
    } else {
      ++p;
    }
  }
  return t.size();
}

std::size_t skip_value(std::string_view t, std::size_t p) {
  if (p >= t.size()) return p;
  if (t[p] == '"') return skip_string(t, p);
  if (t[p] == '{' || t[p] == '[') {
    std::size_t depth = 0;
    while (p < t.size()) {
      const char c = t[p];
      if (c == '"') {
        p = skip_string(t, p);
        continue;
      }
      if (c == '{' || c == '[') ++depth;
      if (c == '}' || c == ']') {
        if (--depth == 0) return p + 1;
      }
      ++p;
    }
    return p;
  }
  while (p < t.size() && t[p] != ',' && t[p] != '}' && t[p] != ']' && !is_ws(t[p])) ++p;
  return p;
}

// The byte spans of the root object's members, zipped with the decoded
// keys the parser found (in the same order).
std::vector<JsonDocument::Member> member_spans(std::string_view t, dom::object root) {
  std::vector<JsonDocument::Member> out;
  out.reserve(root.size());
  std::size_t p = skip_ws(t, 0) + 1;  // past '{'
  for (auto field : root) {
    p = skip_ws(t, p);
    JsonDocument::Member m;
    m.key = field.key;
    m.begin = p;
    p = skip_ws(t, skip_string(t, p)) + 1;  // past ':'
    m.value_begin = skip_ws(t, p);
    m.value_end = skip_value(t, m.value_begin);
    out.push_back(m);
    p = skip_ws(t, m.value_end);
    if (p < t.size() && t[p] == ',') ++p;
  }
  return out;
}

JsonError failure(std::string_view text, const JsonLimits& limits, simdjson::error_code code) {
  JsonError located = locate_json_error(text, limits);
  if (!located.reason.empty()) return located;
  JsonError e;
  e.reason = std::string(reason_of(code));
  if (code == simdjson::DEPTH_ERROR) e.reason = "nesting deeper than " + std::to_string(limits.max_depth) + " levels";
  return e;
}

JsonError duplicate_failure(std::string_view text, const JsonLimits& limits, const std::string& key) {
  JsonError located = locate_json_error(text, limits);
  if (!located.reason.empty()) return located;
  JsonError e;
  e.reason = "duplicate key \"" + key.substr(0, 64) + "\"";
  return e;
}

}  // namespace

struct JsonTapeAccess {
  static JsonView view(const dom::element& e) noexcept { return JsonView::from_tape(&e); }
};

struct JsonDocument::Tape {
  dom::document doc;
};

JsonDocument::JsonDocument() : tape_(std::make_unique<Tape>()) {}
JsonDocument::~JsonDocument() = default;

std::string JsonError::describe() const {
  if (offset == npos) return reason;
  return reason + " at byte " + std::to_string(offset);
}

Result<std::shared_ptr<const JsonDocument>, JsonError> JsonDocument::parse(std::string text, const JsonLimits& limits) {
  if (text.capacity() - text.size() < simdjson::SIMDJSON_PADDING) text.reserve(text.size() + simdjson::SIMDJSON_PADDING);
  std::unique_ptr<Scratch> oversize;
  Scratch* s = scratch_for(limits.max_depth, text.size(), oversize);
  if (!s) return JsonError{JsonError::npos, "out of memory"};
  dom::element root;
  const auto code = s->parser.parse_into_document(s->doc, text.data(), text.size(), false).get(root);
  if (code != simdjson::SUCCESS) return failure(text, limits, code);
  if (tape_depth(s->doc) > limits.max_depth) return failure(text, limits, simdjson::DEPTH_ERROR);
  if (auto dup = duplicate_key(root)) return duplicate_failure(text, limits, *dup);
  std::shared_ptr<JsonDocument> doc(new JsonDocument());
  copy_used(s->doc, doc->tape_->doc);
  doc->text_ = std::move(text);
  const dom::element own_root = doc->tape_->doc.root();
  if (own_root.type() == dom::element_type::OBJECT) {
    doc->members_ = member_spans(doc->text_, own_root.get_object().value_unsafe());
  }
  return std::shared_ptr<const JsonDocument>(std::move(doc));
}

JsonView JsonDocument::root() const noexcept {
  const dom::element r = tape_->doc.root();
  return JsonTapeAccess::view(r);
}

Result<nlohmann::json, JsonError> parse_json_tree(std::string_view text, const JsonLimits& limits) {
  std::unique_ptr<Scratch> oversize;
  Scratch* s = scratch_for(limits.max_depth, text.size(), oversize);
  if (!s) return JsonError{JsonError::npos, "out of memory"};
  dom::element root;
  // realloc_if_needed: the parser copies the bytes into its padded buffer
  // (with memcpy, which must not see the null data() of an empty view).
  const char* bytes = text.empty() ? "" : text.data();
  const auto code = s->parser.parse_into_document(s->doc, bytes, text.size(), true).get(root);
  if (code != simdjson::SUCCESS) return failure(text, limits, code);
  if (tape_depth(s->doc) > limits.max_depth) return failure(text, limits, simdjson::DEPTH_ERROR);
  if (auto dup = duplicate_key(root)) return duplicate_failure(text, limits, *dup);
  return JsonTapeAccess::view(root).to_json();
}

nlohmann::json parse_json_or_discarded(std::string_view text, const JsonLimits& limits) {
  auto r = parse_json_tree(text, limits);
  if (!r) return nlohmann::json(nlohmann::json::value_t::discarded);
  return std::move(r.value());
}

}  // namespace tollgate
