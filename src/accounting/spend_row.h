#pragma once
// The ledger row for a finished request: a spend row when it reached the
// router, else a rejection row (auth, policy, limits, budget, bad input).
// Health checks and successful local replies (model lists) make no row.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tollgate/request_context.h"
#include "tollgate/store.h"

namespace tollgate {

std::optional<SpendRow> make_spend_row(const RequestContext& ctx);

// Request tags from `x-tollgate-tags` (or LiteLLM's `x-litellm-tags`):
// comma-separated, trimmed; at most 16 tags of 64 printable characters,
// the rest ignored.
std::vector<std::string> parse_tags(std::string_view header);

}  // namespace tollgate
