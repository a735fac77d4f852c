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

# The store suite runs against a real PostgreSQL that this script starts.
source scripts/lib/postgres.sh
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
