#pragma once
// Incremental parser for `text/event-stream` bodies (WHATWG HTML, "Parsing an
// event stream"). Every streaming provider except Bedrock speaks SSE; this
// parser is on the hot path of every stream, so it copies each byte at most
// once into the pending line or the event's data.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace tollgate {

struct SseEvent {
  std::string event = "message";  // `event:` field; "message" when absent or empty
  std::string data;               // `data:` lines joined with "\n"
  std::string id;                 // last event ID (see SseParser)
};

// Turns a byte stream, split at arbitrary points, into SSE events.
//
// Grammar (WHATWG):
//  - lines end with LF, CRLF or CR; a CR ending one chunk and an LF starting
//    the next are a single line ending;
//  - a blank line dispatches the pending event; an event with no `data:` line
//    is dropped (its `event:` name is reset, as the spec says);
//  - lines starting with ':' are comments (keep-alives) and are skipped;
//  - `field:value`, one optional space after the colon stripped; a line with
//    no colon is a field name with an empty value;
//  - several `data:` lines are joined with "\n"; `data` alone yields an empty
//    data line;
//  - `id:` sets the last event ID, which persists across events until changed
//    (an id containing NUL is ignored); `retry:` and unknown fields are
//    ignored;
//  - one leading UTF-8 BOM at the start of the stream is stripped.
//
// Bytes are not validated as UTF-8; a multi-byte sequence split across feeds
// is reassembled unchanged because the parser only splits on CR and LF.
//
// Not thread-safe: one parser per stream, used by one strand.
class SseParser {
 public:
  explicit SseParser(std::size_t max_event_bytes = 4 * 1024 * 1024);

  // Feeds raw bytes and appends every event they complete to `out`.
  // Returns false if the pending event (its data, event name, id and any
  // unterminated line) grows beyond max_event_bytes; the stream must then be
  // aborted. Events completed earlier in the same call are still appended.
  // Once false has been returned, every later call returns false and appends
  // nothing until finish() resets the parser.
  bool feed(std::string_view bytes, std::vector<SseEvent>& out);

  // Call at end of stream. An unterminated last line is processed as if it
  // ended with a newline, and a pending event that has at least one `data:`
  // line is dispatched even though the closing blank line is missing (the
  // spec would discard it; upstreams that cut the final "\n\n" would
  // otherwise lose their last chunk). A pending event without data is
  // dropped. Afterwards the parser is reset to its initial state, ready for a
  // new stream (BOM handling and the last event ID included).
  void finish(std::vector<SseEvent>& out);

  std::size_t max_event_bytes() const { return max_event_bytes_; }

 private:
  bool process(std::string_view bytes, std::vector<SseEvent>& out);
  void process_line(std::string_view line, std::vector<SseEvent>& out);
  void dispatch(std::vector<SseEvent>& out);
  std::size_t pending_bytes() const;
  void reset();

  std::size_t max_event_bytes_;
  std::string line_;        // unterminated line carried over from earlier feeds
  std::string data_;        // joined data lines of the pending event
  std::string event_type_;  // empty means "message"
  std::string last_id_;
  bool has_data_ = false;
  bool skip_lf_ = false;    // previous feed ended with CR: a leading LF is part of it
  bool failed_ = false;
  bool bom_done_ = false;
  std::size_t bom_matched_ = 0;  // BOM bytes seen so far at stream start
};

}  // namespace tollgate
