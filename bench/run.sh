#!/usr/bin/env bash
# Tollgate performance bench: one command, bounded, loopback only.
#
# Builds build-bench/ (Release), starts a mock OpenAI upstream, nginx (1 worker) proxying to
# it and the gateway (1 thread) routing to it, measures each of
#   direct  -> mock
#   nginx   -> mock   (the plain-reverse-proxy baseline)
#   gateway -> mock
# and prints a table plus PASS/MISS against the targets in bench/README.md.
#
# Environment:
#   BENCH_SKIP_GATEWAY=1   measure direct and nginx only (gateway not built or started)
#   BENCH_DURATION=10      seconds of each wrk throughput run
#   BENCH_REQUESTS=3000    sequential requests for the 1-connection latency and TTFB runs
#   BENCH_BUILD_DIR=...    build directory (default: build-bench at the repo root)
#   BENCH_GATEWAY_BIN=...  measure this gateway binary instead of building build-bench/tollgate
#   BENCH_IDLE_WAIT=30     seconds to wait for the CPUs to be < 20% busy before measuring
#   BENCH_RENICE=0         as root, do not raise the bench's priority (default: nice -20)
#   BENCH_KEEP=1           keep the temp dir (configs, logs) and print its path
#   BENCH_LEDGER_BIN=...   use this bench_ledger instead of building it
#   BENCH_DATABASE_URL=... the database of the "money" run (default: an SQLite file) and, when
#                          set, the ledger bench: rows/s recorded and shipped into it
# Exit status: 0 all targets met (or gateway skipped), 1 a target missed, 2 setup failed.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BENCH_BUILD_DIR:-$ROOT/build-bench}
DURATION=${BENCH_DURATION:-10}
REQUESTS=${BENCH_REQUESTS:-3000}
SKIP_GATEWAY=${BENCH_SKIP_GATEWAY:-0}
GATEWAY_BIN=${BENCH_GATEWAY_BIN:-}
IDLE_WAIT=${BENCH_IDLE_WAIT:-30}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tollgate-bench.XXXXXX")
PIDS=()

log() { printf '[bench] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 2; }

cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  if [[ "${BENCH_KEEP:-0}" == 1 ]]; then log "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for tool in cmake wrk nginx; do
  command -v "$tool" >/dev/null || die "$tool not found (scripts/setup.sh --bench installs it)"
done
NGINX=$(command -v nginx)

# ---------------------------------------------------------------- build
GEN=()
if [[ ! -f "$BUILD/CMakeCache.txt" ]] && command -v ninja >/dev/null; then GEN=(-G Ninja); fi
GATEWAY_STATUS=ok  # ok | skipped | "build failed" | "not serving"
if [[ "$SKIP_GATEWAY" == 1 ]]; then GATEWAY_STATUS=skipped; fi

log "configuring $BUILD (Release)"
if cmake -S "$ROOT" -B "$BUILD" "${GEN[@]}" -DCMAKE_BUILD_TYPE=Release -DTOLLGATE_BUILD_TESTS=OFF \
    >"$WORK/configure.log" 2>&1; then
  TOOLS=$BUILD/bench
  TOOLS_BUILD=$BUILD
else
  # The bench tools need only Boost; measure the baselines even while the repo does not configure.
  log "repo does not configure (tail of log below); building the bench tools on their own"
  tail -n 15 "$WORK/configure.log" >&2
  [[ "$GATEWAY_STATUS" == ok ]] && GATEWAY_STATUS="build failed"
  TOOLS_BUILD=$BUILD/bench-only
  TOOLS=$TOOLS_BUILD
  gen=()
  if [[ ! -f "$TOOLS_BUILD/CMakeCache.txt" ]] && command -v ninja >/dev/null; then gen=(-G Ninja); fi
  cmake -S "$ROOT/bench" -B "$TOOLS_BUILD" "${gen[@]}" -DCMAKE_BUILD_TYPE=Release \
    >"$WORK/configure-bench.log" 2>&1 || { cat "$WORK/configure-bench.log" >&2; die "bench tools do not configure"; }
fi
log "building bench tools"
cmake --build "$TOOLS_BUILD" -j "$(nproc)" --target bench_mock_upstream bench_ttfb >"$WORK/build-tools.log" 2>&1 \
  || { tail -n 40 "$WORK/build-tools.log" >&2; die "bench tools do not build"; }
if [[ -n "$GATEWAY_BIN" && "$GATEWAY_STATUS" != skipped ]]; then
  GATEWAY_STATUS=ok
elif [[ "$GATEWAY_STATUS" == ok ]]; then
  GATEWAY_BIN=$BUILD/tollgate
  log "building tollgate"
  if ! cmake --build "$BUILD" -j "$(nproc)" --target tollgate >"$WORK/build-gateway.log" 2>&1; then
    log "tollgate does not build (tail of log below); measuring the baselines only"
    grep -E 'error|Error' "$WORK/build-gateway.log" | head -n 20 >&2 || tail -n 20 "$WORK/build-gateway.log" >&2
    GATEWAY_STATUS="build failed"
  fi
fi
MOCK_BIN=$TOOLS/bench_mock_upstream
TTFB_BIN=$TOOLS/bench_ttfb

# ---------------------------------------------------------------- helpers
# A port nobody listens on, below the ephemeral range so client sockets cannot hold it.
free_port() {
  local p
  for _ in $(seq 100); do
    p=$((20000 + RANDOM % 12000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return 0; fi
  done
  return 1
}

# Waits until a non-streaming chat completion through PORT succeeds (or PID dies).
wait_serving() {
  local port=$1 pid=$2 name=$3
  for _ in $(seq 100); do
    kill -0 "$pid" 2>/dev/null || { log "$name exited"; return 1; }
    if "$TTFB_BIN" --port "$port" --requests 1 --warmup 0 >/dev/null 2>"$WORK/ready-$name.err"; then return 0; fi
    sleep 0.1
  done
  log "$name does not serve on port $port: $(tail -n 3 "$WORK/ready-$name.err")"
  return 1
}

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

# kv "a=1 b=2" b -> 2
kv() { tr ' ' '\n' <<<"$1" | awk -F= -v k="$2" '$1 == k {print $2}'; }
# errs "WRK ... non2xx=N sock_errors=M" -> N+M
errs() { local a b; a=$(kv "$1" non2xx); b=$(kv "$1" sock_errors); echo $(( ${a:-0} + ${b:-0} )); }

declare -A R  # R[target.metric]

declare -A PORT PID  # per target: port to load, process whose RSS is sampled

# throughput TARGET: fills R[TARGET.rps32], R[TARGET.err32]
throughput() {
  local t=$1 url="http://127.0.0.1:${PORT[$1]}/" out
  log "$t: throughput, 32 connections, 1s warm-up + ${DURATION}s"
  timeout 30 wrk -t1 -c32 -d1s -s "$ROOT/bench/chat.lua" "$url" >/dev/null 2>&1 || true
  out=$(timeout $((DURATION + 20)) wrk -t1 -c32 -d"${DURATION}s" --timeout 5s -s "$ROOT/bench/chat.lua" "$url" \
    | grep '^WRK') || out=""
  R[$t.rps32]=$(kv "$out" rps); R[$t.err32]=$(errs "$out")
}

# sequential TARGET ROUND [--stream]: one round of bench_ttfb; appends its percentiles to
# R[TARGET.<key>s] so that sequential_summary can take the median round.
sequential() {
  local t=$1 round=$2 out k v
  shift 2
  out=$(timeout 60 "$TTFB_BIN" "$@" --port "${PORT[$t]}" --requests $((REQUESTS / ROUNDS)) --warmup 100 \
    2>>"$WORK/ttfb-$t.err") || log "$t: sequential run $round $* had errors: $(tail -n 2 "$WORK/ttfb-$t.err")"
  for k in total_p50_us total_p99_us ttfb_p50_us ttfb_p99_us; do
    v=$(kv "$out" "$k")
    if [[ -n "$v" && "$v" != -1 ]]; then R[$t.$k$*]+="$v "; fi
  done
  return 0
}
median() { tr ' ' '\n' <<<"$1" | awk 'NF' | sort -n | awk '{v[NR] = $1} END {if (NR) print v[int((NR + 1) / 2)]}'; }

# rss128 TARGET: 128 connections for 5 s, sampling VmRSS of PID[TARGET]
rss128() {
  local t=$1 url="http://127.0.0.1:${PORT[$1]}/" pid=${PID[$1]} out max=0 r wpid
  log "$t: 128 connections, 5s, sampling RSS of pid $pid"
  R[$t.rss0]=$(rss_kb "$pid")
  timeout 30 wrk -t1 -c128 -d5s --timeout 5s -s "$ROOT/bench/chat.lua" "$url" >"$WORK/wrk128-$t.out" 2>&1 &
  wpid=$!
  PIDS+=("$wpid")
  while kill -0 "$wpid" 2>/dev/null; do
    r=$(rss_kb "$pid")
    if ((r > max)); then max=$r; fi
    sleep 0.25
  done
  wait "$wpid" || true
  out=$(grep '^WRK' "$WORK/wrk128-$t.out" || true)
  R[$t.rps128]=$(kv "$out" rps); R[$t.err128]=$(errs "$out")
  if ((max > 0)); then R[$t.rss128]=$max; fi
}

# Fraction of CPU busy over one second, in percent: the bench wants an otherwise idle machine.
cpu_busy() {
  local a b
  a=($(head -n 1 /proc/stat)); sleep 1; b=($(head -n 1 /proc/stat))
  awk -v u=$((b[1] + b[2] + b[3] + b[6] + b[7] - a[1] - a[2] - a[3] - a[6] - a[7])) \
      -v i=$((b[4] + b[5] - a[4] - a[5])) 'BEGIN { printf "%.0f", 100 * u / (u + i + 1e-9) }'
}

# As root, run everything below (servers and load generators alike) at a higher priority,
# so that a neighbour such as a compiler disturbs the comparison less.
PRIORITY=""
if [[ $(id -u) -eq 0 && "${BENCH_RENICE:-1}" == 1 ]] && renice -n -20 -p $$ >/dev/null 2>&1; then
  PRIORITY=", nice -20"
fi

# ---------------------------------------------------------------- mock upstream
"$MOCK_BIN" --port 0 >"$WORK/mock.out" 2>"$WORK/mock.err" &
MOCK_PID=$!
PIDS+=("$MOCK_PID")
for _ in $(seq 50); do grep -q '^listening' "$WORK/mock.out" 2>/dev/null && break; sleep 0.1; done
MOCK_PORT=$(sed -n 's/^listening 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$WORK/mock.out")
[[ -n "$MOCK_PORT" ]] || die "mock upstream did not start: $(cat "$WORK/mock.err")"
wait_serving "$MOCK_PORT" "$MOCK_PID" mock || die "mock upstream does not serve"
log "mock upstream on 127.0.0.1:$MOCK_PORT (pid $MOCK_PID)"

# ---------------------------------------------------------------- nginx
NGINX_PORT=$(free_port) || die "no free port"
mkdir -p "$WORK/nginx"
USER_LINE=""
# As root the master would hand workers to "nobody", who cannot enter our 0700 temp dir.
if [[ $(id -u) -eq 0 ]]; then USER_LINE="user $(id -un) $(id -gn);"; fi
cat >"$WORK/nginx/nginx.conf" <<EOF
$USER_LINE
worker_processes 1;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $WORK/nginx/body;
  proxy_temp_path $WORK/nginx/proxy;
  fastcgi_temp_path $WORK/nginx/fastcgi;
  uwsgi_temp_path $WORK/nginx/uwsgi;
  scgi_temp_path $WORK/nginx/scgi;
  keepalive_requests 1000000;
  keepalive_timeout 60s;
  upstream mock {
    server 127.0.0.1:$MOCK_PORT;
    keepalive 256;
    keepalive_requests 1000000;
  }
  server {
    listen 127.0.0.1:$NGINX_PORT;
    location / {
      proxy_pass http://mock;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
    }
  }
}
EOF
"$NGINX" -p "$WORK/nginx/" -c "$WORK/nginx/nginx.conf" -e "$WORK/nginx/error.log" -g 'daemon off;' \
  >"$WORK/nginx/stdout.log" 2>&1 &
NGINX_PID=$!
PIDS+=("$NGINX_PID")
wait_serving "$NGINX_PORT" "$NGINX_PID" nginx || { cat "$WORK/nginx/error.log" >&2; die "nginx does not serve"; }
NGINX_WORKER=$(pgrep -P "$NGINX_PID" | head -n 1)
log "nginx on 127.0.0.1:$NGINX_PORT (master $NGINX_PID, worker $NGINX_WORKER)"

# ---------------------------------------------------------------- gateway
GATEWAY_PID=""
if [[ "$GATEWAY_STATUS" == ok ]]; then
  GATEWAY_PORT=$(free_port) || die "no free port"
  cat >"$WORK/tollgate.yaml" <<EOF
server: {listen: "127.0.0.1:$GATEWAY_PORT", threads: 1}
logging: {level: warn}
providers:
  - {name: mock-upstream, type: openai_compatible, base_url: "http://127.0.0.1:$MOCK_PORT/v1", api_key: "bench"}
models:
  - name: bench-model
    deployments: [{provider: mock-upstream, model: bench-model}]
EOF
  "$GATEWAY_BIN" --config "$WORK/tollgate.yaml" >"$WORK/gateway.log" 2>&1 &
  GATEWAY_PID=$!
  PIDS+=("$GATEWAY_PID")
  if wait_serving "$GATEWAY_PORT" "$GATEWAY_PID" gateway; then
    log "gateway on 127.0.0.1:$GATEWAY_PORT (pid $GATEWAY_PID)"
  else
    log "gateway log tail:"; tail -n 20 "$WORK/gateway.log" >&2
    GATEWAY_STATUS="not serving"
  fi
fi

# ---------------------------------------------------------------- gateway with money on
# The same gateway with a master key, a database (BENCH_DATABASE_URL, default an
# SQLite file), and a virtual key with rate limits, a parallel limit and a team
# budget: every request is authenticated, rate-limited, reserves and settles a
# budget and writes a ledger row that ships to the database.
MONEY_STATUS=skipped
if [[ "$GATEWAY_STATUS" == ok ]]; then
  MONEY_PORT=$(free_port) || die "no free port"
  MONEY_DB=${BENCH_DATABASE_URL:-sqlite://$WORK/money.db}
  cat >"$WORK/money.yaml" <<EOF
server: {listen: "127.0.0.1:$MONEY_PORT", threads: 1}
logging: {level: warn}
master_key: "sk-bench-master-0123456789abcdef"
database: "$MONEY_DB"
ledger: {spool_dir: "$WORK/spool"}
providers:
  - {name: mock-upstream, type: openai_compatible, base_url: "http://127.0.0.1:$MOCK_PORT/v1", api_key: "bench"}
models:
  - name: bench-model
    deployments: [{provider: mock-upstream, model: bench-model}]
    price: {input_per_million: 1.0, output_per_million: 2.0}
EOF
  "$GATEWAY_BIN" --config "$WORK/money.yaml" >"$WORK/money.log" 2>&1 &
  MONEY_PID=$!
  PIDS+=("$MONEY_PID")
  M="Authorization: Bearer sk-bench-master-0123456789abcdef"
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$MONEY_PORT/health/readiness" >/dev/null && break; sleep 0.1; done
  TEAM=$(curl -sf "http://127.0.0.1:$MONEY_PORT/team/new" -H "$M" -d '{"team_alias":"bench","max_budget":1000000}' \
    | sed -n 's/.*"team_id":"\([^"]*\)".*/\1/p')
  BENCH_KEY=$(curl -sf "http://127.0.0.1:$MONEY_PORT/key/generate" -H "$M" \
    -d "{\"team_id\":\"$TEAM\",\"max_budget\":1000000,\"rpm_limit\":100000000,\"tpm_limit\":100000000000,\"max_parallel_requests\":100000}" \
    | sed -n 's/.*"key":"\(sk-[^"]*\)".*/\1/p')
  if [[ -n "$BENCH_KEY" ]]; then
    MONEY_STATUS=ok
    log "gateway with money on, on 127.0.0.1:$MONEY_PORT (pid $MONEY_PID, ${MONEY_DB%%:*})"
  else
    MONEY_STATUS="could not create a key"; tail -n 20 "$WORK/money.log" >&2
  fi
fi

# ---------------------------------------------------------------- measure
PORT[direct]=$MOCK_PORT; PID[direct]=$MOCK_PID
PORT[nginx]=$NGINX_PORT; PID[nginx]=$NGINX_WORKER
TARGETS=(direct nginx)
if [[ "$GATEWAY_STATUS" == ok ]]; then
  PORT[gateway]=$GATEWAY_PORT; PID[gateway]=$GATEWAY_PID
  TARGETS+=(gateway)
fi
# Wait a little for a quiet machine (say, a compiler finishing) before measuring.
BUSY=$(cpu_busy)
for _ in $(seq $((IDLE_WAIT / 2))); do
  ((BUSY > 20)) || break
  log "the machine is ${BUSY}% busy; waiting for it to quieten (BENCH_IDLE_WAIT=${IDLE_WAIT}s)"
  sleep 1; BUSY=$(cpu_busy)
done
if ((BUSY > 20)); then log "warning: the machine is ${BUSY}% busy before the bench; numbers will be noisy"; fi

for t in "${TARGETS[@]}"; do throughput "$t"; done
if [[ "$MONEY_STATUS" == ok ]]; then
  PORT[money]=$MONEY_PORT
  export BENCH_KEY
  throughput money
  export BENCH_KEY=""
fi
# Sequential runs alternate between targets, so that drift (CPU frequency, neighbours)
# spreads over all of them; each percentile reported is the median of the rounds.
ROUNDS=3
log "latency and streaming TTFB, 1 connection: $ROUNDS rounds of $((REQUESTS / ROUNDS)) requests per target"
for round in $(seq "$ROUNDS"); do
  for t in "${TARGETS[@]}"; do
    sequential "$t" "$round"
    sequential "$t" "$round" --stream
  done
done
for t in "${TARGETS[@]}"; do
  R[$t.p50]=$(median "${R[$t.total_p50_us]:-}"); R[$t.p99]=$(median "${R[$t.total_p99_us]:-}")
  R[$t.ttfb50]=$(median "${R[$t.ttfb_p50_us--stream]:-}"); R[$t.ttfb99]=$(median "${R[$t.ttfb_p99_us--stream]:-}")
  R[$t.stream50]=$(median "${R[$t.total_p50_us--stream]:-}")
done
for t in "${TARGETS[@]}"; do rss128 "$t"; done
if [[ "$GATEWAY_STATUS" == ok ]] && ! kill -0 "$GATEWAY_PID" 2>/dev/null; then
  GATEWAY_STATUS="crashed during the run"
fi

# ---------------------------------------------------------------- report
g() { local v=${R[$1]:-}; echo "${v:--}"; }
mb() { awk -v k="${R[$1]:-}" 'BEGIN { if (k == "") print "-"; else printf "%.1f MB", k / 1024 }'; }
{
  echo
  echo "Tollgate bench  $(date -u +%Y-%m-%dT%H:%MZ)  $(nproc) cores (${BUSY}% busy before start$PRIORITY)  wrk -t1 ${DURATION}s;" \
    "latency/TTFB: median of $ROUNDS rounds of $((REQUESTS / ROUNDS)) sequential requests"
  printf '%-8s | %9s | %9s | %9s | %10s | %10s | %10s | %9s | %9s | %s\n' \
    target rps@32 'p50@1 us' 'p99@1 us' 'ttfb p50' 'ttfb p99' 'stream p50' rps@128 'RSS@128' errors
  printf -- '---------+-----------+-----------+-----------+------------+------------+------------+-----------+-----------+-------\n'
  for t in "${TARGETS[@]}"; do
    printf '%-8s | %9s | %9s | %9s | %10s | %10s | %10s | %9s | %9s | %s\n' \
      "$t" "$(g "$t.rps32")" "$(g "$t.p50")" "$(g "$t.p99")" "$(g "$t.ttfb50")" "$(g "$t.ttfb99")" \
      "$(g "$t.stream50")" "$(g "$t.rps128")" "$(mb "$t.rss128")" "$(( ${R[$t.err32]:-0} + ${R[$t.err128]:-0} ))"
  done
  if [[ -n "${R[money.rps32]:-}" ]]; then
    printf '%-8s | %9s | (virtual key auth, rpm/tpm/parallel limits, key + team budgets, ledger rows to %s; %s errors)\n' \
      money "$(g money.rps32)" "${MONEY_DB%%:*}" "${R[money.err32]:-0}"
  fi
  echo "(latencies in microseconds; RSS@128: peak VmRSS while 128 connections are active;"
  echo " direct = the mock itself, nginx = its worker; errors = non-2xx + socket errors under wrk)"
  echo
} | tee "$WORK/table.txt"

# added TARGET METRIC: TARGET's METRIC minus direct's (empty if either is missing)
added() { [[ -n "${R[$1.$2]:-}" && -n "${R[direct.$2]:-}" ]] && echo $(( R[$1.$2] - R[direct.$2] )); }
# added_check NAME METRIC: gateway's added latency <= 2x nginx's
added_check() {
  local name=$1 m=$2 ga na
  ga=$(added gateway "$m") || true; na=$(added nginx "$m") || true
  if [[ -z "$ga" || -z "$na" ]]; then
    echo "MISS  $name: no gateway measurement"
  else
    printf '%-5s %s: gateway +%s us vs nginx +%s us = %s (target <= 2x)\n' \
      "$( ((ga <= 2 * na)) && echo PASS || echo MISS)" "$name" "$ga" "$na" \
      "$(awk -v g="$ga" -v n="$na" 'BEGIN { if (n > 0) printf "%.2fx", g / n; else print "n/a" }')"
  fi
}

# Ledger: sustained rows per second recorded and shipped into the database.
LEDGER_BIN=${BENCH_LEDGER_BIN:-$BUILD/bench/bench_ledger}
if [[ -n "${BENCH_DATABASE_URL:-}" ]] && { [[ -n "${BENCH_LEDGER_BIN:-}" ]] ||
     cmake --build "$BUILD" --target bench_ledger >"$WORK/build-ledger.log" 2>&1; }; then
  log "ledger: 100000 rows into ${BENCH_DATABASE_URL%%:*}"
  timeout 300 "$LEDGER_BIN" --url "$BENCH_DATABASE_URL" --rows 100000 --threads 4 --dir "$WORK/ledger" \
    2>&1 | tee -a "$WORK/table.txt" || true
fi

RC=0
if [[ "$GATEWAY_STATUS" == skipped ]]; then
  log "gateway skipped (BENCH_SKIP_GATEWAY=1); no targets checked"
else
  {
    if [[ "$GATEWAY_STATUS" != ok ]]; then echo "MISS  gateway: $GATEWAY_STATUS"; fi
    if [[ -n "${R[gateway.rps32]:-}" && -n "${R[nginx.rps32]:-}" ]]; then
      pct=$(awk -v g="${R[gateway.rps32]}" -v n="${R[nginx.rps32]}" 'BEGIN { printf "%.0f", 100 * g / n }')
      printf '%-5s throughput@32: gateway %s req/s = %s%% of nginx %s (target >= 70%%)\n' \
        "$( ((pct >= 70)) && echo PASS || echo MISS)" "${R[gateway.rps32]}" "$pct" "${R[nginx.rps32]}"
    else
      echo "MISS  throughput@32: no gateway measurement"
    fi
    added_check "added p50@1" p50
    added_check "added TTFB p50" ttfb50
    if [[ -n "${R[gateway.rss128]:-}" ]]; then
      printf '%-5s gateway RSS@128: %s (idle %s; target < 50 MB)\n' \
        "$( ((R[gateway.rss128] < 50 * 1024)) && echo PASS || echo MISS)" "$(mb gateway.rss128)" "$(mb gateway.rss0)"
    else
      echo "MISS  gateway RSS@128: no measurement"
    fi
    nerr=$(( ${R[gateway.err32]:-0} + ${R[gateway.err128]:-0} ))
    if ((nerr > 0)); then echo "MISS  gateway answered $nerr requests with errors under load"; fi
  } | tee -a "$WORK/table.txt"
  if grep -q '^MISS' "$WORK/table.txt"; then RC=1; fi
fi
cp "$WORK/table.txt" "$BUILD/bench-results.txt" 2>/dev/null || true
exit "$RC"
