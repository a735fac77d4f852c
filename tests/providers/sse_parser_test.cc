#include "providers/sse_parser.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace tollgate {
namespace {

// Feeds `input` in pieces of `piece` bytes, then calls finish().
std::vector<SseEvent> parse(std::string_view input, std::size_t piece = 0, bool finish = true) {
  SseParser parser;
  std::vector<SseEvent> out;
  if (piece == 0) piece = input.size() == 0 ? 1 : input.size();
  for (std::size_t i = 0; i < input.size(); i += piece) {
    EXPECT_TRUE(parser.feed(input.substr(i, piece), out));
  }
  if (finish) parser.finish(out);
  return out;
}

std::vector<std::string> datas(const std::vector<SseEvent>& events) {
  std::vector<std::string> out;
  for (const auto& e : events) out.push_back(e.data);
  return out;
}

using Strings = std::vector<std::string>;

// Every split point of `input` into two feeds must give the same events as
// one feed; this catches state lost between chunks (CR/LF pairs, BOM, lines).
void expect_split_invariant(std::string_view input) {
  const auto whole = parse(input);
  for (std::size_t cut = 0; cut <= input.size(); ++cut) {
    SseParser parser;
    std::vector<SseEvent> out;
    ASSERT_TRUE(parser.feed(input.substr(0, cut), out));
    ASSERT_TRUE(parser.feed(input.substr(cut), out));
    parser.finish(out);
    ASSERT_EQ(out.size(), whole.size()) << "cut at " << cut;
    for (std::size_t i = 0; i < out.size(); ++i) {
      EXPECT_EQ(out[i].event, whole[i].event) << "cut at " << cut;
      EXPECT_EQ(out[i].data, whole[i].data) << "cut at " << cut;
      EXPECT_EQ(out[i].id, whole[i].id) << "cut at " << cut;
    }
  }
}

TEST(SseParser, SingleEventDefaultsToMessage) {
  const auto ev = parse("data: hello\n\n", 0, /*finish=*/false);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].event, "message");
  EXPECT_EQ(ev[0].data, "hello");
  EXPECT_EQ(ev[0].id, "");
}

TEST(SseParser, NothingDispatchedBeforeBlankLine) {
  SseParser parser;
  std::vector<SseEvent> out;
  ASSERT_TRUE(parser.feed("data: a\n", out));
  EXPECT_TRUE(out.empty());
  ASSERT_TRUE(parser.feed("\n", out));
  EXPECT_EQ(datas(out), Strings{"a"});
}

TEST(SseParser, LfCrlfAndCrLineEndings) {
  EXPECT_EQ(datas(parse("data: a\n\ndata: b\n\n", 0, false)), (Strings{"a", "b"}));
  EXPECT_EQ(datas(parse("data: a\r\n\r\ndata: b\r\n\r\n", 0, false)), (Strings{"a", "b"}));
  EXPECT_EQ(datas(parse("data: a\r\rdata: b\r\r", 0, false)), (Strings{"a", "b"}));
  // Mixed endings inside one stream.
  EXPECT_EQ(datas(parse("data: a\r\ndata: b\rdata: c\n\r\n", 0, false)), Strings{"a\nb\nc"});
}

TEST(SseParser, CrAtEndOfChunkAndLfAtStartOfNextAreOneLineEnding) {
  SseParser parser;
  std::vector<SseEvent> out;
  ASSERT_TRUE(parser.feed("data: a\r", out));
  // If the LF were taken as a second line ending, this would dispatch now.
  ASSERT_TRUE(parser.feed("\n", out));
  EXPECT_TRUE(out.empty());
  ASSERT_TRUE(parser.feed("data: b\r", out));
  EXPECT_TRUE(out.empty());
  ASSERT_TRUE(parser.feed("\n\r", out));
  EXPECT_EQ(datas(out), Strings{"a\nb"});
}

TEST(SseParser, CrThenCrAcrossChunksIsTwoLineEndings) {
  SseParser parser;
  std::vector<SseEvent> out;
  ASSERT_TRUE(parser.feed("data: a\r", out));
  ASSERT_TRUE(parser.feed("\r", out));
  EXPECT_EQ(datas(out), Strings{"a"});
}

TEST(SseParser, EmptyFeedKeepsPendingCr) {
  SseParser parser;
  std::vector<SseEvent> out;
  ASSERT_TRUE(parser.feed("data: a\r", out));
  ASSERT_TRUE(parser.feed("", out));
  ASSERT_TRUE(parser.feed("\n", out));
  EXPECT_TRUE(out.empty());
  ASSERT_TRUE(parser.feed("\n", out));
  EXPECT_EQ(datas(out), Strings{"a"});
}

TEST(SseParser, GeminiCrlfFraming) {
  const std::string stream =
      "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"Hel\"}]}}]}\r\n\r\n"
      "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"lo\"}]}}],"
      "\"usageMetadata\":{\"promptTokenCount\":3}}\r\n\r\n";
  for (std::size_t piece : {0, 1, 2, 3, 7}) {
    const auto ev = parse(stream, piece);
    ASSERT_EQ(ev.size(), 2u) << piece;
    EXPECT_EQ(nlohmann::json::parse(ev[0].data)["candidates"][0]["content"]["parts"][0]["text"],
              "Hel");
    EXPECT_EQ(nlohmann::json::parse(ev[1].data)["usageMetadata"]["promptTokenCount"], 3);
  }
}

TEST(SseParser, CommentsAreIgnored) {
  EXPECT_EQ(datas(parse(": keep-alive\n\ndata: x\n: inside an event\ndata: y\n\n:\n\n")),
            Strings{"x\ny"});
}

TEST(SseParser, DeepSeekKeepAlivesAndBlankLinePreamble) {
  // DeepSeek holds the connection open with blank lines and comments while
  // the request waits in its queue, then streams normally.
  const std::string stream =
      "\n\n\n: keep-alive\n\n: keep-alive\n\n"
      "data: {\"choices\":[{\"delta\":{\"content\":\"Hi\"}}]}\n\n"
      ": keep-alive\n\n"
      "data: [DONE]\n\n";
  const auto ev = parse(stream, 1);
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(nlohmann::json::parse(ev[0].data)["choices"][0]["delta"]["content"], "Hi");
  EXPECT_EQ(ev[1].data, "[DONE]");
}

TEST(SseParser, MultipleDataLinesJoinedWithNewline) {
  const auto ev = parse("data: {\"a\":\ndata: 1}\n\n");
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].data, "{\"a\":\n1}");
  EXPECT_EQ(nlohmann::json::parse(ev[0].data)["a"], 1);
}

TEST(SseParser, OnlyOneSpaceAfterColonStripped) {
  EXPECT_EQ(datas(parse("data:x\n\n")), Strings{"x"});
  EXPECT_EQ(datas(parse("data: x\n\n")), Strings{"x"});
  EXPECT_EQ(datas(parse("data:  x \n\n")), Strings{" x "});
  EXPECT_EQ(datas(parse("data:\tx\n\n")), Strings{"\tx"});
  // Colons after the first belong to the value.
  EXPECT_EQ(datas(parse("data: a:b: c\n\n")), Strings{"a:b: c"});
}

TEST(SseParser, FieldWithoutColonHasEmptyValue) {
  // "data" alone is a data line with an empty value; the event is dispatched.
  auto ev = parse("data\n\n");
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].data, "");
  ev = parse("data\ndata\n\n");
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].data, "\n");
  ev = parse("data:\n\n");
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].data, "");
  // "event" alone resets the name to the default.
  ev = parse("event\ndata: x\n\n");
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].event, "message");
}

TEST(SseParser, EventNameAppliesToOneEventOnly) {
  const auto ev = parse(
      "event: message_start\ndata: {\"type\":\"message_start\"}\n\n"
      "data: plain\n\n"
      "event: ping\ndata: {}\n\n");
  ASSERT_EQ(ev.size(), 3u);
  EXPECT_EQ(ev[0].event, "message_start");
  EXPECT_EQ(ev[1].event, "message");
  EXPECT_EQ(ev[2].event, "ping");
}

TEST(SseParser, EventsWithoutDataAreNotDispatched) {
  // Their event name must not leak into the next event either.
  const auto ev = parse("event: ping\n\nid: 7\n\nretry: 10\n\ndata: x\n\n");
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].event, "message");
  EXPECT_EQ(ev[0].data, "x");
  EXPECT_EQ(ev[0].id, "7");
}

TEST(SseParser, IdPersistsUntilChangedAndIdWithNulIsIgnored) {
  using namespace std::string_literals;
  const std::string stream =
      "id: 1\ndata: a\n\ndata: b\n\nid: 2\ndata: c\n\nid: x\0y\ndata: d\n\nid\ndata: e\n\n"s;
  const auto ev = parse(stream);
  ASSERT_EQ(ev.size(), 5u);
  EXPECT_EQ(ev[0].id, "1");
  EXPECT_EQ(ev[1].id, "1");
  EXPECT_EQ(ev[2].id, "2");
  EXPECT_EQ(ev[3].id, "2");
  EXPECT_EQ(ev[4].id, "");
}

TEST(SseParser, RetryAndUnknownFieldsAreIgnored) {
  const auto ev = parse("retry: 3000\nfoo: bar\nDATA: shouted\ndata: x\n\n");
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].data, "x");
  EXPECT_EQ(ev[0].event, "message");
}

TEST(SseParser, LeadingBomStripped) {
  EXPECT_EQ(datas(parse("\xEF\xBB\xBF" "data: x\n\n")), Strings{"x"});
  // Split BOM.
  EXPECT_EQ(datas(parse("\xEF\xBB\xBF" "data: x\n\n", 1)), Strings{"x"});
  // Only one BOM, and only at the start: a second one makes the field name
  // "\xEF\xBB\xBFdata", which is unknown.
  EXPECT_TRUE(parse("\xEF\xBB\xBF\xEF\xBB\xBF" "data: x\n\n").empty());
  // A BOM later in the stream is content.
  EXPECT_EQ(datas(parse("data: x\n\ndata: \xEF\xBB\xBFy\n\n")), (Strings{"x", "\xEF\xBB\xBFy"}));
}

TEST(SseParser, PartialBomPrefixIsContent) {
  // "\xEF\xBB" followed by something else is not a BOM; those bytes belong
  // to the first line.
  const auto ev = parse("\xEF\xBB" "data: x\n\ndata: y\n\n", 1);
  EXPECT_EQ(datas(ev), Strings{"y"});
  const auto ev2 = parse(": \xEF\xBB\n\ndata: y\n\n");
  EXPECT_EQ(datas(ev2), Strings{"y"});
}

TEST(SseParser, Utf8SplitAcrossFeedsIsReassembled) {
  const std::string text = "data: h\xC3\xA9llo \xE2\x82\xAC \xF0\x9F\x98\x80\n\n";
  for (std::size_t piece : {1, 2, 3}) {
    EXPECT_EQ(datas(parse(text, piece)), Strings{"h\xC3\xA9llo \xE2\x82\xAC \xF0\x9F\x98\x80"});
  }
}

TEST(SseParser, JsonObjectSplitAcrossManyReads) {
  nlohmann::json chunk = {
      {"id", "chatcmpl-1"},
      {"object", "chat.completion.chunk"},
      {"choices",
       {{{"index", 0}, {"delta", {{"content", "a fairly long piece of text, \u00e9\u20ac"}}}}}}};
  std::string stream;
  for (int i = 0; i < 5; ++i) {
    chunk["choices"][0]["index"] = i;
    stream += "data: " + chunk.dump() + "\n\n";
  }
  stream += "data: [DONE]\n\n";

  SseParser parser;
  std::vector<SseEvent> out;
  std::size_t dispatched_at_byte = 0;
  for (std::size_t i = 0; i < stream.size(); ++i) {
    const std::size_t before = out.size();
    ASSERT_TRUE(parser.feed(std::string_view(&stream[i], 1), out));
    if (out.size() != before) {
      // An event appears exactly when its terminating blank line arrives.
      EXPECT_EQ(stream.substr(i - 1, 2), "\n\n");
      dispatched_at_byte = i;
    }
  }
  EXPECT_EQ(dispatched_at_byte, stream.size() - 1);
  ASSERT_EQ(out.size(), 6u);
  for (int i = 0; i < 5; ++i) {
    const auto j = nlohmann::json::parse(out[i].data);
    EXPECT_EQ(j["choices"][0]["index"], i);
    EXPECT_EQ(j["choices"][0]["delta"]["content"], "a fairly long piece of text, \u00e9\u20ac");
  }
  EXPECT_EQ(out[5].data, "[DONE]");
}

TEST(SseParser, EverySplitPointGivesTheSameEvents) {
  expect_split_invariant("\xEF\xBB\xBF" "event: a\r\ndata: 1\r\n\r\n"
                         ": c\rdata: 2\r\rid: 9\ndata\n\n");
  expect_split_invariant("data: x\r\n\r\ndata: y\r\r\ndata: z");
}

TEST(SseParser, OversizeEventRejected) {
  SseParser parser(16);
  std::vector<SseEvent> out;
  EXPECT_TRUE(parser.feed("data: 0123456789\n\n", out));  // 10 bytes of data: fits
  ASSERT_EQ(out.size(), 1u);
  // Accumulated data lines count together.
  EXPECT_TRUE(parser.feed("data: 0123456789\n", out));
  EXPECT_FALSE(parser.feed("data: 0123456789\n", out));
  EXPECT_EQ(out.size(), 1u);
  // The parser stays failed.
  EXPECT_FALSE(parser.feed("\n\ndata: x\n\n", out));
  EXPECT_EQ(out.size(), 1u);
}

TEST(SseParser, OversizeUnterminatedLineRejected) {
  // A peer that never sends a newline must not grow memory without bound.
  SseParser parser(64);
  std::vector<SseEvent> out;
  const std::string piece(16, 'x');
  bool ok = true;
  int feeds = 0;
  while (ok && feeds < 100) {
    ok = parser.feed(piece, out);
    ++feeds;
  }
  EXPECT_FALSE(ok);
  EXPECT_EQ(feeds, 5);  // 80 bytes > 64
  EXPECT_TRUE(out.empty());
}

TEST(SseParser, EventsBeforeOversizeOneInSameFeedAreDelivered) {
  SseParser parser(8);
  std::vector<SseEvent> out;
  EXPECT_FALSE(parser.feed("data: ok\n\ndata: far too long\n\n", out));
  EXPECT_EQ(datas(out), Strings{"ok"});
}

TEST(SseParser, LimitIsPerEvent) {
  SseParser parser(8);
  std::vector<SseEvent> out;
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(parser.feed("data: 12345678\n\n", out));
  EXPECT_EQ(out.size(), 100u);
}

TEST(SseParser, FinishDispatchesPendingEventWithData) {
  // Missing final blank line.
  EXPECT_EQ(datas(parse("data: a\n\ndata: b\n")), (Strings{"a", "b"}));
  // Missing final newline too.
  EXPECT_EQ(datas(parse("data: a\n\ndata: [DONE]")), (Strings{"a", "[DONE]"}));
  // Not dispatched without finish().
  EXPECT_EQ(datas(parse("data: a\n\ndata: [DONE]", 0, false)), Strings{"a"});
}

TEST(SseParser, FinishDropsPendingEventWithoutData) {
  EXPECT_TRUE(parse("event: ping\nid: 3\n").empty());
  EXPECT_TRUE(parse(": trailing comment").empty());
  EXPECT_TRUE(parse("").empty());
}

TEST(SseParser, FinishResetsForANewStream) {
  SseParser parser(8);
  std::vector<SseEvent> out;
  EXPECT_FALSE(parser.feed("data: far too long\n\n", out));
  parser.finish(out);
  EXPECT_TRUE(out.empty());
  ASSERT_TRUE(parser.feed("\xEF\xBB\xBF" "id: 1\ndata: x\n\n", out));
  parser.finish(out);
  ASSERT_TRUE(parser.feed("data: y\n\n", out));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].id, "1");
  EXPECT_EQ(out[1].id, "");  // last event ID does not carry into a new stream
}

}  // namespace
}  // namespace tollgate
