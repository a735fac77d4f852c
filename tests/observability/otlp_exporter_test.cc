#include "observability/otlp_exporter.h"

#include <gtest/gtest.h>

#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <limits>
#include <deque>
#include <mutex>
#include <thread>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>

#include "support/self_signed.h"

namespace tollgate {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;
using nlohmann::json;
constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);
constexpr auto kWait = 10s;

// A tiny OTLP collector on 127.0.0.1:<random port>: records every request,
// answers 200 unless told otherwise, and can hold its answers until
// released. Optionally speaks TLS with a self-signed certificate.
class FakeCollector {
 public:
  struct Request {
    std::string method;
    std::string target;
    std::map<std::string, std::string> headers;  // lowercase names
    std::string body;
    json spans() const { return json::parse(body)["resourceSpans"][0]["scopeSpans"][0]["spans"]; }
  };

  explicit FakeCollector(bool tls = false) : acceptor_(ioc_, {asio::ip::make_address("127.0.0.1"), 0}) {
    if (tls) {
      auto cert = test::make_self_signed_cert();
      tls_ = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
      tls_->use_certificate_chain_file(cert.cert_file);
      tls_->use_private_key_file(cert.key_file, asio::ssl::context::pem);
    }
    asio::co_spawn(ioc_, accept_loop(), asio::detached);
    thread_ = std::thread([this] { ioc_.run(); });
  }

  ~FakeCollector() {
    asio::post(ioc_, [this] {
      beast::error_code ec;
      acceptor_.close(ec);
    });
    release();
    ioc_.stop();
    thread_.join();
  }

  std::string url(const std::string& path = "/v1/traces") const {
    return std::string(tls_ ? "https" : "http") + "://127.0.0.1:" + std::to_string(port()) + path;
  }
  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }

  // The next responses' statuses, in order; 200 after them.
  void respond_with(std::vector<int> statuses) {
    std::lock_guard lk(mu_);
    statuses_.insert(statuses_.end(), statuses.begin(), statuses.end());
  }
  // Requests are read and recorded, but answered only after release().
  void hold() {
    std::lock_guard lk(mu_);
    held_ = true;
  }
  void release() {
    {
      std::lock_guard lk(mu_);
      held_ = false;
    }
    // Re-arming the timer cancels every handler waiting on it.
    asio::post(ioc_, [this] { release_.expires_at(asio::steady_timer::time_point::max()); });
  }

  bool wait_for_requests(std::size_t n) {
    std::unique_lock lk(mu_);
    return cv_.wait_for(lk, kWait, [&] { return requests_.size() >= n; });
  }
  bool wait_for_connections(std::size_t n) {
    std::unique_lock lk(mu_);
    return cv_.wait_for(lk, kWait, [&] { return connections_ >= n; });
  }
  std::vector<Request> requests() const {
    std::lock_guard lk(mu_);
    return requests_;
  }

 private:
  asio::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor_.async_accept(use_nothrow);
      if (ec) co_return;
      {
        std::lock_guard lk(mu_);
        ++connections_;
      }
      cv_.notify_all();
      if (tls_)
        asio::co_spawn(ioc_, serve_tls(std::move(socket)), asio::detached);
      else
        asio::co_spawn(ioc_, serve(beast::tcp_stream(std::move(socket))), asio::detached);
    }
  }

  asio::awaitable<void> serve_tls(tcp::socket socket) {
    beast::ssl_stream<beast::tcp_stream> stream(std::move(socket), *tls_);
    beast::get_lowest_layer(stream).expires_after(kWait);
    auto [ec] = co_await stream.async_handshake(asio::ssl::stream_base::server, use_nothrow);
    if (!ec) co_await serve(std::move(stream));
  }

  template <class Stream>
  asio::awaitable<void> serve(Stream stream) {
    beast::get_lowest_layer(stream).expires_after(kWait);
    beast::flat_buffer buffer;
    http::request<http::string_body> req;
    auto [ec, n] = co_await http::async_read(stream, buffer, req, use_nothrow);
    if (ec) co_return;
    Request r{std::string(req.method_string()), std::string(req.target()), {}, req.body()};
    for (const auto& field : req) {
      std::string name(field.name_string());
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      r.headers[name] = std::string(field.value());
    }
    int status = 200;
    bool held;
    {
      std::lock_guard lk(mu_);
      requests_.push_back(std::move(r));
      if (!statuses_.empty()) {
        status = statuses_.front();
        statuses_.pop_front();
      }
      held = held_;
    }
    cv_.notify_all();
    if (held) {
      beast::get_lowest_layer(stream).expires_never();
      co_await release_.async_wait(use_nothrow);
    }
    http::response<http::string_body> res{static_cast<http::status>(status), 11};
    res.set(http::field::content_type, "application/json");
    res.body() = status == 200 ? "{}" : R"({"code":13,"message":"collector says no"})";
    res.prepare_payload();
    co_await http::async_write(stream, res, use_nothrow);
  }

  asio::io_context ioc_;
  tcp::acceptor acceptor_;
  std::unique_ptr<asio::ssl::context> tls_;
  asio::steady_timer release_{ioc_, asio::steady_timer::time_point::max()};
  std::thread thread_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Request> requests_;
  std::deque<int> statuses_;
  bool held_ = false;
  std::size_t connections_ = 0;
};

SpanData make_span(int i) {
  SpanData s;
  s.trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
  char span_id[17];
  std::snprintf(span_id, sizeof span_id, "%016x", i + 1);
  s.span_id = span_id;
  s.name = "span " + std::to_string(i);
  s.kind = SpanData::Kind::client;
  s.start = std::chrono::system_clock::time_point(std::chrono::seconds(1700000000));
  s.end = s.start + 250ms;
  return s;
}

std::vector<std::string> names(const FakeCollector::Request& r) {
  std::vector<std::string> out;
  for (const auto& s : r.spans()) out.push_back(s["name"]);
  return out;
}

OtlpExporter::Options options_for(const FakeCollector& collector) {
  OtlpExporter::Options o;
  o.endpoint = collector.url();
  o.interval = 1h;  // tests trigger sends with flush(), a full batch or stop()
  o.timeout = 10s;
  return o;
}

// ---- encoding -------------------------------------------------------------------

TEST(OtlpJson, EncodesAnExportTraceServiceRequest) {
  SpanData s;
  s.trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
  s.span_id = "00f067aa0ba902b7";
  s.parent_span_id = "b7ad6b7169203331";
  s.name = "chat gpt-4o";
  s.kind = SpanData::Kind::server;
  s.start = std::chrono::system_clock::time_point(std::chrono::nanoseconds(1700000000123456789));
  s.end = s.start + std::chrono::milliseconds(1500);
  s.attributes = {{"gen_ai.request.model", std::string("gpt-4o")},
                  {"gen_ai.usage.input_tokens", std::int64_t{9007199254740993}},  // 2^53 + 1
                  {"tollgate.cost_usd", 0.125},
                  {"tollgate.stream", true}};
  s.status = SpanData::Status::error;
  s.status_message = "upstream 503";

  const json j = json::parse(encode_otlp_json("tollgate-eu", {s}));
  ASSERT_EQ(j["resourceSpans"].size(), 1u);
  const json& rs = j["resourceSpans"][0];
  EXPECT_EQ(rs["resource"]["attributes"],
            json::parse(R"([{"key":"service.name","value":{"stringValue":"tollgate-eu"}}])"));
  ASSERT_EQ(rs["scopeSpans"].size(), 1u);
  EXPECT_EQ(rs["scopeSpans"][0]["scope"]["name"], "tollgate");
  ASSERT_EQ(rs["scopeSpans"][0]["spans"].size(), 1u);
  const json& span = rs["scopeSpans"][0]["spans"][0];
  EXPECT_EQ(span["traceId"], "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(span["spanId"], "00f067aa0ba902b7");
  EXPECT_EQ(span["parentSpanId"], "b7ad6b7169203331");
  EXPECT_EQ(span["name"], "chat gpt-4o");
  EXPECT_EQ(span["kind"], 2);
  EXPECT_EQ(span["startTimeUnixNano"], "1700000000123456789");
  EXPECT_EQ(span["endTimeUnixNano"], "1700000001623456789");
  EXPECT_EQ(span["attributes"], json::parse(R"([
    {"key":"gen_ai.request.model","value":{"stringValue":"gpt-4o"}},
    {"key":"gen_ai.usage.input_tokens","value":{"intValue":"9007199254740993"}},
    {"key":"tollgate.cost_usd","value":{"doubleValue":0.125}},
    {"key":"tollgate.stream","value":{"boolValue":true}}])"));
  EXPECT_EQ(span["status"], json::parse(R"({"code":2,"message":"upstream 503"})"));
}

TEST(OtlpJson, RootSpansKindsStatusesAndOddValues) {
  SpanData a = make_span(1);
  a.kind = SpanData::Kind::internal;
  a.status = SpanData::Status::ok;
  a.attributes = {{"nan", std::nan("")},
                  {"inf", -HUGE_VAL},
                  {"min", std::numeric_limits<std::int64_t>::min()},
                  {"bytes", std::string("caf\xc3\xa9 \xff")}};
  SpanData b = make_span(2);
  b.kind = SpanData::Kind::client;

  const json spans = json::parse(encode_otlp_json("tollgate", {a, b}))["resourceSpans"][0]["scopeSpans"][0]["spans"];
  ASSERT_EQ(spans.size(), 2u);
  EXPECT_FALSE(spans[0].contains("parentSpanId"));  // a root span
  EXPECT_EQ(spans[0]["kind"], 1);
  EXPECT_EQ(spans[1]["kind"], 3);
  EXPECT_EQ(spans[0]["status"], json::parse(R"({"code":1})"));
  EXPECT_EQ(spans[1]["status"], json::parse(R"({"code":0})"));
  EXPECT_EQ(spans[0]["attributes"][0]["value"]["doubleValue"], "NaN");
  EXPECT_EQ(spans[0]["attributes"][1]["value"]["doubleValue"], "-Infinity");
  EXPECT_EQ(spans[0]["attributes"][2]["value"]["intValue"], "-9223372036854775808");
  EXPECT_EQ(spans[0]["attributes"][3]["value"]["stringValue"], "caf\xc3\xa9 \xef\xbf\xbd");  // U+FFFD
  EXPECT_EQ(spans[1]["attributes"], json::array());

  const json empty = json::parse(encode_otlp_json("tollgate", {}));
  EXPECT_EQ(empty["resourceSpans"][0]["scopeSpans"][0]["spans"], json::array());
}

// ---- endpoint validation ---------------------------------------------------------

TEST(OtlpEndpoint, AcceptsHttpAndHttpsUrls) {
  for (const char* url : {"http://otel-collector:4318/v1/traces", "https://collector.example.com/v1/traces",
                          "http://127.0.0.1:4318", "http://[::1]:4318/v1/traces", "HTTP://Collector:1/x?tenant=a",
                          "https://collector:65535/otlp/v1/traces"}) {
    EXPECT_EQ(validate_otlp_endpoint(url), std::nullopt) << url;
  }
}

TEST(OtlpEndpoint, ReportsWhatIsWrong) {
  auto error = [](std::string_view url) { return validate_otlp_endpoint(url).value_or("(accepted)"); };
  EXPECT_EQ(error(""), "endpoint is empty");
  EXPECT_EQ(error("otel-collector:4318/v1/traces"), "endpoint must start with http:// or https://");
  EXPECT_EQ(error("grpc://collector:4317"), "unsupported scheme \"grpc\" (use http or https)");
  EXPECT_EQ(error("http://"), "endpoint has no host");
  EXPECT_EQ(error("http:///v1/traces"), "endpoint has no host");
  EXPECT_EQ(error("http://:4318/v1/traces"), "endpoint has no host");
  EXPECT_EQ(error("http://collector:/v1/traces"), "endpoint has an empty port");
  EXPECT_EQ(error("http://collector:0"), "endpoint port 0 is out of range");
  EXPECT_EQ(error("http://collector:65536"), "endpoint port 65536 is out of range");
  EXPECT_EQ(error("http://collector:43x8"), "endpoint has an invalid port \"43x8\"");
  EXPECT_EQ(error("http://user:pw@collector/v1/traces"),
            "credentials in the endpoint URL are not supported (use tracing.headers)");
  EXPECT_EQ(error("http://collector/v1/traces#x"), "endpoint must not contain a fragment (#)");
  EXPECT_EQ(error("http://coll ector/v1/traces"), "endpoint contains whitespace or control characters");
  EXPECT_EQ(error("http://[::1/v1/traces"), "endpoint has an unterminated IPv6 address");
  EXPECT_EQ(error("http://coll%ector/"), "endpoint has an invalid host \"coll%ector\"");
}

TEST(OtlpExporter, ConstructorRejectsABadEndpointOrHeader) {
  EXPECT_THROW(OtlpExporter({.endpoint = "collector:4318"}), std::invalid_argument);
  EXPECT_THROW((OtlpExporter({.endpoint = "http://127.0.0.1:1/v1/traces", .headers = {{"x-a", "b\r\nx-evil: 1"}}})),
               std::invalid_argument);
  EXPECT_THROW((OtlpExporter({.endpoint = "http://127.0.0.1:1/v1/traces", .max_batch = 0})), std::invalid_argument);
}

// ---- export ----------------------------------------------------------------------

TEST(OtlpExporter, FlushSendsQueuedSpansInBatchesWithTheConfiguredHeaders) {
  FakeCollector collector;
  auto opts = options_for(collector);
  opts.endpoint = collector.url("/otlp/v1/traces?tenant=a");
  opts.headers = {{"x-api-key", "secret-123"}, {"X-Scope-OrgID", "team-1"}};
  opts.service_name = "tollgate-test";
  opts.max_batch = 2;
  OtlpExporter exporter(opts);
  for (int i = 0; i < 5; ++i) exporter.submit(make_span(i));
  exporter.flush();

  auto requests = collector.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(names(requests[0]), (std::vector<std::string>{"span 0", "span 1"}));
  EXPECT_EQ(names(requests[1]), (std::vector<std::string>{"span 2", "span 3"}));
  EXPECT_EQ(names(requests[2]), (std::vector<std::string>{"span 4"}));
  for (const auto& r : requests) {
    EXPECT_EQ(r.method, "POST");
    EXPECT_EQ(r.target, "/otlp/v1/traces?tenant=a");
    EXPECT_EQ(r.headers.at("content-type"), "application/json");
    EXPECT_EQ(r.headers.at("x-api-key"), "secret-123");
    EXPECT_EQ(r.headers.at("x-scope-orgid"), "team-1");
    EXPECT_EQ(r.headers.at("host"), "127.0.0.1:" + std::to_string(collector.port()));
    EXPECT_EQ(json::parse(r.body)["resourceSpans"][0]["resource"]["attributes"][0]["value"]["stringValue"],
              "tollgate-test");
  }
  EXPECT_EQ(exporter.exported(), 5u);
  EXPECT_EQ(exporter.failed(), 0u);
  EXPECT_EQ(exporter.dropped(), 0u);
}

TEST(OtlpExporter, AFullBatchGoesOutWithoutWaitingForTheInterval) {
  FakeCollector collector;
  auto opts = options_for(collector);
  opts.max_batch = 3;
  OtlpExporter exporter(opts);
  for (int i = 0; i < 4; ++i) exporter.submit(make_span(i));
  ASSERT_TRUE(collector.wait_for_requests(1));
  EXPECT_EQ(names(collector.requests()[0]), (std::vector<std::string>{"span 0", "span 1", "span 2"}));
  exporter.flush();  // the partial batch waits for the tick or a flush
  auto requests = collector.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(names(requests[1]), (std::vector<std::string>{"span 3"}));
}

TEST(OtlpExporter, TheIntervalSendsAPartialBatch) {
  FakeCollector collector;
  auto opts = options_for(collector);
  opts.interval = 20ms;
  OtlpExporter exporter(opts);
  exporter.submit(make_span(7));
  ASSERT_TRUE(collector.wait_for_requests(1));
  EXPECT_EQ(names(collector.requests()[0]), (std::vector<std::string>{"span 7"}));
}

// Captures the "otlp" logger's output for one test.
class CapturedOtlpLog {
 public:
  CapturedOtlpLog() : sink_(std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(100)) {
    logger_ = spdlog::get("otlp");
    if (logger_) logger_->sinks().push_back(sink_);
  }
  ~CapturedOtlpLog() {
    if (logger_) logger_->sinks().pop_back();
  }
  std::vector<std::string> lines() const { return sink_->last_formatted(); }

 private:
  std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> sink_;
  std::shared_ptr<spdlog::logger> logger_;
};

TEST(OtlpExporter, ErrorResponsesCountAsFailedAndAreLoggedOnce) {
  FakeCollector collector;
  collector.respond_with({500, 503, 400});
  auto opts = options_for(collector);
  opts.headers = {{"authorization", "Bearer collector-secret"}};
  opts.endpoint = collector.url("/v1/traces?token=url-secret");
  OtlpExporter exporter(opts);
  CapturedOtlpLog log;  // the exporter has registered the logger

  exporter.submit(make_span(1));
  exporter.submit(make_span(2));
  exporter.flush();
  for (int i = 3; i <= 4; ++i) {
    exporter.submit(make_span(i));
    exporter.flush();
  }
  EXPECT_EQ(exporter.failed(), 4u);
  EXPECT_EQ(exporter.exported(), 0u);
  exporter.submit(make_span(5));
  exporter.flush();
  EXPECT_EQ(exporter.exported(), 1u);
  EXPECT_EQ(collector.requests().size(), 4u);

  auto lines = log.lines();
  ASSERT_EQ(lines.size(), 1u);  // three failures within a minute: one warning
  EXPECT_NE(lines[0].find("HTTP 500"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("collector says no"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("127.0.0.1:" + std::to_string(collector.port()) + "/v1/traces"), std::string::npos);
  EXPECT_EQ(lines[0].find("secret"), std::string::npos) << lines[0];
}

TEST(OtlpExporter, ConnectionRefusedCountsAsFailed) {
  std::uint16_t port;
  {
    asio::io_context ioc;
    tcp::acceptor closed(ioc, {asio::ip::make_address("127.0.0.1"), 0});
    port = closed.local_endpoint().port();
  }
  OtlpExporter exporter({.endpoint = "http://127.0.0.1:" + std::to_string(port) + "/v1/traces", .interval = 1h});
  exporter.submit(make_span(1));
  exporter.submit(make_span(2));
  exporter.flush();
  EXPECT_EQ(exporter.failed(), 2u);
  EXPECT_EQ(exporter.exported(), 0u);
}

TEST(OtlpExporter, AStalledCollectorTimesOutAndCountsAsFailed) {
  FakeCollector collector;
  collector.hold();
  auto opts = options_for(collector);
  opts.timeout = 200ms;
  OtlpExporter exporter(opts);
  exporter.submit(make_span(1));
  exporter.flush();  // returns once the POST has timed out
  EXPECT_EQ(collector.requests().size(), 1u);
  EXPECT_EQ(exporter.failed(), 1u);
  EXPECT_EQ(exporter.exported(), 0u);
}

TEST(OtlpExporter, SpansBeyondTheQueueBoundAreDropped) {
  FakeCollector collector;
  auto opts = options_for(collector);
  opts.max_queue = 4;
  opts.max_batch = 100;
  OtlpExporter exporter(opts);
  for (int i = 0; i < 10; ++i) exporter.submit(make_span(i));
  EXPECT_EQ(exporter.dropped(), 6u);
  exporter.flush();
  auto requests = collector.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(names(requests[0]), (std::vector<std::string>{"span 0", "span 1", "span 2", "span 3"}));
  EXPECT_EQ(exporter.exported(), 4u);
}

TEST(OtlpExporter, SubmitDoesNotWaitForAStalledExport) {
  FakeCollector collector;
  collector.hold();
  auto opts = options_for(collector);
  opts.max_batch = 1;
  opts.max_queue = 10;
  OtlpExporter exporter(opts);
  exporter.submit(make_span(0));
  ASSERT_TRUE(collector.wait_for_requests(1));  // the export thread is now waiting for an answer
  // If submit() waited for the network this would hang until the 10 s timeout
  // and the first batch would count as failed.
  for (int i = 1; i <= 100; ++i) exporter.submit(make_span(i));
  EXPECT_EQ(exporter.dropped(), 90u);
  EXPECT_EQ(exporter.failed(), 0u);
  collector.release();
  exporter.flush();
  EXPECT_EQ(exporter.exported(), 11u);
  EXPECT_EQ(exporter.failed(), 0u);
}

TEST(OtlpExporter, StopSendsWhatIsQueuedThenDropsLateSpans) {
  FakeCollector collector;
  OtlpExporter exporter(options_for(collector));
  for (int i = 0; i < 3; ++i) exporter.submit(make_span(i));
  exporter.stop();
  auto requests = collector.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(names(requests[0]), (std::vector<std::string>{"span 0", "span 1", "span 2"}));
  EXPECT_EQ(exporter.exported(), 3u);

  exporter.submit(make_span(3));
  exporter.flush();  // returns at once
  exporter.stop();   // idempotent
  EXPECT_EQ(exporter.dropped(), 1u);
  EXPECT_EQ(collector.requests().size(), 1u);
}

TEST(OtlpExporter, DestructorSendsWhatIsQueued) {
  FakeCollector collector;
  {
    OtlpExporter exporter(options_for(collector));
    exporter.submit(make_span(1));
  }
  auto requests = collector.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(names(requests[0]), (std::vector<std::string>{"span 1"}));
}

TEST(OtlpExporter, StopIsBoundedWhenTheCollectorStalls) {
  FakeCollector collector;
  collector.hold();
  auto opts = options_for(collector);
  opts.max_batch = 1;
  opts.timeout = 200ms;
  OtlpExporter exporter(opts);
  for (int i = 0; i < 5; ++i) exporter.submit(make_span(i));
  ASSERT_TRUE(collector.wait_for_requests(1));
  const auto started = std::chrono::steady_clock::now();
  exporter.stop();
  // A batch in flight may use its whole timeout, then the final drain gets
  // one more: far below the 10 s the held collector would allow.
  EXPECT_LT(std::chrono::steady_clock::now() - started, 3s);
  EXPECT_EQ(exporter.exported(), 0u);
  EXPECT_GE(exporter.failed(), 1u);
  EXPECT_GE(exporter.dropped(), 1u);
  EXPECT_EQ(exporter.failed() + exporter.dropped(), 5u);
}

TEST(OtlpExporter, HttpsRefusesAnUntrustedCollectorCertificate) {
  FakeCollector collector(/*tls=*/true);
  OtlpExporter exporter({.endpoint = collector.url(), .interval = 1h});
  CapturedOtlpLog log;
  exporter.submit(make_span(1));
  exporter.flush();
  EXPECT_TRUE(collector.wait_for_connections(1));
  EXPECT_EQ(collector.requests().size(), 0u);  // no span left the process
  EXPECT_EQ(exporter.failed(), 1u);
  auto lines = log.lines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("TLS handshake"), std::string::npos) << lines[0];
}

}  // namespace
}  // namespace tollgate
