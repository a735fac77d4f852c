#include "storage/sql_values.h"

#include <cmath>
#include <cstdio>

namespace tollgate::storage {
namespace {
constexpr int64_t kUnitsPerUsd = 10'000'000'000;

// Writes v as exactly `width` digits (v >= 0, fits).
char* put_digits(char* p, int64_t v, int width) {
  for (int i = width - 1; i >= 0; --i, v /= 10) p[i] = static_cast<char>('0' + v % 10);
  return p + width;
}
}  // namespace

std::size_t format_time(TimePoint t, char* out) {
  using namespace std::chrono;
  auto us = floor<microseconds>(t.time_since_epoch()).count();
  auto days = floor<std::chrono::days>(microseconds(us));
  year_month_day ymd{sys_days{days}};
  int64_t rest = us - duration_cast<microseconds>(days).count();
  int64_t secs = rest / 1'000'000;
  const int year = static_cast<int>(ymd.year());
  if (year < 0 || year > 9999) {  // not for system_clock's range; kept exact all the same
    int n = std::snprintf(out, kTimeTextMax, "%04d-%02u-%02u %02lld:%02lld:%02lld.%06lld", year,
                          static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                          static_cast<long long>(secs / 3600), static_cast<long long>(secs / 60 % 60),
                          static_cast<long long>(secs % 60), static_cast<long long>(rest % 1'000'000));
    return static_cast<std::size_t>(n);
  }
  char* p = put_digits(out, year, 4);
  *p++ = '-';
  p = put_digits(p, static_cast<unsigned>(ymd.month()), 2);
  *p++ = '-';
  p = put_digits(p, static_cast<unsigned>(ymd.day()), 2);
  *p++ = ' ';
  p = put_digits(p, secs / 3600, 2);
  *p++ = ':';
  p = put_digits(p, secs / 60 % 60, 2);
  *p++ = ':';
  p = put_digits(p, secs % 60, 2);
  *p++ = '.';
  p = put_digits(p, rest % 1'000'000, 6);
  return static_cast<std::size_t>(p - out);
}

std::string format_time(TimePoint t) {
  char buf[kTimeTextMax];
  return std::string(buf, format_time(t, buf));
}

std::string format_day(TimePoint t) { return format_time(t).substr(0, 10); }

TimePoint parse_time(const std::string& text) {
  using namespace std::chrono;
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0, n = 0;
  if (std::sscanf(text.c_str(), "%d-%d-%d%*[ T]%d:%d:%d%n", &y, &mo, &d, &h, &mi, &s, &n) < 6) {
    throw StoreError(StoreError::Kind::internal, "unreadable timestamp in database: " + text);
  }
  int64_t micros = 0;
  std::size_t i = static_cast<std::size_t>(n);
  if (i < text.size() && text[i] == '.') {
    int digits = 0;
    for (++i; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
      if (digits < 6) micros = micros * 10 + (text[i] - '0'), ++digits;
    }
    for (; digits < 6; ++digits) micros *= 10;
  }
  sys_days day = year_month_day{year{y}, month{static_cast<unsigned>(mo)}, std::chrono::day{static_cast<unsigned>(d)}};
  return TimePoint(duration_cast<SystemClock::duration>(day.time_since_epoch() + hours(h) + minutes(mi) + seconds(s) +
                                                        microseconds(micros)));
}

int64_t parse_money(std::string_view decimal) {
  auto bad = [&] {
    return StoreError(StoreError::Kind::invalid, "not a decimal amount: \"" + std::string(decimal.substr(0, 64)) + "\"");
  };
  std::size_t i = 0;
  bool negative = false;
  if (i < decimal.size() && (decimal[i] == '-' || decimal[i] == '+')) negative = decimal[i++] == '-';
  __int128 whole = 0;
  int64_t frac = 0;
  int frac_digits = 0;
  bool any = false, round_up = false;
  for (; i < decimal.size() && decimal[i] >= '0' && decimal[i] <= '9'; ++i, any = true) {
    whole = whole * 10 + (decimal[i] - '0');
    if (whole > static_cast<__int128>(INT64_MAX / kUnitsPerUsd)) throw bad();
  }
  if (i < decimal.size() && decimal[i] == '.') {
    for (++i; i < decimal.size() && decimal[i] >= '0' && decimal[i] <= '9'; ++i, any = true) {
      if (frac_digits < 10) {
        frac = frac * 10 + (decimal[i] - '0');
        ++frac_digits;
      } else if (frac_digits == 10) {
        round_up = decimal[i] >= '5';
        ++frac_digits;
      }
    }
  }
  if (!any || i != decimal.size()) throw bad();
  for (int k = std::min(frac_digits, 10); k < 10; ++k) frac *= 10;
  // Whole USD fit (checked above), but with the fraction and the rounding
  // the sum can pass INT64_MAX ("922337203.9"): refuse it, never wrap.
  const __int128 units = whole * kUnitsPerUsd + frac + (round_up ? 1 : 0);
  if (units > INT64_MAX) throw bad();
  return negative ? -static_cast<int64_t>(units) : static_cast<int64_t>(units);
}

std::size_t format_money(int64_t units, char* out) {
  bool negative = units < 0;
  uint64_t u = negative ? 0 - static_cast<uint64_t>(units) : static_cast<uint64_t>(units);
  char* p = out;
  if (negative) *p++ = '-';
  uint64_t whole = u / kUnitsPerUsd;
  char digits[24];
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + whole % 10);
    whole /= 10;
  } while (whole > 0);
  while (n > 0) *p++ = digits[--n];
  *p++ = '.';
  p = put_digits(p, static_cast<int64_t>(u % kUnitsPerUsd), 10);
  return static_cast<std::size_t>(p - out);
}

std::string format_money(int64_t units) {
  char buf[kMoneyTextMax];
  return std::string(buf, format_money(units, buf));
}

int64_t money_from_double(double usd) {
  if (!std::isfinite(usd)) return 0;
  if (std::fabs(usd) > 9.0e8) usd = usd < 0 ? -9.0e8 : 9.0e8;  // int64 units hold about 9.2e8 USD
  return static_cast<int64_t>(std::llround(usd * static_cast<double>(kUnitsPerUsd)));
}

double money_to_double(int64_t units) {
  return static_cast<double>(units / kUnitsPerUsd) +
         static_cast<double>(units % kUnitsPerUsd) / static_cast<double>(kUnitsPerUsd);
}

}  // namespace tollgate::storage
