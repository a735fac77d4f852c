#pragma once
// SpendRow <-> spool record payload. The payload is a MessagePack map with
// one entry per field (plus "v", the format version), so every field
// round-trips exactly: strings as raw bytes (also invalid UTF-8), times as
// system_clock ticks, ttft_ms as nil when absent, metadata as nested
// MessagePack. Unknown keys are ignored and missing keys keep their defaults,
// so a newer gateway can read an older spool. Pure functions, thread-safe.

#include <string>
#include <string_view>

#include "tollgate/store.h"

namespace tollgate {

std::string encode_spend_row(const SpendRow& row);

// Throws std::runtime_error when the payload is not a spend row record.
SpendRow decode_spend_row(std::string_view payload);

}  // namespace tollgate
