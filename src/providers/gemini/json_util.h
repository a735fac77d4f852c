#pragma once
// Small JSON accessors for the Gemini translation code.

#include <nlohmann/json.hpp>

namespace tollgate::gemini {

// obj[key] without copying, or a null value when obj is not an object or has
// no such key. (A `cond ? obj[key] : json()` ternary copies the member.)
inline const nlohmann::json& member(const nlohmann::json& obj, const char* key) {
  static const nlohmann::json null_value;
  if (!obj.is_object()) return null_value;
  auto it = obj.find(key);
  return it == obj.end() ? null_value : *it;
}

}  // namespace tollgate::gemini
