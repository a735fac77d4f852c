#pragma once
// The middleware chain. A middleware decides; it never writes to the socket:
// it returns Continue (nullopt) or an ApiError that the session turns into the
// response. Middlewares run in order on the connection's thread.

#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "tollgate/error.h"
#include "tollgate/request_context.h"

namespace tollgate {

using Decision = std::optional<ApiError>;  // nullopt: continue

class Middleware {
 public:
  virtual ~Middleware() = default;
  virtual std::string_view name() const = 0;
  // Runs before routing. May suspend (future stores, shared rate limits).
  virtual boost::asio::awaitable<Decision> on_request(RequestContext& ctx) = 0;
  // Runs once after the request finished, whatever the outcome (settle
  // budgets, correct token estimates). Must not throw.
  virtual void on_complete(const RequestContext& ctx) {}
};

// Immutable once built; shared by all sessions.
class MiddlewareChain {
 public:
  void add(std::shared_ptr<Middleware> m) { items_.push_back(std::move(m)); }
  // First error wins; later middlewares do not run.
  boost::asio::awaitable<Decision> run(RequestContext& ctx) const;
  void complete(const RequestContext& ctx) const;

 private:
  std::vector<std::shared_ptr<Middleware>> items_;
};

}  // namespace tollgate
