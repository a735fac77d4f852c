#pragma once
// SqlResponseStore: the ResponseStore contract on a SQLite or PostgreSQL
// Store connection (tables stored_responses and stored_response_items,
// migrations/<dialect>/0002_stored_responses.sql). A view over the
// connection: cheap to make, used on the thread that holds the Store (a
// DbPool thread), blocking, not thread-safe.
//
// Items get a row each, indexed by item_id, so find_item (item_reference)
// is one index lookup; a response's items come back in their order by the
// primary key (response_id, position). Expiry is an indexed integer column.

#include "storage/response_records.h"
#include "storage/sql_store.h"
#include "tollgate/response_store.h"

namespace tollgate::storage {

class SqlResponseStore : public ResponseStore {
 public:
  explicit SqlResponseStore(SqlStore& store) : store_(store) {}
  // The SQL store behind a pooled Store. Throws StoreError(internal) when
  // `store` is not a SqlStore (a test double).
  static SqlResponseStore of(Store& store);

  void put(const StoredResponse& response) override;
  std::optional<StoredResponse> get(const std::string& id, const std::string& owner, TimePoint now) override;
  bool remove(const std::string& id, const std::string& owner, TimePoint now) override;
  std::optional<ItemPage> input_items(const std::string& id, const std::string& owner, const ItemQuery& query,
                                      TimePoint now) override;
  std::optional<std::string> find_item(const std::string& item_id, const std::string& owner, TimePoint now) override;
  std::optional<Conversation> conversation(const std::string& previous_response_id, const std::string& owner,
                                           int max_depth, TimePoint now) override;
  int64_t purge_expired(TimePoint now) override;

 private:
  // The visible response's row (no items) inside the current transaction.
  std::optional<StoredResponse> head(const std::string& id, const std::string& owner, TimePoint now);
  // A response's items in their order: input items, then output items.
  struct Items {
    std::vector<ItemRecord> input, output;
  };
  Items load_items(const std::string& id, bool input_only);

  SqlStore& store_;
};

}  // namespace tollgate::storage
