#include "storage/db_pool.h"

#include <future>
#include <mutex>
#include <vector>

#include <boost/asio/async_result.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace tollgate {

struct DbPool::Impl {
  Impl(std::function<std::unique_ptr<Store>()> f, int n) : factory(std::move(f)), threads(n), pool(n) {}

  // Runs fn with a pooled connection on the calling (pool) thread.
  void call(const std::function<void(Store&)>& fn, const char* operation) {
    const auto start = std::chrono::steady_clock::now();
    struct Timed {
      Impl* impl;
      const char* operation;
      std::chrono::steady_clock::time_point start;
      ~Timed() {
        if (impl->observer) {
          impl->observer(operation, std::chrono::duration_cast<std::chrono::microseconds>(
                                        std::chrono::steady_clock::now() - start));
        }
      }
    } timed{this, operation, start};
    std::unique_ptr<Store> store;
    {
      std::lock_guard lock(mutex);
      if (!idle.empty()) {
        store = std::move(idle.back());
        idle.pop_back();
      }
    }
    if (!store) store = factory();
    try {
      fn(*store);
    } catch (const StoreError& e) {
      if (e.kind() != StoreError::Kind::unavailable) give_back(std::move(store));
      throw;  // an unavailable connection is dropped here
    } catch (...) {
      give_back(std::move(store));
      throw;
    }
    give_back(std::move(store));
  }

  void give_back(std::unique_ptr<Store> store) {
    std::lock_guard lock(mutex);
    idle.push_back(std::move(store));
  }

  std::function<std::unique_ptr<Store>()> factory;
  Observer observer;
  int threads;
  std::mutex mutex;
  std::vector<std::unique_ptr<Store>> idle;
  boost::asio::thread_pool pool;  // last member: joined before the stores go
};

DbPool::DbPool(std::function<std::unique_ptr<Store>()> factory, int threads)
    : impl_(std::make_unique<Impl>(std::move(factory), threads < 1 ? 1 : threads)) {}

DbPool::~DbPool() { impl_->pool.join(); }

int DbPool::threads() const { return impl_->threads; }

void DbPool::set_observer(Observer observer) { impl_->observer = std::move(observer); }

boost::asio::awaitable<void> DbPool::run(std::function<void(Store&)> fn) {
  Impl* impl = impl_.get();
  auto initiate = [impl, &fn](auto handler) {
    auto caller = boost::asio::get_associated_executor(handler);
    auto work = boost::asio::make_work_guard(caller);
    boost::asio::post(impl->pool, [impl, fn = std::move(fn), handler = std::move(handler),
                                   work = std::move(work)]() mutable {
      std::exception_ptr error;
      try {
        impl->call(fn, "request");
      } catch (...) {
        error = std::current_exception();
      }
      auto resume_on = work.get_executor();
      // Resume the coroutine on its own executor, never on the pool thread.
      boost::asio::post(resume_on, [handler = std::move(handler), error, work = std::move(work)]() mutable {
        std::move(handler)(error);
      });
    });
  };
  co_await boost::asio::async_initiate<const boost::asio::use_awaitable_t<>, void(std::exception_ptr)>(
      initiate, boost::asio::use_awaitable);
}

void DbPool::run_sync(std::function<void(Store&)> fn) {
  std::promise<void> done;
  auto result = done.get_future();
  boost::asio::post(impl_->pool, [this, &fn, &done] {
    try {
      impl_->call(fn, "background");
      done.set_value();
    } catch (...) {
      done.set_exception(std::current_exception());
    }
  });
  result.get();
}

}  // namespace tollgate
