#include "tollgate/error.h"

#include <nlohmann/json.hpp>

namespace tollgate {

std::string ApiError::body() const {
  nlohmann::json j;
  j["error"] = {
      {"message", message},
      {"type", type},
      {"param", param.empty() ? nlohmann::json(nullptr) : nlohmann::json(param)},
      {"code", code.empty() ? nlohmann::json(nullptr) : nlohmann::json(code)},
  };
  // Invalid UTF-8 (for example echoed from an upstream) must not make the
  // error path itself fail.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

ApiError ApiError::bad_request(std::string message, std::string param, std::string code) {
  return {400, "invalid_request_error", std::move(code), std::move(message), std::move(param), {}};
}

ApiError ApiError::unauthorized(std::string message, std::string code) {
  return {401, "invalid_request_error", std::move(code), std::move(message), {}, {}};
}

ApiError ApiError::budget_exceeded(std::string message) {
  return {400, "budget_exceeded", "budget_exceeded", std::move(message), {}, {}};
}

ApiError ApiError::forbidden(std::string message, std::string code) {
  return {403, "permission_error", std::move(code), std::move(message), {}, {}};
}

ApiError ApiError::not_found(std::string message, std::string code, std::string param) {
  return {404, "invalid_request_error", std::move(code), std::move(message), std::move(param), {}};
}

ApiError ApiError::payload_too_large(std::string message) {
  return {413, "invalid_request_error", "request_too_large", std::move(message), {}, {}};
}

ApiError ApiError::rate_limited(std::string message, std::optional<int> retry_after) {
  return {429, "rate_limit_error", "rate_limit_exceeded", std::move(message), {}, retry_after};
}

ApiError ApiError::bad_gateway(std::string message, std::string code) {
  return {502, "server_error", std::move(code), std::move(message), {}, {}};
}

ApiError ApiError::unavailable(std::string message, std::optional<int> retry_after) {
  return {503, "server_error", "service_unavailable", std::move(message), {}, retry_after};
}

ApiError ApiError::gateway_timeout(std::string message) {
  return {504, "timeout_error", "upstream_timeout", std::move(message), {}, {}};
}

ApiError ApiError::internal(std::string message) {
  return {500, "server_error", "internal_error", std::move(message), {}, {}};
}

}  // namespace tollgate
