#pragma once
// BudgetBook: the in-memory ledger that admits a request only if its
// worst-case cost fits every budget that applies to it (key, team, user, end
// user), and later settles the real cost. Pure: no I/O, no logging; time comes
// from the injected clock.
//
// Life of a request:
//   auto r = book.reserve(scopes, worst_case_usd, ttl);   // before forwarding
//   ... forward, stream, fail, time out or lose the client ...
//   book.settle(std::get<Reservation>(r), actual_usd);     // exactly once, always
//
// Invariant (what "never overshoots" means): for every scope with a
// max_budget, reserve() admits only if, after admission,
//     spent + reserved <= max_budget + kBudgetEpsilon
// and this is checked and applied atomically across all the request's scopes.
// Spend can still pass max_budget afterwards, by design, in three ways only:
// settle() with an actual cost above the reservation, charge() (spend that
// happened without a reservation), and a late settle() of an expired
// reservation. Each is real money already spent; the book records it and the
// next reserve() is then denied.
//
// Thread-safety: every member function may be called from any thread; one
// mutex guards the book. The clock is called outside the lock and must itself
// be thread-safe.

#include <chrono>
#include <cstdint>
#include <functional>
#include <list>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

namespace tollgate {

using TimePoint = std::chrono::system_clock::time_point;

// Absolute tolerance, in USD, of every budget comparison, so that a
// reservation that fits exactly (0.1 + 0.2 against 0.3) is admitted.
inline constexpr double kBudgetEpsilon = 1e-12;

// Budget durations: "<n>s", "<n>m", "<n>h", "<n>d", "<n>w" (fixed lengths) and
// "<n>mo" (calendar months, UTC), n a positive decimal integer without sign or
// spaces, the whole span at most ~100 years. Returns `anchor` advanced by
// `periods` whole durations (periods >= 0), or nullopt when `duration` is
// empty or not of that form. Months keep the anchor's time of day and day of
// month, clamped to the month's last day: 2024-01-31 + 1mo = 2024-02-29,
// + 2mo = 2024-03-31 (counting from the anchor, so there is no drift).
// (Same grammar as next_budget_reset in tollgate/store.h, which lives in
// another branch; to be deduplicated at merge.)
std::optional<TimePoint> budget_period_add(const std::string& duration, TimePoint anchor,
                                           int64_t periods = 1);

struct BudgetScope {
  std::string id;                     // "key:<key_id>", "team:<id>", "user:<id>", "end_user:<id>"
  std::optional<double> max_budget;   // USD per period; none: tracked but unlimited
  std::optional<double> soft_budget;  // USD; crossing it is reported once per period
  std::string duration;               // "" (lifetime) or a budget duration (see above)
  std::optional<TimePoint> reset_at;  // next reset as stored
  double stored_spend = 0;            // spend in the DB for the current period when first seen
  // End users are named by clients (the request's `user`): their scopes are
  // kept in a bounded LRU (see BudgetBook), the others for the process's life.
  bool evictable = false;
};

class BudgetBook {
 public:
  using Now = std::function<TimePoint()>;

  // `expired_retention`: how long an expired reservation's scope list is kept
  // so that a late settle() still charges (see settle()).
  // `max_evictable_scopes`: how many evictable scopes (end users) are kept.
  // Past it, the least recently used one without a live reservation is
  // forgotten; seen again, it is seeded anew from its stored spend (which
  // lags by the rows not yet shipped). At least 16.
  explicit BudgetBook(Now now, std::chrono::milliseconds expired_retention = std::chrono::hours(1),
                      std::size_t max_evictable_scopes = 10000);

  struct Denial {
    std::string scope;  // the first scope, in the caller's order, that cannot fit the request
    double max_budget;  // that scope's limit
    double spent;       // its spend in the current period
    double reserved;    // held by other in-flight requests
    double requested;   // the amount asked for
  };
  struct Reservation {
    uint64_t id = 0;  // 0: no reservation
  };

  // Reserves `amount` USD (worst case) on every scope, all or nothing: if any
  // scope with a max_budget would end above it (spent + reserved + amount >
  // max_budget + kBudgetEpsilon) nothing is reserved anywhere and the Denial
  // names that scope. Scopes without max_budget are tracked, never deny.
  //
  // Per scope, on every call (so config changes apply at once):
  //  - first sight: the scope is seeded with stored_spend (once; later
  //    stored_spend values are ignored, the book is the authority while it
  //    lives) and its period starts from reset_at (or, with a duration but no
  //    reset_at, from now). If reset_at is already past, stored_spend belongs
  //    to a finished period and is not counted.
  //  - max_budget and soft_budget are taken from this call.
  //  - a changed duration restarts the period schedule from this call's
  //    reset_at if it is in the future, else from now; spend is kept.
  //  - a scope whose reset time has passed starts a new period: spent = 0, the
  //    soft-budget report is re-armed, reset time = first anchor + k*duration
  //    after now. In-flight reservations stay reserved across the reset.
  //  - an invalid duration is treated as "" (lifetime); config validation is
  //    expected to have rejected it.
  // A duplicated scope id counts once. `amount` below 0 (or NaN) counts as 0.
  // Reservations past their ttl are expired first (see expire()). An empty
  // scope list always succeeds with a real id.
  std::variant<Reservation, Denial> reserve(const std::vector<BudgetScope>& scopes, double amount,
                                            std::chrono::milliseconds ttl);

  struct Settlement {
    // True when `actual` was charged: the id was reserved and not settled
    // before (live, or expired less than expired_retention ago). False for id
    // 0, a second settle of the same id, or an expired reservation already
    // forgotten; a caller that settles each reservation exactly once and gets
    // false may charge() the cost itself.
    bool charged = false;
    // Scope ids whose soft budget this charge crossed; each scope is reported
    // at most once per period.
    std::vector<std::string> soft_budget_crossed;
  };
  // Releases the reservation (if still live) and charges `actual` USD, which
  // may exceed the reservation, to each of its scopes in their current
  // period. Call it on every outcome: success, provider error, timeout, client
  // disconnect (with the cost incurred so far, possibly 0). `actual` below 0
  // (or NaN) counts as 0. An expired reservation's late settle charges its
  // actual cost once and releases nothing (expiry already did).
  Settlement settle(Reservation r, double actual);

  // Spend that happened without a reservation (restart: rows recovered from
  // the spool). Same per-scope handling as reserve() (seeding, config, period
  // reset), never denies. Returns the scopes whose soft budget it crossed.
  std::vector<std::string> charge(const std::vector<BudgetScope>& scopes, double amount);

  // Spend in the scope's current period, and the total of its live
  // reservations; 0 for an unknown scope. A period reset due by now is
  // applied first, as reserve() would.
  double spent(const std::string& scope) const;
  double reserved(const std::string& scope) const;

  // Releases every live reservation whose ttl has passed (its scopes are kept
  // for a late settle), and forgets expired reservations older than
  // expired_retention. Returns how many reservations were released. reserve()
  // does this too, so calling it is optional (a periodic sweep keeps
  // reserved() exact for dashboards).
  int expire();

  // Live (reserved, not settled, not expired) reservations.
  size_t live_reservations() const;
  // Scopes held now (all kinds), and of those the evictable ones.
  size_t scope_count() const;
  size_t evictable_scope_count() const;

 private:
  struct ScopeState {
    double spent = 0;
    double reserved = 0;
    int64_t live = 0;  // live reservations; at 0, reserved is reset to exactly 0
    std::optional<double> max_budget;
    std::optional<double> soft_budget;
    std::string duration;             // as given; "" or invalid: lifetime
    std::optional<TimePoint> anchor;  // period schedule: anchor + k*duration
    int64_t periods = 0;              // k of the current reset time
    std::optional<TimePoint> reset_at;
    bool soft_reported = false;
    bool evictable = false;
    std::list<std::string>::iterator lru;  // position in lru_ when evictable
  };
  struct Live {
    std::vector<std::string> scopes;
    double amount = 0;
    TimePoint deadline;
  };
  struct Expired {
    std::vector<std::string> scopes;
    TimePoint forget_at;
  };

  ScopeState& touch(const BudgetScope& s, TimePoint now);     // seed / update config / roll
  void roll(ScopeState& st, TimePoint now) const;             // start a new period if due
  void charge_locked(const std::vector<std::string>& scopes, double amount, TimePoint now,
                     std::vector<std::string>& crossed);
  int expire_locked(TimePoint now);
  // Forgets least recently used evictable scopes beyond the limit.
  void evict_locked();
  void release_locked(const Live& r);

  Now now_;
  std::chrono::milliseconds expired_retention_;
  mutable std::mutex mu_;
  // mutable: spent() applies a due period reset, like every other call.
  mutable std::unordered_map<std::string, ScopeState> scopes_;
  std::unordered_map<uint64_t, Live> live_;
  std::unordered_map<uint64_t, Expired> expired_;
  std::set<std::pair<TimePoint, uint64_t>> live_by_deadline_;
  std::set<std::pair<TimePoint, uint64_t>> expired_by_forget_;
  uint64_t next_id_ = 1;
  std::size_t max_evictable_;
  std::list<std::string> lru_;  // evictable scope ids, most recently used first
};

}  // namespace tollgate
