#pragma once
// DbPool: runs blocking Store calls on a few worker threads so that no I/O
// thread ever waits for the database.
//
// Each worker uses one pooled Store (connection) at a time; connections are
// opened lazily by the factory, at most one per thread. A connection whose
// call threw StoreError(unavailable) is dropped and a new one is opened for
// the next call, so a restarted database is picked up without a restart of
// the gateway. Thread-safe: run() and run_sync() may be called from any thread.

#include <chrono>
#include <functional>
#include <memory>

#include <boost/asio/awaitable.hpp>

#include "tollgate/store.h"

namespace tollgate {

class DbPool {
 public:
  DbPool(std::function<std::unique_ptr<Store>()> factory, int threads);
  // Finishes the calls already queued, then joins the threads.
  ~DbPool();
  DbPool(const DbPool&) = delete;
  DbPool& operator=(const DbPool&) = delete;

  // Runs fn(store) on a pool thread; the awaiting coroutine resumes on its own
  // executor, and fn's exception (or the factory's, e.g. StoreError
  // unavailable) is rethrown there. fn's captures must outlive the call.
  boost::asio::awaitable<void> run(std::function<void(Store&)> fn);

  // Blocking variant for start-up and command-line tools. Never call it from
  // a pool thread (it would wait for itself).
  void run_sync(std::function<void(Store&)> fn);

  int threads() const;

  // Told the duration of every call ("request": run(), "background":
  // run_sync()), on the pool thread. Set it before the first call.
  using Observer = std::function<void(const char* operation, std::chrono::microseconds)>;
  void set_observer(Observer observer);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tollgate
