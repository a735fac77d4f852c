#pragma once
// Shared helpers for the libFuzzer targets in tests/fuzz (one .cc per target,
// each defining LLVMFuzzerTestOneInput). See tests/fuzz/README.md.
//
// Input layout used by the targets: the bytes under test come first; the
// target's parameters (split points, limits, modes) are read from the END of
// the input with FuzzedDataProvider's ConsumeIntegral*, which consumes from
// the back. A seed file is thus a realistic body followed by a few trailer
// bytes; a trailer of one 0x00 byte means "one read, default parameters".

#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

// A contract check: on failure, prints what broke and aborts, so libFuzzer
// reports a crash and saves the input as crash-<sha1>.
#define FUZZ_CHECK(cond, ...)                                                                   \
  do {                                                                                          \
    if (!(cond)) {                                                                              \
      std::fprintf(stderr, "FUZZ_CHECK failed at %s:%d: %s\n", __FILE__, __LINE__, #cond);      \
      ::tollgate::fuzz::detail::print_context(__VA_ARGS__);                                     \
      std::abort();                                                                             \
    }                                                                                           \
  } while (0)

namespace tollgate::fuzz {

namespace detail {
inline void print_context() {}
inline void print_context(std::string_view what) {
  std::fprintf(stderr, "  %.*s\n", static_cast<int>(std::min<std::size_t>(what.size(), 2000)), what.data());
}
}  // namespace detail

// Logging off: the parsers log warnings for bad input, which would flood the
// fuzzer's output and slow it down. Call once, from a static initialiser.
inline bool quiet_logs() {
  spdlog::set_level(spdlog::level::off);
  return true;
}

// Reads the split trailer: a count (0..15) and that many cut offsets; then
// takes the rest of the input as the payload. Returns the payload cut into
// consecutive pieces (empty pieces allowed: a read of zero bytes is legal).
// Feeding the pieces one by one models the reads a socket delivers.
struct Split {
  std::string payload;
  std::vector<std::size_t> ends;  // end offset of each piece; the last is payload.size()
  // Views into payload: recompute after copying or moving a Split (a short
  // payload lives inside the string object itself).
  std::vector<std::string_view> pieces() const {
    std::vector<std::string_view> out;
    std::size_t from = 0;
    for (std::size_t to : ends) {
      out.push_back(std::string_view(payload).substr(from, to - from));
      from = to;
    }
    return out;
  }
};

inline Split split_input(FuzzedDataProvider& fdp) {
  const std::size_t cuts = fdp.ConsumeIntegralInRange<std::size_t>(0, 15);
  std::vector<std::size_t> at;
  for (std::size_t i = 0; i < cuts && fdp.remaining_bytes() > 0; ++i) at.push_back(fdp.ConsumeIntegral<uint16_t>());
  Split s;
  s.payload = fdp.ConsumeRemainingBytesAsString();
  for (auto& a : at) a %= s.payload.size() + 1;
  std::sort(at.begin(), at.end());
  at.push_back(s.payload.size());
  s.ends = std::move(at);
  return s;
}

// A JSON value with every "id" and "created" member removed, recursively:
// those carry random ids and clock readings, which differ between two runs
// over the same bytes. What remains must not depend on how bytes were split.
inline nlohmann::json without_ids(nlohmann::json j) {
  if (j.is_object()) {
    j.erase("id");
    j.erase("created");
    for (auto& [k, v] : j.items()) v = without_ids(std::move(v));
  } else if (j.is_array()) {
    for (auto& v : j) v = without_ids(std::move(v));
  }
  return j;
}

}  // namespace tollgate::fuzz
