#!/usr/bin/env bash
# Sets up, builds and runs every test. Runs the suite twice: a normal build,
# then (unless TOLLGATE_SKIP_SANITIZERS=1) with AddressSanitizer and UBSan.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test
jobs="$(nproc)"

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
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    run_suite build-asan -DCMAKE_BUILD_TYPE=Debug -DTOLLGATE_SANITIZE=ON
fi
