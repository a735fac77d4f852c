#include "support/test_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace tollgate::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

std::vector<std::string> ClientResponse::sse_data() const {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos < body.size()) {
    auto end = body.find("\n\n", pos);
    if (end == std::string::npos) end = body.size();
    std::string_view event(body.data() + pos, end - pos);
    std::size_t lp = 0;
    while (lp < event.size()) {
      auto le = event.find('\n', lp);
      if (le == std::string_view::npos) le = event.size();
      auto line = event.substr(lp, le - lp);
      if (line.starts_with("data: ")) out.emplace_back(line.substr(6));
      lp = le + 1;
    }
    pos = end + 2;
  }
  return out;
}

struct TestClient::Impl {
  asio::io_context ioc;
  beast::tcp_stream stream{ioc};
  beast::flat_buffer buffer;
  uint16_t port;
  std::chrono::milliseconds timeout;
  bool open = false;
  bool eof = false;

  void ensure_open() {
    if (open) return;
    stream.expires_after(timeout);
    stream.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    open = true;
  }
};

TestClient::TestClient(uint16_t port, std::chrono::milliseconds timeout) : impl_(std::make_unique<Impl>()) {
  impl_->port = port;
  impl_->timeout = timeout;
}

TestClient::~TestClient() { close(); }

bool TestClient::connected() const { return impl_->open; }
bool TestClient::saw_eof() const { return impl_->eof; }

void TestClient::close() {
  if (!impl_->open) return;
  beast::error_code ec;
  impl_->stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  impl_->stream.close();
  impl_->open = false;
  impl_->buffer.clear();
}

ClientResponse TestClient::request(const std::string& method, const std::string& target, const std::string& body,
                                   const std::map<std::string, std::string>& headers) {
  impl_->ensure_open();
  http::request<http::string_body> req{http::string_to_verb(method), target, 11};
  req.set(http::field::host, "127.0.0.1");
  for (const auto& [k, v] : headers) req.set(k, v);
  req.body() = body;
  req.prepare_payload();
  // Run the whole exchange on the io_context so the deadline covers both the
  // write and the read (beast's synchronous calls ignore expires_after).
  beast::error_code result;
  http::response_parser<http::string_body> parser;
  parser.body_limit(64u << 20);
  impl_->stream.expires_after(impl_->timeout);
  http::async_write(impl_->stream, req, [&](beast::error_code ec, std::size_t) {
    if (ec) {
      result = ec;
      return;
    }
    http::async_read(impl_->stream, impl_->buffer, parser, [&](beast::error_code ec2, std::size_t) { result = ec2; });
  });
  impl_->ioc.restart();
  impl_->ioc.run();
  if (result) {
    close();
    throw beast::system_error(result);
  }
  ClientResponse out;
  auto& res = parser.get();
  out.status = res.result_int();
  for (const auto& f : res) {
    std::string name(f.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out.headers[name] = std::string(f.value());
  }
  out.body = res.body();
  if (!res.keep_alive()) close();
  return out;
}

ClientResponse TestClient::post_json(const std::string& target, const nlohmann::json& body,
                                     const std::map<std::string, std::string>& headers) {
  auto h = headers;
  h.emplace("content-type", "application/json");
  return request("POST", target, body.dump(), h);
}

void TestClient::send_raw(const std::string& bytes) {
  impl_->ensure_open();
  impl_->stream.expires_after(impl_->timeout);
  beast::error_code result;
  asio::async_write(impl_->stream, asio::buffer(bytes), [&](beast::error_code ec, std::size_t) { result = ec; });
  impl_->ioc.restart();
  impl_->ioc.run();
  if (result) throw beast::system_error(result);
}

std::string TestClient::read_until(const std::string& marker) {
  impl_->ensure_open();
  std::string got = beast::buffers_to_string(impl_->buffer.data());
  impl_->buffer.consume(impl_->buffer.size());
  char buf[4096];
  impl_->stream.expires_after(impl_->timeout);
  impl_->eof = false;
  while (got.find(marker) == std::string::npos) {
    beast::error_code result;
    std::size_t n = 0;
    impl_->stream.async_read_some(asio::buffer(buf), [&](beast::error_code ec, std::size_t k) {
      result = ec;
      n = k;
    });
    impl_->ioc.restart();
    impl_->ioc.run();
    got.append(buf, n);
    if (result) {
      impl_->eof = result == asio::error::eof || result == asio::error::connection_reset;
      break;
    }
  }
  return got;
}

std::string TestClient::read_to_eof() { return read_until(std::string("\0\xff\0never", 8)); }

}  // namespace tollgate::test
