#include "providers/anthropic/anthropic_errors.h"

#include "tollgate/json_document.h"

#include <nlohmann/json.hpp>

namespace tollgate::anthropic {
namespace {

using nlohmann::json;

struct Parsed {
  std::string type;     // error.type, e.g. "overloaded_error"
  std::string message;  // error.message
};

Parsed parse_error_body(std::string_view body) {
  Parsed p;
  json j = parse_json_or_discarded(body);
  if (j.is_discarded() || !j.is_object()) return p;
  const json* e = &j;
  if (auto it = j.find("error"); it != j.end() && it->is_object()) e = &*it;
  if (auto t = e->find("type"); t != e->end() && t->is_string()) p.type = t->get<std::string>();
  if (auto m = e->find("message"); m != e->end() && m->is_string()) p.message = m->get<std::string>();
  return p;
}

std::string with_detail(std::string base, const std::string& upstream_message) {
  return upstream_message.empty() ? base : base + ": " + upstream_message;
}

ApiError overloaded(const std::string& message, std::optional<int> retry_after) {
  // 529 is not a standard status: some HTTP stacks treat it as fatal. The SDKs
  // retry 503 and honour retry-after.
  return {503, "service_unavailable", "overloaded", message.empty() ? "the upstream provider is overloaded" : message,
          {}, retry_after.value_or(1)};
}

bool mentions_context_length(const std::string& message) {
  return message.find("prompt is too long") != std::string::npos ||
         message.find("context window") != std::string::npos ||
         message.find("context length") != std::string::npos;
}

// Both entry points end here: `status` is the upstream HTTP status (or the
// status the error type implies for a stream error).
UpstreamFailure map(int status, const Parsed& p, std::optional<int> retry_after) {
  const std::string& type = p.type;
  if (type == "overloaded_error" || status == 529) {
    return {overloaded(p.message, retry_after), FailureClass::server};
  }
  if (status == 401 || status == 403 || type == "authentication_error" || type == "permission_error") {
    // Messages about the provider key can echo parts of it; another
    // deployment may hold a working key, so this fails over like a 5xx.
    return {ApiError::bad_gateway("the upstream provider rejected the gateway's credentials", "upstream_auth_error"),
            FailureClass::server};
  }
  if (status == 402 || type == "billing_error") {
    return {ApiError{503, "insufficient_quota", "insufficient_quota",
                     "the upstream provider account cannot be billed", {}, {}},
            FailureClass::server};
  }
  if (status == 429 || type == "rate_limit_error") {
    return {ApiError::rate_limited(with_detail("upstream rate limit reached", p.message), retry_after),
            FailureClass::rate_limited};
  }
  if (status == 408 || status == 504 || type == "timeout_error") {
    return {ApiError::gateway_timeout(with_detail("upstream timed out", p.message)), FailureClass::timeout};
  }
  if (status == 404 || type == "not_found_error") {
    return {ApiError::bad_gateway(with_detail("upstream does not serve the configured model or route", p.message),
                                  "upstream_not_found"),
            FailureClass::server};
  }
  if (status == 413 || type == "request_too_large") {
    // Sent by the CDN in front of the API; its body may be HTML, so only a
    // parsed JSON message is passed on.
    return {ApiError::payload_too_large(with_detail("upstream rejected the request size", p.message)),
            FailureClass::client};
  }
  if (status == 503) {
    return {ApiError::unavailable(with_detail("upstream unavailable", p.message), retry_after.value_or(1)),
            FailureClass::server};
  }
  if (status >= 500 || type == "api_error") {
    return {ApiError::bad_gateway(with_detail("upstream error (HTTP " + std::to_string(status) + ")", p.message)),
            FailureClass::server};
  }
  const std::string code = mentions_context_length(p.message) ? "context_length_exceeded" : "upstream_bad_request";
  return {ApiError::bad_request(p.message.empty() ? "upstream rejected the request" : p.message, {}, code),
          FailureClass::client};
}

int status_for_type(const std::string& type) {
  if (type == "invalid_request_error") return 400;
  if (type == "authentication_error") return 401;
  if (type == "billing_error") return 402;
  if (type == "permission_error") return 403;
  if (type == "not_found_error") return 404;
  if (type == "request_too_large") return 413;
  if (type == "rate_limit_error") return 429;
  if (type == "timeout_error") return 504;
  if (type == "overloaded_error") return 529;
  return 500;  // api_error and anything new
}

}  // namespace

UpstreamFailure map_http_error(int status, std::string_view body, std::optional<int> retry_after_seconds) {
  return map(status, parse_error_body(body), retry_after_seconds);
}

ApiError map_stream_error(std::string_view data) {
  Parsed p = parse_error_body(data);
  ApiError e = map(status_for_type(p.type), p, std::nullopt).error;
  if (p.type.empty() && e.status == 502) e.message = "the upstream reported an error mid-stream";
  return e;
}

}  // namespace tollgate::anthropic
