// Sequential latency client for bench/run.sh.
//
// Sends N chat-completion requests one after another over one keep-alive connection
// (reconnecting only if the server closes it) and reports percentiles:
//   --stream   "stream":true; ttfb = request written -> first byte of the decoded body
//              (the first SSE bytes), total = request written -> end of the stream.
//              Each stream must be 200 and end with "data: [DONE]".
//   default    non-streaming; total = request written -> complete response. Must be 200.
// Output is one line of key=value pairs (microseconds), e.g.
//   n=2000 errors=0 headers_p50_us=55 ttfb_p50_us=61 ttfb_p99_us=120 total_p50_us=80 total_p99_us=150
//   events_per_stream=7
// Exit status 1 if any request failed.
//
// Usage: bench_ttfb --port N [--host H] [--requests N] [--warmup N] [--stream] [--model M] [--key K]

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio.hpp>
#include <boost/beast.hpp>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

constexpr auto kIoTimeout = std::chrono::seconds(10);

struct Options {
  std::string host = "127.0.0.1";
  std::string port;
  std::string model = "bench-model";
  std::string key;  // sent as "Authorization: Bearer <key>" when set
  int requests = 1000;
  int warmup = 100;
  bool stream = false;
};

struct Sample {
  long headers_us = 0;  // request written -> response headers parsed
  long ttfb_us = 0;
  long total_us = 0;
  int events = 0;
};

long micros(Clock::duration d) {
  return static_cast<long>(std::chrono::duration_cast<std::chrono::microseconds>(d).count());
}

long percentile(std::vector<long> v, double p) {
  if (v.empty()) return -1;
  std::sort(v.begin(), v.end());
  // Nearest-rank, as wrk and most load tools report it.
  auto rank = static_cast<std::size_t>(p / 100.0 * static_cast<double>(v.size()) + 0.999999);
  rank = std::clamp<std::size_t>(rank, 1, v.size());
  return v[rank - 1];
}

int count_events(std::string_view body) {
  int n = 0;
  for (auto pos = body.find("data:"); pos != std::string_view::npos; pos = body.find("data:", pos + 5)) {
    if (pos == 0 || body[pos - 1] == '\n') ++n;
  }
  return n;
}

class Client {
 public:
  Client(asio::any_io_executor ex, const Options& opt) : stream_(ex), opt_(opt) {
    req_.method(http::verb::post);
    req_.target("/v1/chat/completions");
    req_.version(11);
    req_.set(http::field::host, opt.host + ":" + opt.port);
    req_.set(http::field::content_type, "application/json");
    req_.set(http::field::user_agent, "tollgate-bench");
    if (!opt.key.empty()) req_.set(http::field::authorization, "Bearer " + opt.key);
    req_.body() = R"({"model":")" + opt.model +
                  R"(","messages":[{"role":"user","content":"Say hello in five words."}],"max_tokens":16)" +
                  (opt.stream ? R"(,"stream":true})" : "}");
    req_.prepare_payload();
  }

  // One request; nullopt (with the reason on stderr) if it failed.
  asio::awaitable<std::optional<Sample>> once() {
    try {
      if (!connected_) {
        tcp::resolver resolver{stream_.get_executor()};
        auto eps = co_await resolver.async_resolve(opt_.host, opt_.port, asio::use_awaitable);
        stream_.expires_after(kIoTimeout);
        co_await stream_.async_connect(eps, asio::use_awaitable);
        stream_.socket().set_option(tcp::no_delay(true));
        connected_ = true;
      }
      http::response_parser<http::string_body> parser;
      parser.body_limit(16 << 20);
      Sample s;
      const auto t0 = Clock::now();
      stream_.expires_after(kIoTimeout);
      co_await http::async_write(stream_, req_, asio::use_awaitable);
      std::optional<Clock::time_point> headers, first_byte;
      while (!parser.is_done()) {
        stream_.expires_after(kIoTimeout);
        co_await http::async_read_some(stream_, buffer_, parser, asio::use_awaitable);
        if (!headers && parser.is_header_done()) headers = Clock::now();
        if (!first_byte && parser.is_header_done() && !parser.get().body().empty()) first_byte = Clock::now();
      }
      const auto t_end = Clock::now();
      const auto& res = parser.get();
      if (!res.keep_alive()) close();
      if (res.result() != http::status::ok) {
        std::cerr << "ttfb: status " << res.result_int() << ": " << res.body().substr(0, 300) << "\n";
        co_return std::nullopt;
      }
      const std::string_view body = res.body();
      if (opt_.stream) {
        s.events = count_events(body);
        if (body.find("data: [DONE]") == std::string_view::npos) {
          std::cerr << "ttfb: stream did not end with [DONE]: " << body.substr(0, 300) << "\n";
          co_return std::nullopt;
        }
      } else if (body.find("chat.completion") == std::string_view::npos) {
        std::cerr << "ttfb: unexpected body: " << body.substr(0, 300) << "\n";
        co_return std::nullopt;
      }
      s.headers_us = micros((headers ? *headers : t_end) - t0);
      s.ttfb_us = micros((first_byte ? *first_byte : t_end) - t0);
      s.total_us = micros(t_end - t0);
      co_return s;
    } catch (const boost::system::system_error& e) {
      std::cerr << "ttfb: " << e.code().message() << "\n";
      close();
      co_return std::nullopt;
    }
  }

 private:
  void close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.close();
    buffer_.clear();
    connected_ = false;
  }

  beast::tcp_stream stream_;
  const Options& opt_;
  http::request<http::string_body> req_;
  beast::flat_buffer buffer_;
  bool connected_ = false;
};

asio::awaitable<int> run(const Options& opt) {
  Client client{co_await asio::this_coro::executor, opt};
  std::vector<long> headers, ttfb, total;
  int errors = 0, events = 0;
  for (int i = 0; i < opt.warmup + opt.requests; ++i) {
    auto s = co_await client.once();
    if (!s) {
      // A failing target should not take the whole time budget.
      if (++errors >= 10) break;
      continue;
    }
    if (i < opt.warmup) continue;
    headers.push_back(s->headers_us);
    ttfb.push_back(s->ttfb_us);
    total.push_back(s->total_us);
    events = s->events;
  }
  std::cout << "n=" << total.size() << " errors=" << errors;
  if (opt.stream) {
    std::cout << " headers_p50_us=" << percentile(headers, 50) << " ttfb_p50_us=" << percentile(ttfb, 50)
              << " ttfb_p99_us=" << percentile(ttfb, 99);
  }
  std::cout << " total_p50_us=" << percentile(total, 50) << " total_p99_us=" << percentile(total, 99);
  if (opt.stream) std::cout << " events_per_stream=" << events;
  std::cout << std::endl;
  co_return errors == 0 && !total.empty() ? 0 : 1;
}

Options parse_args(int argc, char** argv) {
  Options opt;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    auto next = [&]() -> const char* {
      if (i + 1 >= argc) {
        std::cerr << "ttfb: " << a << " needs a value\n";
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--host") opt.host = next();
    else if (a == "--port") opt.port = next();
    else if (a == "--model") opt.model = next();
    else if (a == "--key") opt.key = next();
    else if (a == "--requests") opt.requests = std::atoi(next());
    else if (a == "--warmup") opt.warmup = std::atoi(next());
    else if (a == "--stream") opt.stream = true;
    else {
      std::cerr << "usage: bench_ttfb --port N [--host H] [--requests N] [--warmup N] [--stream] [--model M]\n";
      std::exit(2);
    }
  }
  if (opt.port.empty()) {
    std::cerr << "ttfb: --port is required\n";
    std::exit(2);
  }
  return opt;
}

}  // namespace

int main(int argc, char** argv) {
  const Options opt = parse_args(argc, argv);
  asio::io_context ioc{1};
  int rc = 1;
  asio::co_spawn(ioc, run(opt), [&](std::exception_ptr e, int r) {
    if (e) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        std::cerr << "ttfb: " << ex.what() << "\n";
      }
    } else {
      rc = r;
    }
  });
  ioc.run();
  return rc;
}
