#pragma once
// Auth middleware: `Authorization: Bearer <key>` or `x-api-key: <key>`,
// matched against the master key and the static keys of the config. Keys are
// compared as SHA-256 digests in constant time. With no keys and no master key
// configured every caller is admitted (the gateway then serves loopback only).

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "tollgate/config.h"
#include "tollgate/middleware.h"

namespace tollgate {

class AuthMiddleware final : public Middleware {
 public:
  explicit AuthMiddleware(std::shared_ptr<const Config> config);
  std::string_view name() const override { return "auth"; }
  boost::asio::awaitable<Decision> on_request(RequestContext& ctx) override;

  // The presented key, from Bearer or x-api-key; empty when none.
  static std::string presented_key(const RequestContext& ctx);

 private:
  using Digest = std::array<unsigned char, 32>;
  struct Entry {
    Digest digest;
    Principal principal;
  };
  std::shared_ptr<const Config> config_;
  std::vector<Entry> entries_;
};

// "sk-abc…" style short public prefix for logs; never more than 6 characters
// of the key.
std::string key_prefix(const std::string& key);

}  // namespace tollgate
