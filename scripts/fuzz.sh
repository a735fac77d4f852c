#!/usr/bin/env bash
# Runs the libFuzzer targets of a TOLLGATE_FUZZ=ON build for a bounded time.
# Usage: scripts/fuzz.sh BUILD_DIR SECONDS [TARGET...]   (TARGET: e.g. sse_parser)
# Each target runs for SECONDS over a scratch copy of tests/fuzz/corpus/<target>
# (plus tests/fuzz/dict/<target>.dict when present), nproc targets at a time.
# New corpus entries and crash artifacts go to a temporary directory, never
# into the repository; a crash prints the fuzzer's report and the input in
# base64 and makes the script exit 1. See docs/security.md, "Fuzzing".
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:?usage: scripts/fuzz.sh BUILD_DIR SECONDS [TARGET...]}"
seconds="${2:?usage: scripts/fuzz.sh BUILD_DIR SECONDS [TARGET...]}"
shift 2
targets=("$@")
if ((${#targets[@]} == 0)); then
  for src in tests/fuzz/*.cc; do targets+=("$(basename "$src" .cc)"); done
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/tollgate-fuzz.XXXXXX")"
trap 'rm -rf "$work"' EXIT
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

run_one() {
  local t="$1" bin="$build/fuzz_$1"
  local dir="$work/$t"
  mkdir -p "$dir/corpus" "$dir/artifacts"
  local args=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
    -artifact_prefix="$dir/artifacts/")
  [[ -f tests/fuzz/dict/$t.dict ]] && args+=(-dict="tests/fuzz/dict/$t.dict")
  if "$bin" "${args[@]}" "$dir/corpus" "tests/fuzz/corpus/$t" >"$dir/log" 2>&1; then
    local stats
    stats="$(grep -E '^stat::(number_of_executed_units|peak_rss_mb)' "$dir/log" | awk '{printf "%s ", $2}')"
    local cov
    cov="$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$dir/log" | tail -n1)"
    echo "fuzz $t: ok (${seconds}s; runs, peak MB: ${stats}; ${cov})"
  else
    echo "fuzz $t: FAILED" >&2
    tail -n 60 "$dir/log" >&2
    for a in "$dir"/artifacts/*; do
      [[ -f $a ]] || continue
      echo "-- $(basename "$a") (base64; reproduce: base64 -d > crash && $bin crash)" >&2
      base64 -w0 "$a" | head -c 20000 >&2
      echo >&2
    done
    return 1
  fi
}
export -f run_one
export build seconds work

for t in "${targets[@]}"; do
  [[ -x $build/fuzz_$t ]] || { echo "fuzz.sh: $build/fuzz_$t not built (configure with -DTOLLGATE_FUZZ=ON)" >&2; exit 2; }
done
failed=0
printf '%s\n' "${targets[@]}" | xargs -P "$(nproc)" -I{} bash -c 'run_one {}' || failed=1
if ((failed)); then
  echo "fuzz.sh: a fuzz target failed (see above)" >&2
  exit 1
fi
echo "fuzz.sh: ${#targets[@]} targets passed"
