#pragma once
// W3C Trace Context (https://www.w3.org/TR/trace-context/): the `traceparent`
// header a caller may send, which the gateway propagates upstream with a new
// span id per attempt and returns on the response.

#include <optional>
#include <string>
#include <string_view>

namespace tollgate {

struct TraceContext {
  std::string trace_id;  // 32 lowercase hex digits, not all zero
  std::string span_id;   // 16 lowercase hex digits, not all zero (the parent-id field)
  bool sampled = false;  // trace-flags bit 0
};

// Parses a traceparent header value. Accepts version 00 exactly as specified
// (55 characters), and higher versions (not ff) whose first 55 characters
// have the version-00 layout, optionally followed by "-" and more data. Only
// lowercase hex is accepted; all-zero ids are invalid. nullopt when invalid:
// the caller then starts a new trace.
std::optional<TraceContext> parse_traceparent(std::string_view header);

// "00-<trace_id>-<span_id>-01" (sampled) or "...-00".
std::string format_traceparent(const TraceContext& ctx);

// Random ids from a per-thread generator; never all zero. Thread-safe.
std::string new_trace_id();
std::string new_span_id();

}  // namespace tollgate
