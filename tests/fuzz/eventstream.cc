// EventStreamDecoder (AWS event-stream framing) over split feeds. Two input
// modes, chosen by the last byte: raw bytes, or frames built from the input
// with valid lengths and CRCs (so the fuzzer reaches header decoding past
// the CRC checks), optionally with one byte flipped afterwards.
// Checks: the split does not change the messages or the error; an error is
// sticky and nothing is decoded after it; payloads stay under the maximum;
// pending_bytes() never exceeds what was fed; every decoded message encodes
// back to a frame that decodes to the same message.
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz_support.h"
#include "providers/bedrock/eventstream.h"

namespace {

using tollgate::bedrock::EventStreamDecoder;
using tollgate::bedrock::EventStreamMessage;

void put_u32(std::string& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(v >> shift));
}

// Frames whose header block and payload are fuzzer bytes, framed correctly.
std::string build_frames(FuzzedDataProvider& fdp) {
  std::string out;
  const int frames = fdp.ConsumeIntegralInRange<int>(1, 4);
  for (int i = 0; i < frames && fdp.remaining_bytes() > 0; ++i) {
    const std::string headers = fdp.ConsumeRandomLengthString(512);
    const std::string payload = fdp.ConsumeRandomLengthString(1024);
    std::string frame;
    put_u32(frame, static_cast<uint32_t>(16 + headers.size() + payload.size()));
    put_u32(frame, static_cast<uint32_t>(headers.size()));
    put_u32(frame, tollgate::bedrock::crc32(frame));
    frame += headers;
    frame += payload;
    put_u32(frame, tollgate::bedrock::crc32(frame));
    out += frame;
  }
  return out;
}

struct Decoded {
  std::vector<EventStreamMessage> messages;
  std::optional<std::string> error;
};

Decoded decode(const std::vector<std::string_view>& pieces) {
  EventStreamDecoder decoder;
  Decoded d;
  std::size_t fed = 0;
  for (auto piece : pieces) {
    const std::size_t before = d.messages.size();
    const bool had_error = d.error.has_value();
    auto err = decoder.feed(piece, d.messages);
    fed += piece.size();
    if (had_error) {
      FUZZ_CHECK(err == d.error, "a framing error changed or went away");
      FUZZ_CHECK(d.messages.size() == before, "messages decoded after a framing error");
    }
    d.error = err;
    FUZZ_CHECK(decoder.pending_bytes() <= fed, "more bytes pending than were fed");
  }
  return d;
}

bool same(const EventStreamMessage& a, const EventStreamMessage& b) {
  return a.headers == b.headers && a.payload == b.payload;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider fdp(data, size);
  const uint8_t mode = fdp.ConsumeIntegral<uint8_t>();
  std::string payload;
  std::vector<std::string_view> pieces;
  tollgate::fuzz::Split split;
  if (mode & 1) {
    const uint16_t flip = fdp.ConsumeIntegral<uint16_t>();
    const uint8_t flip_mask = fdp.ConsumeIntegral<uint8_t>();
    const std::size_t chunk = fdp.ConsumeIntegralInRange<std::size_t>(1, 64);
    payload = build_frames(fdp);
    if ((mode & 2) && !payload.empty()) payload[flip % payload.size()] ^= static_cast<char>(flip_mask | 1);
    for (std::size_t at = 0; at < payload.size(); at += chunk)
      pieces.push_back(std::string_view(payload).substr(at, chunk));
  } else {
    split = tollgate::fuzz::split_input(fdp);
    payload = split.payload;
    pieces.clear();
    std::size_t from = 0;
    for (std::size_t to : split.ends) {
      pieces.push_back(std::string_view(payload).substr(from, to - from));
      from = to;
    }
  }

  const Decoded split_run = decode(pieces);
  const Decoded whole = decode({std::string_view(payload)});
  FUZZ_CHECK(split_run.error == whole.error, "the split changed the framing error");
  FUZZ_CHECK(split_run.messages.size() == whole.messages.size(), "the split changed the number of messages");
  for (std::size_t i = 0; i < whole.messages.size(); ++i) {
    FUZZ_CHECK(same(split_run.messages[i], whole.messages[i]), "the split changed a message");
  }
  for (const auto& m : whole.messages) {
    FUZZ_CHECK(m.payload.size() <= EventStreamDecoder::kMaxMessageBytes, "payload beyond the maximum");
    std::vector<std::pair<std::string, std::string>> headers(m.headers.begin(), m.headers.end());
    const std::string frame = tollgate::bedrock::encode_event_stream_message(headers, m.payload);
    EventStreamDecoder again;
    std::vector<EventStreamMessage> out;
    FUZZ_CHECK(!again.feed(frame, out).has_value(), "a re-encoded message does not decode");
    FUZZ_CHECK(out.size() == 1 && same(out[0], m), "a re-encoded message decodes differently");
    FUZZ_CHECK(again.pending_bytes() == 0, "bytes left after one whole frame");
  }
  return 0;
}
