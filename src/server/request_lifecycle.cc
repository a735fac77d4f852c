#include "server/request_lifecycle.h"

#include <exception>

#include <spdlog/spdlog.h>

#include "accounting/ledger.h"
#include "accounting/rejection_tally.h"
#include "accounting/request_cost.h"
#include "accounting/spend_row.h"
#include "observability/access_log.h"
#include "observability/gateway_metrics.h"
#include "observability/otlp_exporter.h"
#include "observability/request_tracing.h"

namespace tollgate {

namespace asio = boost::asio;

RequestLifecycle::RequestLifecycle(SharedState& state) : state_(state), gen_(state.current()) {
  state_.in_flight.fetch_add(1);
  state_.requests_total.fetch_add(1);
}

RequestLifecycle::~RequestLifecycle() { finish(); }

asio::awaitable<void> RequestLifecycle::run(ResponseSink& sink, const Serve& serve) {
  // No co_await may sit in a handler, so the failure is kept and answered
  // after the try block.
  std::string failure;
  try {
    co_await serve(*this, sink);
  } catch (const std::exception& e) {
    failure = e.what();
  } catch (...) {
    failure = "unknown exception";
  }
  if (!failure.empty()) {
    count_internal_error("request", failure.c_str());
    const ApiError error = ApiError::internal("The gateway failed to serve this request (request id " +
                                              ctx_.request_id + "); it has been logged.");
    ctx_.status = error.status;
    ctx_.error_type = "internal_error";
    if (!sink.committed() && !sink.client_gone()) {
      HeaderList none;
      co_await sink.send_response(error.status, error.body(), std::move(none));
    } else if (!sink.client_gone()) {
      // Mid-stream: the client learns the stream failed, as for an upstream
      // failure; no fake finish_reason.
      const std::string event = error.stream_event();
      co_await sink.send_event(event);
    }
  }
  try {
    if (sink.committed() && !sink.client_gone()) co_await sink.end_stream();  // a no-op unless a stream is open
  } catch (const std::exception& e) {
    count_internal_error("end of stream", e.what());
  }
  finish();
}

asio::awaitable<void> RequestLifecycle::reject(ResponseSink& sink, const ApiError& error) {
  ctx_.status = error.status;
  ctx_.error_type = error.code.empty() ? error.type : error.code;
  if (ctx_.reject_reason.empty()) ctx_.reject_reason = error.message;
  HeaderList headers;
  if (error.retry_after_seconds) headers.emplace_back("retry-after", std::to_string(*error.retry_after_seconds));
  std::string body = error.body();
  co_await sink.send_response(error.status, std::move(body), std::move(headers));
}

void RequestLifecycle::mark_first_byte() { ctx_.first_byte = RequestContext::Clock::now(); }

void RequestLifecycle::price_now() {
  if (!ctx_.model_group.empty()) price_request(ctx_, *gen_->config, *gen_->prices);
}

void RequestLifecycle::count_internal_error(const char* where, const char* what) noexcept {
  try {
    spdlog::error("[{}] internal error in {}: {}", ctx_.request_id, where, what);
    if (state_.metrics) state_.metrics->internal_error();
  } catch (...) {
  }
}

void RequestLifecycle::finish() noexcept {
  if (finished_) return;
  finished_ = true;
  // Each part runs whatever the others did: one failing must not keep a
  // permit held or a row unwritten.
  auto step = [&](const char* what, auto&& f) {
    try {
      f();
    } catch (const std::exception& e) {
      count_internal_error(what, e.what());
    } catch (...) {
      count_internal_error(what, "unknown exception");
    }
  };
  const Config& config = *gen_->config;
  step("pricing", [&] {
    ctx_.end = RequestContext::Clock::now();
    if (ctx_.status == 0) ctx_.status = ctx_.client_disconnected ? 499 : 500;
    if (!ctx_.cost_usd) price_request(ctx_, config, *gen_->prices);
  });
  step("middleware completion", [&] { gen_->chain->complete(ctx_); });
  step("ledger", [&] {
    if (!state_.ledger) return;
    std::vector<SpendRow> rows;
    if (RejectionTally::applies(ctx_) && state_.rejections) {
      rows = state_.rejections->add(ctx_, state_.now ? state_.now() : SystemClock::now());
    } else if (auto row = make_spend_row(ctx_)) {
      rows.push_back(std::move(*row));
    }
    for (auto& row : rows) {
      if (!state_.ledger->record(std::move(row))) {
        spdlog::error("[{}] the spend ledger refused a row (spool full or stopped)", ctx_.request_id);
      }
    }
  });
  step("metrics", [&] {
    if (state_.metrics && ctx_.endpoint != Endpoint::health) state_.metrics->request_completed(ctx_, config);
  });
  step("tracing", [&] {
    if (gen_->tracer && ctx_.endpoint != Endpoint::health) {  // not every probe and scrape
      for (auto& span : request_spans(ctx_)) gen_->tracer->submit(std::move(span));
    }
  });
  step("access log", [&] { write_access_log(ctx_, config.logging.json); });
  leave_in_flight();
}

void RequestLifecycle::not_in_flight() noexcept { leave_in_flight(); }

void RequestLifecycle::leave_in_flight() noexcept {
  if (!in_flight_) return;
  in_flight_ = false;
  if (state_.in_flight.fetch_sub(1) == 1) {
    // The lock orders this with a waiter's check (Gateway::wait_idle).
    try {
      std::lock_guard lock(state_.idle_mu);
    } catch (...) {
    }
    state_.idle_cv.notify_all();
  }
}

}  // namespace tollgate
