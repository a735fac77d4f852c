// The free functions declared at the bottom of tollgate/store.h.

#include <cmath>
#include <cstdio>

#include "storage/pg_store.h"
#include "storage/sql_values.h"
#include "storage/sqlite_store.h"
#include "tollgate/store.h"

namespace tollgate {
namespace {

struct Duration {
  int64_t n = 0;
  std::string unit;  // s m h d w mo
};

std::optional<Duration> parse_duration(const std::string& s) {
  std::size_t i = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
  if (i == 0 || i > 9) return std::nullopt;
  Duration d{std::stoll(s.substr(0, i)), s.substr(i)};
  if (d.n <= 0) return std::nullopt;
  if (d.unit == "s" || d.unit == "m" || d.unit == "h" || d.unit == "d" || d.unit == "w" || d.unit == "mo") return d;
  return std::nullopt;
}

}  // namespace

std::function<std::unique_ptr<Store>()> store_factory(const std::string& url) {
  if (url.starts_with("postgresql://") || url.starts_with("postgres://")) {
    return [url] { return std::unique_ptr<Store>(std::make_unique<storage::PgStore>(url)); };
  }
  std::string path;
  if (url == "sqlite::memory:") {
    path = ":memory:";
  } else if (url.starts_with("sqlite://") && url.size() > 9) {
    path = url.substr(9);  // "sqlite:///abs" keeps its leading slash
  } else {
    throw StoreError(StoreError::Kind::invalid,
                     "database URL must start with postgresql://, postgres:// or sqlite:// (got \"" +
                         url.substr(0, url.find(':')) + ":...\")");
  }
  return [path] { return std::unique_ptr<Store>(std::make_unique<storage::SqliteStore>(path)); };
}

bool valid_budget_duration(const std::string& duration) { return parse_duration(duration).has_value(); }

std::optional<TimePoint> next_budget_reset(const std::string& duration, TimePoint from) {
  auto d = parse_duration(duration);
  if (!d) return std::nullopt;
  using namespace std::chrono;
  if (d->unit == "s") return from + seconds(d->n);
  if (d->unit == "m") return from + minutes(d->n);
  if (d->unit == "h") return from + hours(d->n);
  if (d->unit == "d") return from + days(d->n);
  if (d->unit == "w") return from + weeks(d->n);
  // Calendar months in UTC: same day and time of day, clamped to the month's last day.
  auto day_start = floor<days>(from);
  auto time_of_day = from - day_start;
  year_month_day ymd{day_start};
  year_month ym = year_month{ymd.year(), ymd.month()} + months(d->n);
  auto last = year_month_day_last{ym.year(), month_day_last{ym.month()}}.day();
  year_month_day target{ym.year(), ym.month(), std::min(ymd.day(), last)};
  return TimePoint(sys_days{target}) + time_of_day;
}

std::string format_usd(double usd) {
  if (!(usd > 0)) return "0.0000000000";
  return storage::format_money(storage::money_from_double(usd));
}

}  // namespace tollgate
