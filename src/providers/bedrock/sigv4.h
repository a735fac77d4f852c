#pragma once
// AWS Signature Version 4 for header-signed requests (wire formats §4.3).
// Pure apart from OpenSSL's hashing: the time is a parameter, so signatures
// are deterministic in tests. Nothing here logs; the secret key only ever
// enters an HMAC.

#include <chrono>
#include <string>
#include <string_view>

#include "providers/upstream_client.h"
#include "tollgate/response_sink.h"

namespace tollgate::sigv4 {

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // temporary (STS) credentials only; signed when set
};

// A request as it goes on the wire.
struct Request {
  std::string_view method;
  std::string_view target;  // path[?query], exactly as sent (already percent-encoded)
  HeaderList headers;       // the headers to sign, any case and order; host included
  std::string_view body;
};

struct Signature {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signed_headers;  // "host;x-amz-date"
  std::string signature;       // lowercase hex
  std::string authorization;   // the Authorization header value
};

// "YYYYMMDD'T'HHMMSS'Z'" in UTC.
std::string amz_date(std::chrono::system_clock::time_point t);

// RFC 3986 encoding as SigV4 wants it: unreserved characters (A-Z a-z 0-9
// - . _ ~) kept, every other byte as %XX with upper-case hex; '/' kept unless
// `encode_slash`.
std::string uri_encode(std::string_view s, bool encode_slash = true);
// The canonical URI of a non-S3 service: each path segment of the (already
// encoded) path encoded once more, so "%3A" is signed as "%253A".
std::string canonical_uri(std::string_view path);
// Query parameters decoded, re-encoded, sorted by name then value.
std::string canonical_query(std::string_view query);

std::string sha256_hex(std::string_view data);
// Raw 32-byte HMAC-SHA256.
std::string hmac_sha256(std::string_view key, std::string_view data);

// Signs `req` at `amz_date` for region/service.
Signature sign(const Request& req, const Credentials& creds, std::string_view region, std::string_view service,
               std::string_view amz_date);

// Adds x-amz-date, x-amz-security-token (when the credentials have one) and
// authorization to `req`, signing host, x-amz-date and the token. `host` is
// the Host header the transport will send (UpstreamUrl::host_header()).
void sign_request(UpstreamRequest& req, std::string_view host, const Credentials& creds, std::string_view region,
                  std::string_view service, std::chrono::system_clock::time_point now);

}  // namespace tollgate::sigv4
