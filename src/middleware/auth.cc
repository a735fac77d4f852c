#include "middleware/auth.h"

#include "common/sha256.h"

#include <openssl/crypto.h>

namespace tollgate {
namespace {

Principal virtual_principal(const std::shared_ptr<const KeyRecord>& rec, const Directory& dir) {
  Principal p;
  p.key_name = rec->key_alias.empty() ? rec->key_name : rec->key_alias;
  p.key_prefix = rec->key_name;
  p.key = rec;
  if (!rec->team_id.empty()) p.team = dir.team(rec->team_id);
  if (!rec->user_id.empty()) p.user = dir.user(rec->user_id);
  p.route_tags = key_route_tags(*rec);
  return p;
}

// A virtual key that exists but may not be used: blocked, expired, or of a
// blocked team. Open access admits callers without a key, never these.
std::optional<ApiError> refusal(const Principal& p, TimePoint now) {
  if (p.key->blocked) return ApiError::unauthorized("This API key is blocked.", "key_blocked");
  if (p.key->expires && *p.key->expires <= now) return ApiError::unauthorized("This API key has expired.", "key_expired");
  if (p.team && p.team->blocked) return ApiError::unauthorized("This API key's team is blocked.", "team_blocked");
  return std::nullopt;
}

}  // namespace

std::map<std::string, std::string> key_route_tags(const KeyRecord& key) {
  std::map<std::string, std::string> tags;
  if (auto it = key.metadata.find("route_tags"); it != key.metadata.end() && it->is_object()) {
    for (const auto& [k, v] : it->items()) tags[k] = v.is_string() ? v.get<std::string>() : v.dump();
  }
  return tags;
}

std::string key_prefix(const std::string& key) {
  return key.substr(0, std::min<std::size_t>(6, key.size() / 3)) + "...";
}

AuthMiddleware::AuthMiddleware(std::shared_ptr<const Config> config, std::shared_ptr<const DirectoryHolder> directory,
                               Now now)
    : config_(std::move(config)), directory_(std::move(directory)), now_(std::move(now)) {
  if (!config_->master_key.empty()) {
    Principal p;
    p.key_name = "master";
    p.key_prefix = key_prefix(config_->master_key);
    p.is_master = true;
    entries_.push_back({sha256(config_->master_key), p});
  }
  for (const auto& k : config_->keys) {
    Principal p;
    p.key_name = k.name;
    p.key_prefix = key_prefix(k.key);
    p.allowed_models = k.models;
    p.route_tags = k.route_tags;
    entries_.push_back({sha256(k.key), p});
  }
}

std::string AuthMiddleware::presented_key(const RequestContext& ctx) {
  std::string_view auth = ctx.authorization;
  // The scheme name is case-insensitive (RFC 9110 §11.1).
  auto scheme_is_bearer = [](std::string_view a) {
    static constexpr std::string_view bearer = "bearer ";
    for (std::size_t i = 0; i < bearer.size(); ++i) {
      if (std::tolower(static_cast<unsigned char>(a[i])) != bearer[i]) return false;
    }
    return true;
  };
  if (auth.size() > 7 && scheme_is_bearer(auth)) {
    auth.remove_prefix(7);
    while (!auth.empty() && auth.front() == ' ') auth.remove_prefix(1);
    return std::string(auth);
  }
  return ctx.x_api_key;
}

boost::asio::awaitable<Decision> AuthMiddleware::on_request(RequestContext& ctx) {
  const std::string key = presented_key(ctx);
  if (config_->open_access()) {
    // No master key and no static keys: everyone is admitted. A virtual key,
    // when one is presented, still brings its limits and its ledger identity,
    // and one that is blocked or expired is refused as it would be otherwise.
    if (directory_ && !key.empty()) {
      const auto dir = directory_->get();
      if (auto rec = dir->key_by_hash(sha256_hex(key))) {
        Principal p = virtual_principal(rec, *dir);
        if (auto e = refusal(p, now_())) co_return *e;
        ctx.principal = std::move(p);
        co_return std::nullopt;
      }
    }
    ctx.principal = Principal{"anonymous", "", {}, false, nullptr, nullptr, nullptr, {}};
    co_return std::nullopt;
  }
  if (key.empty()) {
    co_return ApiError::unauthorized(
        "Missing API key. Send it as 'Authorization: Bearer <key>' or 'x-api-key: <key>'.");
  }
  const auto digest = sha256(key);
  const Entry* match = nullptr;
  for (const auto& e : entries_) {
    // Every entry is compared, so timing does not reveal which one matched.
    if (CRYPTO_memcmp(e.digest.data(), digest.data(), digest.size()) == 0) match = &e;
  }
  if (match) {
    ctx.principal = match->principal;
    co_return std::nullopt;
  }
  if (directory_) {
    const auto dir = directory_->get();
    if (auto rec = dir->key_by_hash(sha256_hex_of(digest))) {
      Principal p = virtual_principal(rec, *dir);
      if (auto e = refusal(p, now_())) co_return *e;
      ctx.principal = std::move(p);
      co_return std::nullopt;
    }
  }
  if (directory_ && !directory_->loaded()) {
    // The key may well be valid: the store has not been readable since start.
    co_return ApiError::unavailable("The key store is not reachable yet; retry shortly.", 5);
  }
  co_return ApiError::unauthorized("Incorrect API key provided.");
}

}  // namespace tollgate
