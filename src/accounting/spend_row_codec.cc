#include "accounting/spend_row_codec.h"

#include <cstdint>
#include <cstring>
#include <stdexcept>

#include "accounting/json_text.h"
#include "storage/sql_values.h"

namespace tollgate {
namespace {

using json = nlohmann::json;

constexpr uint8_t kFormat = 2;
constexpr uint8_t kRejection = 1, kStream = 2, kCacheHit = 4, kHasTtft = 8;
constexpr int kLegacyVersion = 1;

int64_t ticks(TimePoint t) { return static_cast<int64_t>(t.time_since_epoch().count()); }
TimePoint from_ticks(int64_t n) { return TimePoint(SystemClock::duration(n)); }

[[noreturn]] void bad(const char* what) { throw std::runtime_error(std::string("spend row record: ") + what); }

class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {}
  void byte(uint8_t b) { out_.push_back(static_cast<char>(b)); }
  void fixed64(int64_t v) {
    char b[8];
    const auto u = static_cast<uint64_t>(v);
    for (int i = 0; i < 8; ++i) b[i] = static_cast<char>(u >> (8 * i));
    out_.append(b, 8);
  }
  void varint(int64_t v) {
    uint64_t u = (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);  // zigzag
    char b[10];
    int n = 0;
    while (u >= 0x80) {
      b[n++] = static_cast<char>(u | 0x80);
      u >>= 7;
    }
    b[n++] = static_cast<char>(u);
    out_.append(b, n);
  }
  // Text fields are written as UTF-8: PostgreSQL refuses other bytes, and
  // a record it refuses would hold up every row behind it forever (a
  // request target may carry any byte above 0x7f, and becomes the route).
  void utf8_text(std::string_view s) {
    if (is_utf8(s)) return text(s);
    text(to_utf8(s));
  }
  void text(std::string_view s) {
    uint64_t u = s.size();
    while (u >= 0x80) {
      byte(static_cast<uint8_t>(u | 0x80));
      u >>= 7;
    }
    byte(static_cast<uint8_t>(u));
    out_.append(s);
  }

 private:
  std::string& out_;
};

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  uint8_t byte() {
    if (pos_ >= in_.size()) bad("truncated");
    return static_cast<uint8_t>(in_[pos_++]);
  }
  int64_t fixed64() {
    if (in_.size() - pos_ < 8) bad("truncated");
    uint64_t u = 0;
    for (int i = 0; i < 8; ++i) u |= static_cast<uint64_t>(static_cast<uint8_t>(in_[pos_ + i])) << (8 * i);
    pos_ += 8;
    return static_cast<int64_t>(u);
  }
  uint64_t unsigned_varint() {
    uint64_t u = 0;
    for (int shift = 0;; shift += 7) {
      const uint8_t b = byte();
      // The tenth byte holds the 64th bit only.
      if (shift == 63 && b > 1) bad("integer out of range");
      u |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) return u;
    }
  }
  int64_t varint() {
    const uint64_t u = unsigned_varint();
    return static_cast<int64_t>((u >> 1) ^ (0 - (u & 1)));
  }
  std::string_view text() {
    const uint64_t n = unsigned_varint();
    if (n > in_.size() - pos_) bad("truncated");
    std::string_view s = in_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  bool done() const { return pos_ == in_.size(); }

 private:
  std::string_view in_;
  size_t pos_ = 0;
};

// A cost the stores cannot hold would fail its batch forever, holding up
// every row behind it: such a record is undecodable, in either format.
void check_cost(std::string_view cost) {
  try {
    (void)storage::parse_money(cost);
  } catch (const StoreError&) {
    bad("cost is not a decimal amount the stores can hold");
  }
}

// ---- format 1 (MessagePack), read only ----

// Strings are stored as MessagePack bin, not str, so that they come back as
// the exact bytes a client sent, also when those are not UTF-8.
std::string text(const json& v) {
  if (v.is_binary()) {
    const auto& b = v.get_binary();
    return std::string(b.begin(), b.end());
  }
  if (v.is_string()) return v.get<std::string>();
  throw std::runtime_error("spend row record: expected bytes");
}

int64_t integer(const json& v) {
  if (!v.is_number_integer()) throw std::runtime_error("spend row record: expected an integer");
  return v.get<int64_t>();
}

bool boolean(const json& v) {
  if (!v.is_boolean()) throw std::runtime_error("spend row record: expected a boolean");
  return v.get<bool>();
}


SpendRow decode_v1(std::string_view payload) {
  json j;
  try {
    j = json::from_msgpack(payload.begin(), payload.end());
  } catch (const json::exception& e) {
    throw std::runtime_error(std::string("spend row record: ") + e.what());
  }
  if (!j.is_object()) throw std::runtime_error("spend row record: not a map");
  if (!j.contains("v") || !j["v"].is_number_integer() || j["v"].get<int>() != kLegacyVersion)
    throw std::runtime_error("spend row record: unknown version");

  SpendRow r;
  auto str = [&](const char* k, std::string& out) {
    if (auto it = j.find(k); it != j.end()) out = text(*it);
  };
  auto num = [&](const char* k, auto& out) {
    if (auto it = j.find(k); it != j.end()) out = static_cast<std::decay_t<decltype(out)>>(integer(*it));
  };
  auto flag = [&](const char* k, bool& out) {
    if (auto it = j.find(k); it != j.end()) out = boolean(*it);
  };

  std::string kind = "spend";
  str("kind", kind);
  if (kind == "spend") {
    r.kind = RowKind::spend;
  } else if (kind == "rejection") {
    r.kind = RowKind::rejection;
  } else {
    throw std::runtime_error("spend row record: unknown kind");
  }
  str("request_id", r.request_id);
  int64_t t = 0;
  num("start_time", t);
  r.start_time = from_ticks(t);
  t = 0;
  num("end_time", t);
  r.end_time = from_ticks(t);
  str("key_id", r.key_id);
  str("key_alias", r.key_alias);
  str("key_name", r.key_name);
  str("team_id", r.team_id);
  str("user_id", r.user_id);
  str("end_user", r.end_user);
  str("route", r.route);
  str("requested_model", r.requested_model);
  str("model_group", r.model_group);
  str("deployment", r.deployment);
  str("provider", r.provider);
  str("api_base", r.api_base);
  flag("stream", r.stream);
  num("status", r.status);
  str("error_type", r.error_type);
  str("reason", r.reason);
  num("prompt_tokens", r.prompt_tokens);
  num("completion_tokens", r.completion_tokens);
  num("cached_tokens", r.cached_tokens);
  num("reasoning_tokens", r.reasoning_tokens);
  str("cost_usd", r.cost_usd);
  check_cost(r.cost_usd);
  num("latency_ms", r.latency_ms);
  if (auto it = j.find("ttft_ms"); it != j.end() && !it->is_null()) r.ttft_ms = integer(*it);
  num("overhead_ms", r.overhead_ms);
  flag("cache_hit", r.cache_hit);
  if (auto it = j.find("tags"); it != j.end()) {
    if (!it->is_array()) throw std::runtime_error("spend row record: tags not an array");
    for (const auto& v : *it) r.tags.push_back(text(v));
  }
  if (auto it = j.find("metadata"); it != j.end()) {
    if (!it->is_binary()) throw std::runtime_error("spend row record: metadata not bytes");
    const auto& b = it->get_binary();
    try {
      r.metadata = json::from_msgpack(b.begin(), b.end());
    } catch (const json::exception& e) {
      throw std::runtime_error(std::string("spend row record: metadata: ") + e.what());
    }
  }
  return r;
}

}  // namespace

std::string encode_spend_row(const SpendRow& row) {
  const std::string tags = tags_json(row.tags);
  const std::string metadata = metadata_json(row.metadata);
  size_t size = 2 + 16 + 8 * 10 + 18 * 3 + tags.size() + metadata.size();
  for (const std::string* s : {&row.request_id, &row.key_id, &row.key_alias, &row.key_name, &row.team_id,
                               &row.user_id, &row.end_user, &row.route, &row.requested_model, &row.model_group,
                               &row.deployment, &row.provider, &row.api_base, &row.error_type, &row.reason,
                               &row.cost_usd})
    size += s->size();
  std::string out;
  out.reserve(size);
  Writer w(out);
  w.byte(kFormat);
  w.byte((row.kind == RowKind::rejection ? kRejection : 0) | (row.stream ? kStream : 0) |
         (row.cache_hit ? kCacheHit : 0) | (row.ttft_ms ? kHasTtft : 0));
  w.fixed64(ticks(row.start_time));
  w.fixed64(ticks(row.end_time));
  w.varint(row.status);
  w.varint(row.prompt_tokens);
  w.varint(row.completion_tokens);
  w.varint(row.cached_tokens);
  w.varint(row.reasoning_tokens);
  w.varint(row.latency_ms);
  if (row.ttft_ms) w.varint(*row.ttft_ms);
  w.varint(row.overhead_ms);
  for (const std::string* s : {&row.request_id, &row.key_id, &row.key_alias, &row.key_name, &row.team_id,
                               &row.user_id, &row.end_user, &row.route, &row.requested_model, &row.model_group,
                               &row.deployment, &row.provider, &row.api_base, &row.error_type, &row.reason,
                               &row.cost_usd})
    w.utf8_text(*s);
  w.text(tags);
  w.text(metadata);
  return out;
}

bool is_current_spend_row(std::string_view payload) {
  return !payload.empty() && static_cast<uint8_t>(payload[0]) == kFormat;
}

SpendRowView view_spend_row(std::string_view payload) {
  Reader r(payload);
  if (r.byte() != kFormat) bad("not format 2");
  const uint8_t flags = r.byte();
  if (flags & ~(kRejection | kStream | kCacheHit | kHasTtft)) bad("unknown flags");
  SpendRowView v;
  v.kind = flags & kRejection ? RowKind::rejection : RowKind::spend;
  v.stream = flags & kStream;
  v.cache_hit = flags & kCacheHit;
  v.start_time = from_ticks(r.fixed64());
  v.end_time = from_ticks(r.fixed64());
  const int64_t status = r.varint();
  if (status < INT32_MIN || status > INT32_MAX) bad("status out of range");
  v.status = static_cast<int>(status);
  v.prompt_tokens = r.varint();
  v.completion_tokens = r.varint();
  v.cached_tokens = r.varint();
  v.reasoning_tokens = r.varint();
  v.latency_ms = r.varint();
  if (flags & kHasTtft) v.ttft_ms = r.varint();
  v.overhead_ms = r.varint();
  for (std::string_view* s : {&v.request_id, &v.key_id, &v.key_alias, &v.key_name, &v.team_id, &v.user_id,
                              &v.end_user, &v.route, &v.requested_model, &v.model_group, &v.deployment,
                              &v.provider, &v.api_base, &v.error_type, &v.reason, &v.cost_usd, &v.tags_json,
                              &v.metadata_json})
    *s = r.text();
  if (!r.done()) bad("bytes after the last field");
  // The shipper hands these to the database as they are: check them here,
  // so that a bad record is skipped instead of failing its batch forever.
  if (!is_json_string_array(v.tags_json)) bad("tags are not a JSON array of strings");
  if (v.metadata_json != "{}" && !is_json(v.metadata_json)) bad("metadata is not JSON");
  check_cost(v.cost_usd);
  return v;
}

SpendRow decode_spend_row(std::string_view payload) {
  if (!is_current_spend_row(payload)) return decode_v1(payload);
  return to_spend_row(view_spend_row(payload));
}

}  // namespace tollgate
