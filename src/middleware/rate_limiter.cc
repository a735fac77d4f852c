#include "middleware/rate_limiter.h"

#include <algorithm>
#include <unordered_set>

namespace tollgate {
namespace {

constexpr int64_t kWindowNs = 60'000'000'000;  // the "per minute"

using i128 = __int128;

i128 ceil_div(i128 a, i128 b) { return a <= 0 ? 0 : (a + b - 1) / b; }

struct Check {
  bool limited = false;  // this bucket has a limit
  bool allowed = true;
  int64_t wait_ns = 0;   // on denial
  i128 level_now = 0;    // drained to now
  i128 level_after = 0;  // with this request
  int64_t limit = 0;
};

i128 drained(const i128 level, int64_t at_ns, int64_t limit, int64_t now) {
  const int64_t elapsed = std::max<int64_t>(0, now - at_ns);
  return std::max<i128>(0, level - i128{elapsed} * limit);
}

RateDecision::Window window(const std::string& scope, int64_t limit, i128 level) {
  RateDecision::Window w;
  w.scope = scope;
  w.limit = limit;
  if (limit <= 0) {
    w.reset = std::chrono::milliseconds(kWindowNs / 1'000'000);
    return w;
  }
  const i128 cap = i128{limit} * kWindowNs;
  w.remaining = level >= cap ? 0 : static_cast<int64_t>((cap - level) / kWindowNs);
  w.reset = std::chrono::milliseconds(static_cast<int64_t>(ceil_div(ceil_div(level, limit), 1'000'000)));
  return w;
}

// Keep the window a user would hit first: least remaining, then longest reset.
void keep_tighter(std::optional<RateDecision::Window>& slot, RateDecision::Window w) {
  if (!slot || w.remaining < slot->remaining ||
      (w.remaining == slot->remaining && w.reset > slot->reset))
    slot = std::move(w);
}

}  // namespace

const char* rate_kind_name(RateKind k) {
  switch (k) {
    case RateKind::requests: return "requests";
    case RateKind::tokens: return "tokens";
    case RateKind::none: break;
  }
  return "";
}

std::string format_rate_reset(std::chrono::milliseconds d) {
  int64_t ms = d.count();
  if (ms <= 0) return "0s";
  if (ms < 1000) return std::to_string(ms) + "ms";
  const int64_t h = ms / 3'600'000;
  const int64_t m = ms / 60'000 % 60;
  const int64_t s = ms / 1000 % 60;
  const int64_t frac = ms % 1000;
  std::string out;
  if (h > 0) out += std::to_string(h) + "h";
  if (h > 0 || m > 0) out += std::to_string(m) + "m";
  out += std::to_string(s);
  if (frac > 0) {
    std::string f = std::to_string(frac);
    f.insert(0, 3 - f.size(), '0');
    while (f.back() == '0') f.pop_back();
    out += "." + f;
  }
  out += "s";
  return out;
}

RateLimiter::RateLimiter(Now now) : now_(std::move(now)) {}

int64_t RateLimiter::now_ns() const {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(now_().time_since_epoch()).count();
}

// Two threads may read the clock in one order and take the lock in the other;
// letting a bucket's time step back would drain the same interval twice.
int64_t RateLimiter::monotonic_locked(int64_t now) {
  latest_ns_ = std::max(latest_ns_, now);
  return latest_ns_;
}

RateDecision RateLimiter::admit(const std::vector<RateScope>& scopes, int64_t estimated_tokens) {
  const int64_t tokens = std::max<int64_t>(0, estimated_tokens);
  const int64_t clock_now = now_ns();
  std::lock_guard lock(mu_);
  const int64_t now = monotonic_locked(clock_now);

  auto evaluate = [now](const Bucket& b, std::optional<int64_t> limit, int64_t cost) {
    Check c;
    if (!limit) return c;
    c.limited = true;
    c.limit = *limit;
    if (*limit <= 0) {
      c.allowed = false;
      c.wait_ns = kWindowNs;
      return c;
    }
    const i128 cap = i128{*limit} * kWindowNs;
    const i128 units = i128{cost} * kWindowNs;
    c.level_now = drained(b.level, b.at_ns, *limit, now);
    c.level_after = c.level_now + units;
    if (c.level_after <= cap) return c;
    if (cost > *limit && c.level_now == 0) return c;  // oversize, bucket empty
    c.allowed = false;
    // Oversize waits for an empty bucket; anything else for room for itself.
    const i128 excess = cost > *limit ? c.level_now : c.level_after - cap;
    c.wait_ns = static_cast<int64_t>(std::min<i128>(ceil_div(excess, *limit), INT64_MAX));
    return c;
  };

  RateDecision d;
  if (now - last_sweep_ns_ >= kWindowNs) sweep_locked(now);

  struct Pending {
    Entry* entry;
    const RateScope* scope;
    Check req, tok;
  };
  std::vector<Pending> pending;
  std::unordered_set<std::string_view> seen;
  int64_t worst_wait = -1;
  for (const auto& s : scopes) {
    if (!seen.insert(s.id).second) continue;
    if (!s.rpm && !s.tpm) continue;
    Entry& e = entries_[s.id];
    Pending p{&e, &s, evaluate(e.requests, s.rpm, 1), evaluate(e.tokens, s.tpm, tokens)};
    for (auto [c, kind] : {std::pair{&p.req, RateKind::requests}, {&p.tok, RateKind::tokens}}) {
      if (c->allowed || c->wait_ns <= worst_wait) continue;
      worst_wait = c->wait_ns;
      d.allowed = false;
      d.limited_scope = s.id;
      d.limited_kind = kind;
    }
    pending.push_back(p);
  }

  if (!d.allowed) {
    d.retry_after_seconds = static_cast<int>(
        std::clamp<int64_t>((worst_wait + 999'999'999) / 1'000'000'000, 1, INT32_MAX));
  }
  for (auto& p : pending) {
    if (p.req.limited)
      keep_tighter(d.requests, window(p.scope->id, p.req.limit, d.allowed ? p.req.level_after : p.req.level_now));
    if (p.tok.limited)
      keep_tighter(d.tokens, window(p.scope->id, p.tok.limit, d.allowed ? p.tok.level_after : p.tok.level_now));
    if (!d.allowed) continue;
    for (auto [b, c] : {std::pair{&p.entry->requests, &p.req}, {&p.entry->tokens, &p.tok}}) {
      if (!c->limited) continue;
      b->level = c->level_after;
      b->at_ns = now;
      b->empty_at_ns = now + static_cast<int64_t>(std::min<i128>(ceil_div(b->level, c->limit), INT64_MAX - now));
    }
  }
  return d;
}

void RateLimiter::correct(const std::vector<RateScope>& scopes, int64_t estimated_tokens,
                          int64_t actual_tokens) {
  const i128 delta = i128{std::max<int64_t>(0, actual_tokens)} - std::max<int64_t>(0, estimated_tokens);
  if (delta == 0) return;
  const int64_t clock_now = now_ns();
  std::lock_guard lock(mu_);
  const int64_t now = monotonic_locked(clock_now);
  std::unordered_set<std::string_view> seen;
  for (const auto& s : scopes) {
    if (!seen.insert(s.id).second || !s.tpm || *s.tpm <= 0) continue;
    auto it = entries_.find(s.id);
    if (it == entries_.end()) {
      // Idle and dropped since admission: nothing to give back.
      if (delta < 0) continue;
      it = entries_.try_emplace(s.id).first;
    }
    Bucket& b = it->second.tokens;
    b.level = std::max<i128>(0, drained(b.level, b.at_ns, *s.tpm, now) + delta * kWindowNs);
    b.at_ns = now;
    b.empty_at_ns = now + static_cast<int64_t>(std::min<i128>(ceil_div(b.level, *s.tpm), INT64_MAX - now));
  }
}

size_t RateLimiter::sweep_locked(int64_t now) {
  last_sweep_ns_ = now;
  return std::erase_if(entries_, [now](const auto& kv) {
    return kv.second.requests.empty_at_ns <= now && kv.second.tokens.empty_at_ns <= now;
  });
}

size_t RateLimiter::sweep() {
  const int64_t clock_now = now_ns();
  std::lock_guard lock(mu_);
  return sweep_locked(monotonic_locked(clock_now));
}

size_t RateLimiter::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

}  // namespace tollgate
