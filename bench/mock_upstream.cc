// A fast, fixed-answer OpenAI-compatible upstream for bench/run.sh.
//
// Single thread, HTTP/1.1 keep-alive, C++20 coroutines on Beast. It serves
//   POST /v1/chat/completions   a fixed chat.completion, or with "stream":true a short
//                               SSE stream (5 chunks, a usage chunk, [DONE]), chunked
//   GET  /v1/models             one model, "bench-model"
// and prints "listening 127.0.0.1:PORT" on stdout once it accepts (port 0: any free port).
//
// Usage: bench_mock_upstream [--port N] [--chunk-delay-ms N]

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio.hpp>
#include <boost/beast.hpp>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;

namespace {

constexpr auto kIoTimeout = std::chrono::seconds(60);

const std::string kCompletion =
    R"({"id":"chatcmpl-bench","object":"chat.completion","created":1700000000,"model":"bench-model",)"
    R"("choices":[{"index":0,"message":{"role":"assistant","content":"Hello from the bench mock."},)"
    R"("logprobs":null,"finish_reason":"stop"}],)"
    R"("usage":{"prompt_tokens":9,"completion_tokens":6,"total_tokens":15}})";

const std::string kModels =
    R"({"object":"list","data":[{"id":"bench-model","object":"model","created":1700000000,"owned_by":"bench"}]})";

std::string chunk_event(std::string_view delta, std::string_view finish_reason) {
  std::string e = R"(data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1700000000,)"
                  R"("model":"bench-model","choices":[{"index":0,"delta":)";
  e += delta;
  e += R"(,"logprobs":null,"finish_reason":)";
  e += finish_reason;
  e += "}]}\n\n";
  return e;
}

// Built once: each event goes out as its own HTTP chunk and its own write, as a real
// upstream that generates tokens one by one would send it.
const std::vector<std::string>& stream_events() {
  static const std::vector<std::string> events = [] {
    std::vector<std::string> v;
    v.push_back(chunk_event(R"({"role":"assistant","content":"Hello"})", "null"));
    v.push_back(chunk_event(R"({"content":" from"})", "null"));
    v.push_back(chunk_event(R"({"content":" the"})", "null"));
    v.push_back(chunk_event(R"({"content":" bench mock."})", "null"));
    v.push_back(chunk_event(R"({})", R"("stop")"));
    v.push_back(
        R"(data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1700000000,)"
        R"("model":"bench-model","choices":[],)"
        R"("usage":{"prompt_tokens":9,"completion_tokens":6,"total_tokens":15}})"
        "\n\n");
    v.push_back("data: [DONE]\n\n");
    return v;
  }();
  return events;
}

// True when the JSON body has "stream": true at any depth. A bench body is small and
// fixed, so a scan is enough and keeps the mock cheap next to the proxies it measures.
bool wants_stream(std::string_view body) {
  for (auto pos = body.find("\"stream\""); pos != std::string_view::npos;
       pos = body.find("\"stream\"", pos + 1)) {
    auto i = pos + 8;
    while (i < body.size() && (body[i] == ' ' || body[i] == '\t' || body[i] == '\n' || body[i] == '\r')) ++i;
    if (i >= body.size() || body[i] != ':') continue;
    ++i;
    while (i < body.size() && (body[i] == ' ' || body[i] == '\t' || body[i] == '\n' || body[i] == '\r')) ++i;
    return body.substr(i, 4) == "true";
  }
  return false;
}

struct Options {
  unsigned short port = 0;
  int chunk_delay_ms = 0;
};

asio::awaitable<void> send_stream(beast::tcp_stream& stream, unsigned version, bool keep_alive,
                                  const Options& opt) {
  http::response<http::empty_body> res{http::status::ok, version};
  res.set(http::field::server, "bench-mock");
  res.set(http::field::content_type, "text/event-stream");
  res.set(http::field::cache_control, "no-cache");
  res.chunked(true);
  res.keep_alive(keep_alive);
  http::response_serializer<http::empty_body> sr{res};
  stream.expires_after(kIoTimeout);
  co_await http::async_write_header(stream, sr, asio::use_awaitable);
  asio::steady_timer timer{stream.get_executor()};
  for (const auto& event : stream_events()) {
    if (opt.chunk_delay_ms > 0) {
      timer.expires_after(std::chrono::milliseconds(opt.chunk_delay_ms));
      co_await timer.async_wait(asio::use_awaitable);
    }
    stream.expires_after(kIoTimeout);
    co_await asio::async_write(stream, http::make_chunk(asio::buffer(event)), asio::use_awaitable);
  }
  stream.expires_after(kIoTimeout);
  co_await asio::async_write(stream, http::make_chunk_last(), asio::use_awaitable);
}

asio::awaitable<void> send_body(beast::tcp_stream& stream, unsigned version, bool keep_alive,
                                http::status status, const std::string& body) {
  http::response<http::string_body> res{status, version};
  res.set(http::field::server, "bench-mock");
  res.set(http::field::content_type, "application/json");
  res.keep_alive(keep_alive);
  res.body() = body;
  res.prepare_payload();
  stream.expires_after(kIoTimeout);
  co_await http::async_write(stream, res, asio::use_awaitable);
}

asio::awaitable<void> session(tcp::socket socket, const Options& opt) {
  beast::tcp_stream stream{std::move(socket)};
  beast::flat_buffer buffer;
  try {
    for (;;) {
      http::request_parser<http::string_body> parser;
      parser.body_limit(1 << 20);
      stream.expires_after(kIoTimeout);
      co_await http::async_read(stream, buffer, parser, asio::use_awaitable);
      auto& req = parser.get();
      const bool keep_alive = req.keep_alive();
      const auto target = req.target();
      if (req.method() == http::verb::post && target == "/v1/chat/completions") {
        if (wants_stream(req.body())) {
          co_await send_stream(stream, req.version(), keep_alive, opt);
        } else {
          co_await send_body(stream, req.version(), keep_alive, http::status::ok, kCompletion);
        }
      } else if (req.method() == http::verb::get && target == "/v1/models") {
        co_await send_body(stream, req.version(), keep_alive, http::status::ok, kModels);
      } else {
        co_await send_body(stream, req.version(), keep_alive, http::status::not_found,
                           R"({"error":{"message":"not found","type":"invalid_request_error"}})");
      }
      if (!keep_alive) break;
    }
  } catch (const boost::system::system_error& e) {
    // Clients closing keep-alive connections is the normal end of a session.
    if (e.code() != http::error::end_of_stream && e.code() != asio::error::eof &&
        e.code() != asio::error::connection_reset && e.code() != beast::error::timeout) {
      std::cerr << "mock: session: " << e.code().message() << "\n";
    }
  }
  beast::error_code ec;
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
}

asio::awaitable<void> listen(tcp::acceptor& acceptor, const Options& opt) {
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
    if (ec) {
      // EMFILE and friends: keep serving the connections we have.
      std::cerr << "mock: accept: " << ec.message() << "\n";
      asio::steady_timer t{acceptor.get_executor(), std::chrono::milliseconds(10)};
      co_await t.async_wait(asio::use_awaitable);
      continue;
    }
    socket.set_option(tcp::no_delay(true), ec);
    asio::co_spawn(acceptor.get_executor(), session(std::move(socket), opt), asio::detached);
  }
}

Options parse_args(int argc, char** argv) {
  Options opt;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    auto next = [&]() -> const char* {
      if (i + 1 >= argc) {
        std::cerr << "mock: " << a << " needs a value\n";
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--port") {
      opt.port = static_cast<unsigned short>(std::atoi(next()));
    } else if (a == "--chunk-delay-ms") {
      opt.chunk_delay_ms = std::atoi(next());
    } else {
      std::cerr << "usage: bench_mock_upstream [--port N] [--chunk-delay-ms N]\n";
      std::exit(2);
    }
  }
  return opt;
}

}  // namespace

int main(int argc, char** argv) {
  const Options opt = parse_args(argc, argv);
  asio::io_context ioc{1};
  tcp::acceptor acceptor{ioc};
  const tcp::endpoint ep{asio::ip::make_address("127.0.0.1"), opt.port};
  acceptor.open(ep.protocol());
  acceptor.set_option(asio::socket_base::reuse_address(true));
  acceptor.bind(ep);
  acceptor.listen(asio::socket_base::max_listen_connections);
  std::cout << "listening 127.0.0.1:" << acceptor.local_endpoint().port() << std::endl;

  asio::signal_set signals{ioc, SIGINT, SIGTERM};
  signals.async_wait([&](const boost::system::error_code&, int) { ioc.stop(); });
  asio::co_spawn(ioc, listen(acceptor, opt), asio::detached);
  ioc.run();
  return 0;
}
