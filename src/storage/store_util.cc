// The free functions declared at the bottom of tollgate/store.h.

#include <cmath>
#include <cstdio>

#include "accounting/budget_book.h"
#include "storage/pg_store.h"
#include "storage/sql_values.h"
#include "storage/sqlite_store.h"
#include "tollgate/store.h"

namespace tollgate {

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

// One parser for budget durations: the budget book's, which the in-memory
// periods use too, so the stored reset times and the book agree.
bool valid_budget_duration(const std::string& duration) {
  return budget_period_add(duration, TimePoint{}).has_value();
}

std::optional<TimePoint> next_budget_reset(const std::string& duration, TimePoint from) {
  return budget_period_add(duration, from);
}

std::string format_usd(double usd) {
  if (!(usd > 0)) return "0.0000000000";
  return storage::format_money(storage::money_from_double(usd));
}

}  // namespace tollgate
