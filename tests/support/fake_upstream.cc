#include "support/fake_upstream.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <deque>
#include <future>
#include <thread>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

namespace tollgate::test {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;

constexpr std::size_t kMaxRequestBody = 64 * 1024 * 1024;

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& ch : out) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && lower(a) == lower(b);
}

bool has_header(const FakeResponse& r, std::string_view name) {
  return std::any_of(r.headers.begin(), r.headers.end(),
                     [&](const auto& h) { return iequals(h.first, name); });
}

bool asks_to_close(const FakeResponse& r) {
  return std::any_of(r.headers.begin(), r.headers.end(), [](const auto& h) {
    return iequals(h.first, "connection") && lower(h.second).find("close") != std::string::npos;
  });
}

std::string build_head(const FakeResponse& r) {
  std::string head = "HTTP/1.1 " + std::to_string(r.status) + " ";
  head += http::obsolete_reason(http::int_to_status(static_cast<unsigned>(r.status)));
  head += "\r\n";
  for (const auto& [name, value] : r.headers) head += name + ": " + value + "\r\n";
  if (r.framing == FakeResponse::Framing::kContentLength && !has_header(r, "content-length")) {
    std::size_t length = 0;
    for (const auto& step : r.steps) {
      if (step.kind == FakeStep::Kind::kSend) length += step.bytes.size();
    }
    head += "Content-Length: " + std::to_string(r.declared_length.value_or(length)) + "\r\n";
  }
  if (r.framing == FakeResponse::Framing::kChunked && !has_header(r, "transfer-encoding")) {
    head += "Transfer-Encoding: chunked\r\n";
  }
  head += "\r\n";
  return head;
}

// Parks the calling coroutine until the gate opens, without blocking the
// io_context: a timer that never expires, cancelled (via a post to this
// executor) by Gate::open(). Registration and the start of the wait happen in
// one handler, so an open() in between still cancels a started wait. Throws
// operation_aborted if woken by cancellation rather than by the gate.
asio::awaitable<void> wait_gate(std::shared_ptr<Gate> gate) {
  auto ex = co_await asio::this_coro::executor;
  auto timer = std::make_shared<asio::steady_timer>(ex, asio::steady_timer::time_point::max());
  std::weak_ptr<asio::steady_timer> weak = timer;
  const std::uint64_t id = gate->add_waiter([ex, weak] {
    asio::post(ex, [weak] {
      if (auto t = weak.lock()) t->cancel();
    });
  });
  if (id == 0) co_return;
  // Unregisters even when the frame is destroyed without resuming, so the
  // gate never posts to an executor whose io_context is gone.
  struct Unregister {
    Gate* gate;
    std::uint64_t id;
    ~Unregister() { gate->remove_waiter(id); }
  } unregister{gate.get(), id};
  co_await timer->async_wait(asio::as_tuple(asio::use_awaitable));
  if (!gate->is_open()) throw boost::system::system_error(asio::error::operation_aborted);
}

struct Connection {
  Connection(tcp::socket s, std::size_t connection_id)
      : socket(std::move(s)), id(connection_id) {}
  tcp::socket socket;
  boost::beast::flat_buffer buffer;
  std::size_t id;
  bool script_finished = false;
};

enum class Outcome { kKeepAlive, kClose };

}  // namespace

// ---------------------------------------------------------------------------
// Gate

void Gate::open() {
  std::lock_guard lock(mu_);
  if (open_) return;
  open_ = true;
  for (auto& [id, wake] : waiters_) wake();
  waiters_.clear();
}

bool Gate::is_open() const {
  std::lock_guard lock(mu_);
  return open_;
}

std::size_t Gate::arrivals() const {
  std::lock_guard lock(mu_);
  return arrivals_;
}

bool Gate::wait_for_waiters(std::size_t n, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return arrivals_ >= n; });
}

std::uint64_t Gate::add_waiter(std::function<void()> wake) {
  std::lock_guard lock(mu_);
  ++arrivals_;
  cv_.notify_all();
  if (open_) return 0;
  const std::uint64_t id = next_id_++;
  waiters_.emplace(id, std::move(wake));
  return id;
}

void Gate::remove_waiter(std::uint64_t id) {
  std::lock_guard lock(mu_);
  waiters_.erase(id);
}

// ---------------------------------------------------------------------------
// FakeResponse

FakeResponse FakeResponse::json(int status, const nlohmann::json& body) {
  return text(status, body.dump(), "application/json");
}

FakeResponse FakeResponse::text(int status, std::string body, std::string content_type) {
  FakeResponse r;
  r.status = status;
  r.header("Content-Type", std::move(content_type));
  r.send(std::move(body));
  return r;
}

FakeResponse FakeResponse::sse(const std::vector<std::string>& data_payloads, bool done) {
  FakeResponse r = chunked();
  for (const auto& payload : data_payloads) r.sse_data(payload);
  if (done) r.sse_data("[DONE]");
  return r;
}

FakeResponse FakeResponse::chunked(int status, std::string content_type) {
  FakeResponse r;
  r.status = status;
  r.framing = Framing::kChunked;
  if (!content_type.empty()) r.header("Content-Type", std::move(content_type));
  return r;
}

FakeResponse FakeResponse::raw(std::string bytes) {
  FakeResponse r;
  r.framing = Framing::kRaw;
  if (!bytes.empty()) r.send(std::move(bytes));
  return r;
}

FakeResponse FakeResponse::hang(std::shared_ptr<Gate> gate) {
  FakeResponse r;
  r.framing = Framing::kRaw;
  r.wait(std::move(gate));
  return r;
}

FakeResponse& FakeResponse::header(std::string name, std::string value) {
  headers.emplace_back(std::move(name), std::move(value));
  return *this;
}

FakeResponse& FakeResponse::send(std::string bytes) {
  steps.push_back({FakeStep::Kind::kSend, std::move(bytes), nullptr});
  return *this;
}

FakeResponse& FakeResponse::sse_data(std::string_view payload) {
  std::string event;
  event.reserve(payload.size() + 8);
  event.append("data: ").append(payload).append("\n\n");
  return send(std::move(event));
}

FakeResponse& FakeResponse::wait(std::shared_ptr<Gate> gate) {
  // A gate nobody holds never opens: the step lasts until the server stops.
  if (!gate) gate = Gate::make();
  steps.push_back({FakeStep::Kind::kWait, {}, std::move(gate)});
  return *this;
}

FakeResponse& FakeResponse::flush_headers() {
  steps.push_back({FakeStep::Kind::kHeaders, {}, nullptr});
  return *this;
}

FakeResponse& FakeResponse::close() {
  steps.push_back({FakeStep::Kind::kClose, {}, nullptr});
  return *this;
}

FakeResponse& FakeResponse::reset() {
  steps.push_back({FakeStep::Kind::kReset, {}, nullptr});
  return *this;
}

FakeResponse& FakeResponse::hold_until(std::shared_ptr<Gate> gate) {
  if (!gate) gate = Gate::make();
  steps.insert(steps.begin(), FakeStep{FakeStep::Kind::kWait, {}, std::move(gate)});
  return *this;
}

FakeResponse& FakeResponse::declare_content_length(std::size_t n) {
  declared_length = n;
  return *this;
}

// ---------------------------------------------------------------------------
// RecordedRequest

std::string RecordedRequest::header(std::string_view name) const {
  const auto it = headers.find(lower(name));
  return it == headers.end() ? std::string() : it->second;
}

bool RecordedRequest::has_header(std::string_view name) const {
  return headers.count(lower(name)) != 0;
}

nlohmann::json RecordedRequest::json() const { return nlohmann::json::parse(body); }

// ---------------------------------------------------------------------------
// FakeUpstream

struct FakeUpstream::Impl {
  // Declared first so it is destroyed last: sockets and coroutine frames
  // that still reference it go before it.
  asio::io_context ioc{1};
  tcp::acceptor acceptor{ioc};
  std::uint16_t port = 0;
  std::thread thread;
  std::promise<void> ran_out;  // set when ioc.run() returns
  std::future<void> ran_out_future = ran_out.get_future();
  std::mutex stop_mu;
  bool stopped = false;  // guarded by stop_mu

  mutable std::mutex mu;
  mutable std::condition_variable cv;
  std::deque<FakeResponse> queue;     // guarded by mu
  FakeResponse default_response;      // guarded by mu
  std::vector<RecordedRequest> log;   // guarded by mu
  std::size_t accepted = 0;           // guarded by mu
  std::size_t closed = 0;             // guarded by mu
  std::size_t aborted = 0;            // guarded by mu

  // Touched only on the io thread.
  bool stopping = false;
  std::map<std::size_t, std::shared_ptr<Connection>> live;

  template <class Pred>
  bool wait(Timeout timeout, Pred pred) const {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, timeout, pred);
  }

  FakeResponse record(const http::request<http::string_body>& req, std::size_t connection) {
    RecordedRequest r;
    r.method = std::string(req.method_string());
    r.target = std::string(req.target());
    r.body = req.body();
    r.connection = connection;
    for (const auto& field : req) {
      auto [it, inserted] = r.headers.try_emplace(lower(field.name_string()));
      if (!inserted) it->second += ", ";
      it->second += field.value();
    }
    FakeResponse response;
    {
      std::lock_guard lock(mu);
      log.push_back(std::move(r));
      if (queue.empty()) {
        response = default_response;
      } else {
        response = std::move(queue.front());
        queue.pop_front();
      }
    }
    cv.notify_all();
    return response;
  }

  asio::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
      if (stopping) co_return;
      if (ec) {
        if (ec == asio::error::connection_aborted) continue;
        co_return;
      }
      std::size_t id = 0;
      {
        std::lock_guard lock(mu);
        id = ++accepted;
      }
      cv.notify_all();
      // Each step is its own write; without this, Nagle holds a small write
      // until the client's delayed ACK of the previous one (~40 ms).
      error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      auto c = std::make_shared<Connection>(std::move(socket), id);
      live.emplace(id, c);
      asio::co_spawn(ioc, serve(c), asio::detached);
    }
  }

  asio::awaitable<void> serve(std::shared_ptr<Connection> c) {
    bool aborted_by_peer = false;
    try {
      aborted_by_peer = co_await serve_requests(*c);
    } catch (const std::exception&) {
      // Not expected (script failures are caught by the parallel group);
      // whatever it was, the connection is finished.
    }
    error_code ignored;
    if (c->socket.is_open()) {
      c->socket.shutdown(tcp::socket::shutdown_both, ignored);
      c->socket.close(ignored);
    }
    live.erase(c->id);
    // Both counters move together and only once the socket is closed, so a
    // test that saw an abort can rely on the connection being gone.
    {
      std::lock_guard lock(mu);
      ++closed;
      if (aborted_by_peer) ++aborted;
    }
    cv.notify_all();
  }

  // Returns true if the client went away in the middle of a response.
  asio::awaitable<bool> serve_requests(Connection& c) {
    for (;;) {
      http::request_parser<http::string_body> parser;
      parser.body_limit(kMaxRequestBody);
      auto [ec, n] = co_await http::async_read(c.socket, c.buffer, parser,
                                               asio::as_tuple(asio::use_awaitable));
      if (ec) co_return false;
      const http::request<http::string_body> req = parser.release();
      const FakeResponse response = record(req, c.id);

      // Run the script and a reader side by side: the reader notices a client
      // that goes away while the script is parked at a gate or writing.
      c.script_finished = false;
      auto ex = co_await asio::this_coro::executor;
      auto [order, script_error, outcome, watch_error] =
          co_await asio::experimental::make_parallel_group(
              asio::co_spawn(ex, run_script(c, response), asio::deferred),
              asio::co_spawn(ex, watch_peer(c), asio::deferred))
              .async_wait(asio::experimental::wait_for_one(), asio::deferred);
      // An unfinished script means the reader won (the client left, or we
      // are stopping) or a write failed because the client left.
      if (!c.script_finished) co_return !stopping;
      if (outcome == Outcome::kClose || !req.keep_alive()) co_return false;
    }
  }

  // Reads while a response is being written. Bytes (a pipelined request) are
  // kept for the next parse; EOF or an error means the client went away.
  asio::awaitable<void> watch_peer(Connection& c) {
    for (;;) {
      auto [ec, n] = co_await c.socket.async_read_some(c.buffer.prepare(4096),
                                                       asio::as_tuple(asio::use_awaitable));
      if (ec) co_return;
      c.buffer.commit(n);
    }
  }

  asio::awaitable<void> write(Connection& c, std::string_view bytes) {
    co_await asio::async_write(c.socket, asio::buffer(bytes.data(), bytes.size()),
                               asio::use_awaitable);
  }

  asio::awaitable<Outcome> run_script(Connection& c, const FakeResponse& r) {
    using Kind = FakeStep::Kind;
    const bool chunked = r.framing == FakeResponse::Framing::kChunked;
    bool head_pending = r.framing != FakeResponse::Framing::kRaw;
    const std::string head = head_pending ? build_head(r) : std::string();
    error_code ignored;
    for (const auto& step : r.steps) {
      switch (step.kind) {
        case Kind::kHeaders:
          if (head_pending) co_await write(c, head);
          head_pending = false;
          break;
        case Kind::kSend:
          if (head_pending) co_await write(c, head);
          head_pending = false;
          if (step.bytes.empty()) break;  // an empty chunk would end the body
          if (chunked) {
            char size_line[24];
            const int len =
                std::snprintf(size_line, sizeof size_line, "%zx\r\n", step.bytes.size());
            const std::array<asio::const_buffer, 3> chunk{
                asio::buffer(size_line, static_cast<std::size_t>(len)), asio::buffer(step.bytes),
                asio::buffer("\r\n", 2)};
            co_await asio::async_write(c.socket, chunk, asio::use_awaitable);
          } else {
            co_await write(c, step.bytes);
          }
          break;
        case Kind::kWait:
          co_await wait_gate(step.gate);
          break;
        case Kind::kClose:
          c.script_finished = true;
          c.socket.shutdown(tcp::socket::shutdown_both, ignored);
          c.socket.close(ignored);
          co_return Outcome::kClose;
        case Kind::kReset:
          c.script_finished = true;
          c.socket.set_option(tcp::socket::linger(true, 0), ignored);
          c.socket.close(ignored);
          co_return Outcome::kClose;
      }
    }
    if (head_pending) co_await write(c, head);
    if (chunked) co_await write(c, "0\r\n\r\n");
    c.script_finished = true;
    if (r.framing == FakeResponse::Framing::kRaw || asks_to_close(r)) co_return Outcome::kClose;
    co_return Outcome::kKeepAlive;
  }

  // Runs on the io thread. Closing every socket aborts pending reads, which
  // makes each connection's reader finish and cancel its script (gate waits
  // included), so ioc.run() runs out of work and returns.
  void shut_down() {
    stopping = true;
    error_code ignored;
    acceptor.close(ignored);
    for (auto& [id, c] : live) c->socket.close(ignored);
  }
};

FakeUpstream::FakeUpstream() : impl_(std::make_unique<Impl>()) {
  Impl& s = *impl_;
  s.default_response = FakeResponse::json(
      500, {{"error",
             {{"message", "fake upstream: no scripted response"},
              {"type", "server_error"},
              {"param", nullptr},
              {"code", nullptr}}}});
  const tcp::endpoint endpoint(asio::ip::address_v4::loopback(), 0);
  s.acceptor.open(endpoint.protocol());
  s.acceptor.set_option(tcp::acceptor::reuse_address(true));
  s.acceptor.bind(endpoint);
  s.acceptor.listen();
  s.port = s.acceptor.local_endpoint().port();
  asio::co_spawn(s.ioc, s.accept_loop(), asio::detached);
  s.thread = std::thread([&s] {
    s.ioc.run();
    s.ran_out.set_value();
  });
}

FakeUpstream::~FakeUpstream() { stop(); }

void FakeUpstream::stop() {
  Impl& s = *impl_;
  std::lock_guard lock(s.stop_mu);
  if (s.stopped) return;
  s.stopped = true;
  asio::post(s.ioc, [&s] { s.shut_down(); });
  // Graceful shutdown should drain at once; if a bug leaves work behind,
  // stop the loop anyway rather than hang the test binary.
  if (s.ran_out_future.wait_for(std::chrono::seconds(5)) != std::future_status::ready) {
    s.ioc.stop();
  }
  s.thread.join();
}

std::uint16_t FakeUpstream::port() const { return impl_->port; }

std::string FakeUpstream::base_url() const {
  return "http://127.0.0.1:" + std::to_string(impl_->port);
}

void FakeUpstream::enqueue(FakeResponse response) {
  std::lock_guard lock(impl_->mu);
  impl_->queue.push_back(std::move(response));
}

void FakeUpstream::set_default_response(FakeResponse response) {
  std::lock_guard lock(impl_->mu);
  impl_->default_response = std::move(response);
}

std::size_t FakeUpstream::pending_responses() const {
  std::lock_guard lock(impl_->mu);
  return impl_->queue.size();
}

std::vector<RecordedRequest> FakeUpstream::requests() const {
  std::lock_guard lock(impl_->mu);
  return impl_->log;
}

std::size_t FakeUpstream::request_count() const {
  std::lock_guard lock(impl_->mu);
  return impl_->log.size();
}

std::size_t FakeUpstream::connection_count() const {
  std::lock_guard lock(impl_->mu);
  return impl_->accepted;
}

std::size_t FakeUpstream::closed_connection_count() const {
  std::lock_guard lock(impl_->mu);
  return impl_->closed;
}

std::size_t FakeUpstream::aborted_response_count() const {
  std::lock_guard lock(impl_->mu);
  return impl_->aborted;
}

bool FakeUpstream::wait_for_requests(std::size_t n, Timeout timeout) const {
  return impl_->wait(timeout, [&] { return impl_->log.size() >= n; });
}

bool FakeUpstream::wait_for_connections(std::size_t n, Timeout timeout) const {
  return impl_->wait(timeout, [&] { return impl_->accepted >= n; });
}

bool FakeUpstream::wait_for_closed_connections(std::size_t n, Timeout timeout) const {
  return impl_->wait(timeout, [&] { return impl_->closed >= n; });
}

bool FakeUpstream::wait_for_aborted_responses(std::size_t n, Timeout timeout) const {
  return impl_->wait(timeout, [&] { return impl_->aborted >= n; });
}

}  // namespace tollgate::test
