#pragma once
// Conversions between store value types and the text both SQL dialects use.
// Times: "YYYY-MM-DD HH:MM:SS.ffffff" UTC (microsecond precision; PostgreSQL
// appends "+00"). Money: exact int64 units of 1e-10 USD in memory.

#include <cstdint>
#include <string>

#include "tollgate/store.h"

namespace tollgate::storage {

std::string format_time(TimePoint t);           // "2024-05-01 13:04:05.000123"
TimePoint parse_time(const std::string& text);  // accepts a trailing "+00"/"Z"; throws StoreError(internal)
std::string format_day(TimePoint t);            // "2024-05-01" (UTC)

// Exact decimal USD text ("1.25", "-0.0000000001", "3") to 1e-10 USD units.
// More than 10 decimals round half away from zero. Throws StoreError(invalid).
int64_t parse_money(const std::string& decimal);
// Units back to decimal text with 10 places ("0.0000000003").
std::string format_money(int64_t units);
int64_t money_from_double(double usd);
double money_to_double(int64_t units);

}  // namespace tollgate::storage
