#pragma once
// Parses a request's body, once, right after authentication: an anonymous
// or refused caller's bytes are never parsed. The client's bytes
// (RequestContext::body_bytes) become ctx.body under the configured limits
// (server.max_json_depth; numbers that overflow, invalid UTF-8 and
// duplicate keys are refused with 400 `invalid_json` saying where). The
// Anthropic-compatible routes are then translated into the chat shape, so
// that validation, policy, limits, budgets and the router see an ordinary
// chat completions request (ctx.path keeps the route the client called).
//
// LLM POST routes need a JSON body; admin POSTs may omit it; GETs have none.

#include "tollgate/json_document.h"
#include "tollgate/middleware.h"

namespace tollgate {

class BodyParser final : public Middleware {
 public:
  explicit BodyParser(JsonLimits limits) : limits_(limits) {}
  std::string_view name() const override { return "body_parser"; }
  boost::asio::awaitable<Decision> on_request(RequestContext& ctx) override;

  // The same steps, callable without a coroutine (fuzzing, tests).
  Decision parse(RequestContext& ctx) const;

 private:
  JsonLimits limits_;
};

}  // namespace tollgate
