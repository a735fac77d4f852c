#pragma once
// The shared HTTP/1.1 client every HTTP provider uses: pooled keep-alive
// connections per upstream origin, async DNS, TLS with certificate and host
// name verification (SNI), and connect / first-byte / total deadlines.
//
// Thread-safety: an UpstreamPool and its exchanges belong to one worker
// thread (one io_context); nothing here is shared between threads.

#include <chrono>
#include <map>
#include <set>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ssl/context.hpp>

#include "tollgate/error.h"
#include "tollgate/provider.h"
#include "tollgate/response_sink.h"

namespace tollgate {

// An origin and base path parsed from a provider's base_url.
struct UpstreamUrl {
  bool tls = false;
  std::string host;
  std::string port;
  std::string base_path;  // without trailing slash, may be empty

  static Result<UpstreamUrl> parse(std::string_view url);
  std::string origin() const;       // scheme://host:port, the pool key
  std::string host_header() const;  // host[:port] as sent in Host
};

struct UpstreamRequest {
  std::string method = "POST";
  std::string target;  // path and query
  HeaderList headers;  // besides Host, Content-Length, Connection
  std::string body;
};

class UpstreamConnection;

class UpstreamPool {
 public:
  UpstreamPool(boost::asio::any_io_executor ex, std::shared_ptr<boost::asio::ssl::context> tls,
               std::size_t max_idle_per_origin = 512);
  ~UpstreamPool();
  UpstreamPool(const UpstreamPool&) = delete;
  UpstreamPool& operator=(const UpstreamPool&) = delete;

  boost::asio::any_io_executor executor() const { return ex_; }
  std::size_t idle_count() const;
  std::size_t connections_opened() const { return opened_; }
  // Closes every connection, idle or in use (shutdown); in-flight exchanges
  // then fail at once.
  void close_all();

 private:
  friend class UpstreamExchange;
  std::unique_ptr<UpstreamConnection> take(const std::string& origin);
  void give_back(std::unique_ptr<UpstreamConnection> c);

  boost::asio::any_io_executor ex_;
  std::shared_ptr<boost::asio::ssl::context> tls_;
  std::size_t max_idle_;
  std::size_t opened_ = 0;
  friend class UpstreamConnection;
  std::set<UpstreamConnection*> live_;
  std::map<std::string, std::vector<std::unique_ptr<UpstreamConnection>>> idle_;
};

// One request/response on a pooled connection. The connection returns to the
// pool when the response body was read completely and both sides allow
// keep-alive; otherwise (abort, error, early destruction) it is closed.
class UpstreamExchange {
 public:
  using Failure = AttemptOutcome;

  ~UpstreamExchange();
  UpstreamExchange(const UpstreamExchange&) = delete;
  UpstreamExchange& operator=(const UpstreamExchange&) = delete;

  // Connects (or reuses a pooled connection), sends `req` and reads the
  // response header. Failures are classified for the router: connect,
  // timeout (connect or first byte), server (garbage).
  static boost::asio::awaitable<Result<std::unique_ptr<UpstreamExchange>, Failure>> start(
      UpstreamPool& pool, const UpstreamUrl& url, UpstreamRequest req, const AttemptLimits& limits);

  int status() const;
  std::string header(std::string_view name) const;  // empty when absent
  // Seconds from a retry-after header (delta-seconds form only).
  std::optional<int> retry_after_seconds() const;

  // Appends the next available body bytes to `out`; returns false when the
  // body is complete. Waits at most until the total deadline.
  boost::asio::awaitable<Result<bool, Failure>> read_some(std::string& out);
  // Reads the rest of the body, failing past `max_bytes`.
  boost::asio::awaitable<Result<std::string, Failure>> read_all(std::size_t max_bytes);
  // Reads and discards what is left of the body (after a stream's terminal
  // event: the final empty chunk) so the connection can return to the pool.
  // Gives up, closing the connection, past `max_bytes`.
  boost::asio::awaitable<void> discard_rest(std::size_t max_bytes);
  // Closes the connection now; pending reads fail. Idempotent.
  void abort();

 private:
  UpstreamExchange(UpstreamPool& pool, std::unique_ptr<UpstreamConnection> conn,
                   std::chrono::steady_clock::time_point deadline);
  struct State;
  UpstreamPool& pool_;
  std::unique_ptr<UpstreamConnection> conn_;
  std::unique_ptr<State> state_;
};

}  // namespace tollgate
