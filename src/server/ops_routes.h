#pragma once
// The operator's endpoints: GET /metrics (Prometheus text, optional bearer
// token) and GET /health (every deployment's state; master key when one is
// configured). Neither shows credentials.

#include "server/gateway.h"
#include "server/local_routes.h"

namespace tollgate {

LocalReply metrics_reply(const RequestContext& ctx, SharedState& state, const Config& config);
LocalReply health_reply(const RequestContext& ctx, const SharedState& state, const Config& config);

// True when the credential in ctx (bearer or x-api-key) equals `secret`,
// compared in constant time.
bool presents_secret(const RequestContext& ctx, const std::string& secret);

}  // namespace tollgate
