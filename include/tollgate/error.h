#pragma once
// Errors on the request path are values. Every ApiError maps to one HTTP
// status and one OpenAI-shaped body: {"error":{"message","type","param","code"}}.

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace tollgate {

struct ApiError {
  int status = 500;
  std::string type = "server_error";  // OpenAI error "type"
  std::string code;                   // OpenAI error "code"; empty -> null
  std::string message;
  std::string param;                      // empty -> null
  std::optional<int> retry_after_seconds;  // sent as `retry-after` when set

  // The JSON body the OpenAI SDKs parse. Never contains secrets: callers
  // must not put keys or prompts into `message`.
  std::string body() const;
  // The same object as a streaming error event payload (no "data: " prefix).
  std::string stream_event() const { return body(); }

  static ApiError bad_request(std::string message, std::string param = {},
                              std::string code = "invalid_value");
  static ApiError unauthorized(std::string message, std::string code = "invalid_api_key");
  static ApiError forbidden(std::string message, std::string code = "model_not_allowed");
  static ApiError not_found(std::string message, std::string code = "model_not_found",
                            std::string param = {});
  static ApiError payload_too_large(std::string message);
  static ApiError rate_limited(std::string message, std::optional<int> retry_after);
  static ApiError bad_gateway(std::string message, std::string code = "upstream_error");
  static ApiError unavailable(std::string message, std::optional<int> retry_after = {});
  static ApiError gateway_timeout(std::string message);
  static ApiError internal(std::string message);
  // 400 budget_exceeded (LiteLLM's status and type, so its clients match it).
  static ApiError budget_exceeded(std::string message);
};

// A small result type: a value or an error. (std::expected is C++23.)
template <class T, class E = ApiError>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}
  Result(E error) : v_(std::move(error)) {}
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() { return std::get<0>(v_); }
  const T& value() const { return std::get<0>(v_); }
  T& operator*() { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const E& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, E> v_;
};

}  // namespace tollgate
