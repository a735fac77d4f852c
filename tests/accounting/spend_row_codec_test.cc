#include "accounting/spend_row_codec.h"

#include <gtest/gtest.h>

#include "accounting/spend_row_testing.h"

namespace tollgate {
namespace {

using testing::expect_same_row;
using testing::full_row;

TEST(SpoolRowCodec, SpendRowRoundTripsEveryField) {
  for (int i : {1, 2, 3}) {
    SpendRow row = full_row(i);
    expect_same_row(decode_spend_row(encode_spend_row(row)), row);
  }
}

TEST(SpoolRowCodec, RejectionRowRoundTrips) {
  SpendRow row = full_row(4, RowKind::rejection);
  SpendRow back = decode_spend_row(encode_spend_row(row));
  EXPECT_EQ(back.kind, RowKind::rejection);
  EXPECT_EQ(back.reason, "rpm limit 10 reached 🚦");
  expect_same_row(back, row);
}

TEST(SpoolRowCodec, DefaultRowRoundTrips) {
  SpendRow row;
  SpendRow back = decode_spend_row(encode_spend_row(row));
  expect_same_row(back, row);
  EXPECT_FALSE(back.ttft_ms.has_value());
  EXPECT_TRUE(back.metadata.is_object());
}

TEST(SpoolRowCodec, KeepsBytesThatAreNotUtf8AndEmbeddedNuls) {
  SpendRow row = full_row(5);
  row.end_user = std::string("bad \xff\xfe utf8 and a \0 nul", 24);
  row.tags.push_back(std::string("\xc3", 1));
  row.metadata = nlohmann::json::array({"x", 1.5e-300, -0.0});
  expect_same_row(decode_spend_row(encode_spend_row(row)), row);
}

TEST(SpoolRowCodec, EveryLengthAndIntegerWidthRoundTrips) {
  for (size_t len : {0u, 31u, 32u, 255u, 256u, 65535u, 65536u, 70000u}) {
    SpendRow row = full_row(6);
    row.api_base = std::string(len, 'a');
    row.tags.assign(len % 20, std::string(len / 7, 't'));
    row.metadata = {{"blob", std::string(len, 'm')}};
    expect_same_row(decode_spend_row(encode_spend_row(row)), row);
  }
  for (int64_t v : {int64_t{0}, int64_t{127}, int64_t{128}, int64_t{-1}, int64_t{-32}, int64_t{-33},
                    int64_t{INT32_MAX}, int64_t{INT32_MAX} + 1, int64_t{INT32_MIN}, int64_t{INT32_MIN} - 1,
                    INT64_MAX, INT64_MIN}) {
    SpendRow row = full_row(7);
    row.prompt_tokens = v;
    row.ttft_ms = v;
    row.status = static_cast<int>(v);
    row.start_time = TimePoint(SystemClock::duration(v));
    SpendRow back = decode_spend_row(encode_spend_row(row));
    EXPECT_EQ(back.prompt_tokens, v);
    EXPECT_EQ(back.ttft_ms, v);
    EXPECT_EQ(back.status, static_cast<int>(v));
    EXPECT_EQ(back.start_time, row.start_time);
  }
}

TEST(SpoolRowCodec, RejectsGarbage) {
  EXPECT_THROW(decode_spend_row("not msgpack at all"), std::runtime_error);
  EXPECT_THROW(decode_spend_row(""), std::runtime_error);
  std::string enc = encode_spend_row(full_row(1));
  EXPECT_THROW(decode_spend_row(std::string_view(enc).substr(0, enc.size() / 2)), std::runtime_error);
}

}  // namespace
}  // namespace tollgate
