#pragma once
// The binary AWS event-stream framing (application/vnd.amazon.eventstream)
// that Bedrock's ConverseStream answers with (wire formats §4.2):
//
//   total_len:u32be | headers_len:u32be | prelude_crc:u32be | headers | payload | message_crc:u32be
//
// Both CRCs are CRC-32 (IEEE, reflected, as gzip/zlib) and are checked; a
// frame with a bad CRC or an absurd length ends the stream. Pure: no I/O.

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tollgate::bedrock {

// CRC-32 (IEEE 802.3 polynomial 0xEDB88320, reflected, init and final xor
// 0xFFFFFFFF). `crc` continues an earlier computation; 0 starts a new one.
uint32_t crc32(std::string_view bytes, uint32_t crc = 0);

struct EventStreamMessage {
  // String-valued headers (type 7), by name. Headers of other types are
  // decoded for framing but not kept: Bedrock only sends strings.
  std::map<std::string, std::string> headers;
  std::string payload;

  std::string header(const std::string& name) const;  // empty when absent
};

// Frames are reassembled from reads split at any byte.
//
// Not thread-safe: one decoder per stream.
class EventStreamDecoder {
 public:
  static constexpr std::size_t kMaxMessageBytes = 16u << 20;

  // Appends every message the bytes complete to `out`. Returns a description
  // of the framing error (bad length, bad CRC, malformed header) once the
  // stream is corrupt; later calls keep returning it and decode nothing.
  std::optional<std::string> feed(std::string_view bytes, std::vector<EventStreamMessage>& out);

  // Bytes of an incomplete message still buffered (non-zero at the end of
  // the body means the stream was truncated mid-frame).
  std::size_t pending_bytes() const { return buffer_.size() - consumed_; }

 private:
  std::optional<std::string> decode_one(std::string_view frame, EventStreamMessage& msg) const;

  std::string buffer_;
  std::size_t consumed_ = 0;
  std::optional<std::string> error_;
};

// One encoded frame with string headers, in the order given. The gateway
// never sends event streams; this exists for tests and fake upstreams.
std::string encode_event_stream_message(const std::vector<std::pair<std::string, std::string>>& headers,
                                        std::string_view payload);

// A Bedrock `event` frame: :message-type event, :event-type `event_type`,
// :content-type application/json.
std::string encode_bedrock_event(std::string_view event_type, std::string_view json_payload);
// A Bedrock `exception` frame: :message-type exception, :exception-type.
std::string encode_bedrock_exception(std::string_view exception_type, std::string_view json_payload);

}  // namespace tollgate::bedrock
