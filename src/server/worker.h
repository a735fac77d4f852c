#pragma once
// One worker thread's world: its io_context, acceptor, upstream pool, router
// and the sessions it owns. Everything here is touched only from the worker's
// own thread, except `ioc` (posted to) and the shared state (atomics).

#include <memory>
#include <set>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

#include "providers/upstream_client.h"
#include "router/router.h"
#include "server/dispatcher.h"
#include "server/gateway.h"

namespace tollgate {

// What a worker needs from a session to drain it.
class SessionControl {
 public:
  virtual ~SessionControl() = default;
  // Closes the connection if it is idle; otherwise lets the current request
  // finish and closes afterwards.
  virtual void on_drain() = 0;
  // Closes the connection now (drain deadline passed).
  virtual void force_close() = 0;
  // Waiting for the next request on a kept-alive connection (the first to
  // close when connections run out).
  virtual bool idle() const = 0;
};

class Worker {
 public:
  Worker(std::shared_ptr<SharedState> state, const GatewayOptions& options,
         std::shared_ptr<boost::asio::ssl::context> server_tls,
         std::shared_ptr<boost::asio::ssl::context> client_tls, uint64_t seed);

  void listen(const boost::asio::ip::tcp::endpoint& ep, bool reuse_port);
  void start_accepting();
  // Posted to the worker: stop accepting and drain every session.
  void drain();
  // Posted to the worker after the drain deadline: close every session and
  // upstream connection so their coroutines finish.
  void force_close();

  boost::asio::io_context ioc{1};
  boost::asio::ip::tcp::acceptor acceptor{ioc};
  std::shared_ptr<SharedState> state;
  std::shared_ptr<boost::asio::ssl::context> server_tls;  // null: plain HTTP
  UpstreamPool pool;
  std::set<SessionControl*> sessions;
  Dispatcher dispatcher{*this};

  // This worker's router for a config generation, built on first use after
  // a reload (providers hold this worker's upstream pool). Sessions keep the
  // one they started with.
  std::shared_ptr<Router> router_for(const Generation& gen);

 private:
  // Closes one idle kept-alive connection of this worker; false when none.
  bool close_an_idle_session();
  // Answers a connection beyond server.max_connections with 503 and closes it.
  void refuse(boost::asio::ip::tcp::socket socket);

  Router::Sleep sleep_;
  GatewayOptions::DecorateProvider decorate_;
  uint64_t seed_;
  std::shared_ptr<Router> router_;
  uint64_t router_generation_ = 0;
};

// Starts a session on an accepted socket (defined in session.cc).
void start_session(Worker& worker, boost::asio::ip::tcp::socket socket);

}  // namespace tollgate
