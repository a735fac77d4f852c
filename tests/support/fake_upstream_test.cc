#include "support/fake_upstream.h"

#include <chrono>
#include <cstdio>
#include <optional>
#include <sstream>
#include <string>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <gtest/gtest.h>

namespace tollgate::test {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;

// A plain Beast client on its own io_context. Every operation is bounded by a
// 5 s stream deadline, so a broken fake fails a test instead of hanging it.
class Client {
 public:
  explicit Client(std::uint16_t port) : stream_(ioc_) {
    const error_code ec = run([&](auto handler) {
      stream_.async_connect(tcp::endpoint(asio::ip::address_v4::loopback(), port), handler);
    });
    EXPECT_FALSE(ec) << ec.message();
  }

  error_code send(http::request<http::string_body> req) {
    req.prepare_payload();
    return run([&](auto handler) { http::async_write(stream_, req, handler); });
  }

  error_code send_raw(std::string bytes) {
    return run([&](auto handler) { asio::async_write(stream_, asio::buffer(bytes), handler); });
  }

  error_code read(http::response<http::string_body>& res) {
    return run([&](auto handler) { http::async_read(stream_, buffer_, res, handler); });
  }

  // Reads raw bytes until `needle` has been seen or the connection ends.
  error_code read_raw_until(std::string& out, std::string_view needle) {
    error_code ec;
    while (!ec && out.find(needle) == std::string::npos) ec = read_raw_some(out);
    return ec;
  }

  // Reads raw bytes until the server closes the connection.
  std::string read_raw_to_end(error_code& ec) {
    std::string out;
    while (!(ec = read_raw_some(out))) {
    }
    return out;
  }

  void close() {
    error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.socket().close(ignored);
  }

 private:
  error_code read_raw_some(std::string& out) {
    char buf[4096];
    std::size_t got = 0;
    const error_code ec = run([&](auto handler) {
      stream_.async_read_some(asio::buffer(buf), [&got, handler](error_code e, std::size_t n) {
        got = n;
        handler(e, n);
      });
    });
    out.append(buf, got);
    return ec;
  }

  template <class Start>
  error_code run(Start start) {
    std::optional<error_code> result;
    stream_.expires_after(std::chrono::seconds(5));
    start([&result](error_code ec, auto&&...) { result = ec; });
    ioc_.restart();
    while (!result && ioc_.run_one()) {
    }
    return result.value_or(asio::error::operation_aborted);
  }

  asio::io_context ioc_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
};

http::request<http::string_body> post(std::string target, std::string body = "{}",
                                      bool keep_alive = true) {
  http::request<http::string_body> req{http::verb::post, target, 11};
  req.set(http::field::host, "127.0.0.1");
  req.set(http::field::content_type, "application/json");
  req.body() = std::move(body);
  req.keep_alive(keep_alive);
  return req;
}

std::string chunk(std::string_view payload) {
  char size[24];
  std::snprintf(size, sizeof size, "%zx", payload.size());
  return std::string(size) + "\r\n" + std::string(payload) + "\r\n";
}

std::string body_after_head(const std::string& raw) {
  const auto end = raw.find("\r\n\r\n");
  return end == std::string::npos ? std::string() : raw.substr(end + 4);
}

TEST(FakeUpstream, JsonResponseAndRequestRecording) {
  FakeUpstream upstream;
  EXPECT_EQ(upstream.base_url(), "http://127.0.0.1:" + std::to_string(upstream.port()));
  upstream.enqueue(FakeResponse::json(201, {{"id", "chatcmpl-1"}}).header("x-request-id", "r-1"));

  Client client(upstream.port());
  auto req = post("/v1/chat/completions?x=1", R"({"model":"m","stream":false})");
  req.set(http::field::authorization, "Bearer sk-test");
  req.insert("X-Multi", "a");
  req.insert("x-multi", "b");
  ASSERT_FALSE(client.send(req));
  http::response<http::string_body> res;
  ASSERT_FALSE(client.read(res));

  EXPECT_EQ(res.result_int(), 201);
  EXPECT_EQ(res[http::field::content_type], "application/json");
  EXPECT_EQ(res["x-request-id"], "r-1");
  EXPECT_EQ(res[http::field::content_length], std::to_string(res.body().size()));
  EXPECT_EQ(nlohmann::json::parse(res.body())["id"], "chatcmpl-1");

  ASSERT_EQ(upstream.request_count(), 1u);
  const RecordedRequest r = upstream.requests().at(0);
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.target, "/v1/chat/completions?x=1");
  EXPECT_EQ(r.header("Authorization"), "Bearer sk-test");
  EXPECT_EQ(r.headers.at("authorization"), "Bearer sk-test");
  EXPECT_EQ(r.header("X-MULTI"), "a, b");
  EXPECT_TRUE(r.has_header("content-type"));
  EXPECT_FALSE(r.has_header("x-absent"));
  EXPECT_EQ(r.json()["model"], "m");
  EXPECT_EQ(r.connection, 1u);
}

TEST(FakeUpstream, KeepAliveServesQueueInOrderThenDefault) {
  FakeUpstream upstream;
  upstream.enqueue(FakeResponse::json(200, {{"n", 1}}));
  upstream.enqueue(FakeResponse::json(429, {{"error", {{"message", "slow down"}}}})
                       .header("retry-after", "7"));
  EXPECT_EQ(upstream.pending_responses(), 2u);

  Client client(upstream.port());
  http::response<http::string_body> res;
  ASSERT_FALSE(client.send(post("/a")));
  ASSERT_FALSE(client.read(res));
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(nlohmann::json::parse(res.body())["n"], 1);

  res = {};
  ASSERT_FALSE(client.send(post("/b")));
  ASSERT_FALSE(client.read(res));
  EXPECT_EQ(res.result_int(), 429);
  EXPECT_EQ(res["retry-after"], "7");

  res = {};
  ASSERT_FALSE(client.send(post("/c")));
  ASSERT_FALSE(client.read(res));
  EXPECT_EQ(res.result_int(), 500);
  EXPECT_EQ(nlohmann::json::parse(res.body())["error"]["message"],
            "fake upstream: no scripted response");

  upstream.set_default_response(FakeResponse::text(204, ""));
  res = {};
  ASSERT_FALSE(client.send(post("/d")));
  ASSERT_FALSE(client.read(res));
  EXPECT_EQ(res.result_int(), 204);

  EXPECT_EQ(upstream.connection_count(), 1u);
  const auto reqs = upstream.requests();
  ASSERT_EQ(reqs.size(), 4u);
  EXPECT_EQ(reqs[0].target, "/a");
  EXPECT_EQ(reqs[3].target, "/d");
  for (const auto& r : reqs) EXPECT_EQ(r.connection, 1u);
  EXPECT_EQ(upstream.closed_connection_count(), 0u);
}

TEST(FakeUpstream, SeparateClientsGetSeparateConnections) {
  FakeUpstream upstream;
  upstream.set_default_response(FakeResponse::json(200, nlohmann::json::object()));
  Client a(upstream.port());
  Client b(upstream.port());
  http::response<http::string_body> res;
  ASSERT_FALSE(a.send(post("/a")));
  ASSERT_FALSE(a.read(res));
  res = {};
  ASSERT_FALSE(b.send(post("/b")));
  ASSERT_FALSE(b.read(res));
  EXPECT_EQ(upstream.connection_count(), 2u);
  const auto reqs = upstream.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_NE(reqs[0].connection, reqs[1].connection);

  a.close();
  EXPECT_TRUE(upstream.wait_for_closed_connections(1));
  EXPECT_EQ(upstream.aborted_response_count(), 0u);  // idle close is not an abort
}

TEST(FakeUpstream, SseStreamIsChunkedOnTheWire) {
  FakeUpstream upstream;
  upstream.enqueue(FakeResponse::sse({R"({"a":1})", R"({"b":2})"}));

  Client client(upstream.port());
  ASSERT_FALSE(client.send(post("/v1/chat/completions", "{}", /*keep_alive=*/false)));
  error_code ec;
  const std::string raw = client.read_raw_to_end(ec);
  EXPECT_EQ(ec, asio::error::eof);

  EXPECT_EQ(raw.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << raw;
  const std::string head = raw.substr(0, raw.find("\r\n\r\n") + 2);
  EXPECT_NE(head.find("Content-Type: text/event-stream\r\n"), std::string::npos);
  EXPECT_NE(head.find("Transfer-Encoding: chunked\r\n"), std::string::npos);
  EXPECT_EQ(head.find("Content-Length"), std::string::npos);
  EXPECT_EQ(body_after_head(raw), chunk("data: {\"a\":1}\n\n") + chunk("data: {\"b\":2}\n\n") +
                                      chunk("data: [DONE]\n\n") + "0\r\n\r\n");
}

TEST(FakeUpstream, ChunkedStreamParsesWithBeastAndKeepsAlive) {
  FakeUpstream upstream;
  upstream.enqueue(FakeResponse::sse({"x"}, /*done=*/false));
  upstream.enqueue(FakeResponse::json(200, {{"ok", true}}));
  Client client(upstream.port());
  http::response<http::string_body> res;
  ASSERT_FALSE(client.send(post("/s")));
  ASSERT_FALSE(client.read(res));
  EXPECT_EQ(res.body(), "data: x\n\n");
  res = {};
  ASSERT_FALSE(client.send(post("/j")));
  ASSERT_FALSE(client.read(res));
  EXPECT_EQ(res.body(), R"({"ok":true})");
  EXPECT_EQ(upstream.connection_count(), 1u);
}

TEST(FakeUpstream, GateStallsStreamMidBodyUntilOpened) {
  FakeUpstream upstream;
  auto gate = Gate::make();
  upstream.enqueue(FakeResponse::chunked().sse_data("one").wait(gate).sse_data("two"));

  Client client(upstream.port());
  ASSERT_FALSE(client.send(post("/v1/chat/completions", "{}", /*keep_alive=*/false)));
  std::string raw;
  ASSERT_FALSE(client.read_raw_until(raw, chunk("data: one\n\n")));
  // The server is parked at the gate, so "two" cannot have been written.
  ASSERT_TRUE(gate->wait_for_waiters(1));
  EXPECT_EQ(raw.find("two"), std::string::npos);

  gate->open();
  error_code ec;
  raw += client.read_raw_to_end(ec);
  EXPECT_EQ(ec, asio::error::eof);
  EXPECT_EQ(body_after_head(raw),
            chunk("data: one\n\n") + chunk("data: two\n\n") + "0\r\n\r\n");
}

TEST(FakeUpstream, HoldUntilDelaysTheWholeResponse) {
  FakeUpstream upstream;
  auto gate = Gate::make();
  upstream.enqueue(FakeResponse::json(200, {{"late", true}}).hold_until(gate));

  Client client(upstream.port());
  ASSERT_FALSE(client.send(post("/slow")));
  ASSERT_TRUE(upstream.wait_for_requests(1));
  ASSERT_TRUE(gate->wait_for_waiters(1));  // parked before writing the status line
  gate->open();
  http::response<http::string_body> res;
  ASSERT_FALSE(client.read(res));
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(res.body(), R"({"late":true})");
}

TEST(FakeUpstream, GateAlreadyOpenDoesNotBlock) {
  FakeUpstream upstream;
  auto gate = Gate::make();
  gate->open();
  upstream.enqueue(FakeResponse::json(200, {{"ok", 1}}).hold_until(gate));
  Client client(upstream.port());
  http::response<http::string_body> res;
  ASSERT_FALSE(client.send(post("/")));
  ASSERT_FALSE(client.read(res));
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(gate->arrivals(), 1u);
}

TEST(FakeUpstream, OneGateReleasesSeveralConnections) {
  FakeUpstream upstream;
  auto gate = Gate::make();
  upstream.set_default_response(FakeResponse::json(200, {{"ok", 1}}).hold_until(gate));
  Client a(upstream.port());
  Client b(upstream.port());
  ASSERT_FALSE(a.send(post("/a")));
  ASSERT_FALSE(b.send(post("/b")));
  ASSERT_TRUE(gate->wait_for_waiters(2));
  gate->open();
  http::response<http::string_body> ra, rb;
  ASSERT_FALSE(a.read(ra));
  ASSERT_FALSE(b.read(rb));
  EXPECT_EQ(ra.result_int(), 200);
  EXPECT_EQ(rb.result_int(), 200);
}

TEST(FakeUpstream, HangNeverRespondsThenClosesWhenReleased) {
  FakeUpstream upstream;
  auto gate = Gate::make();
  upstream.enqueue(FakeResponse::hang(gate));
  Client client(upstream.port());
  ASSERT_FALSE(client.send(post("/v1/chat/completions")));
  ASSERT_TRUE(upstream.wait_for_requests(1));
  ASSERT_TRUE(gate->wait_for_waiters(1));
  gate->open();
  error_code ec;
  const std::string raw = client.read_raw_to_end(ec);
  EXPECT_EQ(ec, asio::error::eof);
  EXPECT_EQ(raw, "");  // not a single byte of response
}

TEST(FakeUpstream, RawTruncatedBodyIsAPartialMessage) {
  FakeUpstream upstream;
  upstream.enqueue(FakeResponse::raw("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort"));
  Client client(upstream.port());
  ASSERT_FALSE(client.send(post("/")));
  http::response<http::string_body> res;
  EXPECT_EQ(client.read(res), http::error::partial_message);
}

TEST(FakeUpstream, RawGarbageIsNotHttp) {
  FakeUpstream upstream;
  upstream.enqueue(FakeResponse::raw("\x16\x03\x01 this is not HTTP at all\r\n\r\n"));
  Client client(upstream.port());
  ASSERT_FALSE(client.send(post("/")));
  http::response<http::string_body> res;
  const error_code ec = client.read(res);
  EXPECT_TRUE(ec);
  EXPECT_EQ(ec.category(), http::make_error_code(http::error::bad_version).category())
      << ec.message();
}

TEST(FakeUpstream, LyingContentLengthThenCloseMidBody) {
  FakeUpstream upstream;
  upstream.enqueue(FakeResponse::text(200, "{\"partial\":").declare_content_length(50).close());
  Client client(upstream.port());
  ASSERT_FALSE(client.send(post("/")));
  error_code ec;
  const std::string raw = client.read_raw_to_end(ec);
  EXPECT_EQ(ec, asio::error::eof);
  EXPECT_NE(raw.find("Content-Length: 50\r\n"), std::string::npos);
  EXPECT_EQ(body_after_head(raw), "{\"partial\":");
}

TEST(FakeUpstream, ResetMidStream) {
  FakeUpstream upstream;
  upstream.enqueue(FakeResponse::chunked().sse_data("one").reset());
  Client client(upstream.port());
  ASSERT_FALSE(client.send(post("/")));
  http::response<http::string_body> res;
  EXPECT_EQ(client.read(res), asio::error::connection_reset);
  EXPECT_TRUE(upstream.wait_for_closed_connections(1));
  EXPECT_EQ(upstream.aborted_response_count(), 0u);  // the script itself reset it
}

TEST(FakeUpstream, ClientDisconnectWhileParkedIsNoticedAtOnce) {
  FakeUpstream upstream;
  auto gate = Gate::make();  // never opened
  upstream.enqueue(FakeResponse::chunked().sse_data("one").wait(gate).sse_data("two"));
  Client client(upstream.port());
  ASSERT_FALSE(client.send(post("/")));
  std::string raw;
  ASSERT_FALSE(client.read_raw_until(raw, "data: one"));
  ASSERT_TRUE(gate->wait_for_waiters(1));
  EXPECT_EQ(upstream.closed_connection_count(), 0u);

  client.close();
  EXPECT_TRUE(upstream.wait_for_aborted_responses(1));
  EXPECT_TRUE(upstream.wait_for_closed_connections(1));
  EXPECT_FALSE(gate->is_open());
}

TEST(FakeUpstream, ClientDisconnectBeforeFirstByteIsNoticed) {
  FakeUpstream upstream;
  upstream.enqueue(FakeResponse::hang());
  Client client(upstream.port());
  ASSERT_FALSE(client.send(post("/")));
  ASSERT_TRUE(upstream.wait_for_requests(1));
  client.close();
  EXPECT_TRUE(upstream.wait_for_aborted_responses(1));
  EXPECT_EQ(upstream.closed_connection_count(), 1u);
}

TEST(FakeUpstream, PipelinedRequestReadDuringResponseIsServed) {
  FakeUpstream upstream;
  auto gate = Gate::make();
  upstream.enqueue(FakeResponse::json(200, {{"n", 1}}).hold_until(gate));
  upstream.enqueue(FakeResponse::json(200, {{"n", 2}}));
  Client client(upstream.port());
  std::string two;
  for (auto target : {"/1", "/2"}) {
    auto req = post(target);
    req.prepare_payload();
    std::ostringstream os;
    os << req;
    two += os.str();
  }
  ASSERT_FALSE(client.send_raw(two));
  ASSERT_TRUE(gate->wait_for_waiters(1));
  gate->open();
  http::response<http::string_body> r1, r2;
  ASSERT_FALSE(client.read(r1));
  ASSERT_FALSE(client.read(r2));
  EXPECT_EQ(r1.body(), R"({"n":1})");
  EXPECT_EQ(r2.body(), R"({"n":2})");
  EXPECT_EQ(upstream.request_count(), 2u);
}

TEST(FakeUpstream, BoundedWaitsTimeOut) {
  FakeUpstream upstream;
  EXPECT_FALSE(upstream.wait_for_requests(1, std::chrono::milliseconds(1)));
  EXPECT_FALSE(Gate::make()->wait_for_waiters(1, std::chrono::milliseconds(1)));
}

TEST(FakeUpstream, DestructorDoesNotWaitForGatesOrClients) {
  std::optional<Client> held;
  std::optional<Client> idle;
  auto gate = Gate::make();
  {
    FakeUpstream upstream;
    upstream.enqueue(FakeResponse::chunked().sse_data("one").wait(gate));
    held.emplace(upstream.port());
    idle.emplace(upstream.port());
    ASSERT_FALSE(held->send(post("/")));
    std::string raw;
    ASSERT_FALSE(held->read_raw_until(raw, "data: one"));
    ASSERT_TRUE(gate->wait_for_waiters(1));
    ASSERT_TRUE(upstream.wait_for_connections(2));
  }
  // Both connections were closed by the server on the way out.
  error_code ec;
  held->read_raw_to_end(ec);
  EXPECT_TRUE(ec == asio::error::eof || ec == asio::error::connection_reset) << ec.message();
  idle->read_raw_to_end(ec);
  EXPECT_TRUE(ec == asio::error::eof || ec == asio::error::connection_reset) << ec.message();
  gate->open();  // after the server is gone: must be harmless
}

}  // namespace
}  // namespace tollgate::test
