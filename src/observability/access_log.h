#pragma once
// One line per request on the "access" logger, as text or JSON. Carries ids,
// routing, status, tokens, cost and timings; never prompts or keys (a key
// appears only as its name).

#include <string>

#include "tollgate/request_context.h"

namespace tollgate {

std::string format_access_log(const RequestContext& ctx, bool json);
void write_access_log(const RequestContext& ctx, bool json);

// Configures spdlog: level, pattern, the "access" logger.
void setup_logging(const std::string& level);

}  // namespace tollgate
