#pragma once
// ResponseArchive: how the gateway keeps stored responses. One per gateway
// (SharedState::responses), built at start from `responses:` and
// `database:`. With a database it runs SqlResponseStore calls on the
// DbPool (never on an I/O thread); without one it keeps them in a bounded
// MemoryResponseStore (lost on restart). It supplies the clock (so expiry
// is seen at once) and the retention. Thread-safe.
//
// Every awaitable below throws StoreError when the database fails
// (Kind::unavailable while it is down): callers answer 503.

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/awaitable.hpp>

#include "tollgate/config.h"
#include "tollgate/response_store.h"

namespace tollgate {

class DbPool;

class ResponseArchive {
 public:
  using Now = std::function<TimePoint()>;
  // db null: in memory, bounded by config.memory_max_bytes. now: the wall
  // clock (tests inject one).
  ResponseArchive(const ResponsesConfig& config, std::shared_ptr<DbPool> db, Now now);
  ~ResponseArchive();

  // True with a database (responses survive restarts).
  bool persistent() const { return db_ != nullptr; }
  // Whether a request without `store` is stored.
  bool store_default() const { return config_.store_default; }
  // When a response created at `created_at` expires (retention_days; 0:
  // about a century, i.e. until deleted).
  TimePoint expiry_for(TimePoint created_at) const;
  TimePoint now() const { return now_(); }

  // Stores the response: created_at defaults to now() when unset, and
  // expires_at is always set from the retention. Returns false, storing
  // nothing, when the record is larger than max_response_bytes. Throws
  // StoreError(invalid) for ids or items that break the ResponseStore
  // contract (a bug in the caller).
  boost::asio::awaitable<bool> put(StoredResponse response);
  // ResponseStore's reads and delete as of now(), for the caller's owner.
  boost::asio::awaitable<std::optional<StoredResponse>> get(std::string id, std::string owner);
  boost::asio::awaitable<bool> remove(std::string id, std::string owner);
  boost::asio::awaitable<std::optional<ItemPage>> input_items(std::string id, std::string owner, ItemQuery query);
  boost::asio::awaitable<std::optional<std::string>> find_item(std::string item_id, std::string owner);
  // At most max_depth responses of the chain ending at previous_response_id.
  boost::asio::awaitable<std::optional<Conversation>> conversation(std::string previous_response_id, std::string owner,
                                                                   int max_depth = kMaxConversationDepth);
  static constexpr int kMaxConversationDepth = 1000;

  // The retention sweep: deletes what expired, at most once per
  // sweep_interval (returns -1 when not due), else how many went. Blocking
  // (DbPool::run_sync with a database): call it from a maintenance thread,
  // never an I/O thread. Without a database put() runs it itself.
  int64_t sweep();
  static constexpr std::chrono::seconds kSweepInterval{60};

 private:
  ResponsesConfig config_;
  std::shared_ptr<DbPool> db_;
  Now now_;
  std::unique_ptr<ResponseStore> memory_;  // without a database
  std::atomic<int64_t> last_sweep_us_{0};
};

}  // namespace tollgate
