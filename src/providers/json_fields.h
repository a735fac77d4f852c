#pragma once
// Tolerant readers for fields of untrusted upstream/client JSON: a missing key,
// a non-object or a value of the wrong type gives the fallback, never an
// exception. Shared by every adapter. The JsonView overloads read a client's
// parsed body (or any view) the same way.

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "tollgate/json_view.h"

namespace tollgate {

// obj[key], or a null value.
inline const nlohmann::json& json_member(const nlohmann::json& obj, const char* key) {
  static const nlohmann::json null_value;
  if (!obj.is_object()) return null_value;
  auto it = obj.find(key);
  return it == obj.end() ? null_value : *it;
}

inline std::string json_string(const nlohmann::json& obj, const char* key, std::string fallback = {}) {
  const auto& v = json_member(obj, key);
  return v.is_string() ? v.get<std::string>() : fallback;
}

inline int64_t json_int(const nlohmann::json& obj, const char* key, int64_t fallback = 0) {
  const auto& v = json_member(obj, key);
  return v.is_number_integer() ? v.get<int64_t>() : fallback;
}

inline bool json_true(const nlohmann::json& obj, const char* key) {
  const auto& v = json_member(obj, key);
  return v.is_boolean() && v.get<bool>();
}

inline std::string json_string(JsonView obj, std::string_view key, std::string fallback = {}) {
  const JsonView v = obj[key];
  return v.is_string() ? v.str() : fallback;
}

inline int64_t json_int(JsonView obj, std::string_view key, int64_t fallback = 0) {
  const JsonView v = obj[key];
  return v.is_number_integer() ? v.as_int64() : fallback;
}

inline bool json_true(JsonView obj, std::string_view key) { return obj[key].as_bool(); }

// Present and not null: the members that ask for something.
inline bool json_given(JsonView v) { return v.present() && !v.is_null(); }

// A client value as nlohmann's dump() writes it (keys sorted), for error
// messages that quote it: the tape's own text keeps document order.
inline std::string json_quote(JsonView v) { return v.to_json().dump(); }

}  // namespace tollgate
