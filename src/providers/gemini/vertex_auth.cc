#include "providers/gemini/vertex_auth.h"

#include "tollgate/json_document.h"

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <nlohmann/json.hpp>
#include <openssl/evp.h>
#include <openssl/pem.h>

namespace tollgate::gemini {
namespace {

namespace asio = boost::asio;
using nlohmann::json;

struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

Pkey load_private_key(const std::string& pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
  if (!bio) return nullptr;
  return Pkey(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
}

int64_t unix_seconds(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

constexpr std::size_t kMaxTokenResponse = 64 * 1024;

}  // namespace

Result<ServiceAccount> ServiceAccount::parse(std::string_view json_text) {
  json j = parse_json_or_discarded(json_text);
  if (j.is_discarded() || !j.is_object()) return ApiError::internal("the service-account key is not a JSON object");
  ServiceAccount sa;
  auto field = [&](const char* key, std::string& out) {
    if (auto it = j.find(key); it != j.end() && it->is_string()) out = it->get<std::string>();
  };
  field("client_email", sa.client_email);
  field("private_key_id", sa.private_key_id);
  field("private_key", sa.private_key_pem);
  if (sa.client_email.empty()) return ApiError::internal("the service-account key has no client_email");
  if (sa.private_key_pem.empty()) return ApiError::internal("the service-account key has no private_key");
  if (!load_private_key(sa.private_key_pem)) {
    return ApiError::internal("the service-account key's private_key is not a readable PEM private key");
  }
  return sa;
}

Result<ServiceAccount> ServiceAccount::load(const std::string& path) {
  std::ifstream in(path);
  if (!in) return ApiError::internal("cannot read the service-account key file " + path);
  std::ostringstream text;
  text << in.rdbuf();
  auto sa = parse(text.str());
  if (!sa) return ApiError::internal(path + ": " + sa.error().message);
  return sa;
}

std::string base64url(std::string_view bytes) {
  static const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const uint32_t v = (static_cast<unsigned char>(bytes[i]) << 16) | (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                       static_cast<unsigned char>(bytes[i + 2]);
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += alphabet[(v >> 6) & 63];
    out += alphabet[v & 63];
  }
  if (const std::size_t rest = bytes.size() - i; rest > 0) {
    uint32_t v = static_cast<unsigned char>(bytes[i]) << 16;
    if (rest == 2) v |= static_cast<unsigned char>(bytes[i + 1]) << 8;
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    if (rest == 2) out += alphabet[(v >> 6) & 63];
  }
  return out;
}

Result<std::string> make_jwt_assertion(const ServiceAccount& account, const std::string& audience,
                                       const std::string& scope, std::chrono::system_clock::time_point now,
                                       std::chrono::seconds lifetime) {
  json header = {{"alg", "RS256"}, {"typ", "JWT"}};
  if (!account.private_key_id.empty()) header["kid"] = account.private_key_id;
  const int64_t iat = unix_seconds(now);
  json claims = {{"iss", account.client_email}, {"scope", scope}, {"aud", audience}, {"iat", iat},
                 {"exp", iat + lifetime.count()}};
  const std::string signing_input = base64url(header.dump()) + "." + base64url(claims.dump());

  Pkey key = load_private_key(account.private_key_pem);
  if (!key) return ApiError::internal("the service-account private key cannot be loaded");
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  std::size_t sig_len = 0;
  const auto* data = reinterpret_cast<const unsigned char*>(signing_input.data());
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.get()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &sig_len, data, signing_input.size()) != 1) {
    return ApiError::internal("signing the Vertex AI token assertion failed");
  }
  std::string sig(sig_len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &sig_len, data, signing_input.size()) != 1) {
    return ApiError::internal("signing the Vertex AI token assertion failed");
  }
  sig.resize(sig_len);
  return signing_input + "." + base64url(sig);
}

std::string token_request_body(const std::string& assertion) {
  // The assertion is base64url and dots: nothing in it needs escaping.
  return "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=" + assertion;
}

VertexTokenSource::VertexTokenSource(ServiceAccount account, std::string token_url, Clock clock)
    : account_(std::move(account)), token_url_(std::move(token_url)), clock_(std::move(clock)) {
  auto url = UpstreamUrl::parse(token_url_);
  if (!url) throw std::runtime_error("token_url: " + url.error().message);
  url_ = std::move(url.value());
}

VertexTokenSource::~VertexTokenSource() = default;

std::chrono::system_clock::time_point VertexTokenSource::now() const {
  return clock_ ? clock_() : std::chrono::system_clock::now();
}

bool VertexTokenSource::fresh() const { return !token_.empty() && now() < refresh_at_; }

void VertexTokenSource::invalidate() {
  token_.clear();
  refresh_at_ = {};
}

asio::awaitable<Result<std::string>> VertexTokenSource::token(UpstreamPool& pool) {
  for (;;) {
    if (fresh()) co_return token_;
    if (!fetching_) break;
    // Another request on this worker is fetching: wait for it rather than
    // sending a second assertion.
    if (!wake_) {
      // Armed once and never re-armed (that would cancel the other waiters);
      // the fetch wakes everyone with cancel().
      wake_ = std::make_unique<asio::steady_timer>(pool.executor());
      wake_->expires_at(asio::steady_timer::time_point::max());
    }
    auto waited = co_await wake_->async_wait(asio::as_tuple(asio::use_awaitable));
    (void)waited;
    if (!fetching_ && !fresh() && last_error_) {
      ApiError e = *last_error_;
      co_return e;
    }
  }
  fetching_ = true;
  last_error_.reset();
  auto result = co_await fetch(pool);
  fetching_ = false;
  if (!result) last_error_ = result.error();
  if (wake_) wake_->cancel();
  co_return result;
}

asio::awaitable<Result<std::string>> VertexTokenSource::fetch(UpstreamPool& pool) {
  ++fetches_;
  const auto issued = now();
  auto assertion = make_jwt_assertion(account_, token_url_, kCloudPlatformScope, issued);
  if (!assertion) co_return assertion.error();

  UpstreamRequest req;
  req.method = "POST";
  req.target = url_.base_path.empty() ? "/" : url_.base_path;
  req.headers.emplace_back("content-type", "application/x-www-form-urlencoded");
  req.headers.emplace_back("accept", "application/json");
  req.body = token_request_body(assertion.value());
  AttemptLimits limits;
  limits.connect = std::chrono::seconds(5);
  limits.first_byte = std::chrono::seconds(15);
  limits.deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);

  auto started = co_await UpstreamExchange::start(pool, url_, std::move(req), limits);
  if (!started) {
    ApiError e = ApiError::bad_gateway("could not reach the OAuth token endpoint for Vertex AI", "upstream_error");
    co_return e;
  }
  auto& ex = *started.value();
  auto body = co_await ex.read_all(kMaxTokenResponse);
  if (!body) {
    ApiError e = ApiError::bad_gateway("the OAuth token endpoint for Vertex AI did not answer completely", "upstream_error");
    co_return e;
  }
  json j = parse_json_or_discarded(body.value());
  if (ex.status() != 200) {
    // Only the OAuth error code is repeated ("invalid_grant"): descriptions
    // can name the account.
    std::string code = j.is_object() && j.contains("error") && j["error"].is_string() ? j["error"].get<std::string>() : "";
    if (code.size() > 64) code.clear();
    ApiError e = ApiError::bad_gateway("the OAuth token endpoint rejected the Vertex AI service account (HTTP " +
                                           std::to_string(ex.status()) + (code.empty() ? "" : ", " + code) + ")",
                                       "upstream_auth_error");
    co_return e;
  }
  if (!j.is_object() || !j.contains("access_token") || !j["access_token"].is_string() ||
      j["access_token"].get_ref<const std::string&>().empty()) {
    ApiError e = ApiError::bad_gateway("the OAuth token endpoint answered without an access token", "upstream_error");
    co_return e;
  }
  int64_t lifetime = 3600;
  if (auto it = j.find("expires_in"); it != j.end() && it->is_number() && it->get<double>() > 0) {
    lifetime = static_cast<int64_t>(it->get<double>());
  }
  const int64_t margin = std::min<int64_t>(300, lifetime / 2);
  token_ = j["access_token"].get<std::string>();
  refresh_at_ = issued + std::chrono::seconds(lifetime - margin);
  co_return token_;
}

}  // namespace tollgate::gemini
