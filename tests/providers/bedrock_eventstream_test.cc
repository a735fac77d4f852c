// The AWS binary event-stream framing (wire formats §4.2, conformance T29).
#include "providers/bedrock/eventstream.h"

#include <gtest/gtest.h>

#include <random>

namespace tollgate::bedrock {
namespace {

std::string bytes(std::initializer_list<unsigned> values) {
  std::string out;
  for (unsigned v : values) out.push_back(static_cast<char>(v));
  return out;
}

TEST(BedrockEventStream, Crc32IsTheIeeeChecksum) {
  EXPECT_EQ(crc32("123456789"), 0xCBF43926u);  // the standard check value
  EXPECT_EQ(crc32(""), 0u);
  // Continuing a computation gives the same result as one pass.
  EXPECT_EQ(crc32("6789", crc32("12345")), 0xCBF43926u);
}

TEST(BedrockEventStream, DecodesTheAwsEmptyMessageVector) {
  // aws-c-event-stream test vector "empty_message".
  const std::string frame = bytes({0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x05, 0xc2, 0x48, 0xeb, 0x7d, 0x98, 0xc8, 0xff});
  EventStreamDecoder d;
  std::vector<EventStreamMessage> out;
  EXPECT_FALSE(d.feed(frame, out).has_value());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(out[0].headers.empty());
  EXPECT_TRUE(out[0].payload.empty());
}

TEST(BedrockEventStream, DecodesTheAwsPayloadNoHeadersVector) {
  // aws-c-event-stream test vector "payload_no_headers".
  const std::string frame = bytes({0x00, 0x00, 0x00, 0x1d, 0x00, 0x00, 0x00, 0x00, 0xfd, 0x52, 0x8c, 0x5a}) +
                            "{'foo':'bar'}" + bytes({0xc3, 0x65, 0x39, 0x36});
  EXPECT_EQ(encode_event_stream_message({}, "{'foo':'bar'}"), frame) << "the encoder builds the same bytes";
  EventStreamDecoder d;
  std::vector<EventStreamMessage> out;
  EXPECT_FALSE(d.feed(frame, out).has_value());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].payload, "{'foo':'bar'}");
}

TEST(BedrockEventStream, RoundTripsBedrockEventHeaders) {
  EventStreamDecoder d;
  std::vector<EventStreamMessage> out;
  ASSERT_FALSE(d.feed(encode_bedrock_event("contentBlockDelta", R"({"a":1})"), out).has_value());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].header(":message-type"), "event");
  EXPECT_EQ(out[0].header(":event-type"), "contentBlockDelta");
  EXPECT_EQ(out[0].header(":content-type"), "application/json");
  EXPECT_EQ(out[0].header(":missing"), "");
  EXPECT_EQ(out[0].payload, R"({"a":1})");
}

TEST(BedrockEventStream, T29_FrameSplitAcrossThreeReadsDecodesOnce) {
  const std::string frame = encode_bedrock_event("messageStart", R"({"role":"assistant"})");
  ASSERT_GT(frame.size(), 47u);
  EventStreamDecoder d;
  std::vector<EventStreamMessage> out;
  EXPECT_FALSE(d.feed(frame.substr(0, 7), out).has_value());
  EXPECT_TRUE(out.empty());
  EXPECT_FALSE(d.feed(frame.substr(7, 40), out).has_value());
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(d.pending_bytes(), 47u);
  EXPECT_FALSE(d.feed(frame.substr(47), out).has_value());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].payload, R"({"role":"assistant"})");
  EXPECT_EQ(d.pending_bytes(), 0u);
}

TEST(BedrockEventStream, ManyFramesInOneReadAndByteByByte) {
  std::string all;
  for (int i = 0; i < 5; ++i) all += encode_bedrock_event("e" + std::to_string(i), "{\"i\":" + std::to_string(i) + "}");
  EventStreamDecoder together;
  std::vector<EventStreamMessage> out;
  ASSERT_FALSE(together.feed(all, out).has_value());
  ASSERT_EQ(out.size(), 5u);
  EXPECT_EQ(out[4].header(":event-type"), "e4");

  EventStreamDecoder single;
  std::vector<EventStreamMessage> out2;
  for (char c : all) ASSERT_FALSE(single.feed(std::string_view(&c, 1), out2).has_value());
  ASSERT_EQ(out2.size(), 5u);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(out2[i].payload, out[i].payload);
}

TEST(BedrockEventStream, T29_BadMessageCrcAbortsTheStream) {
  std::string frame = encode_bedrock_event("messageStart", R"({"role":"assistant"})");
  frame[frame.size() - 1] ^= 0x01;
  EventStreamDecoder d;
  std::vector<EventStreamMessage> out;
  auto err = d.feed(frame, out);
  ASSERT_TRUE(err.has_value());
  EXPECT_NE(err->find("CRC"), std::string::npos);
  EXPECT_TRUE(out.empty());
  // The stream stays failed: nothing after a corrupt frame is trusted.
  EXPECT_TRUE(d.feed(encode_bedrock_event("x", "{}"), out).has_value());
  EXPECT_TRUE(out.empty());
}

TEST(BedrockEventStream, CorruptPayloadByteIsCaughtByTheMessageCrc) {
  std::string frame = encode_bedrock_event("contentBlockDelta", R"({"delta":{"text":"Hi"}})");
  frame[frame.size() - 8] = 'X';
  EventStreamDecoder d;
  std::vector<EventStreamMessage> out;
  EXPECT_TRUE(d.feed(frame, out).has_value());
  EXPECT_TRUE(out.empty());
}

TEST(BedrockEventStream, BadPreludeCrcIsReportedBeforeTheBodyArrives) {
  std::string frame = encode_bedrock_event("messageStart", "{}");
  frame[9] ^= 0x40;
  EventStreamDecoder d;
  std::vector<EventStreamMessage> out;
  auto err = d.feed(frame.substr(0, 12), out);
  ASSERT_TRUE(err.has_value());
  EXPECT_NE(err->find("prelude"), std::string::npos);
}

TEST(BedrockEventStream, AbsurdLengthsAreRejected) {
  auto prelude = [](uint32_t total, uint32_t headers) {
    std::string p;
    for (uint32_t v : {total, headers}) {
      for (int s = 24; s >= 0; s -= 8) p.push_back(static_cast<char>(v >> s));
    }
    uint32_t crc = crc32(p);
    for (int s = 24; s >= 0; s -= 8) p.push_back(static_cast<char>(crc >> s));
    return p;
  };
  for (auto [total, headers] : {std::pair<uint32_t, uint32_t>{64u << 20, 0}, {8, 0}, {32, 20}}) {
    EventStreamDecoder d;
    std::vector<EventStreamMessage> out;
    auto err = d.feed(prelude(total, headers), out);
    ASSERT_TRUE(err.has_value()) << total << "/" << headers;
    EXPECT_NE(err->find("length"), std::string::npos);
  }
}

TEST(BedrockEventStream, NonStringHeadersAreSkippedNotMisread) {
  // Headers of every fixed-size type and a bytes header, then a string.
  std::string h;
  auto name = [&](const std::string& n, unsigned type) {
    h.push_back(static_cast<char>(n.size()));
    h += n;
    h.push_back(static_cast<char>(type));
  };
  name("t", 0);
  name("f", 1);
  name("b", 2), h += bytes({7});
  name("s", 3), h += bytes({0, 1});
  name("i", 4), h += bytes({0, 0, 0xa0, 0x0c});
  name("l", 5), h += std::string(8, '\1');
  name("raw", 6), h += bytes({0, 3}) + "abc";
  name("ts", 8), h += std::string(8, '\2');
  name("id", 9), h += std::string(16, '\3');
  name(":event-type", 7), h += bytes({0, 4}) + "ping";
  const std::string payload = "{}";
  std::string frame;
  const uint32_t total = static_cast<uint32_t>(16 + h.size() + payload.size());
  for (uint32_t v : {total, static_cast<uint32_t>(h.size())}) {
    for (int s = 24; s >= 0; s -= 8) frame.push_back(static_cast<char>(v >> s));
  }
  uint32_t crc = crc32(frame);
  for (int s = 24; s >= 0; s -= 8) frame.push_back(static_cast<char>(crc >> s));
  frame += h + payload;
  crc = crc32(frame);
  for (int s = 24; s >= 0; s -= 8) frame.push_back(static_cast<char>(crc >> s));

  EventStreamDecoder d;
  std::vector<EventStreamMessage> out;
  ASSERT_FALSE(d.feed(frame, out).has_value());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].headers.size(), 1u);
  EXPECT_EQ(out[0].header(":event-type"), "ping");
  EXPECT_EQ(out[0].payload, "{}");
}

TEST(BedrockEventStream, GarbageAndMutatedFramesFailCleanly) {
  std::mt19937 rng(7);
  const std::string valid = encode_bedrock_event("contentBlockDelta", R"({"contentBlockIndex":0,"delta":{"text":"Hi"}})");
  for (int round = 0; round < 2000; ++round) {
    std::string bytes = valid + valid;
    if (round % 2 == 0) {
      bytes.resize(rng() % 64);
      for (auto& c : bytes) c = static_cast<char>(rng());
    } else {
      for (int flips = 1 + static_cast<int>(rng() % 3); flips > 0; --flips) bytes[rng() % bytes.size()] ^= static_cast<char>(1 + rng() % 255);
    }
    EventStreamDecoder d;
    std::vector<EventStreamMessage> out;
    std::size_t at = 0;
    while (at < bytes.size()) {
      const std::size_t n = 1 + rng() % 17;
      if (d.feed(std::string_view(bytes).substr(at, n), out)) break;
      at += n;
    }
    // Whatever was accepted passed both CRCs: it is one of the valid frames.
    for (const auto& m : out) EXPECT_EQ(m.header(":event-type"), "contentBlockDelta");
  }
}

}  // namespace
}  // namespace tollgate::bedrock
