#pragma once
// Model policy: the requested model must exist (404) and the caller's key must
// be allowed to use it (403).

#include <memory>

#include "tollgate/config.h"
#include "tollgate/middleware.h"

namespace tollgate {

class ModelAccess final : public Middleware {
 public:
  explicit ModelAccess(std::shared_ptr<const Config> config) : config_(std::move(config)) {}
  std::string_view name() const override { return "model_access"; }
  boost::asio::awaitable<Decision> on_request(RequestContext& ctx) override;

  static bool allowed(const Principal& p, const std::string& model);

 private:
  std::shared_ptr<const Config> config_;
};

}  // namespace tollgate
