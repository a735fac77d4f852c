#include "accounting/budget_book.h"

#include <algorithm>

namespace tollgate {

namespace {
constexpr double kEpsilon = 1e-12;
}

BudgetBook::BudgetBook(Now now) : now_(std::move(now)) {}

void BudgetBook::roll(Entry& e, TimePoint now) {
  if (e.duration.empty() || !e.reset_at || now < *e.reset_at) return;
  e.spent = 0;
  e.soft_reported = false;
  // Step past now; a gateway that was down for several periods skips them.
  auto next = *e.reset_at;
  for (int i = 0; i < 10000 && next <= now; ++i) {
    auto n = next_budget_reset(e.duration, next);
    if (!n || *n <= next) break;
    next = *n;
  }
  e.reset_at = next;
}

BudgetBook::Entry& BudgetBook::entry(const BudgetScope& s, TimePoint now) {
  auto [it, inserted] = entries_.try_emplace(s.id);
  Entry& e = it->second;
  if (inserted) {
    e.spent = std::max(0.0, s.stored_spend);
    e.reset_at = s.reset_at;
  }
  e.soft_budget = s.soft_budget;
  if (e.duration != s.duration) {
    // A new duration from the admin API starts from its stored reset time.
    e.duration = s.duration;
    e.reset_at = s.reset_at;
  } else if (s.reset_at && (!e.reset_at || *s.reset_at > *e.reset_at)) {
    e.reset_at = s.reset_at;
  }
  roll(e, now);
  return e;
}

std::variant<BudgetBook::Reservation, BudgetBook::Denial> BudgetBook::reserve(const std::vector<BudgetScope>& scopes,
                                                                              double amount,
                                                                              std::chrono::milliseconds ttl) {
  amount = std::max(0.0, amount);
  const TimePoint now = now_();
  std::lock_guard lock(mu_);
  expire_locked(now);
  for (const auto& s : scopes) {
    Entry& e = entry(s, now);
    if (s.max_budget && e.spent + e.reserved + amount > *s.max_budget + kEpsilon) {
      return Denial{s.id, *s.max_budget, e.spent, e.reserved, amount};
    }
  }
  Held h;
  h.amount = amount;
  h.expires = now + ttl;
  for (const auto& s : scopes) {
    entries_[s.id].reserved += amount;
    h.scopes.push_back(s.id);
  }
  const uint64_t id = next_id_++;
  held_.emplace(id, std::move(h));
  return Reservation{id};
}

std::vector<std::string> BudgetBook::charge_locked(const std::vector<std::string>& scopes, double amount) {
  std::vector<std::string> crossed;
  for (const auto& id : scopes) {
    Entry& e = entries_[id];
    e.spent += amount;
    if (e.soft_budget && !e.soft_reported && e.spent >= *e.soft_budget) {
      e.soft_reported = true;
      crossed.push_back(id);
    }
  }
  return crossed;
}

std::vector<std::string> BudgetBook::settle(Reservation r, double actual) {
  actual = std::max(0.0, actual);
  std::lock_guard lock(mu_);
  auto it = held_.find(r.id);
  if (it == held_.end()) return {};
  Held h = std::move(it->second);
  held_.erase(it);
  if (!h.released) {
    for (const auto& id : h.scopes) {
      Entry& e = entries_[id];
      e.reserved = std::max(0.0, e.reserved - h.amount);
    }
  }
  for (const auto& id : h.scopes) roll(entries_[id], now_());
  return charge_locked(h.scopes, actual);
}

void BudgetBook::charge(const std::vector<BudgetScope>& scopes, double amount) {
  const TimePoint now = now_();
  std::lock_guard lock(mu_);
  std::vector<std::string> ids;
  for (const auto& s : scopes) {
    entry(s, now);
    ids.push_back(s.id);
  }
  charge_locked(ids, std::max(0.0, amount));
}

double BudgetBook::spent(const std::string& scope) const {
  std::lock_guard lock(mu_);
  auto it = entries_.find(scope);
  return it == entries_.end() ? 0 : it->second.spent;
}

double BudgetBook::reserved(const std::string& scope) const {
  std::lock_guard lock(mu_);
  auto it = entries_.find(scope);
  return it == entries_.end() ? 0 : it->second.reserved;
}

int BudgetBook::expire() {
  const TimePoint now = now_();
  std::lock_guard lock(mu_);
  return expire_locked(now);
}

int BudgetBook::expire_locked(TimePoint now) {
  int n = 0;
  for (auto& [id, h] : held_) {
    if (h.released || now < h.expires) continue;
    for (const auto& s : h.scopes) {
      Entry& e = entries_[s];
      e.reserved = std::max(0.0, e.reserved - h.amount);
    }
    h.released = true;
    ++n;
  }
  // Expired reservations whose request never settles would pile up; keep
  // them a day for a late settle, then forget them.
  std::erase_if(held_, [&](const auto& kv) { return kv.second.released && now - kv.second.expires > std::chrono::hours(24); });
  return n;
}

}  // namespace tollgate
