// One client connection: reads HTTP/1.1 requests (keep-alive, pipelining)
// with the configured limits, hands each to a RequestLifecycle that the
// worker's Dispatcher serves, and is the only code that writes to the client
// socket (it implements ResponseSink: framing, headers, chunked SSE).

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <spdlog/spdlog.h>

#include "observability/trace_context.h"
#include "server/dispatcher.h"
#include "server/response_head.h"
#include "server/request_id.h"
#include "server/request_lifecycle.h"
#include "server/worker.h"

namespace tollgate {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

namespace {

template <class Stream>
constexpr bool is_tls = !std::is_same_v<Stream, beast::tcp_stream>;

bool quiet_close(const beast::error_code& ec) {
  return ec == http::error::end_of_stream || ec == asio::error::eof || ec == asio::error::connection_reset ||
         ec == beast::error::timeout || ec == asio::error::operation_aborted || ec == asio::ssl::error::stream_truncated ||
         ec == asio::error::broken_pipe || ec == asio::error::bad_descriptor;
}

// Constants live at namespace scope: GCC 12 rejects static locals in coroutines.
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
constexpr std::string_view kData = "data: ";
constexpr std::string_view kEventTail = "\n\n\r\n";
constexpr std::string_view kCrlf = "\r\n";
constexpr std::string_view kLastChunk = "0\r\n\r\n";

// Builds a buffer list outside coroutine bodies (GCC 12 cannot keep an
// initializer_list's backing array in a coroutine frame).
template <class... B>
std::vector<asio::const_buffer> buffers(const B&... b) {
  std::vector<asio::const_buffer> v;
  v.reserve(sizeof...(b));
  (v.push_back(asio::buffer(b)), ...);
  return v;
}

// What to answer when reading a request failed; nullopt: close silently
// (also for timeouts: beast has already closed the socket then).
std::optional<ApiError> read_error(const beast::error_code& ec, std::size_t bytes_read, const ServerConfig& sc) {
  if (ec == http::error::header_limit) {
    return ApiError{431, "invalid_request_error", "request_header_too_large",
                    "The request headers exceed the limit of " + std::to_string(sc.max_header_bytes) + " bytes.", {}, {}};
  }
  if (ec == http::error::body_limit) {
    return ApiError::payload_too_large("The request body exceeds the limit of " + std::to_string(sc.max_body_bytes) +
                                       " bytes.");
  }
  if (quiet_close(ec) || bytes_read == 0) return std::nullopt;
  return ApiError::bad_request("Malformed HTTP request: " + ec.message() + ".", {}, "bad_http_request");
}

std::string hex(std::size_t n) {
  char buf[20];
  int len = std::snprintf(buf, sizeof buf, "%zx", n);
  return std::string(buf, static_cast<std::size_t>(len));
}

}  // namespace

template <class Stream>
class Session final : public ResponseSink,
                      public SessionControl,
                      public std::enable_shared_from_this<Session<Stream>> {
 public:
  template <class... Args>
  Session(Worker& worker, Args&&... args) : w_(worker), stream_(std::forward<Args>(args)...) {}

  asio::awaitable<void> run();

  // ResponseSink
  asio::awaitable<bool> send_response(int status, std::string body, HeaderList headers) override;
  asio::awaitable<bool> start_stream(HeaderList headers) override;
  asio::awaitable<bool> send_event(std::string_view payload) override;
  asio::awaitable<bool> send_named_event(std::string_view name, std::string_view payload) override;
  asio::awaitable<bool> send_comment(std::string_view text) override;
  asio::awaitable<void> end_stream() override;
  asio::awaitable<void> wait_client_gone() override;
  bool committed() const override { return committed_; }
  bool client_gone() const override { return gone_; }

  // SessionControl
  void on_drain() override {
    keep_alive_ = false;
    if (idle_) beast::get_lowest_layer(stream_).cancel();
  }
  void force_close() override {
    gone_ = true;
    beast::get_lowest_layer(stream_).close();
  }
  bool idle() const override { return idle_; }

 private:
  asio::awaitable<void> serve_connection();
  asio::awaitable<void> handle(HttpRequest req);
  asio::awaitable<bool> reply_error(const ApiError& e, bool close);
  asio::awaitable<bool> write_raw(std::vector<asio::const_buffer> buffers);
  void set_common_headers(ResponseHead& h, const HeaderList& extra);
  // The config the gateway started with (server settings); per-request
  // settings come from the request's generation.
  const Config& config() const { return *w_.state->config; }

  Worker& w_;
  Stream stream_;
  beast::flat_buffer buffer_;
  RequestLifecycle* request_ = nullptr;  // the request being answered
  std::string chunk_prefix_;
  std::string head_;  // the response head being written
  std::string trailer_;
  std::string client_ip_;
  std::string event_head_;
  bool committed_ = false;
  bool streaming_ = false;
  bool stream_ended_ = false;
  bool gone_ = false;
  bool idle_ = false;
  bool keep_alive_ = true;
};

template <class Stream>
asio::awaitable<void> Session<Stream>::run() {
  auto self = this->shared_from_this();
  auto& st = *w_.state;
  try {
    co_await serve_connection();
  } catch (const std::exception& e) {
    spdlog::error("session failed: {}", e.what());
  }
  w_.sessions.erase(this);
  beast::error_code ec;
  beast::get_lowest_layer(stream_).socket().shutdown(tcp::socket::shutdown_both, ec);
  beast::get_lowest_layer(stream_).close();
  {
    std::lock_guard lock(st.idle_mu);
    st.open_connections.fetch_sub(1);
  }
  st.idle_cv.notify_all();
}

template <class Stream>
asio::awaitable<void> Session<Stream>::serve_connection() {
  const auto& sc = config().server;
  auto& lowest = beast::get_lowest_layer(stream_);
  if constexpr (is_tls<Stream>) {
    lowest.expires_after(std::chrono::milliseconds(sc.header_timeout_ms));
    auto [ec] = co_await stream_.async_handshake(asio::ssl::stream_base::server, use_nothrow);
    if (ec) co_return;
  }
  while (keep_alive_ && !w_.state->draining.load()) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(sc.max_header_bytes));
    parser.body_limit(sc.max_body_bytes);
    idle_ = true;
    lowest.expires_after(std::chrono::milliseconds(sc.idle_timeout_ms));
    auto [hec, hn] = co_await http::async_read_header(stream_, buffer_, parser, use_nothrow);
    idle_ = false;
    if (hec) {
      // Errors are built outside the co_await expression: GCC 12 destroys
      // brace-initialised temporaries in co_await operands twice.
      auto error = read_error(hec, hn, sc);
      if (error) co_await reply_error(*error, true);
      co_return;
    }
    if (beast::iequals(parser.get()[http::field::expect], "100-continue")) {
      if (!co_await write_raw(buffers(kContinue))) co_return;
    }
    lowest.expires_after(std::chrono::milliseconds(sc.header_timeout_ms));
    auto [bec, bn] = co_await http::async_read(stream_, buffer_, parser, use_nothrow);
    if (bec) {
      auto error = read_error(bec, 1, sc);
      if (error) co_await reply_error(*error, true);
      co_return;  // e.g. a truncated body: the client is gone
    }
    keep_alive_ = parser.get().keep_alive() && keep_alive_;
    co_await handle(parser.release());
    if (gone_) co_return;
  }
}

template <class Stream>
asio::awaitable<void> Session<Stream>::handle(HttpRequest req) {
  RequestLifecycle request(*w_.state);
  RequestContext& ctx = request.ctx();
  ctx.request_id = new_request_id();
  if (client_ip_.empty()) {  // once per connection, not per request
    beast::error_code ec;
    auto ep = beast::get_lowest_layer(stream_).socket().remote_endpoint(ec);
    if (!ec) client_ip_ = ep.address().to_string();
  }
  ctx.client_ip = client_ip_;
  request_ = &request;
  committed_ = streaming_ = stream_ended_ = false;
  const RequestLifecycle::Serve serve = [this, &req](RequestLifecycle& r, ResponseSink& sink) {
    return w_.dispatcher.serve(r, req, sink);
  };
  co_await request.run(*this, serve);
  request_ = nullptr;
  // A stream that ended in an error is closed, as the SSE error contract says.
  if (streaming_ && ctx.status != 200) keep_alive_ = false;
}

template <class Stream>
void Session<Stream>::set_common_headers(ResponseHead& h, const HeaderList& extra) {
  const RequestContext* ctx = request_ ? &request_->ctx() : nullptr;
  h.set("x-request-id", ctx ? ctx->request_id : new_request_id());  // rejected before a request existed
  if (ctx) {
    if (!ctx->trace_id.empty()) {
      h.set("traceparent", format_traceparent(TraceContext{ctx->trace_id, ctx->span_id, ctx->trace_sampled}));
    }
    if (ctx->attempts > 0) h.set("x-tollgate-attempts", std::to_string(ctx->attempts));
    if (ctx->cost_usd) h.set("x-tollgate-cost-usd", fmt::format("{:.10f}", *ctx->cost_usd));
    for (const auto& [k, v] : ctx->response_headers) h.set(k, v);
    if (!ctx->notes.empty()) {
      std::string notes;
      for (const auto& n : ctx->notes) notes += (notes.empty() ? "" : "; ") + n;
      h.set("x-tollgate-notes", notes);
    }
  }
  // Values come from upstreams too (x-upstream-request-id): set() filters them.
  for (const auto& [k, v] : extra) h.set(k, v);
}

// A request that could not be read (too large, malformed): answered before
// any request exists, so it makes no row; the connection closes after it.
template <class Stream>
asio::awaitable<bool> Session<Stream>::reply_error(const ApiError& e, bool close) {
  if (close) keep_alive_ = false;
  HeaderList h;
  std::string body = e.body();
  const bool sent = co_await send_response(e.status, std::move(body), std::move(h));
  co_return sent;
}

template <class Stream>
asio::awaitable<bool> Session<Stream>::send_response(int status, std::string body, HeaderList headers) {
  if (committed_ || gone_) co_return false;
  committed_ = true;
  if (request_) {
    request_->mark_first_byte();
    if (status == 200) request_->price_now();  // the cost goes in a header
  }
  ResponseHead head(status);
  head.set("Server", "tollgate");
  head.set("Content-Type", "application/json");
  set_common_headers(head, headers);
  if (w_.state->draining.load()) keep_alive_ = false;
  if (!keep_alive_) head.set("Connection", "close");  // HTTP/1.1 keeps alive by default
  head.set("Content-Length", std::to_string(body.size()));
  head_.clear();
  head.serialize_to(head_);
  const bool head_only = request_ && request_->ctx().method == "HEAD";
  if (head_only) body.clear();
  co_return co_await write_raw(buffers(head_, body));
}

template <class Stream>
asio::awaitable<bool> Session<Stream>::start_stream(HeaderList headers) {
  if (committed_ || gone_) co_return false;
  committed_ = streaming_ = true;
  if (request_) request_->mark_first_byte();
  ResponseHead head(200);
  head.set("Server", "tollgate");
  head.set("Content-Type", "text/event-stream");
  head.set("Cache-Control", "no-cache");
  head.set("x-accel-buffering", "no");
  head.set("Trailer", "x-tollgate-cost-usd");
  set_common_headers(head, headers);
  if (!keep_alive_) head.set("Connection", "close");  // HTTP/1.1 keeps alive by default
  head.set("Transfer-Encoding", "chunked");
  head_.clear();
  head.serialize_to(head_);
  co_return co_await write_raw(buffers(head_));
}

template <class Stream>
asio::awaitable<bool> Session<Stream>::write_raw(std::vector<asio::const_buffer> buffers) {
  beast::get_lowest_layer(stream_).expires_after(std::chrono::milliseconds(config().server.write_timeout_ms));
  auto [ec, n] = co_await asio::async_write(stream_, buffers, use_nothrow);
  if (ec) {
    gone_ = true;
    co_return false;
  }
  co_return true;
}

template <class Stream>
asio::awaitable<bool> Session<Stream>::send_event(std::string_view payload) {
  if (!streaming_ || gone_) co_return false;
  // One chunk per event, written at once: "<len>\r\ndata: <payload>\n\n\r\n".
  chunk_prefix_ = hex(kData.size() + payload.size() + 2) + "\r\n";
  co_return co_await write_raw(buffers(chunk_prefix_, kData, payload, kEventTail));
}

template <class Stream>
asio::awaitable<bool> Session<Stream>::send_named_event(std::string_view name, std::string_view payload) {
  if (!streaming_ || gone_) co_return false;
  event_head_ = "event: " + std::string(name) + "\n";
  chunk_prefix_ = hex(event_head_.size() + kData.size() + payload.size() + 2) + "\r\n";
  co_return co_await write_raw(buffers(chunk_prefix_, event_head_, kData, payload, kEventTail));
}

template <class Stream>
asio::awaitable<bool> Session<Stream>::send_comment(std::string_view text) {
  if (!streaming_ || gone_) co_return false;
  std::string line = ": " + std::string(text) + "\n\n";
  chunk_prefix_ = hex(line.size()) + "\r\n";
  co_return co_await write_raw(buffers(chunk_prefix_, line, kCrlf));
}

template <class Stream>
asio::awaitable<void> Session<Stream>::end_stream() {
  if (!streaming_ || gone_ || stream_ended_) co_return;
  stream_ended_ = true;
  // A successful stream's cost is known only now: it goes in a trailer.
  if (request_ && request_->ctx().status == 200) request_->price_now();
  if (request_ && request_->ctx().cost_usd && request_->ctx().status == 200) {
    trailer_ = fmt::format("0\r\nx-tollgate-cost-usd: {:.10f}\r\n\r\n", *request_->ctx().cost_usd);
    co_await write_raw(buffers(trailer_));
  } else {
    co_await write_raw(buffers(kLastChunk));
  }
}

template <class Stream>
asio::awaitable<void> Session<Stream>::wait_client_gone() {
  // Reads while a response is being produced. EOF or an error means the
  // client left; bytes are the next pipelined request and are kept for it.
  auto& lowest = beast::get_lowest_layer(stream_);
  const std::size_t cap = config().server.max_header_bytes + config().server.max_body_bytes;
  for (;;) {
    if (buffer_.size() >= cap) {
      asio::steady_timer forever(w_.ioc, asio::steady_timer::time_point::max());
      co_await forever.async_wait(use_nothrow);
      co_return;  // cancelled: the response finished first
    }
    auto [ec, n] = co_await stream_.async_read_some(buffer_.prepare(4096), use_nothrow);
    buffer_.commit(n);
    if (ec == asio::error::operation_aborted) {
      // Cancelled because the response finished first (the result of this
      // branch is then ignored); the connection is intact.
      if (!lowest.socket().is_open()) gone_ = true;
      co_return;
    }
    if (ec) {
      gone_ = true;
      if (request_) request_->ctx().client_disconnected = true;
      co_return;
    }
  }
}

void start_session(Worker& worker, tcp::socket socket) {
  beast::error_code ec;
  socket.set_option(tcp::no_delay(true), ec);
  // Counted at once, not when the coroutine first runs: the accept loop
  // compares the count with server.max_connections before the next accept.
  worker.state->open_connections.fetch_add(1);
  auto spawn = [&](auto session) {
    worker.sessions.insert(session.get());
    asio::co_spawn(worker.ioc, session->run(), asio::detached);
  };
  if (worker.server_tls) {
    spawn(std::make_shared<Session<beast::ssl_stream<beast::tcp_stream>>>(worker, std::move(socket), *worker.server_tls));
  } else {
    spawn(std::make_shared<Session<beast::tcp_stream>>(worker, std::move(socket)));
  }
}

}  // namespace tollgate
