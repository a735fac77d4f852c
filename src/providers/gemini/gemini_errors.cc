#include "providers/gemini/gemini_errors.h"

#include "tollgate/json_document.h"

#include <cctype>
#include <cmath>
#include <cstdlib>

#include "providers/json_fields.h"

namespace tollgate::gemini {
namespace {

using nlohmann::json;

// Google API keys look like "AIza" + 35 characters of [A-Za-z0-9_-].
std::string redact(std::string text, const std::string& secret) {
  if (secret.size() >= 8) {
    for (std::size_t p; (p = text.find(secret)) != std::string::npos;) text.replace(p, secret.size(), "[redacted]");
  }
  for (std::size_t p = 0; (p = text.find("AIza", p)) != std::string::npos;) {
    std::size_t end = p + 4;
    while (end < text.size() && (std::isalnum(static_cast<unsigned char>(text[end])) || text[end] == '_' || text[end] == '-')) ++end;
    if (end - p >= 30) {
      text.replace(p, end - p, "[redacted]");
    } else {
      p = end;
    }
  }
  return text;
}

// google.rpc.RetryInfo.retryDelay is a Duration string such as "17s" or "0.5s".
std::optional<int> retry_delay(const json& details) {
  if (!details.is_array()) return std::nullopt;
  for (const auto& d : details) {
    if (!d.is_object()) continue;
    auto it = d.find("retryDelay");
    if (it == d.end() || !it->is_string()) continue;
    const std::string s = *it;
    char* end = nullptr;
    const double secs = std::strtod(s.c_str(), &end);
    if (end == s.c_str() || secs < 0 || secs > 86400) continue;
    return static_cast<int>(std::ceil(secs));
  }
  return std::nullopt;
}

bool has_reason(const json& details, const char* reason) {
  if (!details.is_array()) return false;
  for (const auto& d : details) {
    if (d.is_object() && d.contains("reason") && d["reason"] == reason) return true;
  }
  return false;
}

}  // namespace

UpstreamFailure map_error_json(int status, const json& body, std::optional<int> retry_after_seconds,
                               const std::string& secret) {
  // streamGenerateContent without alt=sse answers errors as a one-element array.
  const json& root = body.is_array() && !body.empty() ? body[0] : body;
  const json& e = json_member(root, "error");
  const std::string grpc = e.contains("status") && e["status"].is_string() ? e["status"].get<std::string>() : "";
  const std::string message =
      e.contains("message") && e["message"].is_string() ? redact(e["message"].get<std::string>(), secret) : "";
  const json& details = json_member(e, "details");
  if (status == 0 && e.contains("code") && e["code"].is_number_integer()) status = e["code"].get<int>();
  const std::optional<int> retry = retry_after_seconds ? retry_after_seconds : retry_delay(details);
  auto with_detail = [&](std::string base) { return message.empty() ? base : base + ": " + message; };

  if (has_reason(details, "API_KEY_INVALID") || status == 401 || status == 403 || grpc == "UNAUTHENTICATED" ||
      grpc == "PERMISSION_DENIED") {
    // Another deployment may hold working credentials, so this fails over.
    return {ApiError::bad_gateway("the upstream provider rejected the gateway's credentials", "upstream_auth_error"),
            FailureClass::server};
  }
  if (status == 429 || grpc == "RESOURCE_EXHAUSTED") {
    return {ApiError::rate_limited(with_detail("upstream rate limit reached"), retry), FailureClass::rate_limited};
  }
  if (status == 503 || grpc == "UNAVAILABLE") {
    return {ApiError::unavailable(with_detail("upstream overloaded"), retry.value_or(1)), FailureClass::server};
  }
  if (status == 504 || status == 408 || grpc == "DEADLINE_EXCEEDED") {
    return {ApiError::gateway_timeout(with_detail("upstream timed out")), FailureClass::timeout};
  }
  if (status == 404 || grpc == "NOT_FOUND") {
    return {ApiError::bad_gateway(with_detail("upstream does not serve the configured model or route"),
                                  "upstream_not_found"),
            FailureClass::server};
  }
  if (grpc == "FAILED_PRECONDITION") {
    // Billing or region: the deployment cannot serve anyone; another may.
    return {ApiError::unavailable(with_detail("upstream cannot serve this deployment"), retry), FailureClass::server};
  }
  if (status >= 500 || grpc == "INTERNAL" || grpc == "UNKNOWN") {
    return {ApiError::bad_gateway(with_detail("upstream error (HTTP " + std::to_string(status) + ")")),
            FailureClass::server};
  }
  if (status == 413) {
    return {ApiError::payload_too_large(with_detail("upstream rejected the request size")), FailureClass::client};
  }
  std::string code = "upstream_bad_request";
  if (message.find("token count") != std::string::npos && message.find("exceeds") != std::string::npos) {
    code = "context_length_exceeded";
  }
  return {ApiError::bad_request(message.empty() ? "upstream rejected the request" : message, {}, code),
          FailureClass::client};
}

UpstreamFailure map_error(int status, std::string_view body, std::optional<int> retry_after_seconds,
                          const std::string& secret) {
  json j = parse_json_or_discarded(body);
  if (j.is_discarded()) j = json::object();
  return map_error_json(status, j, retry_after_seconds, secret);
}

}  // namespace tollgate::gemini
