#include "accounting/ledger.h"

#include <algorithm>
#include <exception>

#include "accounting/ledger_log.h"
#include "accounting/spend_row_codec.h"

namespace tollgate {
namespace {

using SteadyClock = std::chrono::steady_clock;

// The writer stops lingering for more rows once a group is this large.
constexpr uint64_t kGroupBytes = 4ull << 20;
// A warning that repeats (database down, disk failing) is logged once, then
// at most once per this interval with the number of repeats in between.
constexpr auto kWarnEvery = std::chrono::seconds(30);

class RateLimitedWarning {
 public:
  // Returns how many were suppressed since the last one logged, or nullopt
  // when this one should be suppressed too.
  std::optional<uint64_t> admit() {
    auto now = SteadyClock::now();
    if (logged_once_ && now - last_ < kWarnEvery) {
      ++suppressed_;
      return std::nullopt;
    }
    logged_once_ = true;
    last_ = now;
    return std::exchange(suppressed_, 0);
  }
  void reset() {
    logged_once_ = false;
    suppressed_ = 0;
  }

 private:
  bool logged_once_ = false;
  SteadyClock::time_point last_{};
  uint64_t suppressed_ = 0;
};

}  // namespace

Ledger::Ledger(LedgerOptions options, StoreFactory store_factory)
    : options_(std::move(options)), store_factory_(std::move(store_factory)) {
  spool_ = std::make_unique<Spool>(options_.spool_dir, options_.segment_bytes);

  // Read back what the last run did not ship; the shipper re-reads it from
  // the spool, this copy is for callers (budgets).
  uint64_t records = 0;
  SpoolPosition pos = spool_->cursor();
  for (;;) {
    Spool::Batch batch = spool_->read(pos, 4096);
    if (batch.payloads.empty()) break;
    for (const auto& payload : batch.payloads) {
      ++records;
      try {
        recovered_.push_back(decode_spend_row(payload));
        pending_times_.push_back(recovered_.back().end_time);
      } catch (const std::exception& e) {
        ledger_log().error("spool {}: undecodable record will be skipped: {}", options_.spool_dir, e.what());
        pending_times_.push_back(SystemClock::now());
      }
    }
    pos = batch.end;
  }
  pending_rows_ = records;
  unshipped_bytes_ = spool_->unshipped_bytes();
  if (records > 0 || spool_->recovered_torn_bytes() > 0) {
    ledger_log().info("spool {}: {} unshipped row(s) recovered ({} bytes); {} torn byte(s) discarded",
                      options_.spool_dir, records, unshipped_bytes_, spool_->recovered_torn_bytes());
  }

  writer_ = std::thread([this] { writer_loop(); });
  if (store_factory_) shipper_ = std::thread([this] { shipper_loop(); });
}

Ledger::~Ledger() { stop(); }

bool Ledger::record(SpendRow row) {
  std::string payload = encode_spend_row(row);
  if (payload.size() > Spool::kMaxPayload) {
    ledger_log().error("[{}] spend row of {} bytes is too large to spool; refused", row.request_id, payload.size());
    std::lock_guard lk(mu_);
    ++refused_;
    return false;
  }
  const uint64_t bytes = payload.size() + Spool::kFrameOverhead;
  bool wake = false;
  {
    std::lock_guard lk(mu_);
    if (stopping_ || unshipped_bytes_ >= options_.max_spool_bytes) {
      ++refused_;
      return false;
    }
    // The writer waits for the first row of a group, then for the group
    // commit window to close or the group to fill: only those two events
    // change what it waits for. Waking it for every row would cost a context
    // switch per request on the workers' CPU for nothing.
    const bool first = queue_.empty();
    const bool fills = queue_bytes_ < kGroupBytes && queue_bytes_ + bytes >= kGroupBytes;
    if (first) first_queued_at_ = SteadyClock::now();
    queue_.push_back(std::move(payload));
    queue_bytes_ += bytes;
    unshipped_bytes_ += bytes;
    ++recorded_;
    ++pending_rows_;
    pending_times_.push_back(row.end_time);
    wake = first || fills;
  }
  if (wake) writer_cv_.notify_one();
  return true;
}

bool Ledger::accepting() const {
  std::lock_guard lk(mu_);
  // New work stops at 90% of the bound: the last tenth is kept for the rows
  // of requests already in flight, which record() still takes.
  return !stopping_ && unshipped_bytes_ < options_.max_spool_bytes - options_.max_spool_bytes / 10;
}

void Ledger::flush() {
  std::unique_lock lk(mu_);
  const uint64_t target = recorded_;
  if (written_ >= target) return;
  flush_requested_ = true;
  writer_cv_.notify_one();
  flushed_cv_.wait(lk, [&] { return written_ >= target || writer_done_; });
}

bool Ledger::wait_shipped(std::chrono::milliseconds timeout) {
  std::unique_lock lk(mu_);
  const uint64_t target = resolved_ + pending_rows_;
  if (resolved_ >= target) return true;
  if (!store_factory_) return false;
  flush_requested_ = true;  // no point lingering: someone is waiting
  writer_cv_.notify_one();
  ship_wanted_ = std::max(ship_wanted_, target);  // these rows ship without lingering
  shipper_cv_.notify_all();
  return shipped_cv_.wait_for(lk, timeout, [&] { return resolved_ >= target || shipper_done_; }) &&
         resolved_ >= target;
}

Ledger::Stats Ledger::stats() const {
  std::lock_guard lk(mu_);
  Stats s;
  s.recorded = recorded_;
  s.refused = refused_;
  s.recovered = recovered_.size();
  s.spooled = spooled_;
  s.groups = groups_;
  s.shipped = shipped_;
  s.duplicates = duplicates_;
  s.ship_failures = ship_failures_;
  s.skipped = skipped_;
  s.pending_rows = pending_rows_;
  s.spool_bytes = unshipped_bytes_;
  if (!pending_times_.empty()) s.oldest_unshipped = pending_times_.front();
  s.last_error = last_error_;
  return s;
}

void Ledger::stop() {
  {
    std::lock_guard lk(mu_);
    if (stopped_) return;
    stopped_ = true;
    stopping_ = true;
  }
  writer_cv_.notify_all();
  if (writer_.joinable()) writer_.join();
  {
    std::lock_guard lk(mu_);
    final_ship_ = true;
    final_deadline_ = SteadyClock::now() + options_.final_ship_timeout;
  }
  shipper_cv_.notify_all();
  if (shipper_.joinable()) shipper_.join();
  auto s = stats();
  ledger_log().info("ledger stopped: {} row(s) recorded, {} shipped, {} left in the spool ({} bytes)", s.recorded,
                    s.shipped, s.pending_rows, s.spool_bytes);
}

void Ledger::writer_loop() {
  RateLimitedWarning warning;
  std::unique_lock lk(mu_);
  for (;;) {
    writer_cv_.wait(lk, [&] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) break;  // stopping, and everything is written
    // Group commit: give other threads up to commit_interval to add rows so
    // that one fsync covers them all.
    writer_cv_.wait_until(lk, first_queued_at_ + options_.commit_interval,
                          [&] { return stopping_ || flush_requested_ || queue_bytes_ >= kGroupBytes; });
    std::vector<std::string> group;
    group.swap(queue_);
    queue_bytes_ = 0;
    flush_requested_ = false;
    const uint64_t n = group.size();
    uint64_t group_bytes = 0;
    for (const auto& p : group) group_bytes += p.size() + Spool::kFrameOverhead;

    bool failed = false;
    auto delay = options_.retry_initial;
    bool last_try = false;
    for (;;) {
      lk.unlock();
      std::string error;
      try {
        spool_->append(group);
      } catch (const std::exception& e) {
        error = e.what();
      }
      lk.lock();
      if (error.empty()) {
        spooled_ += n;
        written_ += n;
        ++groups_;
        if (failed) ledger_log().info("spool {}: writes work again", options_.spool_dir);
        warning.reset();
        break;
      }
      if (last_try) {
        // The process is stopping and the disk still refuses: nothing left
        // to try. These rows are gone; say so loudly.
        ledger_log().critical("spool {}: {} spend row(s) lost, spool write failed at shutdown: {}",
                              options_.spool_dir, n, error);
        written_ += n;
        resolved_ += n;
        pending_rows_ -= n;
        for (uint64_t i = 0; i < n && !pending_times_.empty(); ++i) pending_times_.pop_back();
        unshipped_bytes_ -= std::min(unshipped_bytes_, group_bytes);
        break;
      }
      failed = true;
      if (auto suppressed = warning.admit()) {
        ledger_log().error("spool {}: write failed, {} row(s) held in memory and retried: {} ({} similar suppressed)",
                           options_.spool_dir, n + queue_.size(), error, *suppressed);
      }
      // Rows stay in memory (still counted against the bound) and are retried.
      writer_cv_.wait_for(lk, delay, [&] { return stopping_; });
      if (stopping_) last_try = true;
      delay = std::min(delay * 2, options_.retry_max);
    }
    flushed_cv_.notify_all();
    shipper_cv_.notify_all();
  }
  writer_done_ = true;
  flushed_cv_.notify_all();
  shipper_cv_.notify_all();
}

void Ledger::ship_backoff(std::unique_lock<std::mutex>& lk, std::chrono::milliseconds delay) {
  shipper_cv_.wait_for(lk, delay, [&] { return final_ship_; });
}

void Ledger::shipper_loop() {
  RateLimitedWarning warning;
  uint64_t failures_in_row = 0;
  auto delay = options_.retry_initial;
  SpoolPosition pos = spool_->cursor();

  // The batch in hand survives failures: the same rows are retried until the
  // store takes them.
  std::optional<Spool::Batch> batch;
  std::vector<SpendRowView> rows;  // views into batch->payloads
  uint64_t undecodable = 0;

  auto fail = [&](std::unique_lock<std::mutex>& lk, const std::string& error) {
    ++ship_failures_;
    ++failures_in_row;
    last_error_ = error;
    if (auto suppressed = warning.admit()) {
      ledger_log().warn("shipping spend rows failed ({} in a row, {} row(s) pending, retry in {} ms): {}{}",
                        failures_in_row, pending_rows_, delay.count(), error,
                        *suppressed ? fmt::format(" ({} similar suppressed)", *suppressed) : "");
    }
  };

  // When the last batch was committed: the next waits for a full batch of
  // durable rows (pending, less those the writer has not written yet) until
  // ship_interval after it, unless someone waits for rows or the ledger stops.
  SteadyClock::time_point last_ship{};
  const auto enough = static_cast<uint64_t>(std::max(1, options_.batch_rows));
  auto no_linger = [&] {
    return final_ship_ || resolved_ < ship_wanted_ || pending_rows_ >= enough + (recorded_ - written_);
  };

  std::unique_lock lk(mu_);
  for (;;) {
    if (final_ship_ && SteadyClock::now() >= final_deadline_) break;
    if (!batch && options_.ship_interval.count() > 0) {
      shipper_cv_.wait_until(lk, last_ship + options_.ship_interval, no_linger);
    }
    if (!batch) {
      const uint64_t seen = spooled_;
      lk.unlock();
      std::string error;
      try {
        batch = spool_->read(pos, static_cast<size_t>(std::max(1, options_.batch_rows)));
      } catch (const std::exception& e) {
        error = e.what();
        batch.reset();
      }
      lk.lock();
      if (!error.empty()) {
        fail(lk, "spool read: " + error);
        if (final_ship_) break;
        ship_backoff(lk, delay);
        delay = std::min(delay * 2, options_.retry_max);
        continue;
      }
      if (batch->payloads.empty() && batch->corrupt_bytes == 0) {
        batch.reset();
        if (final_ship_) break;  // the writer is done and everything is shipped
        shipper_cv_.wait(lk, [&] { return final_ship_ || spooled_ != seen; });
        continue;
      }
      rows.clear();
      undecodable = 0;
      for (auto& payload : batch->payloads) {
        try {
          // A record an older gateway wrote (format 1) is rewritten in
          // memory; the spool file itself is never changed.
          if (!is_current_spend_row(payload)) payload = encode_spend_row(decode_spend_row(payload));
          rows.push_back(view_spend_row(payload));
        } catch (const std::exception& e) {
          ++undecodable;
          ledger_log().error("spool {}: skipping undecodable record: {}", options_.spool_dir, e.what());
        }
      }
    }

    lk.unlock();
    std::string error;
    ShipResult result;
    try {
      if (!rows.empty()) {
        if (!store_) store_ = store_factory_();
        if (!store_) throw StoreError(StoreError::Kind::unavailable, "store factory returned no store");
        result = store_->ship(std::span<const SpendRowView>(rows));
      }
    } catch (const std::exception& e) {
      error = e.what();
    } catch (...) {
      error = "unknown exception";
    }
    if (!error.empty()) {
      store_.reset();  // a fresh connection next time
      lk.lock();
      fail(lk, error);
      if (final_ship_) break;
      ship_backoff(lk, delay);
      delay = std::min(delay * 2, options_.retry_max);
      continue;
    }

    // Committed in the store: only now may the cursor move past these rows.
    spool_->commit(batch->end);
    last_ship = SteadyClock::now();
    lk.lock();
    const uint64_t records = batch->payloads.size();
    shipped_ += rows.size();
    duplicates_ += static_cast<uint64_t>(std::max(0, result.duplicates));
    skipped_ += undecodable;
    resolved_ += records;
    pending_rows_ -= std::min(pending_rows_, records);
    for (uint64_t i = 0; i < records && !pending_times_.empty(); ++i) pending_times_.pop_front();
    unshipped_bytes_ -= std::min(unshipped_bytes_, batch->bytes);
    pos = batch->end;
    batch.reset();
    rows.clear();
    if (failures_in_row > 0) {
      ledger_log().info("shipping spend rows resumed after {} failed attempt(s)", failures_in_row);
      failures_in_row = 0;
      warning.reset();
    }
    delay = options_.retry_initial;
    shipped_cv_.notify_all();
  }
  shipper_done_ = true;
  lk.unlock();
  store_.reset();
  shipped_cv_.notify_all();
}

}  // namespace tollgate
