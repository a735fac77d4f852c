#include "observability/otlp_exporter.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <stdexcept>
#include <thread>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "tollgate/error.h"

namespace tollgate {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

namespace {

constexpr std::string_view kDefaultPath = "/v1/traces";
constexpr std::size_t kResponseBodyLimit = 64 * 1024;
constexpr auto kLogInterval = std::chrono::minutes(1);

// ---- endpoint ------------------------------------------------------------------

struct Endpoint {
  bool tls = false;
  std::string host;  // without IPv6 brackets
  std::string port;
  std::string target;       // path and query
  std::string host_header;  // host[:port] as the URL spelled it
  std::string for_logs;     // scheme://authority/path: no query, which might carry a token
};

bool host_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_';
}

Result<Endpoint, std::string> parse_endpoint(std::string_view url) {
  if (url.empty()) return std::string("endpoint is empty");
  for (char c : url)
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f)
      return std::string("endpoint contains whitespace or control characters");
  auto sep = url.find("://");
  if (sep == std::string_view::npos) return std::string("endpoint must start with http:// or https://");
  std::string scheme(url.substr(0, sep));
  std::transform(scheme.begin(), scheme.end(), scheme.begin(), [](char c) { return c | 0x20; });
  Endpoint ep;
  if (scheme == "https")
    ep.tls = true;
  else if (scheme != "http")
    return "unsupported scheme \"" + std::string(url.substr(0, sep)) + "\" (use http or https)";
  std::string_view rest = url.substr(sep + 3);
  if (rest.find('#') != std::string_view::npos) return std::string("endpoint must not contain a fragment (#)");
  const auto authority_end = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, authority_end);
  std::string_view path = authority_end == std::string_view::npos ? std::string_view{} : rest.substr(authority_end);
  if (authority.find('@') != std::string_view::npos)
    return std::string("credentials in the endpoint URL are not supported (use tracing.headers)");

  std::string_view host, port;
  if (authority.starts_with('[')) {
    auto close = authority.find(']');
    if (close == std::string_view::npos) return std::string("endpoint has an unterminated IPv6 address");
    host = authority.substr(1, close - 1);
    auto after = authority.substr(close + 1);
    if (!after.empty() && !after.starts_with(':')) return std::string("endpoint has junk after the IPv6 address");
    port = after.empty() ? after : after.substr(1);
    if (host.empty() || host.find_first_not_of("0123456789abcdefABCDEF:.") != std::string_view::npos)
      return std::string("endpoint has an invalid IPv6 address");
  } else {
    auto colon = authority.find(':');
    host = authority.substr(0, colon);
    if (colon != std::string_view::npos) {
      port = authority.substr(colon + 1);
      if (port.empty()) return std::string("endpoint has an empty port");
    }
    if (!std::all_of(host.begin(), host.end(), host_char)) return "endpoint has an invalid host \"" + std::string(host) + "\"";
  }
  if (host.empty()) return std::string("endpoint has no host");
  if (!port.empty()) {
    if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string_view::npos)
      return "endpoint has an invalid port \"" + std::string(port) + "\"";
    const int n = std::stoi(std::string(port));
    if (n < 1 || n > 65535) return "endpoint port " + std::string(port) + " is out of range";
  }

  ep.host = std::string(host);
  ep.port = port.empty() ? (ep.tls ? "443" : "80") : std::string(port);
  ep.host_header = std::string(authority);
  if (path.empty() || path.starts_with('?'))
    ep.target = std::string(kDefaultPath) + std::string(path);  // OTLP's traces path when none is given
  else
    ep.target = std::string(path);
  ep.for_logs = scheme + "://" + ep.host_header + ep.target.substr(0, ep.target.find('?'));
  return ep;
}

// ---- JSON ------------------------------------------------------------------------

std::string unix_nanos(std::chrono::system_clock::time_point t) {
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  return std::to_string(ns < 0 ? 0 : ns);
}

nlohmann::json any_value(const AttributeValue& v) {
  if (auto* s = std::get_if<std::string>(&v)) return {{"stringValue", *s}};
  // proto3 JSON: int64 is a decimal string, so values above 2^53 survive
  // JavaScript-based collectors.
  if (auto* i = std::get_if<std::int64_t>(&v)) return {{"intValue", std::to_string(*i)}};
  if (auto* b = std::get_if<bool>(&v)) return {{"boolValue", *b}};
  const double d = std::get<double>(v);
  if (std::isnan(d)) return {{"doubleValue", "NaN"}};
  if (std::isinf(d)) return {{"doubleValue", d > 0 ? "Infinity" : "-Infinity"}};
  return {{"doubleValue", d}};
}

int kind_code(SpanData::Kind k) {
  switch (k) {
    case SpanData::Kind::internal: return 1;
    case SpanData::Kind::server: return 2;
    case SpanData::Kind::client: return 3;
  }
  return 0;
}

int status_code(SpanData::Status s) {
  switch (s) {
    case SpanData::Status::unset: return 0;
    case SpanData::Status::ok: return 1;
    case SpanData::Status::error: return 2;
  }
  return 0;
}

nlohmann::json span_json(const SpanData& s) {
  nlohmann::json attributes = nlohmann::json::array();
  for (const auto& [key, value] : s.attributes) attributes.push_back({{"key", key}, {"value", any_value(value)}});
  nlohmann::json status = {{"code", status_code(s.status)}};
  if (!s.status_message.empty()) status["message"] = s.status_message;
  nlohmann::json j = {
      {"traceId", s.trace_id},
      {"spanId", s.span_id},
      {"name", s.name},
      {"kind", kind_code(s.kind)},
      {"startTimeUnixNano", unix_nanos(s.start)},
      {"endTimeUnixNano", unix_nanos(s.end)},
      {"attributes", std::move(attributes)},
      {"status", std::move(status)},
  };
  if (!s.parent_span_id.empty()) j["parentSpanId"] = s.parent_span_id;
  return j;
}

// ---- logging -------------------------------------------------------------------

std::shared_ptr<spdlog::logger> otlp_log() {
  if (auto l = spdlog::get("otlp")) return l;
  try {
    return spdlog::stdout_color_mt("otlp");
  } catch (const spdlog::spdlog_ex&) {
    return spdlog::get("otlp");  // registered meanwhile by another thread
  }
}

// ---- HTTP ------------------------------------------------------------------------

struct PostOutcome {
  bool ok = false;
  std::string error;  // for the log; never contains request headers
};

PostOutcome failed_with(std::string_view what, const beast::error_code& ec) {
  return {false, std::string(what) + ": " + (ec == beast::error::timeout ? std::string("timed out") : ec.message())};
}

template <class Stream>
asio::awaitable<PostOutcome> exchange(Stream& stream, http::request<http::string_body>& req) {
  auto [wec, written] = co_await http::async_write(stream, req, use_nothrow);
  if (wec) co_return failed_with("send", wec);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(kResponseBodyLimit);
  auto [rec, read] = co_await http::async_read(stream, buffer, parser, use_nothrow);
  if (rec) co_return failed_with("read response", rec);
  const auto& res = parser.get();
  if (res.result_int() / 100 == 2) co_return PostOutcome{true, {}};
  std::string body = res.body().substr(0, 200);
  std::replace_if(body.begin(), body.end(), [](char c) { return c == '\n' || c == '\r'; }, ' ');
  co_return PostOutcome{false, "HTTP " + std::to_string(res.result_int()) + (body.empty() ? "" : ": " + body)};
}

asio::awaitable<PostOutcome> post(const Endpoint& ep, asio::ssl::context* tls,
                                  const std::map<std::string, std::string>& headers, std::string body,
                                  Clock::time_point deadline) {
  auto ex = co_await asio::this_coro::executor;
  tcp::resolver resolver(ex);
  auto [rec, endpoints] = co_await resolver.async_resolve(ep.host, ep.port, use_nothrow);
  if (rec) co_return failed_with("resolve " + ep.host, rec);
  beast::tcp_stream tcp_stream(ex);
  // One deadline for connect, handshake, write and read together.
  tcp_stream.expires_at(deadline);
  auto [cec, connected] = co_await tcp_stream.async_connect(endpoints, use_nothrow);
  if (cec) co_return failed_with("connect", cec);

  http::request<http::string_body> req{http::verb::post, ep.target, 11};
  for (const auto& [name, value] : headers) req.set(name, value);
  req.set(http::field::host, ep.host_header);
  req.set(http::field::user_agent, "tollgate");
  req.set(http::field::content_type, "application/json");
  req.keep_alive(false);
  req.body() = std::move(body);
  req.prepare_payload();

  if (!tls) {
    PostOutcome out = co_await exchange(tcp_stream, req);
    beast::error_code ignored;
    tcp_stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    co_return out;
  }
  beast::ssl_stream<beast::tcp_stream> stream(std::move(tcp_stream), *tls);
  beast::error_code ec;
  asio::ip::make_address(ep.host, ec);
  if (ec && !SSL_set_tlsext_host_name(stream.native_handle(), ep.host.c_str()))  // SNI is for names only
    co_return PostOutcome{false, "TLS: cannot set server name"};
  stream.set_verify_callback(asio::ssl::host_name_verification(ep.host));
  auto [hec] = co_await stream.async_handshake(asio::ssl::stream_base::client, use_nothrow);
  if (hec) co_return failed_with("TLS handshake", hec);
  PostOutcome out = co_await exchange(stream, req);
  auto [sec] = co_await stream.async_shutdown(use_nothrow);  // errors here change nothing
  (void)sec;
  co_return out;
}

}  // namespace

std::string encode_otlp_json(const std::string& service_name, const std::vector<SpanData>& spans) {
  nlohmann::json span_list = nlohmann::json::array();
  for (const auto& s : spans) span_list.push_back(span_json(s));
  nlohmann::json request = {
      {"resourceSpans",
       {{
           {"resource",
            {{"attributes", {{{"key", "service.name"}, {"value", {{"stringValue", service_name}}}}}}}},
           {"scopeSpans", {{{"scope", {{"name", "tollgate"}}}, {"spans", std::move(span_list)}}}},
       }}},
  };
  return request.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::optional<std::string> validate_otlp_endpoint(std::string_view url) {
  auto ep = parse_endpoint(url);
  if (ep) return std::nullopt;
  return ep.error();
}

// ---- OtlpExporter ------------------------------------------------------------------

struct OtlpExporter::Impl {
  Options opts;
  Endpoint endpoint;
  std::unique_ptr<asio::ssl::context> tls;
  std::shared_ptr<spdlog::logger> log;

  std::mutex mu;
  std::condition_variable work_cv;  // the worker: a full batch, flush, stop
  std::condition_variable done_cv;  // flush(): spans attempted
  std::deque<SpanData> queue;
  std::uint64_t accepted = 0;   // spans ever queued
  std::uint64_t attempted = 0;  // spans taken off the queue (sent, failed or dropped at stop)
  bool flush_requested = false;
  bool stopping = false;
  bool finished = false;

  std::atomic<std::uint64_t> exported{0}, dropped{0}, failed{0};

  // Worker-thread only.
  asio::io_context ioc;
  std::optional<Clock::time_point> last_warning;
  std::uint64_t failures_since_warning = 0;

  std::mutex stop_mu;  // serialises stop() callers around join()
  std::thread worker;

  void run();
  void send_batch(std::unique_lock<std::mutex>& lk, Clock::time_point deadline);
  PostOutcome post_sync(std::string body, Clock::time_point deadline);
  void report_failure(const std::string& error, std::size_t spans);
};

OtlpExporter::OtlpExporter(Options options) : impl_(std::make_unique<Impl>()) {
  auto ep = parse_endpoint(options.endpoint);
  if (!ep) throw std::invalid_argument("tracing.otlp_endpoint: " + ep.error());
  if (options.max_batch == 0 || options.max_queue == 0)
    throw std::invalid_argument("OTLP exporter: max_batch and max_queue must be positive");
  for (const auto& [name, value] : options.headers) {
    const bool bad_name = name.empty() || name.find_first_of(" :\r\n") != std::string::npos;
    if (bad_name || value.find_first_of("\r\n") != std::string::npos)
      throw std::invalid_argument("tracing.headers: invalid header \"" + name + "\"");
  }
  impl_->opts = std::move(options);
  impl_->endpoint = std::move(ep.value());
  if (impl_->endpoint.tls) {
    impl_->tls = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client);
    impl_->tls->set_default_verify_paths();
    impl_->tls->set_verify_mode(asio::ssl::verify_peer);
  }
  impl_->log = otlp_log();
  impl_->worker = std::thread([impl = impl_.get()] { impl->run(); });
}

OtlpExporter::~OtlpExporter() { stop(); }

void OtlpExporter::submit(SpanData span) {
  std::lock_guard lk(impl_->mu);
  if (impl_->stopping || impl_->queue.size() >= impl_->opts.max_queue) {
    impl_->dropped.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  impl_->queue.push_back(std::move(span));
  ++impl_->accepted;
  if (impl_->queue.size() == impl_->opts.max_batch) impl_->work_cv.notify_one();
}

void OtlpExporter::flush() {
  std::unique_lock lk(impl_->mu);
  if (impl_->finished || impl_->stopping) return;
  const std::uint64_t target = impl_->accepted;
  if (impl_->attempted >= target) return;
  impl_->flush_requested = true;
  impl_->work_cv.notify_one();
  impl_->done_cv.wait(lk, [&] { return impl_->attempted >= target || impl_->finished; });
}

void OtlpExporter::stop() {
  std::lock_guard stop_lk(impl_->stop_mu);
  {
    std::lock_guard lk(impl_->mu);
    impl_->stopping = true;
  }
  impl_->work_cv.notify_one();
  if (impl_->worker.joinable()) impl_->worker.join();
}

std::uint64_t OtlpExporter::exported() const { return impl_->exported.load(); }
std::uint64_t OtlpExporter::dropped() const { return impl_->dropped.load(); }
std::uint64_t OtlpExporter::failed() const { return impl_->failed.load(); }

void OtlpExporter::Impl::run() {
  std::unique_lock lk(mu);
  auto next_tick = Clock::now() + opts.interval;
  while (!stopping) {
    work_cv.wait_until(lk, next_tick, [&] { return stopping || flush_requested || queue.size() >= opts.max_batch; });
    if (stopping) break;
    // Between ticks only full batches go out; a tick or a flush sends the rest.
    const bool drain = flush_requested || Clock::now() >= next_tick;
    while (!stopping && (drain ? !queue.empty() : queue.size() >= opts.max_batch))
      send_batch(lk, Clock::now() + opts.timeout);
    if (drain && !stopping) {
      flush_requested = false;
      next_tick = Clock::now() + opts.interval;
    }
  }
  const auto deadline = Clock::now() + opts.timeout;
  while (!queue.empty() && Clock::now() < deadline) send_batch(lk, deadline);
  dropped.fetch_add(queue.size());
  attempted += queue.size();
  queue.clear();
  finished = true;
  done_cv.notify_all();
}

void OtlpExporter::Impl::send_batch(std::unique_lock<std::mutex>& lk, Clock::time_point deadline) {
  const std::size_t n = std::min(queue.size(), opts.max_batch);
  std::vector<SpanData> batch(std::make_move_iterator(queue.begin()), std::make_move_iterator(queue.begin() + n));
  queue.erase(queue.begin(), queue.begin() + n);
  lk.unlock();
  PostOutcome out;
  try {
    out = post_sync(encode_otlp_json(opts.service_name, batch), deadline);
  } catch (const std::exception& e) {  // allocation failure and the like: the thread must survive
    out = {false, e.what()};
  }
  if (out.ok)
    exported.fetch_add(n);
  else
    report_failure(out.error, n);
  lk.lock();
  attempted += n;
  done_cv.notify_all();
}

PostOutcome OtlpExporter::Impl::post_sync(std::string body, Clock::time_point deadline) {
  // Asynchronous operations on a private io_context run to completion here:
  // synchronous for this thread, but with the stream's timeouts, which
  // Beast applies only to asynchronous operations.
  std::optional<PostOutcome> result;
  ioc.restart();
  asio::co_spawn(ioc, post(endpoint, tls.get(), opts.headers, std::move(body), deadline),
                 [&](std::exception_ptr e, PostOutcome out) {
                   if (e)
                     result = PostOutcome{false, "internal error"};
                   else
                     result = std::move(out);
                 });
  ioc.run();
  return result.value_or(PostOutcome{false, "internal error"});
}

void OtlpExporter::Impl::report_failure(const std::string& error, std::size_t spans) {
  failed.fetch_add(spans);
  ++failures_since_warning;
  const auto now = Clock::now();
  if (last_warning && now - *last_warning < kLogInterval) return;
  const std::uint64_t unlogged = failures_since_warning - 1;
  log->warn("OTLP export to {} failed: {}; {} span(s) lost{}", endpoint.for_logs, error, spans,
            unlogged ? fmt::format(" ({} more failed export(s) since the last warning)", unlogged) : "");
  failures_since_warning = 0;
  last_warning = now;
}

}  // namespace tollgate
