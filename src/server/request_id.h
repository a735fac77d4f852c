#pragma once
#include <string>

namespace tollgate {
// A new random request id ("req_" + 32 hex digits). The gateway always makes
// its own: a client-chosen id could collide with another request's.
std::string new_request_id();
}  // namespace tollgate
