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

#include <memory>

#include "tollgate/config.h"
#include "tollgate/json_document.h"
#include "tollgate/middleware.h"

namespace tollgate {

class ResponseArchive;
class ResponseItemResolver;

class BodyParser final : public Middleware {
 public:
  // `archive` (may be null) holds stored responses: a Responses request's
  // previous_response_id and item_reference inputs are read from it, for
  // the caller's owner, before translation. `config` outlives the parser.
  explicit BodyParser(JsonLimits limits, std::shared_ptr<ResponseArchive> archive = nullptr,
                      std::shared_ptr<const Config> config = nullptr)
      : limits_(limits), archive_(std::move(archive)), config_(std::move(config)) {}
  std::string_view name() const override { return "body_parser"; }
  boost::asio::awaitable<Decision> on_request(RequestContext& ctx) override;

  // The same steps, callable without a coroutine (fuzzing, tests): stored
  // items are looked up in `history` (null: none are found).
  Decision parse(RequestContext& ctx, const ResponseItemResolver* history = nullptr) const;

 private:
  Decision parse_json(RequestContext& ctx) const;
  Decision translate(RequestContext& ctx, const ResponseItemResolver* history) const;

  JsonLimits limits_;
  std::shared_ptr<ResponseArchive> archive_;
  std::shared_ptr<const Config> config_;
};

}  // namespace tollgate
