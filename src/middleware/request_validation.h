#pragma once
// Validates the JSON body of the model endpoints before anything is routed,
// so malformed requests get a precise 400 naming the parameter, and fills
// ctx.requested_model / stream / client_wants_usage.

#include "tollgate/middleware.h"

namespace tollgate {

class RequestValidation final : public Middleware {
 public:
  std::string_view name() const override { return "validation"; }
  boost::asio::awaitable<Decision> on_request(RequestContext& ctx) override;
};

// The checks, as a pure function (tested directly).
Decision validate_request(RequestContext& ctx);

}  // namespace tollgate
