#pragma once
// In-memory budget accounting with reservations, so concurrent requests can
// never together overshoot a budget. Every scope ("key:<id>", "team:<id>",
// "user:<id>", "end_user:<id>") has spent (this budget period) and reserved
// (requests in flight). reserve() admits a request only when, for every
// scope with a max_budget, spent + reserved + amount <= max_budget (1e-12
// tolerance, so an exact fit is admitted), and then reserves on all scopes at
// once; settle() releases the reservation and charges the real cost.
//
// A scope is seeded with its stored spend (from the database) the first time
// it is seen; afterwards the book is authoritative for this process. Budget
// periods reset on the book's clock: when reset_at has passed, spent drops to
// 0 and reset_at moves past now by `duration`.
//
// Thread-safe (one mutex). Reservations expire after their ttl (a request
// that never completed); a late settle of an expired reservation still charges
// its cost once.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <variant>
#include <vector>

#include <mutex>

#include "tollgate/store.h"

namespace tollgate {

struct BudgetScope {
  std::string id;
  std::optional<double> max_budget;   // none: tracked, unlimited
  std::optional<double> soft_budget;  // crossing it is reported once per period
  std::string duration;               // "" lifetime, else see next_budget_reset()
  std::optional<TimePoint> reset_at;  // next reset as stored
  double stored_spend = 0;            // seeds the scope once
};

class BudgetBook {
 public:
  using Now = std::function<TimePoint()>;
  explicit BudgetBook(Now now);

  struct Denial {
    std::string scope;
    double max_budget = 0;
    double spent = 0;
    double reserved = 0;
    double requested = 0;
  };
  struct Reservation {
    uint64_t id = 0;  // 0: none
  };

  std::variant<Reservation, Denial> reserve(const std::vector<BudgetScope>& scopes, double amount,
                                            std::chrono::milliseconds ttl);
  // Returns the scopes whose soft budget this charge crossed (once per period).
  std::vector<std::string> settle(Reservation r, double actual);
  // Spend without a reservation (rows recovered from the spool at start).
  void charge(const std::vector<BudgetScope>& scopes, double amount);

  double spent(const std::string& scope) const;
  double reserved(const std::string& scope) const;
  // Drops reservations past their ttl; returns how many.
  int expire();

 private:
  struct Entry {
    double spent = 0;
    double reserved = 0;
    std::optional<double> soft_budget;
    bool soft_reported = false;
    std::string duration;
    std::optional<TimePoint> reset_at;
  };
  struct Held {
    std::vector<std::string> scopes;
    double amount = 0;
    TimePoint expires{};
    bool released = false;  // expired: only the charge is left to do
  };

  Entry& entry(const BudgetScope& s, TimePoint now);  // seeds, refreshes settings, rolls the period
  void roll(Entry& e, TimePoint now);
  std::vector<std::string> charge_locked(const std::vector<std::string>& scopes, double amount);
  int expire_locked(TimePoint now);

  Now now_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Entry> entries_;
  std::unordered_map<uint64_t, Held> held_;
  uint64_t next_id_ = 1;
};

}  // namespace tollgate
