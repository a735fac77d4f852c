#include "observability/trace_context.h"

#include <cstdint>
#include <random>

namespace tollgate {
namespace {

constexpr std::size_t kVersion00Length = 55;  // 2 + 1 + 32 + 1 + 16 + 1 + 2

bool lower_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

bool all_lower_hex(std::string_view s) {
  for (char c : s)
    if (!lower_hex(c)) return false;
  return true;
}

bool all_zero(std::string_view s) { return s.find_first_not_of('0') == std::string_view::npos; }

int hex_value(char c) { return c <= '9' ? c - '0' : c - 'a' + 10; }

std::mt19937_64& generator() {
  thread_local std::mt19937_64 gen = [] {
    std::random_device rd;
    std::seed_seq seq{rd(), rd(), rd(), rd(), rd(), rd(), rd(), rd()};
    return std::mt19937_64(seq);
  }();
  return gen;
}

void append_hex(std::string& out, std::uint64_t v) {
  static constexpr char kDigits[] = "0123456789abcdef";
  for (int shift = 60; shift >= 0; shift -= 4) out += kDigits[(v >> shift) & 0xf];
}

}  // namespace

std::optional<TraceContext> parse_traceparent(std::string_view h) {
  if (h.size() < kVersion00Length) return std::nullopt;
  const std::string_view version = h.substr(0, 2);
  if (!all_lower_hex(version) || version == "ff") return std::nullopt;
  if (version == "00" && h.size() != kVersion00Length) return std::nullopt;
  // A later version may append fields, but only after another dash.
  if (h.size() > kVersion00Length && h[kVersion00Length] != '-') return std::nullopt;
  if (h[2] != '-' || h[35] != '-' || h[52] != '-') return std::nullopt;
  const std::string_view trace_id = h.substr(3, 32);
  const std::string_view span_id = h.substr(36, 16);
  const std::string_view flags = h.substr(53, 2);
  if (!all_lower_hex(trace_id) || !all_lower_hex(span_id) || !all_lower_hex(flags)) return std::nullopt;
  if (all_zero(trace_id) || all_zero(span_id)) return std::nullopt;
  return TraceContext{std::string(trace_id), std::string(span_id), (hex_value(flags[1]) & 1) != 0};
}

std::string format_traceparent(const TraceContext& ctx) {
  std::string out;
  out.reserve(kVersion00Length);
  out += "00-";
  out += ctx.trace_id;
  out += '-';
  out += ctx.span_id;
  out += ctx.sampled ? "-01" : "-00";
  return out;
}

std::string new_trace_id() {
  auto& gen = generator();
  std::uint64_t hi, lo;
  do {
    hi = gen();
    lo = gen();
  } while (hi == 0 && lo == 0);
  std::string out;
  out.reserve(32);
  append_hex(out, hi);
  append_hex(out, lo);
  return out;
}

std::string new_span_id() {
  auto& gen = generator();
  std::uint64_t v;
  do v = gen();
  while (v == 0);
  std::string out;
  out.reserve(16);
  append_hex(out, v);
  return out;
}

}  // namespace tollgate
