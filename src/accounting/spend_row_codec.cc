#include "accounting/spend_row_codec.h"

#include <cstdint>
#include <stdexcept>

namespace tollgate {
namespace {

using json = nlohmann::json;

constexpr int kVersion = 1;

int64_t ticks(TimePoint t) { return static_cast<int64_t>(t.time_since_epoch().count()); }
TimePoint from_ticks(int64_t n) { return TimePoint(SystemClock::duration(n)); }

// Strings are stored as MessagePack binary, not str: nlohmann's str path is
// fine for valid UTF-8, but binary keeps whatever bytes a client sent.
json bytes(const std::string& s) { return json::binary(std::vector<std::uint8_t>(s.begin(), s.end())); }

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

}  // namespace

std::string encode_spend_row(const SpendRow& row) {
  json tags = json::array();
  for (const auto& t : row.tags) tags.push_back(bytes(t));
  json j = {
      {"v", kVersion},
      {"kind", row.kind == RowKind::spend ? "spend" : "rejection"},
      {"request_id", bytes(row.request_id)},
      {"start_time", ticks(row.start_time)},
      {"end_time", ticks(row.end_time)},
      {"key_id", bytes(row.key_id)},
      {"key_alias", bytes(row.key_alias)},
      {"key_name", bytes(row.key_name)},
      {"team_id", bytes(row.team_id)},
      {"user_id", bytes(row.user_id)},
      {"end_user", bytes(row.end_user)},
      {"route", bytes(row.route)},
      {"requested_model", bytes(row.requested_model)},
      {"model_group", bytes(row.model_group)},
      {"deployment", bytes(row.deployment)},
      {"provider", bytes(row.provider)},
      {"api_base", bytes(row.api_base)},
      {"stream", row.stream},
      {"status", row.status},
      {"error_type", bytes(row.error_type)},
      {"reason", bytes(row.reason)},
      {"prompt_tokens", row.prompt_tokens},
      {"completion_tokens", row.completion_tokens},
      {"cached_tokens", row.cached_tokens},
      {"reasoning_tokens", row.reasoning_tokens},
      {"cost_usd", bytes(row.cost_usd)},
      {"latency_ms", row.latency_ms},
      {"ttft_ms", row.ttft_ms ? json(*row.ttft_ms) : json(nullptr)},
      {"overhead_ms", row.overhead_ms},
      {"cache_hit", row.cache_hit},
      {"tags", std::move(tags)},
      // Nested MessagePack rather than a nested map so a metadata value that
      // is itself binary or oddly typed comes back exactly as it went in.
      {"metadata", json::binary(json::to_msgpack(row.metadata))},
  };
  auto out = json::to_msgpack(j);
  return std::string(out.begin(), out.end());
}

SpendRow decode_spend_row(std::string_view payload) {
  json j;
  try {
    j = json::from_msgpack(payload.begin(), payload.end());
  } catch (const json::exception& e) {
    throw std::runtime_error(std::string("spend row record: ") + e.what());
  }
  if (!j.is_object()) throw std::runtime_error("spend row record: not a map");
  if (!j.contains("v") || !j["v"].is_number_integer() || j["v"].get<int>() != kVersion)
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

}  // namespace tollgate
