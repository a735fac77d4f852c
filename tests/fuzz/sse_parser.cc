// SseParser over bytes split at fuzzer-chosen points, against a reference
// parser of the whole input written from the WHATWG algorithm, plus the
// documented invariants: feed() false is sticky until finish(), events stay
// within max_event_bytes, finish() resets everything (a second run over the
// same bytes gives the same events).
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz_support.h"
#include "providers/sse_parser.h"

namespace {

using tollgate::SseEvent;
using tollgate::SseParser;

// The whole stream at once, finish() semantics included (a last event with
// data but no closing blank line is dispatched).
std::vector<SseEvent> reference(std::string_view s) {
  if (s.substr(0, 3) == "\xEF\xBB\xBF") s.remove_prefix(3);
  std::vector<SseEvent> out;
  std::string data, type, id;
  bool has_data = false;
  auto dispatch = [&] {
    if (has_data) out.push_back({type.empty() ? "message" : type, data, id});
    data.clear();
    type.clear();
    has_data = false;
  };
  std::size_t pos = 0;
  while (pos < s.size()) {
    std::size_t end = s.find_first_of("\r\n", pos);
    const bool last = end == std::string_view::npos;
    if (last) end = s.size();
    std::string_view line = s.substr(pos, end - pos);
    if (line.empty()) {
      dispatch();
    } else if (line[0] != ':') {
      std::string_view field = line, value;
      if (auto c = line.find(':'); c != std::string_view::npos) {
        field = line.substr(0, c);
        value = line.substr(c + 1);
        if (!value.empty() && value[0] == ' ') value.remove_prefix(1);
      }
      if (field == "data") {
        if (has_data) data += '\n';
        data += value;
        has_data = true;
      } else if (field == "event") {
        type = value;
      } else if (field == "id" && value.find('\0') == std::string_view::npos) {
        id = value;
      }
    }
    if (last) break;
    pos = end + 1;
    if (s[end] == '\r' && pos < s.size() && s[pos] == '\n') ++pos;
  }
  dispatch();
  return out;
}

bool same(const std::vector<SseEvent>& a, const std::vector<SseEvent>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i].event != b[i].event || a[i].data != b[i].data || a[i].id != b[i].id) return false;
  }
  return true;
}

// Feeds the pieces; returns whether every feed succeeded. `events` gets
// everything appended, finish() included.
bool run(SseParser& parser, const std::vector<std::string_view>& pieces, std::vector<SseEvent>& events) {
  bool ok = true;
  for (auto piece : pieces) {
    const std::size_t before = events.size();
    const bool fed = parser.feed(piece, events);
    if (!ok) {
      FUZZ_CHECK(!fed, "feed() succeeded after an earlier feed() failed");
      FUZZ_CHECK(events.size() == before, "a failed parser appended events");
    }
    ok = ok && fed;
  }
  const std::size_t before = events.size();
  parser.finish(events);
  if (!ok) FUZZ_CHECK(events.size() == before, "finish() after a failure dispatched events");
  return ok;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool quiet = tollgate::fuzz::quiet_logs();
  (void)quiet;
  FuzzedDataProvider fdp(data, size);
  // Small limits make the over-limit path reachable; 0 = the default 4 MiB.
  const std::size_t limit_choice = fdp.ConsumeIntegralInRange<std::size_t>(0, 4096);
  const std::size_t max_event = limit_choice == 0 ? 4 * 1024 * 1024 : limit_choice;
  auto split = tollgate::fuzz::split_input(fdp);

  SseParser parser(max_event);
  std::vector<SseEvent> events;
  const bool ok = run(parser, split.pieces(), events);
  for (const auto& ev : events) {
    FUZZ_CHECK(ev.data.size() <= max_event, "event data beyond max_event_bytes");
    FUZZ_CHECK(!ev.event.empty(), "empty event type (\"message\" expected)");
    FUZZ_CHECK(ev.event.find_first_of("\r\n") == std::string::npos, ev.event);
    FUZZ_CHECK(ev.data.find('\r') == std::string::npos, ev.data);
    FUZZ_CHECK(ev.id.find_first_of(std::string_view("\r\n\0", 3)) == std::string::npos, ev.id);
  }
  if (ok) {
    FUZZ_CHECK(same(events, reference(split.payload)), "split feeds differ from the reference parser");
  }

  // finish() reset the parser: the same bytes in one read give the same
  // events as a fresh parser does.
  std::vector<SseEvent> again, fresh;
  const bool ok_again = run(parser, {std::string_view(split.payload)}, again);
  SseParser other(max_event);
  const bool ok_fresh = run(other, {std::string_view(split.payload)}, fresh);
  FUZZ_CHECK(ok_again == ok_fresh && same(again, fresh), "finish() did not reset the parser");
  if (ok_fresh) FUZZ_CHECK(same(fresh, reference(split.payload)), "one read differs from the reference parser");
  return 0;
}
