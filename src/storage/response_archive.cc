#include "storage/response_archive.h"

#include "storage/db_pool.h"
#include "storage/memory_response_store.h"
#include "storage/sql_response_store.h"

namespace tollgate {

namespace asio = boost::asio;
using storage::SqlResponseStore;

ResponseArchive::ResponseArchive(const ResponsesConfig& config, std::shared_ptr<DbPool> db, Now now)
    : config_(config), db_(std::move(db)), now_(now ? std::move(now) : Now([] { return SystemClock::now(); })) {
  if (!db_) memory_ = std::make_unique<storage::MemoryResponseStore>(config_.memory_max_bytes);
}

ResponseArchive::~ResponseArchive() = default;

TimePoint ResponseArchive::expiry_for(TimePoint created_at) const {
  // 100 years stays inside system_clock's range (nanoseconds, to 2262).
  const auto retention = config_.retention_days > 0 ? std::chrono::hours(24) * config_.retention_days
                                                    : std::chrono::hours(24) * 36'525;
  return created_at + retention;
}

asio::awaitable<bool> ResponseArchive::put(StoredResponse response) {
  if (response.size_bytes() > config_.max_response_bytes) co_return false;
  if (response.created_at == TimePoint{}) response.created_at = now_();
  response.expires_at = expiry_for(response.created_at);
  if (memory_) {
    sweep();
    memory_->put(response);
    co_return true;
  }
  // A named job: GCC 12 destroys temporaries in co_await operands twice.
  std::function<void(Store&)> job = [&](Store& s) { SqlResponseStore::of(s).put(response); };
  co_await db_->run(job);
  co_return true;
}

asio::awaitable<std::optional<StoredResponse>> ResponseArchive::get(std::string id, std::string owner) {
  const auto now = now_();
  if (memory_) co_return memory_->get(id, owner, now);
  std::optional<StoredResponse> out;
  // A named job: GCC 12 destroys temporaries in co_await operands twice.
  std::function<void(Store&)> job = [&](Store& s) { out = SqlResponseStore::of(s).get(id, owner, now); };
  co_await db_->run(job);
  co_return out;
}

asio::awaitable<bool> ResponseArchive::remove(std::string id, std::string owner) {
  const auto now = now_();
  if (memory_) co_return memory_->remove(id, owner, now);
  bool out = false;
  // A named job: GCC 12 destroys temporaries in co_await operands twice.
  std::function<void(Store&)> job = [&](Store& s) { out = SqlResponseStore::of(s).remove(id, owner, now); };
  co_await db_->run(job);
  co_return out;
}

asio::awaitable<std::optional<ItemPage>> ResponseArchive::input_items(std::string id, std::string owner,
                                                                      ItemQuery query) {
  const auto now = now_();
  if (memory_) co_return memory_->input_items(id, owner, query, now);
  std::optional<ItemPage> out;
  // A named job: GCC 12 destroys temporaries in co_await operands twice.
  std::function<void(Store&)> job = [&](Store& s) {
    out = SqlResponseStore::of(s).input_items(id, owner, query, now);
  };
  co_await db_->run(job);
  co_return out;
}

asio::awaitable<std::optional<std::string>> ResponseArchive::find_item(std::string item_id, std::string owner) {
  const auto now = now_();
  if (memory_) co_return memory_->find_item(item_id, owner, now);
  std::optional<std::string> out;
  // A named job: GCC 12 destroys temporaries in co_await operands twice.
  std::function<void(Store&)> job = [&](Store& s) {
    out = SqlResponseStore::of(s).find_item(item_id, owner, now);
  };
  co_await db_->run(job);
  co_return out;
}

asio::awaitable<std::optional<Conversation>> ResponseArchive::conversation(std::string previous_response_id,
                                                                           std::string owner, int max_depth) {
  const auto now = now_();
  if (memory_) co_return memory_->conversation(previous_response_id, owner, max_depth, now);
  std::optional<Conversation> out;
  // A named job: GCC 12 destroys temporaries in co_await operands twice.
  std::function<void(Store&)> job = [&](Store& s) {
    out = SqlResponseStore::of(s).conversation(previous_response_id, owner, max_depth, now);
  };
  co_await db_->run(job);
  co_return out;
}

int64_t ResponseArchive::sweep() {
  const auto now = now_();
  const int64_t now_us = std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count();
  int64_t last = last_sweep_us_.load();
  const int64_t interval_us = std::chrono::duration_cast<std::chrono::microseconds>(kSweepInterval).count();
  if (last != 0 && now_us - last < interval_us) return -1;
  // One caller wins the round.
  if (!last_sweep_us_.compare_exchange_strong(last, now_us)) return -1;
  if (memory_) return memory_->purge_expired(now);
  int64_t n = 0;
  db_->run_sync([&](Store& s) { n = SqlResponseStore::of(s).purge_expired(now); });
  return n;
}

}  // namespace tollgate
