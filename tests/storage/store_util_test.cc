#include <gtest/gtest.h>

#include "storage/sql_values.h"
#include "storage/store_fixture.h"
#include "tollgate/store.h"

namespace tollgate {
namespace {

using testing::utc;

TEST(StoreUtilTest, FormatUsd) {
  EXPECT_EQ(format_usd(0.00001234), "0.0000123400");
  EXPECT_EQ(format_usd(1.5), "1.5000000000");
  EXPECT_EQ(format_usd(-3), "0.0000000000");
  EXPECT_EQ(format_usd(0), "0.0000000000");
}

TEST(StoreUtilTest, BudgetDurations) {
  for (const char* ok : {"30s", "10m", "1h", "1d", "7d", "2w", "1mo", "12mo"}) EXPECT_TRUE(valid_budget_duration(ok)) << ok;
  for (const char* bad : {"", "0d", "d", "1y", "-1d", "1 d", "1.5h", "1mon"}) EXPECT_FALSE(valid_budget_duration(bad)) << bad;
  EXPECT_EQ(next_budget_reset("30s", utc(2024, 1, 1)), utc(2024, 1, 1, 0, 0, 30));
  EXPECT_EQ(next_budget_reset("2w", utc(2024, 1, 1)), utc(2024, 1, 15));
  EXPECT_EQ(next_budget_reset("1mo", utc(2024, 1, 31, 5)), utc(2024, 2, 29, 5));  // clamped, leap year
  EXPECT_EQ(next_budget_reset("1mo", utc(2024, 12, 15)), utc(2025, 1, 15));
  EXPECT_FALSE(next_budget_reset("soon", utc(2024, 1, 1)));
}

TEST(StoreUtilTest, MoneyIsExact) {
  using storage::format_money;
  using storage::parse_money;
  EXPECT_EQ(parse_money("0.0000000001"), 1);
  EXPECT_EQ(parse_money("1"), 10'000'000'000);
  EXPECT_EQ(parse_money("-2.5"), -25'000'000'000);
  EXPECT_EQ(parse_money(".5"), 5'000'000'000);
  EXPECT_EQ(parse_money("0.00000000005"), 1);  // rounds half up at the 11th place
  EXPECT_EQ(format_money(3), "0.0000000003");
  EXPECT_EQ(format_money(-10'000'000'001), "-1.0000000001");
  EXPECT_THROW(parse_money("abc"), StoreError);
  EXPECT_THROW(parse_money("1e5"), StoreError);
  EXPECT_THROW(parse_money(""), StoreError);
  // The edges of int64 units: the largest amount is exact, anything past it
  // (also through the fraction or its rounding) is refused, never wrapped.
  EXPECT_EQ(parse_money("922337203.6854775807"), INT64_MAX);
  EXPECT_EQ(parse_money("-922337203.6854775807"), -INT64_MAX);
  EXPECT_EQ(format_money(INT64_MAX), "922337203.6854775807");
  EXPECT_THROW(parse_money("922337203.6854775808"), StoreError);
  EXPECT_THROW(parse_money("922337203.68547758075"), StoreError);
  EXPECT_THROW(parse_money("922337203.9999999999"), StoreError);
  EXPECT_THROW(parse_money("922337204"), StoreError);
}

TEST(StoreUtilTest, TimesRoundTripWithMicroseconds) {
  TimePoint t = utc(2024, 2, 29, 23, 59, 59, 123456);
  EXPECT_EQ(storage::format_time(t), "2024-02-29 23:59:59.123456");
  EXPECT_EQ(storage::parse_time("2024-02-29 23:59:59.123456+00"), t);
  EXPECT_EQ(storage::parse_time("2024-02-29 23:59:59.123456"), t);
  EXPECT_EQ(storage::parse_time("2024-02-29 23:59:59.1234+00"), utc(2024, 2, 29, 23, 59, 59, 123400));
  EXPECT_EQ(storage::parse_time("2024-02-29 23:59:59+00"), utc(2024, 2, 29, 23, 59, 59));
}

TEST(StoreUtilTest, StoreFactoryUrls) {
  EXPECT_THROW(store_factory("mysql://x"), StoreError);
  EXPECT_THROW(store_factory("sqlite://"), StoreError);
  auto mem = store_factory("sqlite::memory:");
  auto s = mem();
  EXPECT_EQ(s->migrate(), (std::vector<std::string>{"0001_init.sql", "0002_stored_responses.sql"}));
  // Connection failures surface as "unavailable".
  auto unreachable = store_factory("postgresql://nobody:x@127.0.0.1:1/none?connect_timeout=2");
  try {
    unreachable();
    ADD_FAILURE() << "expected StoreError";
  } catch (const StoreError& e) {
    EXPECT_EQ(e.kind(), StoreError::Kind::unavailable);
  }
  try {
    store_factory("sqlite:///nonexistent-dir-tollgate/x.db")();
    ADD_FAILURE() << "expected StoreError";
  } catch (const StoreError& e) {
    EXPECT_EQ(e.kind(), StoreError::Kind::unavailable);
  }
}

}  // namespace
}  // namespace tollgate
