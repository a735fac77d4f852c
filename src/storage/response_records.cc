#include "storage/response_records.h"

#include <algorithm>

#include <nlohmann/json.hpp>

namespace tollgate::storage {

using nlohmann::json;

std::vector<ItemRecord> split_items(const std::string& array_json, const char* what) {
  const json items = json::parse(array_json, nullptr, false);
  if (items.is_discarded() || !items.is_array()) {
    throw StoreError(StoreError::Kind::invalid, std::string(what) + " is not a JSON array");
  }
  std::vector<ItemRecord> out;
  out.reserve(items.size());
  for (const auto& item : items) {
    const auto id = item.is_object() ? item.find("id") : item.end();
    if (!item.is_object() || id == item.end() || !id->is_string() || !valid_item_id(id->get_ref<const std::string&>())) {
      throw StoreError(StoreError::Kind::invalid, std::string(what) + ": every item needs a valid string \"id\"");
    }
    out.push_back({id->get<std::string>(), item.dump(-1, ' ', false, json::error_handler_t::replace)});
  }
  return out;
}

std::string join_items(const std::vector<ItemRecord>& items) {
  std::string out = "[";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) out += ',';
    out += items[i].json;
  }
  out += ']';
  return out;
}

ItemPage page_items(const std::vector<ItemRecord>& items, const ItemQuery& query) {
  const std::size_t limit = static_cast<std::size_t>(std::clamp(query.limit, 1, 100));
  std::vector<const ItemRecord*> ordered;
  ordered.reserve(items.size());
  for (const auto& item : items) ordered.push_back(&item);
  if (query.order == ItemOrder::desc) std::reverse(ordered.begin(), ordered.end());
  std::size_t start = 0;
  if (!query.after.empty()) {
    auto it = std::find_if(ordered.begin(), ordered.end(), [&](const ItemRecord* r) { return r->id == query.after; });
    start = it == ordered.end() ? ordered.size() : static_cast<std::size_t>(it - ordered.begin()) + 1;
  }
  ItemPage page;
  for (std::size_t i = start; i < ordered.size() && page.data.size() < limit; ++i) page.data.push_back(ordered[i]->json);
  if (!page.data.empty()) {
    page.first_id = ordered[start]->id;
    page.last_id = ordered[start + page.data.size() - 1]->id;
  }
  page.has_more = start + page.data.size() < ordered.size();
  return page;
}

SplitResponse check_response(const StoredResponse& response) {
  if (!valid_response_id(response.id)) throw StoreError(StoreError::Kind::invalid, "invalid response id");
  if (!response.previous_response_id.empty() && !valid_response_id(response.previous_response_id)) {
    throw StoreError(StoreError::Kind::invalid, "invalid previous_response_id");
  }
  if (response.owner.empty()) throw StoreError(StoreError::Kind::invalid, "a stored response needs an owner");
  return {split_items(response.input_json, "input_json"), split_items(response.output_json, "output_json")};
}

}  // namespace tollgate::storage
