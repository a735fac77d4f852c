#include "api/responses_history.h"

#include <map>
#include <set>
#include <vector>

#include <nlohmann/json.hpp>

#include "storage/response_archive.h"
#include "tollgate/json_document.h"

namespace tollgate {

namespace asio = boost::asio;
using nlohmann::json;

namespace {

// What one request's translation may ask, fetched beforehand.
class FetchedHistory final : public ResponseItemResolver {
 public:
  std::optional<json> find_item(std::string_view id) const override {
    auto it = items_.find(std::string(id));
    if (it == items_.end()) return std::nullopt;
    return it->second;
  }
  std::optional<json> conversation_before(std::string_view response_id) const override {
    if (!conversation_ || response_id != conversation_id_) return std::nullopt;
    return *conversation_;
  }

  std::map<std::string, json> items_;
  std::string conversation_id_;
  std::optional<json> conversation_;
};

// The ids of the item_reference items in `items` (an array), in order.
void collect_references(JsonView items, std::vector<std::string>& ids) {
  if (!items.is_array()) return;
  for (JsonView item : items.elements()) {
    if (item.is_object() && item["type"] == "item_reference" && item["id"].is_string()) ids.push_back(item["id"].str());
  }
}

void collect_references(const json& items, std::vector<std::string>& ids) {
  if (!items.is_array()) return;
  for (const auto& item : items) {
    if (item.is_object() && item.value("type", std::string()) == "item_reference" && item.contains("id") &&
        item["id"].is_string()) {
      ids.push_back(item["id"].get<std::string>());
    }
  }
}

// A stored item text as a tree (written by the gateway; still read with the
// bounded parser).
std::optional<json> parse_item(const std::string& text) {
  auto tree = parse_json_tree(text);
  if (!tree || !tree->is_object()) return std::nullopt;
  return std::move(tree.value());
}

ApiError unavailable() {
  return ApiError::unavailable("Stored responses are unavailable right now (the database is not reachable); retry shortly.",
                               5);
}

}  // namespace

asio::awaitable<Result<std::unique_ptr<ResponseItemResolver>>> fetch_response_history(ResponseArchive* archive,
                                                                                       std::string owner,
                                                                                       JsonView body) {
  const JsonView previous = body["previous_response_id"];
  std::vector<std::string> references;
  collect_references(body["input"], references);
  const bool wants_previous = previous.is_string() && !previous.as_string().empty();
  if (!archive || (!wants_previous && references.empty())) co_return std::unique_ptr<ResponseItemResolver>();
  if (references.size() > kMaxItemReferences) {
    co_return ApiError::bad_request("input: at most " + std::to_string(kMaxItemReferences) +
                                        " item_reference items are accepted in one request.",
                                    "input");
  }
  auto history = std::make_unique<FetchedHistory>();
  std::string failure;
  try {
    if (wants_previous && valid_response_id(previous.as_string())) {
      // Arguments built outside the co_await operand (GCC 12 destroys some
      // temporaries there twice).
      std::string previous_id = previous.str();
      auto lookup = archive->conversation(previous_id, owner);
      auto conversation = co_await std::move(lookup);
      if (conversation) {
        json items = json::array();
        for (const auto& text : conversation->items) {
          if (auto item = parse_item(text)) items.push_back(std::move(*item));
        }
        // An earlier turn may itself have referred to stored items.
        collect_references(items, references);
        history->conversation_id_ = std::move(previous_id);
        history->conversation_ = std::move(items);
      }
    }
    std::set<std::string> seen;
    for (std::size_t i = 0; i < references.size() && seen.size() < kMaxItemReferences; ++i) {
      const std::string& id = references[i];
      if (!valid_item_id(id) || !seen.insert(id).second) continue;
      auto find = archive->find_item(id, owner);
      if (auto text = co_await std::move(find)) {
        if (auto item = parse_item(*text)) history->items_.emplace(id, std::move(*item));
      }
    }
  } catch (const StoreError& e) {
    failure = e.what();
  }
  if (!failure.empty()) co_return unavailable();
  co_return std::unique_ptr<ResponseItemResolver>(std::move(history));
}

std::string input_items_to_store(JsonView body) {
  const JsonView input = body["input"];
  if (!input.is_string() && !input.is_array()) return "[]";
  auto items = normalize_input_items(input.to_json().dump(-1, ' ', false, json::error_handler_t::replace));
  return items ? std::move(*items) : std::string("[]");
}

std::optional<StoredResponse> stored_response(const json& response, std::string owner, std::string input_items) {
  if (!response.is_object() || !response.contains("id") || !response["id"].is_string()) return std::nullopt;
  StoredResponse r;
  r.id = response["id"].get<std::string>();
  if (!valid_response_id(r.id)) return std::nullopt;
  r.owner = std::move(owner);
  if (auto m = response.find("model"); m != response.end() && m->is_string()) r.model = m->get<std::string>();
  if (auto p = response.find("previous_response_id"); p != response.end() && p->is_string()) {
    r.previous_response_id = p->get<std::string>();
  }
  r.input_json = std::move(input_items);
  json output = json::array();
  if (auto o = response.find("output"); o != response.end() && o->is_array()) {
    for (const auto& item : *o) {
      // Items without a valid id cannot be stored (the store's contract);
      // the translators give every output item one.
      if (item.is_object() && item.contains("id") && item["id"].is_string() &&
          valid_item_id(item["id"].get_ref<const std::string&>())) {
        output.push_back(item);
      }
    }
  }
  const auto dump = [](const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); };
  r.output_json = dump(output);
  r.response_json = dump(response);
  return r;
}

}  // namespace tollgate
