// Ledger shipping throughput: batches of spend rows through Store::ship.
//   build-bench/bench/bench_ship <database-url> [batches=20] [rows_per_batch=500]
// e.g. postgresql://tollgate:tollgate@127.0.0.1:5432/tollgate_test or sqlite:///tmp/ship.db
// Writes real rows (request ids are random per run); use a scratch database.

#include <chrono>
#include <cstdio>
#include <random>
#include <string>

#include "tollgate/store.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: bench_ship <database-url> [batches] [rows_per_batch]\n");
    return 2;
  }
  int batches = argc > 2 ? std::stoi(argv[2]) : 20;
  int per_batch = argc > 3 ? std::stoi(argv[3]) : 500;
  auto store = tollgate::store_factory(argv[1])();
  store->migrate();
  std::mt19937_64 rng(std::random_device{}());
  std::string run = std::to_string(rng());
  auto now = tollgate::SystemClock::now();
  std::vector<std::vector<tollgate::SpendRow>> all(batches);
  for (int b = 0; b < batches; ++b) {
    for (int i = 0; i < per_batch; ++i) {
      tollgate::SpendRow r;
      r.request_id = run + "-" + std::to_string(b) + "-" + std::to_string(i);
      r.start_time = now;
      r.end_time = now;
      r.key_id = "bench-key-" + std::to_string(i % 20);
      r.team_id = "bench-team-" + std::to_string(i % 4);
      r.end_user = "bench-user-" + std::to_string(i % 50);
      r.model_group = "gpt-4o";
      r.provider = "openai";
      r.status = 200;
      r.prompt_tokens = 100;
      r.completion_tokens = 50;
      r.cost_usd = "0.0012345";
      all[b].push_back(r);
    }
  }
  auto start = std::chrono::steady_clock::now();
  int inserted = 0;
  for (const auto& batch : all) inserted += store->ship(batch).inserted;
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%d rows in %d batches of %d: %.3f s, %.0f rows/s\n", inserted, batches, per_batch, secs,
              inserted / secs);
  return 0;
}
