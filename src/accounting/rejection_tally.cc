#include "accounting/rejection_tally.h"

#include <random>

#include <fmt/format.h>

namespace tollgate {

namespace {

int64_t minute_of(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::minutes>(t.time_since_epoch()).count();
}

std::string random_instance() {
  std::random_device rd;
  return fmt::format("{:08x}", rd());
}

// A stable short hash for the row id (FNV-1a 64).
uint64_t fnv(std::string_view a, std::string_view b) {
  uint64_t h = 1469598103934665603ull;
  for (std::string_view s : {a, std::string_view("\0", 1), b}) {
    for (unsigned char c : s) {
      h ^= c;
      h *= 1099511628211ull;
    }
  }
  return h;
}

}  // namespace

RejectionTally::RejectionTally(std::size_t max_tallies) : max_tallies_(max_tallies), instance_(random_instance()) {}

bool RejectionTally::applies(const RequestContext& ctx) {
  // Refused before anyone was authenticated: a wrong or missing key, an
  // unknown route, a request that could not be read.
  return ctx.status >= 400 && !ctx.principal && !ctx.reached_router;
}

std::vector<SpendRow> RejectionTally::add(const RequestContext& ctx, TimePoint now) {
  const int64_t minute = minute_of(now);
  std::lock_guard lock(mu_);
  std::string address = ctx.client_ip.substr(0, 64);
  auto& used = per_minute_[minute];
  Key key{minute, ctx.status, ctx.error_type.substr(0, 64), address};
  if (!tallies_.count(key)) {
    if (used >= max_tallies_) {
      std::get<3>(key) = "other";
    } else {
      ++used;
    }
  }
  Tally& t = tallies_[key];
  if (t.count++ == 0) {
    t.first = now;
    t.route = ctx.path.substr(0, 256);
    t.message = ctx.reject_reason.substr(0, 256);
  }
  t.last = now;
  return take_locked(minute);
}

std::vector<SpendRow> RejectionTally::flush(TimePoint now, bool all) {
  std::lock_guard lock(mu_);
  return take_locked(all ? INT64_MAX : minute_of(now));
}

std::vector<SpendRow> RejectionTally::take_locked(int64_t before_minute) {
  std::vector<SpendRow> rows;
  for (auto it = tallies_.begin(); it != tallies_.end() && std::get<0>(it->first) < before_minute;) {
    const auto& [minute, status, reason, address] = it->first;
    const Tally& t = it->second;
    SpendRow r;
    r.kind = RowKind::rejection;
    r.request_id = fmt::format("unauth_{}_{}_{}_{:016x}", instance_, minute, status, fnv(reason, address));
    r.start_time = t.first;
    r.end_time = t.last;
    r.route = t.route;
    r.status = status;
    r.error_type = reason;
    r.reason = fmt::format("{} requests refused before authentication: {}", t.count, t.message);
    r.metadata = {{"aggregated", true}, {"count", t.count}, {"client_ip", address}};
    rows.push_back(std::move(r));
    per_minute_.erase(minute);
    it = tallies_.erase(it);
  }
  return rows;
}

}  // namespace tollgate
