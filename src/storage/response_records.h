#pragma once
// What both ResponseStore implementations share: a stored response's items
// as (id, JSON text) pairs, and OpenAI's list paging over them. Internal to
// src/storage.

#include <string>
#include <vector>

#include "tollgate/response_store.h"

namespace tollgate::storage {

struct ItemRecord {
  std::string id;
  std::string json;  // the item's compact JSON text
};

// The items of a JSON array text (StoredResponse::input_json/output_json).
// Throws StoreError(invalid) naming `what` when it is not an array of
// objects each with a valid string "id".
std::vector<ItemRecord> split_items(const std::string& array_json, const char* what);
// The JSON array text of the items.
std::string join_items(const std::vector<ItemRecord>& items);
// One page of `items` (in the order sent) as ItemQuery describes it; limit
// is clamped to 1..100.
ItemPage page_items(const std::vector<ItemRecord>& items, const ItemQuery& query);
// Throws StoreError(invalid) unless the response's ids are valid and its
// item arrays well-formed; returns its items, input then output.
struct SplitResponse {
  std::vector<ItemRecord> input, output;
};
SplitResponse check_response(const StoredResponse& response);

}  // namespace tollgate::storage
