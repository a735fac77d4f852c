#include "accounting/budget_book.h"

#include <algorithm>
#include <cmath>
#include <unordered_set>

namespace tollgate {
namespace {

using std::chrono::duration_cast;
using std::chrono::seconds;

struct Period {
  int64_t count = 0;
  bool months = false;
  seconds unit{0};  // fixed-length units only
};

// The one parser of budget durations (store.h's next_budget_reset uses it).
std::optional<Period> parse_period(const std::string& d) {
  size_t i = 0;
  int64_t n = 0;
  while (i < d.size() && d[i] >= '0' && d[i] <= '9') {
    n = n * 10 + (d[i] - '0');
    if (n > 100'000'000) return std::nullopt;
    ++i;
  }
  if (i == 0 || n <= 0) return std::nullopt;
  const std::string unit = d.substr(i);
  Period p;
  p.count = n;
  if (unit == "mo") {
    p.months = true;
    if (n > 1200) return std::nullopt;
    return p;
  }
  int64_t secs = 0;
  if (unit == "s") secs = 1;
  else if (unit == "m") secs = 60;
  else if (unit == "h") secs = 3600;
  else if (unit == "d") secs = 86400;
  else if (unit == "w") secs = 7 * 86400;
  else return std::nullopt;
  if (n * secs > int64_t{100} * 366 * 86400) return std::nullopt;
  p.unit = seconds(n * secs);
  return p;
}

TimePoint add_months(TimePoint tp, int64_t months) {
  using namespace std::chrono;
  const auto day = floor<days>(tp);
  const auto time_of_day = tp - day;
  const year_month_day ymd{day};
  const auto target_ym = year_month{ymd.year(), ymd.month()} + std::chrono::months{months};
  year_month_day target{target_ym.year(), target_ym.month(), ymd.day()};
  if (!target.ok()) target = year_month_day_last{target_ym.year(), month_day_last{target_ym.month()}};
  return time_point_cast<TimePoint::duration>(sys_days{target} + time_of_day);
}

TimePoint add_periods(const Period& p, TimePoint anchor, int64_t k) {
  if (p.months) return add_months(anchor, p.count * k);
  return anchor + p.unit * k;
}

// Smallest k >= 1 with anchor + k*period > now, computed rather than stepped so
// a long idle gap on a "1s" budget costs nothing.
int64_t first_period_after(const Period& p, TimePoint anchor, TimePoint now) {
  if (now < anchor) return 1;
  int64_t k;
  if (p.months) {
    using namespace std::chrono;
    const year_month_day a{floor<days>(anchor)}, b{floor<days>(now)};
    const int64_t month_gap = (int(b.year()) - int(a.year())) * 12 +
                              (int64_t(unsigned(b.month())) - int64_t(unsigned(a.month())));
    k = std::max<int64_t>(1, month_gap / p.count);
  } else {
    k = std::max<int64_t>(1, (now - anchor) / p.unit + 1);
  }
  while (k > 1 && add_periods(p, anchor, k - 1) > now) --k;
  while (add_periods(p, anchor, k) <= now) ++k;
  return k;
}

double non_negative(double v) { return std::isnan(v) || v < 0 ? 0.0 : v; }

}  // namespace

std::optional<TimePoint> budget_period_add(const std::string& duration, TimePoint anchor,
                                           int64_t periods) {
  const auto p = parse_period(duration);
  if (!p || periods < 0) return std::nullopt;
  return add_periods(*p, anchor, periods);
}

BudgetBook::BudgetBook(Now now, std::chrono::milliseconds expired_retention, std::size_t max_evictable_scopes)
    : now_(std::move(now)), expired_retention_(expired_retention),
      max_evictable_(std::max<std::size_t>(max_evictable_scopes, 16)) {}

void BudgetBook::roll(ScopeState& st, TimePoint now) const {
  if (!st.reset_at || now < *st.reset_at) return;
  const auto p = parse_period(st.duration);
  if (!p || !st.anchor) return;
  st.periods = first_period_after(*p, *st.anchor, now);
  st.reset_at = add_periods(*p, *st.anchor, st.periods);
  st.spent = 0;
  st.soft_reported = false;
}

BudgetBook::ScopeState& BudgetBook::touch(const BudgetScope& s, TimePoint now) {
  auto [it, inserted] = scopes_.try_emplace(s.id);
  ScopeState& st = it->second;
  if (inserted && s.evictable) {
    st.evictable = true;
    lru_.push_front(s.id);
    st.lru = lru_.begin();
    evict_locked();
  } else if (st.evictable && st.lru != lru_.begin()) {
    lru_.splice(lru_.begin(), lru_, st.lru);
  }
  st.max_budget = s.max_budget;
  st.soft_budget = s.soft_budget;
  if (inserted || st.duration != s.duration) {
    st.duration = s.duration;
    st.anchor.reset();
    st.reset_at.reset();
    st.periods = 0;
    if (const auto p = parse_period(s.duration)) {
      // On a duration change a stored reset time in the past belongs to the old
      // schedule; start the new one now rather than resetting spend at once.
      const bool use_stored = s.reset_at && (inserted || *s.reset_at > now);
      st.anchor = use_stored ? *s.reset_at : now;
      st.reset_at = use_stored ? *s.reset_at : add_periods(*p, now, 1);
    }
    if (inserted) {
      st.spent = non_negative(s.stored_spend);
      // Already over the soft budget before this process: it was reported then.
      st.soft_reported = st.soft_budget && st.spent >= *st.soft_budget - kBudgetEpsilon;
    }
  }
  roll(st, now);
  return st;
}

std::variant<BudgetBook::Reservation, BudgetBook::Denial> BudgetBook::reserve(
    const std::vector<BudgetScope>& scopes, double amount, std::chrono::milliseconds ttl) {
  const TimePoint now = now_();
  amount = non_negative(amount);
  std::lock_guard lock(mu_);
  expire_locked(now);

  std::unordered_set<std::string> seen;
  std::vector<std::string> ids;
  std::vector<ScopeState*> states;
  for (const auto& s : scopes) {
    if (!seen.insert(s.id).second) continue;
    ScopeState& st = touch(s, now);
    if (st.max_budget && st.spent + st.reserved + amount > *st.max_budget + kBudgetEpsilon)
      return Denial{s.id, *st.max_budget, st.spent, st.reserved, amount};
    ids.push_back(s.id);
    states.push_back(&st);
  }
  // Nothing was reserved above, so a denial there left no trace but the
  // seeding and config updates, which are wanted anyway.
  for (ScopeState* st : states) {
    st->reserved += amount;
    ++st->live;
  }
  const uint64_t id = next_id_++;
  live_.emplace(id, Live{std::move(ids), amount, now + ttl});
  live_by_deadline_.emplace(now + ttl, id);
  return Reservation{id};
}

void BudgetBook::charge_locked(const std::vector<std::string>& scopes, double amount, TimePoint now,
                               std::vector<std::string>& crossed) {
  for (const auto& id : scopes) {
    auto it = scopes_.find(id);
    if (it == scopes_.end()) continue;
    ScopeState& st = it->second;
    roll(st, now);
    st.spent += amount;
    if (!st.soft_reported && st.soft_budget && st.spent >= *st.soft_budget - kBudgetEpsilon) {
      st.soft_reported = true;
      crossed.push_back(id);
    }
  }
}

BudgetBook::Settlement BudgetBook::settle(Reservation r, double actual) {
  const TimePoint now = now_();
  actual = non_negative(actual);
  Settlement out;
  std::lock_guard lock(mu_);
  if (auto it = live_.find(r.id); it != live_.end()) {
    release_locked(it->second);
    charge_locked(it->second.scopes, actual, now, out.soft_budget_crossed);
    live_by_deadline_.erase({it->second.deadline, it->first});
    live_.erase(it);
    out.charged = true;
  } else if (auto ex = expired_.find(r.id); ex != expired_.end()) {
    charge_locked(ex->second.scopes, actual, now, out.soft_budget_crossed);
    expired_by_forget_.erase({ex->second.forget_at, ex->first});
    expired_.erase(ex);
    out.charged = true;
  }
  return out;
}

std::vector<std::string> BudgetBook::charge(const std::vector<BudgetScope>& scopes, double amount) {
  const TimePoint now = now_();
  amount = non_negative(amount);
  std::vector<std::string> crossed;
  std::lock_guard lock(mu_);
  std::unordered_set<std::string> seen;
  std::vector<std::string> ids;
  for (const auto& s : scopes) {
    if (!seen.insert(s.id).second) continue;
    touch(s, now);
    ids.push_back(s.id);
  }
  charge_locked(ids, amount, now, crossed);
  return crossed;
}

double BudgetBook::spent(const std::string& scope) const {
  const TimePoint now = now_();
  std::lock_guard lock(mu_);
  auto it = scopes_.find(scope);
  if (it == scopes_.end()) return 0;
  roll(it->second, now);
  return it->second.spent;
}

double BudgetBook::reserved(const std::string& scope) const {
  std::lock_guard lock(mu_);
  auto it = scopes_.find(scope);
  return it == scopes_.end() ? 0 : it->second.reserved;
}

void BudgetBook::release_locked(const Live& r) {
  for (const auto& id : r.scopes) {
    auto it = scopes_.find(id);
    if (it == scopes_.end()) continue;
    ScopeState& st = it->second;
    // Adding and removing the same doubles leaves residue; with no live
    // reservation left the exact value is known.
    st.reserved = --st.live <= 0 ? 0.0 : std::max(0.0, st.reserved - r.amount);
    st.live = std::max<int64_t>(st.live, 0);
  }
}

int BudgetBook::expire_locked(TimePoint now) {
  while (!expired_by_forget_.empty() && expired_by_forget_.begin()->first <= now) {
    expired_.erase(expired_by_forget_.begin()->second);
    expired_by_forget_.erase(expired_by_forget_.begin());
  }
  int released = 0;
  while (!live_by_deadline_.empty() && live_by_deadline_.begin()->first <= now) {
    const uint64_t id = live_by_deadline_.begin()->second;
    live_by_deadline_.erase(live_by_deadline_.begin());
    auto it = live_.find(id);
    if (it == live_.end()) continue;
    release_locked(it->second);
    const TimePoint forget_at = now + expired_retention_;
    expired_.emplace(id, Expired{std::move(it->second.scopes), forget_at});
    expired_by_forget_.emplace(forget_at, id);
    live_.erase(it);
    ++released;
  }
  return released;
}

int BudgetBook::expire() {
  const TimePoint now = now_();
  std::lock_guard lock(mu_);
  return expire_locked(now);
}

void BudgetBook::evict_locked() {
  // From the least recently used end; a scope with a live reservation stays
  // (its release needs it). The newest scope is at the front, never reached
  // while the list is over the limit by one.
  auto it = lru_.end();
  while (lru_.size() > max_evictable_ && it != lru_.begin()) {
    --it;
    auto sc = scopes_.find(*it);
    if (sc != scopes_.end() && sc->second.live > 0) continue;
    if (sc != scopes_.end()) scopes_.erase(sc);
    it = lru_.erase(it);
  }
}

size_t BudgetBook::scope_count() const {
  std::lock_guard lock(mu_);
  return scopes_.size();
}

size_t BudgetBook::evictable_scope_count() const {
  std::lock_guard lock(mu_);
  return lru_.size();
}

size_t BudgetBook::live_reservations() const {
  std::lock_guard lock(mu_);
  return live_.size();
}

}  // namespace tollgate
