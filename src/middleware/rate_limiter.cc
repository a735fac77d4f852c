#include "middleware/rate_limiter.h"

#include <algorithm>

namespace tollgate {

namespace {

using Nanos = std::chrono::nanoseconds;
constexpr Nanos kPeriod = std::chrono::minutes(1);

Nanos interval(int64_t limit) { return Nanos(kPeriod.count() / std::max<int64_t>(1, limit)); }

std::chrono::milliseconds ceil_ms(Nanos d) {
  return std::chrono::ceil<std::chrono::milliseconds>(std::max(Nanos(0), d));
}

struct Plan {
  std::string key;
  int64_t limit;
  Nanos step;         // interval per unit
  int64_t cost;       // units this request takes
  TimePoint new_tat;  // if admitted
  bool tokens;
  const std::string* scope;
};

}  // namespace

std::string format_reset_duration(std::chrono::milliseconds d) {
  const int64_t ms = std::max<int64_t>(0, d.count());
  if (ms < 1000) return std::to_string(ms) + "ms";
  int64_t s = (ms + 999) / 1000;
  const int64_t h = s / 3600;
  const int64_t m = (s % 3600) / 60;
  s %= 60;
  std::string out;
  if (h) out += std::to_string(h) + "h";
  if (h || m) out += std::to_string(m) + "m";
  return out + std::to_string(s) + "s";
}

RateLimiter::RateLimiter(Now now) : now_(std::move(now)) {}

RateDecision RateLimiter::admit(const std::vector<RateScope>& scopes, int64_t estimated_tokens) {
  const TimePoint now = now_();
  const int64_t tokens = std::max<int64_t>(0, estimated_tokens);
  std::lock_guard lock(mu_);
  if (++admits_ % 1024 == 0) sweep(now);

  std::vector<Plan> plans;
  for (const auto& s : scopes) {
    if (s.rpm) plans.push_back({s.id + "#r", *s.rpm, interval(*s.rpm), 1, {}, false, &s.id});
    if (s.tpm) plans.push_back({s.id + "#t", *s.tpm, interval(*s.tpm), tokens, {}, true, &s.id});
  }
  RateDecision d;
  Nanos worst_wait{0};
  for (auto& p : plans) {
    auto it = tat_.find(p.key);
    const TimePoint tat = it == tat_.end() ? now : std::max(it->second, now);
    p.new_tat = tat + p.step * p.cost;
    const bool empty = tat <= now;
    const bool fits = p.limit > 0 && (p.new_tat - now <= kPeriod || (empty && p.cost > 0 && p.step * p.cost > kPeriod));
    if (!fits) {
      // Admissible once TAT has drained to new_tat - period (or to now, for an oversize request).
      const bool oversize = p.step * p.cost > kPeriod;
      const Nanos wait = p.limit <= 0 ? kPeriod : oversize ? tat - now : p.new_tat - kPeriod - now;
      if (!d.allowed && wait <= worst_wait) continue;
      d.allowed = false;
      worst_wait = wait;
      d.limited_scope = *p.scope;
      d.limited_kind = p.tokens ? "tokens" : "requests";
    }
  }
  if (!d.allowed) {
    d.retry_after_seconds = static_cast<int>(std::max<int64_t>(1, std::chrono::ceil<std::chrono::seconds>(worst_wait).count()));
  }
  // Windows for the headers: the scope with the fewest units left.
  for (const auto& p : plans) {
    const TimePoint tat = d.allowed ? p.new_tat : std::max(tat_.count(p.key) ? tat_[p.key] : now, now);
    RateDecision::Window w;
    w.limit = p.limit;
    w.remaining = std::max<int64_t>(0, (kPeriod - (tat - now)).count() / std::max<int64_t>(1, p.step.count()));
    w.remaining = std::min(w.remaining, p.limit);
    w.reset = ceil_ms(tat - now);
    auto& slot = p.tokens ? d.tokens : d.requests;
    if (!slot || w.remaining < slot->remaining) slot = w;
  }
  if (!d.allowed) return d;
  Ticket t;
  t.estimate = tokens;
  t.issued = now;
  for (const auto& p : plans) {
    tat_[p.key] = p.new_tat;
    if (p.tokens) t.token_scopes.emplace_back(p.key, p.step);
  }
  if (!t.token_scopes.empty()) {
    d.ticket = next_ticket_++;
    tickets_.emplace(d.ticket, std::move(t));
  }
  return d;
}

void RateLimiter::correct(uint64_t ticket, int64_t actual_tokens) {
  const TimePoint now = now_();
  std::lock_guard lock(mu_);
  auto it = tickets_.find(ticket);
  if (it == tickets_.end()) return;
  const int64_t delta = std::max<int64_t>(0, actual_tokens) - it->second.estimate;
  for (const auto& [key, step] : it->second.token_scopes) {
    auto s = tat_.find(key);
    if (s == tat_.end()) {
      if (delta > 0) tat_[key] = now + step * delta;
      continue;
    }
    s->second = std::max(s->second + step * delta, now);
  }
  tickets_.erase(it);
}

std::size_t RateLimiter::tracked_scopes() const {
  std::lock_guard lock(mu_);
  return tat_.size();
}

void RateLimiter::sweep(TimePoint now) {
  // A scope whose TAT has passed is indistinguishable from a new one.
  std::erase_if(tat_, [&](const auto& kv) { return kv.second <= now; });
  // Tickets of requests that never completed (cannot happen in the server,
  // which completes every request) must not pile up either.
  std::erase_if(tickets_, [&](const auto& kv) { return now - kv.second.issued > std::chrono::hours(1); });
}

}  // namespace tollgate
