// The value helpers of tollgate/response_store.h: id rules, new ids and the
// normalised input items every ResponseStore keeps.
#include <random>

#include <nlohmann/json.hpp>

#include "tollgate/response_store.h"

namespace tollgate {

std::size_t StoredResponse::size_bytes() const {
  return id.size() + owner.size() + model.size() + previous_response_id.size() + input_json.size() +
         output_json.size() + response_json.size();
}

bool valid_response_id(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

bool valid_item_id(std::string_view id) { return valid_response_id(id); }

std::string new_response_item_id(std::string_view prefix) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  static const char* digits = "0123456789abcdef";
  std::string id(prefix);
  id.reserve(prefix.size() + 48);
  for (int w = 0; w < 3; ++w) {
    uint64_t v = rng();
    for (int i = 0; i < 16; ++i) {
      id += digits[v & 0xF];
      v >>= 4;
    }
  }
  return id;
}

namespace {

using nlohmann::json;

const char* id_prefix(const json& item) {
  const auto type = item.value("type", std::string());
  if (type == "message") return "msg_";
  if (type == "function_call") return "fc_";
  if (type == "function_call_output") return "fco_";
  if (type == "reasoning") return "rs_";
  return "item_";
}

json text_parts(const json& content, const std::string& role) {
  if (!content.is_string()) return content;
  const char* part = role == "assistant" ? "output_text" : "input_text";
  return json::array({{{"type", part}, {"text", content}}});
}

}  // namespace

std::optional<std::string> normalize_input_items(std::string_view input_json) {
  // Dumped from a tree the request parser already bounded (depth, size);
  // invalid UTF-8 cannot reach here, but replace rather than throw.
  json input = json::parse(input_json, nullptr, false);
  if (input.is_discarded()) return std::nullopt;
  json items = json::array();
  if (input.is_string()) {
    items.push_back({{"type", "message"}, {"role", "user"}, {"content", text_parts(input, "user")}});
  } else if (input.is_array()) {
    for (auto& item : input) {
      if (!item.is_object()) return std::nullopt;
      if (!item.contains("type") && item.contains("role")) item["type"] = "message";
      if (item.value("type", std::string()) == "message" && item.contains("content")) {
        item["content"] = text_parts(item["content"], item.value("role", std::string()));
      }
      items.push_back(std::move(item));
    }
  } else {
    return std::nullopt;
  }
  for (auto& item : items) {
    const auto it = item.find("id");
    if (it == item.end() || !it->is_string() || !valid_item_id(it->get_ref<const std::string&>())) {
      item["id"] = new_response_item_id(id_prefix(item));
    }
  }
  return items.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace tollgate
