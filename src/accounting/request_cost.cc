#include "accounting/request_cost.h"

namespace tollgate {

void price_request(RequestContext& ctx, const Config& config, const PriceTable& prices) {
  if (ctx.model_group.empty()) return;
  std::optional<ModelPrice> price;
  if (const auto* m = config.find_model(ctx.model_group); m && m->price) {
    price = price_from_config(*m->price);
  } else {
    price = prices.find(ctx.provider_type, ctx.deployment_model);
  }
  if (price) ctx.cost_usd = cost_usd(ctx.usage, *price);
}

}  // namespace tollgate
