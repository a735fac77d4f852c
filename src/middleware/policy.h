#pragma once
// Policy: which models and routes a caller may use.
//  - A virtual key's `aliases` map the requested model to a model group
//    (ctx.route_model); the ledger keeps what the client asked for.
//  - The model must exist (404) and be allowed by the static key, the virtual
//    key, its team and its user (each list empty = all; "*" or
//    "all-proxy-models" also mean all) (403).
//  - A virtual key with `allowed_routes` may only call those routes.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tollgate/config.h"
#include "tollgate/middleware.h"

namespace tollgate {

class Policy final : public Middleware {
 public:
  explicit Policy(std::shared_ptr<const Config> config) : config_(std::move(config)) {}
  std::string_view name() const override { return "policy"; }
  boost::asio::awaitable<Decision> on_request(RequestContext& ctx) override;

  static bool allowed(const Principal& p, const std::string& model);

 private:
  std::shared_ptr<const Config> config_;
};

// True when a model allow-list admits `model` (empty, "*" or
// "all-proxy-models" admit every model).
bool model_list_allows(const std::vector<std::string>& models, const std::string& model);

// Route groups, LiteLLM's names: "llm_api_routes" (/v1/chat/completions,
// /v1/embeddings, /v1/messages, /v1/models ...), "management_routes" (/key/*,
// /team/*, /user/*, /customer/*), "spend_tracking_routes" (/spend/*),
// "info_routes" (/key/info, /team/info, /user/info for the caller's own
// objects). Entries may also be exact paths or prefixes ending in "/*".
// An empty list means llm_api_routes + info_routes, everywhere: when a
// request is admitted and when a key with such a list is granted
// (effective_routes spells it out).
bool routes_allow(const std::vector<std::string>& allowed_routes, std::string_view path);
std::vector<std::string> effective_routes(const std::vector<std::string>& allowed_routes);
// True when every path the route entry `entry` admits is admitted by
// `allowed_routes`: a group by the same group or by groups and prefixes that
// contain all of it, a prefix by a shorter prefix, an exact path by any entry
// admitting it.
bool routes_cover(const std::vector<std::string>& allowed_routes, std::string_view entry);

}  // namespace tollgate
