// The native Messages pass-through's reading of an Anthropic upstream's
// stream (providers/native_messages.h): arbitrary bytes, split into reads as
// the split trailer says, go through SseParser into NativeMessagesMeter, as
// the relay feeds them. Checks: no exception; usage counters are never
// negative and keep the Usage invariants (cached and cache writes within
// the prompt); once message_stop was seen the stream stays complete; an
// error stops the relay (nothing after it is read); and the outcome (usage,
// completion, error or not) does not depend on how the bytes were split.
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz_support.h"
#include "providers/native_messages.h"
#include "providers/sse_parser.h"

namespace {

struct Outcome {
  tollgate::Usage usage;
  bool complete = false;
  bool error = false;
  bool operator==(const Outcome& o) const {
    return usage.prompt_tokens == o.usage.prompt_tokens && usage.completion_tokens == o.usage.completion_tokens &&
           usage.cached_tokens == o.usage.cached_tokens && usage.cache_write_tokens == o.usage.cache_write_tokens &&
           complete == o.complete && error == o.error;
  }
};

Outcome run(const std::vector<std::string_view>& reads) {
  tollgate::SseParser parser(64 * 1024);
  tollgate::NativeMessagesMeter meter;
  Outcome out;
  std::vector<tollgate::SseEvent> events;
  for (std::size_t i = 0; i < reads.size() && !out.complete && !out.error; ++i) {
    events.clear();
    const bool within = parser.feed(reads[i], events);
    if (i + 1 == reads.size()) parser.finish(events);
    for (const auto& e : events) {
      const bool was_complete = meter.complete();
      if (meter.on_event(e)) {
        out.error = true;
        break;
      }
      FUZZ_CHECK(!was_complete || meter.complete());
      if (meter.complete()) break;
    }
    if (!within) out.error = true;
    out.complete = meter.complete();
  }
  out.usage = meter.usage();
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tollgate::fuzz::quiet_logs();
  FuzzedDataProvider fdp(data, size);
  const auto split = tollgate::fuzz::split_input(fdp);
  const Outcome pieces = run(split.pieces());
  const Outcome whole = run({std::string_view(split.payload)});
  const auto& u = pieces.usage;
  FUZZ_CHECK(u.prompt_tokens >= 0 && u.completion_tokens >= 0, split.payload);
  FUZZ_CHECK(u.cached_tokens >= 0 && u.cache_write_tokens >= 0, split.payload);
  FUZZ_CHECK(u.cached_tokens + u.cache_write_tokens <= u.prompt_tokens, split.payload);
  // An event boundary may fall differently only for over-long events, which
  // end the attempt either way.
  if (!pieces.error && !whole.error) FUZZ_CHECK(pieces == whole, split.payload);
  return 0;
}
