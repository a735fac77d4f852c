#include "providers/bedrock/eventstream.h"

#include <array>

namespace tollgate::bedrock {
namespace {

constexpr std::size_t kPreludeBytes = 12;  // total_len, headers_len, prelude_crc
constexpr std::size_t kMinMessageBytes = kPreludeBytes + 4;

// zlib is not a dependency of this project; a 1 KiB table is cheaper than one.
constexpr std::array<uint32_t, 256> make_crc_table() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    table[i] = c;
  }
  return table;
}

constexpr std::array<uint32_t, 256> kCrcTable = make_crc_table();

uint32_t read_u32(std::string_view b, std::size_t at) {
  return (uint32_t{static_cast<unsigned char>(b[at])} << 24) | (uint32_t{static_cast<unsigned char>(b[at + 1])} << 16) |
         (uint32_t{static_cast<unsigned char>(b[at + 2])} << 8) | uint32_t{static_cast<unsigned char>(b[at + 3])};
}

uint16_t read_u16(std::string_view b, std::size_t at) {
  return static_cast<uint16_t>((static_cast<unsigned char>(b[at]) << 8) | static_cast<unsigned char>(b[at + 1]));
}

void put_u32(std::string& out, uint32_t v) {
  out.push_back(static_cast<char>(v >> 24));
  out.push_back(static_cast<char>(v >> 16));
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v));
}

void put_u16(std::string& out, uint16_t v) {
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v));
}

// Size of a header value of `type` at `at`, or nullopt for an unknown type or
// one that runs past the end of the headers.
std::optional<std::size_t> value_size(std::string_view h, std::size_t at, unsigned type) {
  switch (type) {
    case 0:
    case 1: return 0;
    case 2: return 1;
    case 3: return 2;
    case 4: return 4;
    case 5:
    case 8: return 8;
    case 9: return 16;
    case 6:
    case 7:
      if (at + 2 > h.size()) return std::nullopt;
      return 2 + std::size_t{read_u16(h, at)};
    default: return std::nullopt;
  }
}

}  // namespace

uint32_t crc32(std::string_view bytes, uint32_t crc) {
  crc = ~crc;
  for (unsigned char c : bytes) crc = kCrcTable[(crc ^ c) & 0xFFu] ^ (crc >> 8);
  return ~crc;
}

std::string EventStreamMessage::header(const std::string& name) const {
  auto it = headers.find(name);
  return it == headers.end() ? std::string() : it->second;
}

std::optional<std::string> EventStreamDecoder::decode_one(std::string_view frame, EventStreamMessage& msg) const {
  const uint32_t headers_len = read_u32(frame, 4);
  const uint32_t message_crc = read_u32(frame, frame.size() - 4);
  if (crc32(frame.substr(0, frame.size() - 4)) != message_crc) return "event-stream message CRC mismatch";
  std::string_view h = frame.substr(kPreludeBytes, headers_len);
  std::size_t at = 0;
  while (at < h.size()) {
    const std::size_t name_len = static_cast<unsigned char>(h[at]);
    if (name_len == 0 || at + 1 + name_len + 1 > h.size()) return "malformed event-stream header";
    std::string name(h.substr(at + 1, name_len));
    at += 1 + name_len;
    const unsigned type = static_cast<unsigned char>(h[at]);
    at += 1;
    auto size = value_size(h, at, type);
    if (!size || at + *size > h.size()) return "malformed event-stream header value";
    if (type == 7) msg.headers[std::move(name)] = std::string(h.substr(at + 2, *size - 2));
    at += *size;
  }
  msg.payload.assign(frame.substr(kPreludeBytes + headers_len, frame.size() - kMinMessageBytes - headers_len));
  return std::nullopt;
}

std::optional<std::string> EventStreamDecoder::feed(std::string_view bytes, std::vector<EventStreamMessage>& out) {
  if (error_) return error_;
  buffer_.append(bytes);
  while (pending_bytes() >= kPreludeBytes) {
    std::string_view rest = std::string_view(buffer_).substr(consumed_);
    const uint32_t total = read_u32(rest, 0);
    const uint32_t headers_len = read_u32(rest, 4);
    if (crc32(rest.substr(0, 8)) != read_u32(rest, 8)) {
      error_ = "event-stream prelude CRC mismatch";
    } else if (total < kMinMessageBytes || total > kMaxMessageBytes || headers_len > total - kMinMessageBytes) {
      error_ = "event-stream message length out of range (" + std::to_string(total) + " bytes)";
    }
    if (error_) break;
    if (rest.size() < total) break;
    EventStreamMessage msg;
    error_ = decode_one(rest.substr(0, total), msg);
    if (error_) break;
    out.push_back(std::move(msg));
    consumed_ += total;
  }
  // Compact once the consumed prefix dominates, so long streams stay small.
  if (consumed_ > 0 && consumed_ * 2 >= buffer_.size()) {
    buffer_.erase(0, consumed_);
    consumed_ = 0;
  }
  return error_;
}

std::string encode_event_stream_message(const std::vector<std::pair<std::string, std::string>>& headers,
                                        std::string_view payload) {
  std::string h;
  for (const auto& [name, value] : headers) {
    h.push_back(static_cast<char>(name.size()));
    h += name;
    h.push_back(7);
    put_u16(h, static_cast<uint16_t>(value.size()));
    h += value;
  }
  std::string out;
  const auto total = static_cast<uint32_t>(kMinMessageBytes + h.size() + payload.size());
  put_u32(out, total);
  put_u32(out, static_cast<uint32_t>(h.size()));
  put_u32(out, crc32(out));
  out += h;
  out += payload;
  put_u32(out, crc32(out));
  return out;
}

std::string encode_bedrock_event(std::string_view event_type, std::string_view json_payload) {
  return encode_event_stream_message({{":event-type", std::string(event_type)},
                                      {":content-type", "application/json"},
                                      {":message-type", "event"}},
                                     json_payload);
}

std::string encode_bedrock_exception(std::string_view exception_type, std::string_view json_payload) {
  return encode_event_stream_message({{":exception-type", std::string(exception_type)},
                                      {":content-type", "application/json"},
                                      {":message-type", "exception"}},
                                     json_payload);
}

}  // namespace tollgate::bedrock
