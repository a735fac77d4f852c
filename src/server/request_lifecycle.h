#pragma once
// One request, from its headers to its last byte: the object that owns its
// state (the RequestContext and the config generation it runs on) and the
// finish step that runs exactly once on every path, whatever happened:
// success, rejection, upstream error, client disconnect, a stream failing
// mid-way, an exception from any layer, or the coroutine frame being
// destroyed at shutdown.
//
// The finish step
//  - releases what the request took: the middlewares' parallel permits,
//    budget reservations and token windows (MiddlewareChain::complete; the
//    router releases deployment admissions and probes itself, by guard),
//    and the request's in-flight count;
//  - writes exactly one ledger row: a spend row once the request reached the
//    router, else a rejection row; rejections before authentication (401)
//    are tallied per minute instead (RejectionTally), so a flood of bad keys
//    cannot fill the ledger;
//  - updates metrics, exports its spans and writes its access-log line.
//
// run() lets no exception out: an internal failure answers 500 with an
// OpenAI-shaped `internal_error` body before the first byte, or ends the
// stream with an error event after it, and counts
// tollgate_internal_errors_total.
//
// Used from the connection's thread only.

#include <functional>
#include <memory>

#include <boost/asio/awaitable.hpp>

#include "server/gateway.h"
#include "tollgate/error.h"
#include "tollgate/request_context.h"
#include "tollgate/response_sink.h"

namespace tollgate {

class RequestLifecycle {
 public:
  // Counts the request in flight; it takes the current config generation
  // and keeps it to its end, whatever reloads happen meanwhile.
  explicit RequestLifecycle(SharedState& state);
  ~RequestLifecycle();
  RequestLifecycle(const RequestLifecycle&) = delete;
  RequestLifecycle& operator=(const RequestLifecycle&) = delete;

  RequestContext& ctx() noexcept { return ctx_; }
  const RequestContext& ctx() const noexcept { return ctx_; }
  const Generation& generation() const noexcept { return *gen_; }
  SharedState& state() noexcept { return state_; }

  using Serve = std::function<boost::asio::awaitable<void>(RequestLifecycle&, ResponseSink&)>;
  // Serves the request with `serve`, writing to `sink`, ends a stream it
  // left open, and finishes. Never throws.
  boost::asio::awaitable<void> run(ResponseSink& sink, const Serve& serve);

  // Answers with `error` (when nothing was sent yet) and records why the
  // request ended there.
  boost::asio::awaitable<void> reject(ResponseSink& sink, const ApiError& error);

  // The request is one of the gateway's own replies (health, metrics): it
  // stops counting as in flight at once, so a scrape does not see itself.
  void not_in_flight() noexcept;

  // The first byte of the answer is about to go out.
  void mark_first_byte();
  // Prices a routed request with the usage known now, so that its cost can
  // go with a successful answer (a header, or a stream's trailer).
  void price_now();

  // The finish step above; idempotent. run() calls it; the destructor calls
  // it when run() could not (a frame destroyed mid-request).
  void finish() noexcept;

 private:
  void count_internal_error(const char* where, const char* what) noexcept;
  void leave_in_flight() noexcept;

  SharedState& state_;
  std::shared_ptr<const Generation> gen_;
  RequestContext ctx_;
  bool finished_ = false;
  bool in_flight_ = true;
};

}  // namespace tollgate
