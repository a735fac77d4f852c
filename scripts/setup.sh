#!/usr/bin/env bash
# Installs the Debian packages Tollgate needs to build and test.
# Idempotent: packages already present are skipped, so a second run is fast.
# Options: --test (clang and its sanitizer/libFuzzer runtime for the one CI
# build, node/npm for the SDK end-to-end test, PostgreSQL for the store tests),
# --bench (nginx, wrk).
set -euo pipefail

BUILD_PKGS=(build-essential cmake ninja-build ccache pkg-config
  libboost1.81-dev libssl-dev nlohmann-json3-dev libyaml-cpp-dev libspdlog-dev
  libgtest-dev libgmock-dev libsqlite3-dev libpqxx-dev libsimdjson-dev libmimalloc-dev ca-certificates curl)
TEST_PKGS=(nodejs npm)
# scripts/test.sh builds with clang 14 (ASan, UBSan, libFuzzer): Debian 12's.
FUZZ_PKGS=(clang libclang-rt-14-dev)
BENCH_PKGS=(nginx-light wrk curl valgrind postgresql)

want=("${BUILD_PKGS[@]}")
for arg in "$@"; do
  case "$arg" in
    --test)
      command -v node >/dev/null && command -v npm >/dev/null || want+=("${TEST_PKGS[@]}")
      want+=(postgresql "${FUZZ_PKGS[@]}") ;;
    --bench) want+=("${BENCH_PKGS[@]}") ;;
    *) echo "setup.sh: unknown option $arg" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then exit 0; fi

SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
echo "setup: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
