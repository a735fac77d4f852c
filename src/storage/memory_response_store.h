#pragma once
// MemoryResponseStore: stored responses kept in process when the gateway
// has no `database:`. Same semantics as the SQL stores, but bounded: when
// the records pass max_bytes, the least recently used go first (a read
// counts as a use). Everything is lost when the gateway stops. Thread-safe
// (one mutex; every call is a few map operations, no I/O).

#include <cstddef>
#include <list>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "storage/response_records.h"
#include "tollgate/response_store.h"

namespace tollgate::storage {

class MemoryResponseStore : public ResponseStore {
 public:
  explicit MemoryResponseStore(std::size_t max_bytes);

  // A response larger than max_bytes on its own is not kept (nothing is
  // evicted for it).
  void put(const StoredResponse& response) override;
  std::optional<StoredResponse> get(const std::string& id, const std::string& owner, TimePoint now) override;
  bool remove(const std::string& id, const std::string& owner, TimePoint now) override;
  std::optional<ItemPage> input_items(const std::string& id, const std::string& owner, const ItemQuery& query,
                                      TimePoint now) override;
  std::optional<std::string> find_item(const std::string& item_id, const std::string& owner, TimePoint now) override;
  std::optional<Conversation> conversation(const std::string& previous_response_id, const std::string& owner,
                                           int max_depth, TimePoint now) override;
  int64_t purge_expired(TimePoint now) override;

  std::size_t bytes() const;
  std::size_t count() const;

 private:
  struct Entry {
    StoredResponse head;  // input_json/output_json left empty: the items below hold them
    std::vector<ItemRecord> input, output;
    std::size_t bytes = 0;
    std::list<std::string>::iterator lru;
  };
  // The visible entry (owner matches, not expired), marked as used; null otherwise.
  Entry* find(const std::string& id, const std::string& owner, TimePoint now);
  void erase(std::unordered_map<std::string, Entry>::iterator it);

  const std::size_t max_bytes_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Entry> entries_;
  std::unordered_multimap<std::string, std::string> item_index_;  // item id -> response id
  std::list<std::string> lru_;  // response ids, most recently used first
  std::size_t bytes_ = 0;
};

}  // namespace tollgate::storage
