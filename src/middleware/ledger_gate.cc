#include "middleware/ledger_gate.h"

#include "accounting/ledger.h"

namespace tollgate {

boost::asio::awaitable<Decision> LedgerGate::on_request(RequestContext& ctx) {
  if (ctx.endpoint == Endpoint::admin || ctx.endpoint == Endpoint::health || ledger_->accepting()) co_return std::nullopt;
  co_return ApiError::unavailable(
      "The gateway cannot record spend right now (its local spool is full while the database is unreachable), so it "
      "is not taking new requests. Retry later.",
      30);
}

}  // namespace tollgate
