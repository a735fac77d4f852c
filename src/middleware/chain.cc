#include "tollgate/middleware.h"

#include <spdlog/spdlog.h>

namespace tollgate {

boost::asio::awaitable<Decision> MiddlewareChain::run(RequestContext& ctx) const {
  for (const auto& m : items_) {
    if (auto d = co_await m->on_request(ctx)) co_return d;
  }
  co_return std::nullopt;
}

void MiddlewareChain::complete(const RequestContext& ctx) const {
  for (const auto& m : items_) {
    try {
      m->on_complete(ctx);
    } catch (const std::exception& e) {
      spdlog::error("[{}] middleware {} on_complete failed: {}", ctx.request_id, m->name(), e.what());
    }
  }
}

}  // namespace tollgate
