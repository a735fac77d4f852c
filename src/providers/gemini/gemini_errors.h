#pragma once
// Gemini / Vertex AI error bodies ({"error":{"code","message","status",
// "details"}}, wire formats §3.5) -> the OpenAI status and body the SDKs
// understand, plus the router's failure class. Pure.

#include <optional>
#include <string>
#include <string_view>

#include "providers/provider_adapter.h"

namespace tollgate::gemini {

// `status` is the HTTP status (for a mid-stream error event: the body's
// `code`). The gateway owns the provider credentials, so anything about them
// (401, 403, UNAUTHENTICATED, PERMISSION_DENIED, API_KEY_INVALID even on a
// 400) is a 502 that never repeats upstream text. RESOURCE_EXHAUSTED is a 429
// and UNAVAILABLE a 503, each with a retry-after from the header or the
// body's RetryInfo.retryDelay. `secret` (the API key) is redacted from any
// upstream message that is passed on.
UpstreamFailure map_error(int status, std::string_view body, std::optional<int> retry_after_seconds,
                          const std::string& secret = {});

// The same for an already parsed `{"error":{...}}` object (stream events).
UpstreamFailure map_error_json(int status, const nlohmann::json& body, std::optional<int> retry_after_seconds,
                               const std::string& secret = {});

}  // namespace tollgate::gemini
