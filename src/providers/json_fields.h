#pragma once
// Tolerant readers for fields of untrusted upstream/client JSON: a missing key,
// a non-object or a value of the wrong type gives the fallback, never an
// exception. Shared by every adapter.

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

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

}  // namespace tollgate
