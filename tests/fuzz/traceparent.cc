// parse_traceparent over arbitrary header values. Checks: what it accepts
// has the W3C shape (32 + 16 lowercase hex digits, not all zero); a valid
// version-00 value with flags 00 or 01 round-trips exactly through
// format_traceparent; formatting any accepted value parses back to the same
// context; and acceptance agrees with an independent reading of the spec.
#include <cstdint>
#include <string>

#include "fuzz_support.h"
#include "observability/trace_context.h"

namespace {

bool hex(std::string_view s) {
  return s.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}
bool zero(std::string_view s) { return s.find_first_not_of('0') == std::string_view::npos; }

// W3C trace-context §3.2 (version 00, and future versions per §4.3).
bool spec_accepts(std::string_view h) {
  if (h.size() < 55) return false;
  const auto version = h.substr(0, 2);
  if (!hex(version) || version == "ff") return false;
  if (version == "00" && h.size() != 55) return false;
  if (h.size() > 55 && h[55] != '-') return false;
  if (h[2] != '-' || h[35] != '-' || h[52] != '-') return false;
  const auto trace = h.substr(3, 32), span = h.substr(36, 16), flags = h.substr(53, 2);
  return hex(trace) && hex(span) && hex(flags) && !zero(trace) && !zero(span);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view header(reinterpret_cast<const char*>(data), size);
  const auto ctx = tollgate::parse_traceparent(header);
  FUZZ_CHECK(ctx.has_value() == spec_accepts(header), header);
  if (!ctx) return 0;
  FUZZ_CHECK(ctx->trace_id.size() == 32 && hex(ctx->trace_id) && !zero(ctx->trace_id), ctx->trace_id);
  FUZZ_CHECK(ctx->span_id.size() == 16 && hex(ctx->span_id) && !zero(ctx->span_id), ctx->span_id);
  FUZZ_CHECK(ctx->sampled == ((std::stoi(std::string(header.substr(53, 2)), nullptr, 16) & 1) != 0), header);

  const std::string formatted = tollgate::format_traceparent(*ctx);
  const auto back = tollgate::parse_traceparent(formatted);
  FUZZ_CHECK(back && back->trace_id == ctx->trace_id && back->span_id == ctx->span_id &&
                 back->sampled == ctx->sampled,
             formatted);
  const auto flags = header.substr(53, 2);
  if (header.substr(0, 2) == "00" && (flags == "00" || flags == "01")) FUZZ_CHECK(formatted == header, formatted);
  return 0;
}
