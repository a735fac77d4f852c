#include "providers/upstream_client.h"

#include <algorithm>
#include <array>
#include <ctime>
#include <variant>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <spdlog/spdlog.h>

namespace tollgate {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;
using Clock = std::chrono::steady_clock;
using namespace asio::experimental::awaitable_operators;
constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

class UpstreamConnection {
 public:
  UpstreamConnection(UpstreamPool& pool, std::string origin, asio::any_io_executor ex)
      : pool(pool), origin(std::move(origin)), stream(std::in_place_index<0>, ex) {
    pool.live_.insert(this);
  }
  UpstreamConnection(UpstreamPool& pool, std::string origin, asio::any_io_executor ex, asio::ssl::context& ctx)
      : pool(pool), origin(std::move(origin)), stream(std::in_place_index<1>, ex, ctx) {
    pool.live_.insert(this);
  }
  ~UpstreamConnection() { pool.live_.erase(this); }

  beast::tcp_stream& lowest() {
    return std::visit([](auto& s) -> beast::tcp_stream& { return beast::get_lowest_layer(s); }, stream);
  }
  void close() {
    beast::error_code ec;
    lowest().socket().shutdown(tcp::socket::shutdown_both, ec);
    lowest().close();
  }

  UpstreamPool& pool;
  std::string origin;
  std::variant<beast::tcp_stream, TlsStream> stream;
  beast::flat_buffer buffer;
};

namespace {

UpstreamExchange::Failure failure(FailureClass cls, ApiError e) {
  UpstreamExchange::Failure f;
  f.failure = cls;
  f.error = std::move(e);
  return f;
}

std::chrono::milliseconds remaining(Clock::time_point deadline) {
  auto r = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return r.count() > 0 ? r : std::chrono::milliseconds(1);
}

std::chrono::milliseconds bounded(std::chrono::milliseconds want, Clock::time_point deadline) {
  return std::min(want, remaining(deadline));
}

bool is_timeout(const beast::error_code& ec) { return ec == beast::error::timeout; }

}  // namespace

// ---- UpstreamUrl -----------------------------------------------------------

Result<UpstreamUrl> UpstreamUrl::parse(std::string_view url) {
  UpstreamUrl u;
  std::string_view rest;
  if (url.starts_with("https://")) {
    u.tls = true;
    rest = url.substr(8);
  } else if (url.starts_with("http://")) {
    rest = url.substr(7);
  } else {
    return ApiError::internal("upstream URL must start with http:// or https://");
  }
  auto slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  u.base_path = slash == std::string_view::npos ? "" : std::string(rest.substr(slash));
  while (!u.base_path.empty() && u.base_path.back() == '/') u.base_path.pop_back();
  if (authority.empty()) return ApiError::internal("upstream URL has no host");
  if (authority.front() == '[') {  // [v6]:port
    auto close = authority.find(']');
    if (close == std::string_view::npos) return ApiError::internal("bad IPv6 literal in upstream URL");
    u.host = std::string(authority.substr(1, close - 1));
    auto after = authority.substr(close + 1);
    u.port = after.starts_with(":") ? std::string(after.substr(1)) : "";
  } else {
    auto colon = authority.rfind(':');
    u.host = std::string(authority.substr(0, colon));
    u.port = colon == std::string_view::npos ? "" : std::string(authority.substr(colon + 1));
  }
  if (u.port.empty()) u.port = u.tls ? "443" : "80";
  return u;
}

std::string UpstreamUrl::origin() const { return (tls ? "https://" : "http://") + host + ":" + port; }

std::string UpstreamUrl::host_header() const {
  bool default_port = (tls && port == "443") || (!tls && port == "80");
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return default_port ? h : h + ":" + port;
}

// ---- UpstreamPool ----------------------------------------------------------

UpstreamPool::UpstreamPool(asio::any_io_executor ex, std::shared_ptr<asio::ssl::context> tls, std::size_t max_idle)
    : ex_(std::move(ex)), tls_(std::move(tls)), max_idle_(max_idle) {}

UpstreamPool::~UpstreamPool() { idle_.clear(); }

void UpstreamPool::close_all() {
  for (auto* c : live_) c->close();
  idle_.clear();
}

std::size_t UpstreamPool::idle_count() const {
  std::size_t n = 0;
  for (const auto& [k, v] : idle_) n += v.size();
  return n;
}

std::unique_ptr<UpstreamConnection> UpstreamPool::take(const std::string& origin) {
  auto it = idle_.find(origin);
  if (it == idle_.end() || it->second.empty()) return nullptr;
  auto c = std::move(it->second.back());
  it->second.pop_back();
  return c;
}

void UpstreamPool::give_back(std::unique_ptr<UpstreamConnection> c) {
  auto& list = idle_[c->origin];
  c->lowest().expires_never();
  if (list.size() >= max_idle_) {
    c->close();
    return;
  }
  list.push_back(std::move(c));
}

// ---- UpstreamExchange ------------------------------------------------------

struct UpstreamExchange::State {
  Clock::time_point deadline;
  std::unique_ptr<http::response_parser<http::buffer_body>> parser;
  bool done = false;
  bool aborted = false;
  char scratch[16 * 1024];
};

UpstreamExchange::UpstreamExchange(UpstreamPool& pool, std::unique_ptr<UpstreamConnection> conn,
                                   Clock::time_point deadline)
    // Default-initialised, not value-initialised: the scratch buffer is not zeroed.
    : pool_(pool), conn_(std::move(conn)), state_(new State) {
  state_->deadline = deadline;
}

UpstreamExchange::~UpstreamExchange() {
  if (!conn_) return;
  if (state_->done && !state_->aborted && state_->parser && state_->parser->get().keep_alive()) {
    pool_.give_back(std::move(conn_));
  } else {
    conn_->close();
  }
}

void UpstreamExchange::abort() {
  if (state_->aborted || !conn_) return;
  state_->aborted = true;
  conn_->close();
}

namespace {

bool header_safe(std::string_view s) {
  for (char c : s) {
    if (c == '\r' || c == '\n' || c == '\0') return false;
  }
  return true;
}

std::string serialize_request_head(const UpstreamRequest& req, const std::string& host) {
  std::string h;
  h.reserve(256 + req.target.size());
  h += req.method;
  h += ' ';
  h += req.target;
  h += " HTTP/1.1\r\nhost: ";
  h += host;
  h += "\r\nuser-agent: tollgate/" TOLLGATE_VERSION "\r\n";
  for (std::size_t i = 0; i < req.headers.size(); ++i) {
    const auto& [k, v] = req.headers[i];
    // As with fields::set, a later header of the same name wins (the
    // provider's configured headers come after the adapter's).
    bool replaced = false;
    for (std::size_t j = i + 1; j < req.headers.size() && !replaced; ++j) replaced = beast::iequals(req.headers[j].first, k);
    if (replaced || !header_safe(k) || !header_safe(v) || beast::iequals(k, "content-length") || beast::iequals(k, "connection") ||
        beast::iequals(k, "host") || beast::iequals(k, "transfer-encoding")) {
      continue;
    }
    h += k;
    h += ": ";
    h += v;
    h += "\r\n";
  }
  if (!req.body.empty() || req.method == "POST" || req.method == "PUT" || req.method == "PATCH") {
    h += "content-length: ";
    h += std::to_string(req.body.size());
    h += "\r\n";
  }
  h += "connection: keep-alive\r\n\r\n";
  return h;
}

}  // namespace

static asio::awaitable<Result<std::unique_ptr<UpstreamConnection>, UpstreamExchange::Failure>> open_connection(
    UpstreamPool& pool, asio::any_io_executor ex, asio::ssl::context* tls, const UpstreamUrl& url,
    const AttemptLimits& limits) {
  tcp::resolver resolver(ex);
  asio::steady_timer timer(ex, bounded(limits.connect, limits.deadline));
  auto resolved = co_await (resolver.async_resolve(url.host, url.port, use_nothrow) || timer.async_wait(use_nothrow));
  if (resolved.index() == 1) {
    co_return failure(FailureClass::timeout, ApiError::gateway_timeout("timed out resolving the upstream host"));
  }
  auto [rec, endpoints] = std::get<0>(resolved);
  if (rec) {
    spdlog::warn("upstream {}: resolve failed: {}", url.origin(), rec.message());
    co_return failure(FailureClass::connect, ApiError::bad_gateway("could not resolve the upstream host", "upstream_unreachable"));
  }

  std::unique_ptr<UpstreamConnection> c;
  if (url.tls) {
    if (!tls) co_return failure(FailureClass::connect, ApiError::internal("TLS is not available"));
    c = std::make_unique<UpstreamConnection>(pool, url.origin(), ex, *tls);
  } else {
    c = std::make_unique<UpstreamConnection>(pool, url.origin(), ex);
  }
  c->lowest().expires_after(bounded(limits.connect, limits.deadline));
  auto [cec, ep] = co_await c->lowest().async_connect(endpoints, use_nothrow);
  if (cec) {
    spdlog::warn("upstream {}: connect failed: {}", url.origin(), cec.message());
    if (is_timeout(cec)) {
      co_return failure(FailureClass::timeout, ApiError::gateway_timeout("timed out connecting to the upstream"));
    }
    co_return failure(FailureClass::connect, ApiError::bad_gateway("could not connect to the upstream", "upstream_unreachable"));
  }
  c->lowest().socket().set_option(tcp::no_delay(true));
  if (url.tls) {
    auto& s = std::get<1>(c->stream);
    if (!SSL_set_tlsext_host_name(s.native_handle(), url.host.c_str())) {
      co_return failure(FailureClass::connect, ApiError::bad_gateway("TLS SNI setup failed", "upstream_tls_error"));
    }
    s.set_verify_callback(asio::ssl::host_name_verification(url.host));
    auto [hec] = co_await s.async_handshake(asio::ssl::stream_base::client, use_nothrow);
    if (hec) {
      spdlog::warn("upstream {}: TLS handshake failed: {}", url.origin(), hec.message());
      if (is_timeout(hec)) {
        co_return failure(FailureClass::timeout, ApiError::gateway_timeout("timed out in the TLS handshake with the upstream"));
      }
      co_return failure(FailureClass::connect, ApiError::bad_gateway("TLS handshake with the upstream failed", "upstream_tls_error"));
    }
  }
  co_return c;
}

asio::awaitable<Result<std::unique_ptr<UpstreamExchange>, UpstreamExchange::Failure>> UpstreamExchange::start(
    UpstreamPool& pool, const UpstreamUrl& url, UpstreamRequest req, const AttemptLimits& limits) {
  // The request head is written by hand and goes out with the body in one
  // write (Beast's serializer costs more than the rest of a small request).
  // Names and values come from the adapters and the config; a value with a
  // line break would smuggle a header, so such a header is dropped.
  std::string head = serialize_request_head(req, url.host_header());
  const auto origin = url.origin();
  for (int attempt = 0; attempt < 2; ++attempt) {
    // A retry after a stale pooled connection always dials a fresh one.
    auto conn = attempt == 0 ? pool.take(origin) : nullptr;
    const bool reused = conn != nullptr;
    if (!conn) {
      auto opened = co_await open_connection(pool, pool.ex_, pool.tls_.get(), url, limits);
      if (!opened) co_return opened.error();
      conn = std::move(opened.value());
      ++pool.opened_;
    }
    conn->buffer.clear();
    conn->lowest().expires_after(bounded(limits.first_byte, limits.deadline));
    const std::array<asio::const_buffer, 2> out{asio::buffer(head), asio::buffer(req.body)};
    auto [wec, wn] = co_await std::visit([&](auto& s) { return asio::async_write(s, out, use_nothrow); }, conn->stream);
    auto parser = std::make_unique<http::response_parser<http::buffer_body>>();
    parser->header_limit(64 * 1024);
    parser->body_limit(boost::none);
    beast::error_code hec = wec;
    if (!wec) {
      auto [ec, n] = co_await std::visit(
          [&](auto& s) { return http::async_read_header(s, conn->buffer, *parser, use_nothrow); }, conn->stream);
      hec = ec;
    }
    if (hec) {
      conn->close();
      const bool stale = reused && attempt == 0 && !is_timeout(hec) && conn->buffer.size() == 0;
      if (stale) continue;  // the origin closed an idle pooled connection
      if (is_timeout(hec)) {
        co_return failure(FailureClass::timeout, ApiError::gateway_timeout("the upstream did not respond in time"));
      }
      spdlog::warn("upstream {}: no valid response header: {}", origin, hec.message());
      co_return failure(FailureClass::server, ApiError::bad_gateway("the upstream closed the connection or sent an invalid response", "upstream_protocol_error"));
    }
    std::unique_ptr<UpstreamExchange> ex(new UpstreamExchange(pool, std::move(conn), limits.deadline));
    ex->state_->parser = std::move(parser);
    ex->state_->done = ex->state_->parser->is_done();
    co_return ex;
  }
  co_return failure(FailureClass::connect, ApiError::bad_gateway("could not reach the upstream", "upstream_unreachable"));
}

int UpstreamExchange::status() const { return state_->parser->get().result_int(); }

std::string UpstreamExchange::header(std::string_view name) const {
  const auto& h = state_->parser->get();
  auto it = h.find(name);
  return it == h.end() ? std::string() : std::string(it->value());
}

std::optional<int> UpstreamExchange::retry_after_seconds() const {
  auto digits = [](const std::string& v) -> std::optional<long> {
    if (v.empty() || v.size() > 9) return std::nullopt;
    long n = 0;
    for (char c : v) {
      if (c < '0' || c > '9') return std::nullopt;
      n = n * 10 + (c - '0');
    }
    return n;
  };
  // Azure and OpenAI also send milliseconds; round up to whole seconds.
  if (auto ms = digits(header("retry-after-ms"))) return static_cast<int>((*ms + 999) / 1000);
  auto v = header("retry-after");
  if (auto s = digits(v)) return static_cast<int>(*s);
  // The HTTP-date form: "Wed, 21 Oct 2015 07:28:00 GMT".
  std::tm tm{};
  if (!v.empty() && strptime(v.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm)) {
    const auto when = std::chrono::system_clock::from_time_t(timegm(&tm));
    const auto secs = std::chrono::duration_cast<std::chrono::seconds>(when - std::chrono::system_clock::now()).count();
    return static_cast<int>(std::clamp<long long>(secs, 0, 24 * 3600));
  }
  return std::nullopt;
}

asio::awaitable<Result<bool, UpstreamExchange::Failure>> UpstreamExchange::read_some(std::string& out) {
  auto& st = *state_;
  if (st.done) co_return false;
  if (st.aborted) co_return failure(FailureClass::cancelled, ApiError::bad_gateway("upstream request cancelled"));
  conn_->lowest().expires_after(remaining(st.deadline));
  for (;;) {
    auto& body = st.parser->get().body();
    body.data = st.scratch;
    body.size = sizeof st.scratch;
    auto [ec, n] = co_await std::visit(
        [&](auto& s) { return http::async_read_some(s, conn_->buffer, *st.parser, use_nothrow); }, conn_->stream);
    if (ec == http::error::need_buffer) ec = {};
    const std::size_t got = sizeof st.scratch - st.parser->get().body().size;
    out.append(st.scratch, got);
    if (ec == asio::error::operation_aborted && !st.aborted) {
      // Cancelled by the caller (e.g. a keep-alive tick won a race): the
      // parser keeps its state and the next read_some continues.
      co_return failure(FailureClass::cancelled, ApiError::bad_gateway("upstream read cancelled"));
    }
    if (ec) {
      conn_->close();
      st.aborted = true;
      if (is_timeout(ec)) {
        co_return failure(FailureClass::timeout, ApiError::gateway_timeout("the upstream response exceeded the total timeout"));
      }
      co_return failure(FailureClass::server, ApiError::bad_gateway("the upstream closed the connection before the response was complete", "upstream_protocol_error"));
    }
    if (st.parser->is_done()) {
      st.done = true;
      co_return got > 0;
    }
    if (got > 0) co_return true;
  }
}

asio::awaitable<void> UpstreamExchange::discard_rest(std::size_t max_bytes) {
  std::string sink;
  while (!state_->done && !state_->aborted) {
    auto more = co_await read_some(sink);
    if (!more || sink.size() > max_bytes) {
      abort();
      co_return;
    }
  }
}

asio::awaitable<Result<std::string, UpstreamExchange::Failure>> UpstreamExchange::read_all(std::size_t max_bytes) {
  std::string body;
  for (;;) {
    auto more = co_await read_some(body);
    if (!more) co_return more.error();
    if (body.size() > max_bytes) {
      abort();
      co_return failure(FailureClass::server, ApiError::bad_gateway("the upstream response is too large", "upstream_response_too_large"));
    }
    if (!*more && state_->done) co_return body;
  }
}

}  // namespace tollgate
