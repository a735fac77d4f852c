#pragma once
// Auth middleware: `Authorization: Bearer <key>` or `x-api-key: <key>`,
// matched against the master key and the static keys of the config (SHA-256
// digests compared in constant time), then against the virtual keys of the
// store's Directory (looked up by SHA-256). Unknown, expired and blocked keys,
// and keys of a blocked team, get 401. With no keys and no master key (open
// access) every caller is admitted, except with a virtual key that is
// expired, blocked or of a blocked team: still 401.

#include <array>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "storage/directory.h"
#include "tollgate/config.h"
#include "tollgate/middleware.h"

namespace tollgate {

class AuthMiddleware final : public Middleware {
 public:
  using Now = std::function<TimePoint()>;
  // `directory` may be null (no database).
  AuthMiddleware(std::shared_ptr<const Config> config, std::shared_ptr<const DirectoryHolder> directory = nullptr,
                 Now now = SystemClock::now);
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
  std::shared_ptr<const DirectoryHolder> directory_;
  Now now_;
  std::vector<Entry> entries_;
};

// A virtual key's metadata.route_tags ({"region": "eu"}): it may only use
// deployments carrying all of them. Values that are not strings count as
// their JSON text.
std::map<std::string, std::string> key_route_tags(const KeyRecord& key);

// "sk-abc…" style short public prefix for logs; never more than 6 characters
// of the key.
std::string key_prefix(const std::string& key);

}  // namespace tollgate
