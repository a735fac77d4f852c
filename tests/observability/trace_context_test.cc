#include "observability/trace_context.h"

#include <gtest/gtest.h>

#include <set>
#include <thread>

namespace tollgate {
namespace {

constexpr const char* kTrace = "4bf92f3577b34da6a3ce929d0e0e4736";
constexpr const char* kSpan = "00f067aa0ba902b7";

std::string tp(std::string version, std::string trace, std::string span, std::string flags) {
  return version + "-" + trace + "-" + span + "-" + flags;
}

TEST(TraceContext, ParsesTheSpecExample) {
  auto ctx = parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  ASSERT_TRUE(ctx);
  EXPECT_EQ(ctx->trace_id, kTrace);
  EXPECT_EQ(ctx->span_id, kSpan);
  EXPECT_TRUE(ctx->sampled);

  auto unsampled = parse_traceparent(tp("00", kTrace, kSpan, "00"));
  ASSERT_TRUE(unsampled);
  EXPECT_FALSE(unsampled->sampled);
}

TEST(TraceContext, SampledIsBitZeroAndOtherFlagBitsAreIgnored) {
  EXPECT_TRUE(parse_traceparent(tp("00", kTrace, kSpan, "09"))->sampled);
  EXPECT_TRUE(parse_traceparent(tp("00", kTrace, kSpan, "ff"))->sampled);
  EXPECT_FALSE(parse_traceparent(tp("00", kTrace, kSpan, "02"))->sampled);
  EXPECT_FALSE(parse_traceparent(tp("00", kTrace, kSpan, "fe"))->sampled);
}

TEST(TraceContext, FutureVersionsMayAppendDataAfterADash) {
  auto ctx = parse_traceparent(tp("cc", kTrace, kSpan, "01") + "-what-the-future-will-be-like");
  ASSERT_TRUE(ctx);
  EXPECT_EQ(ctx->trace_id, kTrace);
  EXPECT_TRUE(ctx->sampled);
  EXPECT_TRUE(parse_traceparent(tp("01", kTrace, kSpan, "00")));
  EXPECT_FALSE(parse_traceparent(tp("01", kTrace, kSpan, "00") + "x"));   // data must follow a dash
  EXPECT_FALSE(parse_traceparent(tp("01", kTrace, kSpan, "001")));
}

TEST(TraceContext, RejectsInvalidHeaders) {
  const std::string zeros32(32, '0');
  const std::string zeros16(16, '0');
  const std::vector<std::string> invalid = {
      "",
      "00",
      tp("ff", kTrace, kSpan, "01"),                       // forbidden version
      tp("00", kTrace, kSpan, "01") + "-extra",            // version 00 is exactly 55 characters
      tp("00", kTrace, kSpan, "01") + " ",
      " " + tp("00", kTrace, kSpan, "01"),
      tp("0A", kTrace, kSpan, "01"),                       // uppercase version
      tp("0g", kTrace, kSpan, "01"),
      tp("00", "4BF92F3577B34DA6A3CE929D0E0E4736", kSpan, "01"),  // uppercase trace id
      tp("00", kTrace, "00F067AA0BA902B7", "01"),          // uppercase parent id
      tp("00", kTrace, kSpan, "0A"),                       // uppercase flags
      tp("00", zeros32, kSpan, "01"),                      // all-zero trace id
      tp("00", kTrace, zeros16, "01"),                     // all-zero parent id
      tp("00", std::string(kTrace).substr(1), kSpan, "01") + "0",  // lengths shifted: separators misplaced
      tp("00", std::string(kTrace) + "a", std::string(kSpan).substr(1), "01"),
      tp("00", kTrace, kSpan, "1"),
      tp("0", kTrace, kSpan, "01") + "0",
      tp("00", "4bf92f3577b34da6a3ce929d0e0e473g", kSpan, "01"),  // non-hex
      tp("00", kTrace, "00f067aa0ba902bz", "01"),
      tp("00", kTrace, kSpan, "0x"),
      std::string("00_") + kTrace + "-" + kSpan + "-01",    // bad separators
      std::string("00-") + kTrace + "_" + kSpan + "-01",
      std::string("00-") + kTrace + "-" + kSpan + "_01",
      std::string("00-") + kTrace + "-" + kSpan + "-0-",
      tp("cc", kTrace, kSpan, "01") + ".future",
  };
  for (const auto& h : invalid) EXPECT_FALSE(parse_traceparent(h)) << '"' << h << '"';
}

TEST(TraceContext, FormatsVersion00AndRoundTrips) {
  TraceContext ctx{kTrace, kSpan, true};
  EXPECT_EQ(format_traceparent(ctx), "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  ctx.sampled = false;
  EXPECT_EQ(format_traceparent(ctx), "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00");
  auto back = parse_traceparent(format_traceparent(ctx));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->trace_id, ctx.trace_id);
  EXPECT_EQ(back->span_id, ctx.span_id);
  EXPECT_EQ(back->sampled, ctx.sampled);
}

TEST(TraceContext, NewIdsAreLowercaseHexOfTheRightLengthAndDistinct) {
  std::set<std::string> traces, spans;
  for (int i = 0; i < 1000; ++i) {
    auto t = new_trace_id();
    auto s = new_span_id();
    ASSERT_EQ(t.size(), 32u);
    ASSERT_EQ(s.size(), 16u);
    ASSERT_EQ(t.find_first_not_of("0123456789abcdef"), std::string::npos) << t;
    ASSERT_EQ(s.find_first_not_of("0123456789abcdef"), std::string::npos) << s;
    // A generated pair always makes a valid traceparent (so never all zero).
    ASSERT_TRUE(parse_traceparent(format_traceparent({t, s, true})));
    traces.insert(t);
    spans.insert(s);
  }
  EXPECT_EQ(traces.size(), 1000u);
  EXPECT_EQ(spans.size(), 1000u);
}

TEST(TraceContext, ThreadsDoNotShareAGeneratorSequence) {
  // Each thread seeds its own generator; two threads must not produce the
  // same ids (as they would if seeded identically).
  std::vector<std::string> a, b;
  std::thread ta([&] { for (int i = 0; i < 100; ++i) a.push_back(new_trace_id()); });
  std::thread tb([&] { for (int i = 0; i < 100; ++i) b.push_back(new_trace_id()); });
  ta.join();
  tb.join();
  std::set<std::string> all(a.begin(), a.end());
  all.insert(b.begin(), b.end());
  EXPECT_EQ(all.size(), 200u);
}

}  // namespace
}  // namespace tollgate
