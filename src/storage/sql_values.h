#pragma once
// Conversions between store value types and the text both SQL dialects use.
// Times: "YYYY-MM-DD HH:MM:SS.ffffff" UTC (microsecond precision; PostgreSQL
// appends "+00"). Money: exact int64 units of 1e-10 USD in memory.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "tollgate/store.h"

namespace tollgate::storage {

std::string format_time(TimePoint t);           // "2024-05-01 13:04:05.000123"
// The same into out (at least kTimeTextMax bytes, not terminated); returns
// the length. No allocation: the ledger formats two per row.
constexpr std::size_t kTimeTextMax = 40;
std::size_t format_time(TimePoint t, char* out);
TimePoint parse_time(const std::string& text);  // accepts a trailing "+00"/"Z"; throws StoreError(internal)
std::string format_day(TimePoint t);            // "2024-05-01" (UTC)

// Exact decimal USD text ("1.25", "-0.0000000001", "3") to 1e-10 USD units.
// More than 10 decimals round half away from zero. Throws StoreError(invalid).
int64_t parse_money(std::string_view decimal);
// Units back to decimal text with 10 places ("0.0000000003").
std::string format_money(int64_t units);
// The same into out (at least kMoneyTextMax bytes, not terminated); returns the length.
constexpr std::size_t kMoneyTextMax = 32;
std::size_t format_money(int64_t units, char* out);
int64_t money_from_double(double usd);
double money_to_double(int64_t units);

}  // namespace tollgate::storage
