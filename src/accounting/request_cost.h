#pragma once
// Prices a finished (or failing) request: the model group's YAML price wins,
// else the bundled/overridden price table entry for the deployment's model.

#include "tollgate/config.h"
#include "tollgate/pricing.h"
#include "tollgate/request_context.h"

namespace tollgate {

// Sets ctx.cost_usd when a price is known (stays empty for unpriced models).
void price_request(RequestContext& ctx, const Config& config, const PriceTable& prices);

}  // namespace tollgate
