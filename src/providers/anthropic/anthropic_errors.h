#pragma once
// Anthropic error answers (wire formats §2.8) as the OpenAI client should see
// them, for HTTP errors before a stream and `event: error` inside one. Pure.

#include <optional>
#include <string>
#include <string_view>

#include "providers/provider_adapter.h"
#include "tollgate/error.h"

namespace tollgate::anthropic {

// A non-2xx Messages API answer. The provider key belongs to the gateway, so
// 401/403 become 502 (never a client 401) and 402 (billing) becomes 503;
// their upstream text is never echoed. 404 is a deployment misconfiguration
// and fails over as 502. 529 (or an overloaded_error body) becomes 503
// type service_unavailable, code overloaded, with retry-after (1 s when the
// upstream gave none). 429 keeps retry-after. Other 5xx become 502, 504 a
// timeout. Remaining 4xx are the client's: 400 with the upstream message.
UpstreamFailure map_http_error(int status, std::string_view body, std::optional<int> retry_after_seconds);

// The error of an `event: error` payload ({"type":"error","error":{type,
// message}}), mapped by its error.type as map_http_error maps statuses.
ApiError map_stream_error(std::string_view data);

}  // namespace tollgate::anthropic
