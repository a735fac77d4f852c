#!/usr/bin/env bash
# Sets up, builds and runs every test, from ONE build: clang with
# AddressSanitizer + UBSan at -O1 and libFuzzer coverage (cmake
# -DTOLLGATE_FUZZ=ON, in build-ci/). That build gives the GoogleTest suite
# (run with ctest, which also replays each fuzz target's seed corpus), the
# gateway binary the Node end-to-end tests start, and the fuzz targets, which
# then each run for TOLLGATE_FUZZ_SECONDS (default 20) over their corpus.
# Any sanitizer report, failed test or fuzzer crash fails the run.
# The plain gcc build of scripts/run.sh (build/) is not touched.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test
jobs="$(nproc)"
build=build-ci

# The store suite runs against a real PostgreSQL: make sure a cluster exists and
# runs (Debian's pg_createcluster/pg_ctlcluster; they drop to the postgres user
# when run as root), then create the test role and database idempotently.
start_postgres() {
  local sudo=""
  if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
  local ver
  ver="$(pg_lsclusters -h 2>/dev/null | awk 'NR==1 {print $1}')"
  if [[ -z "$ver" ]]; then
    ver="$(ls /usr/lib/postgresql | sort -V | tail -n1)"
    echo "== creating PostgreSQL $ver cluster" >&2
    $sudo pg_createcluster "$ver" main >/dev/null
  fi
  local name
  name="$(pg_lsclusters -h | awk -v v="$ver" '$1 == v {print $2; exit}')"
  local port
  port="$(pg_lsclusters -h | awk -v v="$ver" -v n="$name" '$1 == v && $2 == n {print $3; exit}')"
  if ! pg_lsclusters -h | awk -v v="$ver" -v n="$name" '$1 == v && $2 == n {print $4}' | grep -q online; then
    $sudo pg_ctlcluster "$ver" "$name" start
  fi
  local psql=(runuser -u postgres -- psql -p "$port" -v ON_ERROR_STOP=1 -qtA)
  if [[ $(id -u) -ne 0 ]]; then psql=(sudo -u postgres psql -p "$port" -v ON_ERROR_STOP=1 -qtA); fi
  for _ in $(seq 1 30); do "${psql[@]}" -c 'select 1' >/dev/null 2>&1 && break; sleep 0.5; done
  "${psql[@]}" -c "DO \$\$ BEGIN
      IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'tollgate') THEN
        CREATE ROLE tollgate LOGIN PASSWORD 'tollgate' CREATEDB;
      END IF; END \$\$;" >/dev/null
  if [[ -z "$("${psql[@]}" -c "SELECT 1 FROM pg_database WHERE datname = 'tollgate_test'")" ]]; then
    "${psql[@]}" -c "CREATE DATABASE tollgate_test OWNER tollgate" >/dev/null
  fi
  export TOLLGATE_TEST_PG_URL="postgresql://tollgate:tollgate@127.0.0.1:${port}/tollgate_test"
  echo "== PostgreSQL $ver/$name on port $port; TOLLGATE_TEST_PG_URL set" >&2
}
start_postgres

# tests/lsan.supp: a leak inside libpqxx when PostgreSQL drops a connection mid-query.
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp"

echo "== build (clang, address + undefined sanitizers, fuzz targets)"
CXX=clang++ cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DTOLLGATE_FUZZ=ON >/dev/null
cmake --build "$build" -j"$jobs"

echo "== tests (unit, integration, store; fuzz seed corpora replayed)"
(cd "$build" && ctest --output-on-failure -j"$jobs" --timeout 300)

echo "== end-to-end: the official OpenAI and Anthropic SDKs against the gateway binary and provider fakes"
(cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error && TOLLGATE_BIN="$PWD/../../$build/tollgate" node --test)

echo "== fuzzing: every target for ${TOLLGATE_FUZZ_SECONDS:-20}s over its seed corpus"
scripts/fuzz.sh "$build" "${TOLLGATE_FUZZ_SECONDS:-20}"
