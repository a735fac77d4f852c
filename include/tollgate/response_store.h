#pragma once
// Stored responses of the OpenAI Responses API (`store: true`): the Response
// object a client was sent, the input items of its turn and its output
// items, kept so that GET/DELETE /v1/responses/{id}, GET .../input_items,
// `item_reference` inputs and `previous_response_id` work on any backend.
//
// Ownership: every response belongs to one access scope (owner_of() in
// api/responses_routes.h): "team:<team_id>" for a virtual key with a team,
// "key:<key_id>" for one without, "static:<name>" for a YAML key, "master",
// or "anonymous" when the gateway runs without keys. Every read and delete
// takes the caller's owner; a response of another owner is "not found",
// exactly like a missing one (never "forbidden": that would confirm it exists).
//
// Expiry: a response whose expires_at is at or before `now` is invisible to
// every call at once; purge_expired() reclaims its space later.
//
// Implementations: SqlResponseStore over a SQLite or PostgreSQL Store
// connection (src/storage/sql_response_store.h; not thread-safe, blocking:
// only on DbPool threads), and MemoryResponseStore (thread-safe, bounded,
// lost on restart) when no database is configured. The gateway reaches
// either through ResponseArchive (src/storage/response_archive.h), which
// runs the SQL one on the DbPool and supplies the clock.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tollgate/store.h"

namespace tollgate {

struct StoredResponse {
  std::string id;     // "resp_…" (valid_response_id())
  std::string owner;  // the access scope, see above
  TimePoint created_at{};
  TimePoint expires_at{};
  std::string model;
  std::string previous_response_id;  // "" when the turn started a conversation
  // JSON texts. input_json: array of this turn's input items as the client
  // sent them, each an object with a string "id" (normalize_input_items()
  // gives one to those without). output_json: array of output items, each
  // with its "id" ("msg_…", "fc_…", "rs_…"). response_json: the whole
  // Response object as sent to the client.
  std::string input_json = "[]";
  std::string output_json = "[]";
  std::string response_json = "{}";

  // Bytes the record takes (its JSON texts and ids); what memory bounds and
  // max_response_bytes count.
  std::size_t size_bytes() const;
};

enum class ItemOrder { asc, desc };

// OpenAI's list paging: at most `limit` items after the item `after` (by id,
// exclusive) in `order`; input items are ordered as the client sent them.
struct ItemQuery {
  std::string after;  // "" from the start
  int limit = 20;     // 1..100
  ItemOrder order = ItemOrder::desc;
};

struct ItemPage {
  std::vector<std::string> data;  // item JSON texts
  std::string first_id, last_id;  // "" when data is empty
  bool has_more = false;
};

// The items a `previous_response_id` stands for: walking the chain of
// previous_response_ids back from it, oldest turn first, each turn's input
// items then its output items.
struct Conversation {
  std::vector<std::string> items;   // item JSON texts
  std::vector<std::string> turns;   // response ids, oldest first
  // True when the walk stopped before the chain's first turn: max_depth
  // reached, or an older turn was deleted, expired or belongs to another
  // owner (its items are then missing from `items`).
  bool truncated = false;
};

class ResponseStore {
 public:
  virtual ~ResponseStore() = default;

  // Inserts the response, or replaces the one with the same id (its items
  // too). Throws StoreError(invalid) when the id is not valid_response_id(),
  // or input_json/output_json are not arrays of objects each with a valid
  // string "id" (valid_item_id()).
  virtual void put(const StoredResponse& response) = 0;
  // nullopt when missing, expired or of another owner.
  virtual std::optional<StoredResponse> get(const std::string& id, const std::string& owner, TimePoint now) = 0;
  // Deletes the response and its items. False when get() would not find it.
  virtual bool remove(const std::string& id, const std::string& owner, TimePoint now) = 0;
  // The response's input items; nullopt when get() would not find it. An
  // `after` that is not one of its input items gives an empty page.
  virtual std::optional<ItemPage> input_items(const std::string& id, const std::string& owner, const ItemQuery& query,
                                              TimePoint now) = 0;
  // An input or output item of a visible response of this owner, by item id
  // (for `item_reference` inputs); when several responses hold the id, the
  // newest one's. nullopt when none does.
  virtual std::optional<std::string> find_item(const std::string& item_id, const std::string& owner,
                                               TimePoint now) = 0;
  // The history previous_response_id rebuilds, following at most max_depth
  // responses (>= 1). nullopt when the response itself is not found.
  virtual std::optional<Conversation> conversation(const std::string& previous_response_id, const std::string& owner,
                                                   int max_depth, TimePoint now) = 0;
  // Deletes every response (and its items) whose expires_at is at or
  // before `now`. Returns how many responses went.
  virtual int64_t purge_expired(TimePoint now) = 0;
};

// Ids a client may name: 1..128 bytes of [A-Za-z0-9_-]. Anything else is
// never stored, so a lookup of it is "not found" without a query.
bool valid_response_id(std::string_view id);
bool valid_item_id(std::string_view id);

// A fresh id: prefix + 48 lowercase hex digits ("resp_", "msg_", "fc_", "rs_").
std::string new_response_item_id(std::string_view prefix);

// The Responses API `input` (a string or an array of items) as the array
// of items to store: a string becomes one user message with an input_text
// part; an easy message ({"role","content"} without "type") gets
// "type":"message"; every item without a valid "id" gets a new one ("msg_"
// for messages, "fc_" for function calls, "fco_" for their outputs, "rs_"
// for reasoning, "item_" otherwise). Returns the JSON text of the array, or
// nullopt when input is neither a string nor an array of objects.
std::optional<std::string> normalize_input_items(std::string_view input_json);

}  // namespace tollgate
