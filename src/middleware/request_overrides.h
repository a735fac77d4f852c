#pragma once
// Per-request routing overrides, read after auth and policy so they stay
// within what the key may do:
//   x-tollgate-timeout-ms: 20000      a shorter total timeout (capped at router.timeouts.total_ms)
//   x-tollgate-fallbacks: a,b | none  replaces the model's general fallbacks;
//                                     every model must exist and be allowed for the key (else 403)
//   x-tollgate-route-tags: region=eu  only deployments carrying these tags
// Malformed values are 400 naming the header.

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "tollgate/config.h"
#include "tollgate/middleware.h"

namespace tollgate {

class RequestOverrides final : public Middleware {
 public:
  explicit RequestOverrides(std::shared_ptr<const Config> config) : config_(std::move(config)) {}
  std::string_view name() const override { return "request_overrides"; }
  boost::asio::awaitable<Decision> on_request(RequestContext& ctx) override;

 private:
  std::shared_ptr<const Config> config_;
};

// "region=eu,tier=gold" -> {region: eu, tier: gold}; nullopt when malformed.
std::optional<std::map<std::string, std::string>> parse_route_tags(const std::string& text);

// The x-tollgate-* headers the gateway reads (lower-case).
inline constexpr const char* kControlHeaders[] = {"x-tollgate-timeout-ms", "x-tollgate-fallbacks",
                                                  "x-tollgate-route-tags"};

}  // namespace tollgate
