#!/usr/bin/env bash
# Sets up, builds and runs every test. Runs the suite twice: a normal build,
# then (unless TOLLGATE_SKIP_SANITIZERS=1) with AddressSanitizer and UBSan.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test
jobs="$(nproc)"

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

run_suite() {
  local dir="$1"; shift
  cmake -S . -B "$dir" -G Ninja "$@" >/dev/null
  cmake --build "$dir" -j"$jobs"
  (cd "$dir" && ctest --output-on-failure -j"$jobs" --timeout 300)
}

echo "== tests (RelWithDebInfo)"
run_suite build-test -DCMAKE_BUILD_TYPE=RelWithDebInfo

echo "== end-to-end: the official OpenAI and Anthropic SDKs against the gateway binary and provider fakes"
(cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error && TOLLGATE_BIN="$PWD/../../build-test/tollgate" node --test)
if [[ "${TOLLGATE_SKIP_SANITIZERS:-0}" != "1" ]]; then
  echo "== tests (address + undefined sanitizers)"
  # tests/lsan.supp: a leak inside libpqxx when PostgreSQL drops a connection mid-query.
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp" \
    run_suite build-asan -DCMAKE_BUILD_TYPE=Debug -DTOLLGATE_SANITIZE=ON
fi
