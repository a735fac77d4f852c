#include "accounting/spend_row_codec.h"

#include "accounting/json_text.h"

#include <gtest/gtest.h>

#include "accounting/spend_row_testing.h"
#include "accounting/spool_format1.h"

namespace tollgate {
namespace {

using testing::expect_same_row;
using testing::format1_rejection_record;
using testing::format1_spend_record;
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

TEST(SpoolRowCodec, TextFieldsKeepEmbeddedNulsAndBecomeUtf8) {
  SpendRow row = full_row(5);
  row.end_user = std::string("a \0 nul", 7);
  row.tags.push_back(std::string("nul \0 inside", 12));
  row.metadata = nlohmann::json::array({"x", 1.5e-300, -0.0});
  expect_same_row(decode_spend_row(encode_spend_row(row)), row);

  // A byte that starts no UTF-8 sequence (a request target may carry any
  // byte above 0x7f, and becomes the route) is written as U+FFFD, so that
  // PostgreSQL takes the row; valid UTF-8 stays as it was.
  row.route = "/v1/chat\xff\xfe/x";
  row.end_user = "caf\xc3\xa9 \xc3";
  row.requested_model = "\xed\xa0\x80";  // a surrogate, not UTF-8
  const SpendRow back = decode_spend_row(encode_spend_row(row));
  EXPECT_EQ(back.route, "/v1/chat\xef\xbf\xbd\xef\xbf\xbd/x");
  EXPECT_EQ(back.end_user, "caf\xc3\xa9 \xef\xbf\xbd");
  EXPECT_EQ(back.requested_model, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
  EXPECT_EQ(back.key_alias, row.key_alias);
}

TEST(JsonText, Utf8CheckFindsABadByteAtEveryOffset) {
  const std::string ascii(24, 'a');
  EXPECT_TRUE(is_utf8(ascii));
  EXPECT_TRUE(is_utf8(ascii + "\xc3\xa9 \xf0\x9f\x9a\x80"));
  for (std::size_t at = 0; at <= ascii.size(); ++at) {
    std::string s = ascii;
    s.insert(at, "\xff");
    EXPECT_FALSE(is_utf8(s)) << at;
    EXPECT_EQ(to_utf8(s), std::string(ascii).insert(at, "\xef\xbf\xbd")) << at;
    s = ascii;
    s.insert(at, "\xe2\x82");  // a sequence cut short
    EXPECT_FALSE(is_utf8(s)) << at;
  }
}

TEST(SpoolRowCodec, TagsAndMetadataAreStoredAsUtf8Json) {
  // They travel as the JSON text the stores keep, which must be UTF-8: a
  // byte that starts no UTF-8 sequence becomes U+FFFD instead of failing
  // its batch in the database forever.
  SpendRow row = full_row(5);
  row.tags = {std::string("a\xc3", 2), "ok \"q\" \\ \n"};
  row.metadata = {{"k", std::string("\xff")}};
  SpendRow back = decode_spend_row(encode_spend_row(row));
  EXPECT_EQ(back.tags, (std::vector<std::string>{"a\xef\xbf\xbd", "ok \"q\" \\ \n"}));
  EXPECT_EQ(back.metadata, (nlohmann::json{{"k", "\xef\xbf\xbd"}}));
  EXPECT_EQ(tags_json({"\x01", "é", "\xed\xa0\x80"}), "[\"\\u0001\",\"é\",\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"]");
}

TEST(SpoolRowCodec, ViewReadsTheRecordInPlace) {
  for (int i : {1, 2}) {
    SpendRow row = full_row(i);
    const std::string payload = encode_spend_row(row);
    ASSERT_TRUE(is_current_spend_row(payload));
    SpendRowView v = view_spend_row(payload);
    auto inside = [&](std::string_view s) {
      return s.data() >= payload.data() && s.data() + s.size() <= payload.data() + payload.size();
    };
    for (std::string_view s : {v.request_id, v.key_alias, v.end_user, v.api_base, v.cost_usd, v.tags_json,
                               v.metadata_json})
      EXPECT_TRUE(inside(s)) << s;
    EXPECT_EQ(v.request_id, row.request_id);
    EXPECT_EQ(v.end_user, row.end_user);
    EXPECT_EQ(v.start_time, row.start_time);
    EXPECT_EQ(v.ttft_ms, row.ttft_ms);
    EXPECT_EQ(v.tags_json, tags_json(row.tags));
    EXPECT_EQ(nlohmann::json::parse(v.metadata_json), row.metadata);
    expect_same_row(to_spend_row(v), row);
  }
}

TEST(SpoolRowCodec, ReadsFormat1RecordsWrittenBeforeTheUpgrade) {
  const std::string spend = format1_spend_record();
  const std::string rejection = format1_rejection_record();
  EXPECT_FALSE(is_current_spend_row(spend));
  EXPECT_THROW(view_spend_row(spend), std::runtime_error);
  expect_same_row(decode_spend_row(spend), full_row(1));
  expect_same_row(decode_spend_row(rejection), full_row(4, RowKind::rejection));
  // The shipper's upgrade in memory: format 1 -> row -> format 2 -> view.
  const std::string upgraded = encode_spend_row(decode_spend_row(spend));
  expect_same_row(to_spend_row(view_spend_row(upgraded)), full_row(1));
}

TEST(SpoolRowCodec, Format2IsSmallerThanFormat1) {
  EXPECT_LT(encode_spend_row(full_row(1)).size() * 3, format1_spend_record().size() * 2);
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
  EXPECT_THROW(view_spend_row(""), std::runtime_error);
  const std::string enc = encode_spend_row(full_row(1));
  for (std::size_t n = 0; n < enc.size(); ++n) {
    EXPECT_THROW(view_spend_row(std::string_view(enc).substr(0, n)), std::runtime_error) << n;
    EXPECT_THROW(decode_spend_row(std::string_view(enc).substr(0, n)), std::runtime_error) << n;
  }
  EXPECT_THROW(view_spend_row(enc + "x"), std::runtime_error);  // bytes after the last field
  std::string flags = enc;
  flags[1] = static_cast<char>(0x10);
  EXPECT_THROW(view_spend_row(flags), std::runtime_error);
}

TEST(SpoolRowCodec, RejectsTagsAndMetadataTheStoresCouldNotReadBack) {
  auto with = [](std::string_view tags, std::string_view metadata) {
    // Re-encode by hand: the encoder itself never writes these.
    std::string p = encode_spend_row(SpendRow{});
    p.resize(p.size() - 6);  // drop "[]" and "{}" with their lengths (1 byte each)
    for (std::string_view text : {tags, metadata}) {
      for (uint64_t n = text.size(); ; n >>= 7) {  // LEB128 length
        p.push_back(static_cast<char>(n < 0x80 ? n : (n & 0x7f) | 0x80));
        if (n < 0x80) break;
      }
      p.append(text);
    }
    return p;
  };
  EXPECT_NO_THROW(view_spend_row(with("[]", "{}")));
  EXPECT_NO_THROW(view_spend_row(with("[\"a\",\"b\"]", "[1,{\"x\":null}]")));
  EXPECT_THROW(view_spend_row(with("[1]", "{}")), std::runtime_error);
  EXPECT_THROW(view_spend_row(with("[[\"a\"]]", "{}")), std::runtime_error);
  EXPECT_THROW(view_spend_row(with("{}", "{}")), std::runtime_error);
  EXPECT_THROW(view_spend_row(with("[\"a\"", "{}")), std::runtime_error);
  EXPECT_THROW(view_spend_row(with("[]", "{")), std::runtime_error);
  EXPECT_THROW(view_spend_row(with("[]", "")), std::runtime_error);
  // What nlohmann::json (which reads them back) refuses: a number whose
  // double is infinite. One too small for a double reads as 0 and is fine.
  EXPECT_THROW(view_spend_row(with("[]", "1e400")), std::runtime_error);
  EXPECT_THROW(view_spend_row(with("[]", "{\"a\":[-1.5E+309]}")), std::runtime_error);
  EXPECT_THROW(view_spend_row(with("[]", std::string(310, '9'))), std::runtime_error);
  EXPECT_NO_THROW(view_spend_row(with("[]", std::string(300, '9'))));
  EXPECT_NO_THROW(view_spend_row(with("[]", "[1e-400,0.0000e99999,1.7976931348623157e308,18446744073709551616]")));
  // A byte order mark, which nlohmann skips and PostgreSQL refuses.
  EXPECT_THROW(view_spend_row(with("\xef\xbb\xbf[]", "{}")), std::runtime_error);
  EXPECT_THROW(view_spend_row(with("[]", "\xef\xbb\xbf{}")), std::runtime_error);
  // A NUL after the value, which nlohmann reads as the end of the text
  // (found by fuzz_spend_row_codec, corpus: crash-json-nul-ends-nlohmann).
  EXPECT_THROW(view_spend_row(with("[]", std::string_view("2\0x", 3))), std::runtime_error);
  EXPECT_THROW(view_spend_row(with(std::string_view("[]\0", 3), "{}")), std::runtime_error);
  EXPECT_THROW(view_spend_row(with("[]", std::string_view("{\"a\0\":1}", 8))), std::runtime_error);
}

TEST(SpoolRowCodec, RejectsACostTheStoresCannotHold) {
  // The shipper skips such a record instead of failing its batch forever.
  for (const char* cost : {"", "abc", "1e5", "0x10", "922337204", "922337203.9999999999"}) {
    SpendRow r = full_row(1);
    r.cost_usd = cost;
    const std::string p = encode_spend_row(r);
    EXPECT_THROW(view_spend_row(p), std::runtime_error) << cost;
    EXPECT_THROW(decode_spend_row(p), std::runtime_error) << cost;
  }
  SpendRow r = full_row(1);
  r.cost_usd = "-0.5";
  EXPECT_EQ(view_spend_row(encode_spend_row(r)).cost_usd, "-0.5");
}

TEST(SpoolRowCodec, MetadataKeysThatAreNotUtf8BecomeUFFFDAndTheLastOneWins) {
  // Only a format 1 record can hold such keys (found by fuzz_spend_row_codec,
  // corpus: crash-v1-metadata-keys-not-utf8). Upgraded, each becomes U+FFFD;
  // two that collide are one key, the last one winning as in PostgreSQL's
  // jsonb. The record still ships (before format 2 it failed its batch).
  SpendRow r = full_row(1);
  r.metadata = {{"\x91", 1}, {"\xcb", 2}, {"ok", 3}};
  const std::string p = encode_spend_row(r);
  const SpendRowView v = view_spend_row(p);
  EXPECT_EQ(nlohmann::json::parse(v.metadata_json), (nlohmann::json{{"\xef\xbf\xbd", 2}, {"ok", 3}}));
}

TEST(SpoolRowCodec, Format1RecordWithACostTheStoresCannotHoldIsUndecodable) {
  // Found by fuzz_spend_row_codec (corpus: crash-v1-cost-not-decimal): a
  // format 1 record decoded, then failed the shipper's upgrade to format 2.
  // Both formats now refuse it alike, so recovery and shipping agree.
  std::string record = format1_spend_record();
  const auto at = record.find("0.0000123400");
  ASSERT_NE(at, std::string::npos);
  record.replace(at, 12, "0.000012340'");
  EXPECT_THROW(decode_spend_row(record), std::runtime_error);
}

}  // namespace
}  // namespace tollgate
