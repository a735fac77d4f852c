#pragma once
// Ledger: every spend and rejection row goes through here on its way to the
// database. record() only enqueues (no disk, no database on the caller's
// thread); a writer thread group-commits the queue to the Spool (append, one
// fsync per group); a shipper thread reads the spool from its cursor and
// ships batches to the Store, one transaction per batch, idempotent by
// request_id, then advances the cursor. When the database is down or slow the
// spool grows (up to max_spool_bytes) and rows arrive once it returns, also
// after a restart: a new Ledger on the same spool_dir resumes from the
// cursor.
//
// Delivery is at least once into the store and, because the store ignores a
// request_id it already has, exactly once in the tables. A row accepted by
// record() is lost only if the disk refuses writes until stop() (logged).
//
// Thread-safety: every public member may be called from any thread, except
// that the destructor and stop() must not race with each other. The Ledger
// owns its Store (made by store_factory on the shipper thread, dropped and
// remade after a failure) and its threads.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "accounting/spool.h"
#include "tollgate/store.h"

namespace tollgate {

// Disk use is at most max_spool_bytes of unshipped records (plus one row)
// and the shipped head of the active segment (under segment_bytes plus one
// group).
struct LedgerOptions {
  std::string spool_dir;                  // created if missing
  uint64_t max_spool_bytes = 1ull << 30;  // unshipped bytes; at or above it record() refuses
  uint64_t segment_bytes = 64ull << 20;   // rotation size; fully shipped segments are deleted
  int batch_rows = 500;                   // rows per database transaction
  std::chrono::milliseconds commit_interval{5};  // group commit: longest a row waits before its fsync
  // After a batch, the next one waits up to this for batch_rows rows (or a
  // caller of wait_shipped, or stop()): a trickle of rows then costs one
  // transaction per interval instead of one per row. 0: ship at once.
  std::chrono::milliseconds ship_interval{100};
  std::chrono::milliseconds retry_initial{200};  // shipper backoff after a failure, doubling ...
  std::chrono::milliseconds retry_max{5000};     // ... up to this
  std::chrono::milliseconds final_ship_timeout{5000};  // stop(): no new batch is started after this
};

class Ledger {
 public:
  using StoreFactory = std::function<std::unique_ptr<Store>()>;

  // Opens (and recovers) the spool and starts the threads. An empty
  // store_factory means spool only: nothing ships (tests, tools). Throws
  // std::system_error when the spool directory cannot be opened.
  Ledger(LedgerOptions options, StoreFactory store_factory);
  ~Ledger();  // stop()
  Ledger(const Ledger&) = delete;
  Ledger& operator=(const Ledger&) = delete;

  // Enqueues the row; never waits for disk or the database. Returns false,
  // keeping nothing, when the spool is at its bound, after stop(), or for a
  // row too large to spool: the caller refuses new work (503).
  bool record(SpendRow row);
  // Whether to admit new requests: false once the unshipped bytes reach 90%
  // of max_spool_bytes (or after stop()). The last tenth is headroom for the
  // rows of requests already admitted, which record() takes up to the bound.
  bool accepting() const;

  // Blocks until every row recorded before the call is fsynced in the spool.
  void flush();
  // Blocks until every row recorded before the call (and every recovered
  // row) is committed in the store, or the timeout passes: true when
  // shipped. For tests and shutdown. Without a store: true only when nothing
  // is pending, and it never waits.
  bool wait_shipped(std::chrono::milliseconds timeout);

  struct Stats {
    uint64_t recorded = 0;       // rows accepted by record() since construction
    uint64_t refused = 0;        // record() calls that returned false
    uint64_t recovered = 0;      // unshipped rows found in the spool at construction
    uint64_t spooled = 0;        // rows fsynced since construction
    uint64_t groups = 0;         // group commits (one spool fsync each)
    uint64_t shipped = 0;        // rows committed to the store (new ones and duplicates)
    uint64_t duplicates = 0;     // of those, rows the store already had
    uint64_t ship_failures = 0;  // failed ship attempts (each retried)
    uint64_t skipped = 0;        // records that could not be decoded or read back (logged)
    uint64_t pending_rows = 0;   // accepted or recovered, not shipped yet
    uint64_t spool_bytes = 0;    // queued + on disk, not shipped yet
    std::optional<TimePoint> oldest_unshipped;  // end_time of the first pending row in line
    std::string last_error;                     // last ship failure ("" before any)
  };
  Stats stats() const;

  // The rows in the spool not yet shipped when this Ledger was constructed,
  // oldest first (e.g. to seed in-memory budgets after a restart). They ship
  // like any other row. Stable for the Ledger's lifetime; held in memory, so
  // a spool near max_spool_bytes costs about that much RAM at start.
  const std::vector<SpendRow>& recovered_unshipped() const { return recovered_; }

  // Writes every queued row, makes one final ship attempt (batches until the
  // spool is shipped, a batch fails, or final_ship_timeout passes), joins the
  // threads. Rows left unshipped stay in the spool for the next start.
  // Idempotent; record() returns false afterwards.
  void stop();

 private:
  void writer_loop();
  void shipper_loop();
  // Waits for the backoff or the final ship phase; lock held.
  void ship_backoff(std::unique_lock<std::mutex>& lk, std::chrono::milliseconds delay);

  const LedgerOptions options_;
  const StoreFactory store_factory_;
  std::unique_ptr<Spool> spool_;
  std::vector<SpendRow> recovered_;
  std::unique_ptr<Store> store_;  // shipper thread only

  mutable std::mutex mu_;
  std::condition_variable writer_cv_;   // queue non-empty, flush or stop requested
  std::condition_variable flushed_cv_;  // spooled_ grew, or the writer ended
  std::condition_variable shipper_cv_;  // spooled_ grew, or the final ship phase began
  std::condition_variable shipped_cv_;  // rows were shipped, or the shipper ended

  // Guarded by mu_.
  std::vector<std::string> queue_;  // encoded rows, oldest first
  uint64_t queue_bytes_ = 0;
  std::chrono::steady_clock::time_point first_queued_at_{};
  bool flush_requested_ = false;
  bool stopping_ = false;        // no more rows; the writer drains and ends
  bool writer_done_ = false;
  bool final_ship_ = false;      // the writer ended: the shipper's last round
  bool shipper_done_ = false;
  bool stopped_ = false;
  std::chrono::steady_clock::time_point final_deadline_{};
  uint64_t written_ = 0;         // rows resolved by the writer: spooled or lost
  uint64_t recorded_ = 0;
  uint64_t refused_ = 0;
  uint64_t spooled_ = 0;
  uint64_t groups_ = 0;
  uint64_t shipped_ = 0;
  uint64_t duplicates_ = 0;
  uint64_t ship_failures_ = 0;
  uint64_t skipped_ = 0;
  uint64_t resolved_ = 0;        // shipped_ + skipped_ (+ rows lost by the writer)
  uint64_t ship_wanted_ = 0;     // a caller of wait_shipped waits until resolved_ reaches this
  uint64_t pending_rows_ = 0;
  uint64_t unshipped_bytes_ = 0;
  std::deque<TimePoint> pending_times_;  // end_time of each pending row, oldest first
  std::string last_error_;

  std::thread writer_;
  std::thread shipper_;
};

}  // namespace tollgate
