#pragma once
// Requests refused before authentication (401: no key, a wrong, blocked or
// expired key; an unknown route; anything refused before a key was checked)
// do not write a ledger row each: anyone can send them, as fast as they
// like, and one row apiece would let a flood fill the spool and the
// database. They are tallied per minute, reason and client address instead;
// each tally becomes one rejection row (its status, metadata
// {"aggregated": true, "count": N, "client_ip": ...}) once its minute is
// over. At most `max_tallies` reason/address pairs are kept per minute; the
// rest are counted under client address "other".
//
// Thread-safe (one mutex; only refused requests take it).

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

#include "tollgate/request_context.h"
#include "tollgate/store.h"

namespace tollgate {

class RejectionTally {
 public:
  explicit RejectionTally(std::size_t max_tallies = 1024);

  // Whether the finished request is one this tally takes instead of a row.
  static bool applies(const RequestContext& ctx);

  // Counts one refused request that ended at `now`; returns the rows of the
  // minutes that are over (to be recorded in the ledger).
  std::vector<SpendRow> add(const RequestContext& ctx, TimePoint now);
  // Rows of the minutes over at `now`, or of every tally (`all`, at shutdown).
  std::vector<SpendRow> flush(TimePoint now, bool all = false);

 private:
  struct Tally {
    int64_t count = 0;
    std::string route;
    std::string message;
    TimePoint first{};
    TimePoint last{};
  };
  using Key = std::tuple<int64_t, int, std::string, std::string>;  // minute, status, reason code, client address

  std::vector<SpendRow> take_locked(int64_t before_minute);

  std::size_t max_tallies_;
  std::string instance_;  // distinguishes this process's rows from another instance's
  std::mutex mu_;
  std::map<Key, Tally> tallies_;
  std::map<int64_t, std::size_t> per_minute_;
};

}  // namespace tollgate
