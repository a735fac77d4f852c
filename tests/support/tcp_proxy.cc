#include "support/tcp_proxy.h"

#include <array>
#include <atomic>
#include <future>
#include <list>
#include <mutex>
#include <thread>

#include <boost/asio.hpp>

namespace tollgate::test {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

struct TcpProxy::Impl {
  struct Pair {
    tcp::socket client;
    tcp::socket server;
    std::array<char, 16384> up{}, down{};
    explicit Pair(asio::io_context& ioc) : client(ioc), server(ioc) {}
    void close() {
      boost::system::error_code ec;
      client.set_option(asio::socket_base::linger(true, 0), ec);
      client.close(ec);
      server.close(ec);
    }
  };

  asio::io_context ioc;
  tcp::acceptor acceptor{ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)};
  tcp::endpoint target;
  std::atomic<bool> down{false};
  std::list<std::shared_ptr<Pair>> pairs;  // ioc thread only
  std::thread thread;

  void accept() {
    auto pair = std::make_shared<Pair>(ioc);
    acceptor.async_accept(pair->client, [this, pair](boost::system::error_code ec) {
      if (ec) return;
      if (down.load()) {
        pair->close();
      } else {
        pairs.push_back(pair);
        pair->server.async_connect(target, [this, pair](boost::system::error_code cec) {
          if (cec) {
            pair->close();
            return;
          }
          pump(pair, pair->client, pair->server, pair->up);
          pump(pair, pair->server, pair->client, pair->down);
        });
      }
      accept();
    });
  }

  void pump(std::shared_ptr<Pair> pair, tcp::socket& from, tcp::socket& to, std::array<char, 16384>& buf) {
    from.async_read_some(asio::buffer(buf), [this, pair, &from, &to, &buf](boost::system::error_code ec, std::size_t n) {
      if (ec) {
        pair->close();
        return;
      }
      asio::async_write(to, asio::buffer(buf.data(), n), [this, pair, &from, &to, &buf](boost::system::error_code wec, std::size_t) {
        if (wec) {
          pair->close();
          return;
        }
        pump(pair, from, to, buf);
      });
    });
  }
};

TcpProxy::TcpProxy(std::string host, uint16_t port) : impl_(std::make_unique<Impl>()) {
  impl_->target = tcp::endpoint(asio::ip::make_address(host == "localhost" ? "127.0.0.1" : host), port);
  impl_->accept();
  impl_->thread = std::thread([this] { impl_->ioc.run(); });
}

TcpProxy::~TcpProxy() {
  asio::post(impl_->ioc, [this] {
    boost::system::error_code ec;
    impl_->acceptor.close(ec);
    for (auto& p : impl_->pairs) p->close();
    impl_->pairs.clear();
  });
  impl_->ioc.stop();
  impl_->thread.join();
}

uint16_t TcpProxy::port() const { return impl_->acceptor.local_endpoint().port(); }

void TcpProxy::set_down(bool down) {
  impl_->down.store(down);
  if (!down) return;
  std::promise<void> done;
  auto fut = done.get_future();
  asio::post(impl_->ioc, [this, &done] {
    for (auto& p : impl_->pairs) p->close();
    impl_->pairs.clear();
    done.set_value();
  });
  fut.wait();
}

}  // namespace tollgate::test
