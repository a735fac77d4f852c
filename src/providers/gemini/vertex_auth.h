#pragma once
// Vertex AI credentials: a service-account JSON key becomes an RS256-signed
// JWT (RFC 7523), exchanged at the OAuth token URL for an access token that
// is cached and refreshed before it expires. Key material never appears in
// logs or error messages.

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include "providers/upstream_client.h"
#include "tollgate/error.h"

namespace tollgate::gemini {

struct ServiceAccount {
  std::string client_email;
  std::string private_key_id;   // the JWT header's `kid`; may be empty
  std::string private_key_pem;  // PKCS#8 PEM, as Google issues it

  // Parses a service-account key file's JSON and checks that the private key
  // loads. Errors name the missing field, never its value.
  static Result<ServiceAccount> parse(std::string_view json_text);
  static Result<ServiceAccount> load(const std::string& path);
};

// RFC 4648 §5 base64url without padding.
std::string base64url(std::string_view bytes);

inline constexpr const char* kCloudPlatformScope = "https://www.googleapis.com/auth/cloud-platform";

// A signed JWT assertion: header {"alg":"RS256","typ":"JWT","kid"}, claims
// {iss: client_email, scope, aud: audience (the token URL), iat: now,
// exp: now + lifetime}.
Result<std::string> make_jwt_assertion(const ServiceAccount& account, const std::string& audience,
                                       const std::string& scope, std::chrono::system_clock::time_point now,
                                       std::chrono::seconds lifetime = std::chrono::hours(1));

// The token request body: grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer
// (form-encoded) and the assertion.
std::string token_request_body(const std::string& assertion);

// Access tokens for one service account. Belongs to one worker thread (its
// UpstreamPool's executor), like the adapter holding it; concurrent callers
// on that thread share one fetch.
class VertexTokenSource {
 public:
  using Clock = std::function<std::chrono::system_clock::time_point()>;

  // Throws std::runtime_error if token_url is not an http(s) URL (start-up).
  VertexTokenSource(ServiceAccount account, std::string token_url, Clock clock = {});
  ~VertexTokenSource();

  // A token valid for at least the refresh margin (5 minutes, or half the
  // token's lifetime if shorter). Fetches one when none is cached. Errors are
  // 502 upstream_auth_error (the endpoint refused the assertion) or
  // upstream_error (unreachable, malformed answer).
  boost::asio::awaitable<Result<std::string>> token(UpstreamPool& pool);
  // Forgets the cached token (the upstream rejected it with 401).
  void invalidate();
  std::size_t fetches() const { return fetches_; }

 private:
  boost::asio::awaitable<Result<std::string>> fetch(UpstreamPool& pool);
  std::chrono::system_clock::time_point now() const;
  bool fresh() const;

  ServiceAccount account_;
  std::string token_url_;
  UpstreamUrl url_;
  Clock clock_;
  std::string token_;
  std::chrono::system_clock::time_point refresh_at_{};
  bool fetching_ = false;
  std::optional<ApiError> last_error_;
  std::unique_ptr<boost::asio::steady_timer> wake_;  // waiters park here while a fetch runs
  std::size_t fetches_ = 0;
};

}  // namespace tollgate::gemini
