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

TEST(SpoolRowCodec, RejectsGarbage) {
  EXPECT_THROW(decode_spend_row("not msgpack at all"), std::runtime_error);
  EXPECT_THROW(decode_spend_row(""), std::runtime_error);
  std::string enc = encode_spend_row(full_row(1));
  EXPECT_THROW(decode_spend_row(std::string_view(enc).substr(0, enc.size() / 2)), std::runtime_error);
}

}  // namespace
}  // namespace tollgate
