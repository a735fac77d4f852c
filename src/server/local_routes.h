#pragma once
// The HTTP route table and the replies the gateway makes itself (health,
// model listing). Pure functions over the request line and the config.

#include <optional>
#include <string>

#include <boost/beast/http/verb.hpp>

#include "server/gateway.h"
#include "tollgate/error.h"
#include "tollgate/request_context.h"
#include "tollgate/response_sink.h"

namespace tollgate {

struct Route {
  Endpoint endpoint = Endpoint::unknown;
  std::string path;      // normalised, without query
  std::string model_id;  // for GET /v1/models/{id}
  bool local = false;    // answered without auth (health)
  std::optional<ApiError> error;  // 404 unknown route, 405 wrong method
};

// Accepts every route with or without the "/v1" prefix.
Route resolve_route(boost::beast::http::verb method, std::string_view target);

struct LocalReply {
  int status = 200;
  std::string body;
  HeaderList headers;
};

// Liveness, readiness and "/" (GET /health and /metrics: ops_routes.h).
LocalReply local_reply(const Route& route, const SharedState& state, const Config& config);
// GET /v1/models (filtered to what the caller may use) and /v1/models/{id}.
LocalReply models_reply(const Route& route, const RequestContext& ctx, const Config& config);

}  // namespace tollgate
