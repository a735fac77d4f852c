#pragma once
// Tolerant field access for client and upstream JSON: a missing field or one
// of the wrong type reads as empty/false instead of throwing.

#include <string>

#include <nlohmann/json.hpp>

namespace tollgate::anthropic {

inline std::string get_str(const nlohmann::json& j, const char* key) {
  if (!j.is_object()) return {};
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

inline bool is_true(const nlohmann::json& j, const char* key) {
  if (!j.is_object()) return false;
  auto it = j.find(key);
  return it != j.end() && it->is_boolean() && it->get<bool>();
}

}  // namespace tollgate::anthropic
