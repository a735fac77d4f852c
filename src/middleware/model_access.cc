#include "middleware/model_access.h"

#include <algorithm>

namespace tollgate {

bool ModelAccess::allowed(const Principal& p, const std::string& model) {
  return p.is_master || p.allowed_models.empty() ||
         std::find(p.allowed_models.begin(), p.allowed_models.end(), model) != p.allowed_models.end();
}

boost::asio::awaitable<Decision> ModelAccess::on_request(RequestContext& ctx) {
  if (ctx.endpoint != Endpoint::chat_completions && ctx.endpoint != Endpoint::completions &&
      ctx.endpoint != Endpoint::embeddings && ctx.endpoint != Endpoint::model) {
    co_return std::nullopt;
  }
  if (!config_->find_model(ctx.requested_model)) {
    co_return ApiError::not_found("The model `" + ctx.requested_model + "` does not exist or you do not have access to it.",
                                  "model_not_found", "model");
  }
  if (ctx.principal && !allowed(*ctx.principal, ctx.requested_model)) {
    co_return ApiError::forbidden("This API key is not allowed to use the model `" + ctx.requested_model + "`.");
  }
  co_return std::nullopt;
}

}  // namespace tollgate
