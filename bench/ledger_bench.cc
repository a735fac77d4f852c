// Spend ledger throughput: records N rows from T threads as fast as they go
// into a Ledger, then waits for them to be fsynced and shipped.
//
//   bench_ledger --url postgresql://user@host/db [--rows 200000] [--threads 4]
//                [--batch-rows 500] [--dir /tmp/x] [--segment-mb 64]
//   bench_ledger --url none      spool only: record + group commit, nothing ships
//
// Prints one line of key=value pairs, e.g.
//   rows=200000 threads=4 record_rows_per_s=... durable_rows_per_s=... shipped_rows_per_s=...
//   groups=... ship_failures=0 duplicates=0
// recorded: the record() calls alone (the request path's cost); durable: until
// flush() returns (every row fsynced); shipped: until wait_shipped() (every row
// committed in the database), all measured from the first record().
// Request ids are unique per run, so runs against one database do not collide.
// Exit status 1 when a row is refused for good or shipping does not finish.

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "accounting/ledger.h"

namespace {

using Clock = std::chrono::steady_clock;
using namespace tollgate;

struct Options {
  std::string url;
  int rows = 200000;
  int threads = 4;
  int batch_rows = 500;
  uint64_t segment_mb = 64;
  std::string dir;
};

[[noreturn]] void usage() {
  std::cerr << "usage: bench_ledger --url URL|none [--rows N] [--threads T] [--batch-rows N] [--dir D] "
               "[--segment-mb N]\n";
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) usage();
      return argv[++i];
    };
    if (a == "--url") o.url = next();
    else if (a == "--rows") o.rows = std::stoi(next());
    else if (a == "--threads") o.threads = std::stoi(next());
    else if (a == "--batch-rows") o.batch_rows = std::stoi(next());
    else if (a == "--segment-mb") o.segment_mb = std::stoull(next());
    else if (a == "--dir") o.dir = next();
    else usage();
  }
  if (o.url.empty() || o.rows <= 0 || o.threads <= 0) usage();
  return o;
}

// A typical row: short ids, a few tags, small metadata.
SpendRow bench_row(const std::string& run, int i) {
  SpendRow r;
  r.request_id = run + "-" + std::to_string(i);
  r.start_time = SystemClock::now();
  r.end_time = r.start_time + std::chrono::milliseconds(420);
  r.key_id = "k" + std::to_string(i % 100);
  r.key_alias = "bench-key";
  r.key_name = "sk-...bnch";
  r.team_id = "team-" + std::to_string(i % 10);
  r.user_id = "user-" + std::to_string(i % 50);
  r.route = "/v1/chat/completions";
  r.requested_model = "bench-model";
  r.model_group = "bench-model";
  r.deployment = "bench-model-2024";
  r.provider = "mock";
  r.api_base = "http://127.0.0.1:9/v1";
  r.status = 200;
  r.prompt_tokens = 120;
  r.completion_tokens = 40;
  r.cost_usd = "0.0000420000";
  r.latency_ms = 420;
  r.ttft_ms = 80;
  r.overhead_ms = 1;
  r.tags = {"bench"};
  r.metadata = {{"run", run}};
  return r;
}

double per_s(int rows, Clock::duration d) {
  return rows / std::max(1e-9, std::chrono::duration<double>(d).count());
}

}  // namespace

#ifdef TOLLGATE_BENCH_WITH_STORES
static Ledger::StoreFactory make_factory(const std::string& url) {
  if (url == "none") return nullptr;
  auto factory = store_factory(url);
  factory()->migrate();
  return factory;
}
#else
static Ledger::StoreFactory make_factory(const std::string& url) {
  if (url == "none") return nullptr;
  std::cerr << "bench_ledger: built without the stores (src/storage); only --url none works\n";
  std::exit(2);
}
#endif

int main(int argc, char** argv) {
  Options o = parse(argc, argv);
  const std::string run = "bench-" + std::to_string(::getpid()) + "-" +
                          std::to_string(SystemClock::now().time_since_epoch().count());
  const bool own_dir = o.dir.empty();
  if (own_dir) o.dir = (std::filesystem::temp_directory_path() / run).string();

  LedgerOptions lo;
  lo.spool_dir = o.dir;
  lo.batch_rows = o.batch_rows;
  lo.segment_bytes = o.segment_mb << 20;
  lo.retry_initial = std::chrono::milliseconds(50);
  lo.retry_max = std::chrono::milliseconds(1000);
  auto factory = make_factory(o.url);
  const bool ships = static_cast<bool>(factory);

  int status = 0;
  {
    Ledger ledger(lo, std::move(factory));
    std::atomic<uint64_t> refusals{0};
    const auto start = Clock::now();
    std::vector<std::thread> threads;
    for (int t = 0; t < o.threads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = t; i < o.rows; i += o.threads) {
          SpendRow row = bench_row(run, i);
          while (!ledger.record(row)) {  // spool full: wait for the shipper
            ++refusals;
            std::this_thread::yield();
          }
        }
      });
    }
    for (auto& th : threads) th.join();
    const auto recorded = Clock::now();
    ledger.flush();
    const auto durable = Clock::now();
    bool shipped_all = !ships || ledger.wait_shipped(std::chrono::minutes(10));
    const auto shipped = Clock::now();
    auto s = ledger.stats();

    std::cout << "rows=" << o.rows << " threads=" << o.threads << " batch_rows=" << o.batch_rows
              << " record_rows_per_s=" << static_cast<uint64_t>(per_s(o.rows, recorded - start))
              << " durable_rows_per_s=" << static_cast<uint64_t>(per_s(o.rows, durable - start));
    if (ships) std::cout << " shipped_rows_per_s=" << static_cast<uint64_t>(per_s(o.rows, shipped - start));
    std::cout << " groups=" << s.groups << " refusals=" << refusals.load() << " ship_failures=" << s.ship_failures
              << " duplicates=" << s.duplicates << " pending=" << s.pending_rows << "\n";
    if (!shipped_all) {
      std::cerr << "bench_ledger: shipping did not finish: " << s.last_error << "\n";
      status = 1;
    }
  }
  if (own_dir) std::filesystem::remove_all(o.dir);
  return status;
}
