#pragma once
// Reading fields of untrusted JSON (client bodies, upstream answers) without
// exceptions: nlohmann's value() throws when a field has another type.

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace tollgate::bedrock {

// obj[key] when it is a string, else `fallback`.
inline std::string str_or(const nlohmann::json& obj, const char* key, std::string fallback = {}) {
  if (!obj.is_object()) return fallback;
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : fallback;
}

// obj[key] when it is an integer, else `fallback`.
inline int64_t int_or(const nlohmann::json& obj, const char* key, int64_t fallback = 0) {
  if (!obj.is_object()) return fallback;
  auto it = obj.find(key);
  return it != obj.end() && it->is_number_integer() ? it->get<int64_t>() : fallback;
}

}  // namespace tollgate::bedrock
