#!/usr/bin/env bash
# Tollgate performance bench: one command, bounded, loopback only.
#
# Builds build-bench/ (Release), then measures, in one run and on one machine:
#   direct       -> mock                 (the upstream alone)
#   nginx        -> mock                 (a plain reverse proxy, 1 worker)
#   gateway      -> mock                 (a static key from the YAML, no database)
#   full-sqlite  -> mock                 (every policy on, embedded SQLite ledger)
#   full-pg      -> mock                 (every policy on, PostgreSQL ledger)
# "Every policy": a virtual key in a team, budgets on both, rpm/tpm/parallel limits,
# reservation and settlement, one spend row per request shipped to the database.
#
# Pinning (2 cores): nginx and every gateway run on CPU $BENCH_SERVER_CPU (default 0), the
# load generators (wrk, bench_ttfb), the mock upstream and PostgreSQL on the other CPUs. A
# proxy's whole cost (its worker, and for the gateway its ledger threads too) then lands on
# one core, as it would on a busy production host; unpinned, the extra work spreads over idle
# cores and the comparison flatters whoever does more of it.
#
# Columns: rps@32 (wrk -t1 -c32), p50/p99 at 1 connection, streaming TTFB, rps@128 with peak
# RSS, errors, and instructions per request counted by valgrind --tool=callgrind (one
# connection, counters zeroed after a warm-up, every thread of the process included). Then the
# ledger's own throughput (bench_ledger) into SQLite and PostgreSQL, and PASS/MISS per target.
#
# Environment:
#   BENCH_DURATION=10      seconds of each wrk throughput run
#   BENCH_REQUESTS=3000    sequential requests per target for the latency and TTFB runs
#   BENCH_CALLGRIND=400    requests counted under callgrind per target (0: skip)
#   BENCH_BUILD_DIR=...    build directory (default: build-bench at the repo root)
#   BENCH_GATEWAY_BIN=...  measure this gateway binary instead of building build-bench/tollgate
#   BENCH_DATABASE_URL=... PostgreSQL for full-pg and the ledger bench (default: the local
#                          cluster, started with scripts/lib/postgres.sh; "none" skips it)
#   BENCH_SERVER_CPU=0     the CPU for nginx and the gateways
#   BENCH_IDLE_WAIT=30     seconds to wait for the CPUs to be < 20% busy before measuring
#   BENCH_KEEP=1           keep the temp dir (configs, logs, callgrind files) and print its path
# Exit status: 0 all targets met, 1 a target missed, 2 setup failed.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BENCH_BUILD_DIR:-$ROOT/build-bench}
DURATION=${BENCH_DURATION:-10}
REQUESTS=${BENCH_REQUESTS:-3000}
CG_REQUESTS=${BENCH_CALLGRIND:-400}
GATEWAY_BIN=${BENCH_GATEWAY_BIN:-}
IDLE_WAIT=${BENCH_IDLE_WAIT:-30}
SERVER_CPU=${BENCH_SERVER_CPU:-0}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tollgate-bench.XXXXXX")
PIDS=()
PG_PINNED=()

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
  for pid in "${PG_PINNED[@]}"; do taskset -a -cp "0-$(($(nproc) - 1))" "$pid" >/dev/null 2>&1 || true; done
  if [[ "${BENCH_KEEP:-0}" == 1 ]]; then log "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for tool in cmake wrk nginx taskset valgrind callgrind_control curl; do
  command -v "$tool" >/dev/null || die "$tool not found (scripts/setup.sh --bench installs it)"
done
NGINX=$(command -v nginx)
NCPU=$(nproc)
((NCPU >= 2)) || die "the bench pins servers and load to different CPUs: it needs at least 2"
LOAD_CPUS=$(seq -s, 0 $((NCPU - 1)) | tr ',' '\n' | grep -vx "$SERVER_CPU" | paste -sd,)
# Prefixes, not functions: a function run with & is a subshell, and its pid not the server's.
ON_SERVER=(taskset -c "$SERVER_CPU")
ON_LOAD=(taskset -c "$LOAD_CPUS")

# ---------------------------------------------------------------- build
GEN=()
if [[ ! -f "$BUILD/CMakeCache.txt" ]] && command -v ninja >/dev/null; then GEN=(-G Ninja); fi
log "configuring and building $BUILD (Release)"
cmake -S "$ROOT" -B "$BUILD" "${GEN[@]}" -DCMAKE_BUILD_TYPE=Release -DTOLLGATE_BUILD_TESTS=OFF \
  >"$WORK/configure.log" 2>&1 || { tail -n 30 "$WORK/configure.log" >&2; die "cmake failed"; }
targets=(bench_mock_upstream bench_ttfb bench_ledger)
[[ -n "$GATEWAY_BIN" ]] || targets+=(tollgate)
cmake --build "$BUILD" -j "$NCPU" --target "${targets[@]}" >"$WORK/build.log" 2>&1 \
  || { grep -E 'error' "$WORK/build.log" | head -n 20 >&2; die "build failed"; }
GATEWAY_BIN=${GATEWAY_BIN:-$BUILD/tollgate}
MOCK_BIN=$BUILD/bench/bench_mock_upstream
TTFB_BIN=$BUILD/bench/bench_ttfb
LEDGER_BIN=$BUILD/bench/bench_ledger

# ---------------------------------------------------------------- PostgreSQL
PG_URL=${BENCH_DATABASE_URL:-}
if [[ -z "$PG_URL" ]]; then
  if command -v pg_lsclusters >/dev/null; then
    # shellcheck source=../scripts/lib/postgres.sh
    source "$ROOT/scripts/lib/postgres.sh"
    start_postgres tollgate_bench fresh >/dev/null 2>"$WORK/postgres.log" && PG_URL=$TOLLGATE_TEST_PG_URL \
      || log "PostgreSQL did not start ($(tail -n 1 "$WORK/postgres.log")); full-pg skipped"
  else
    log "no PostgreSQL installed (scripts/setup.sh --test installs it); full-pg skipped"
  fi
fi
[[ "$PG_URL" == none ]] && PG_URL=""
if [[ -n "$PG_URL" ]]; then
  # PostgreSQL is the database host: it runs on the load side, never on the server CPU.
  for pid in $(pgrep -x postgres || true); do
    taskset -a -cp "$LOAD_CPUS" "$pid" >/dev/null 2>&1 && PG_PINNED+=("$pid")
  done
fi

# ---------------------------------------------------------------- helpers
free_port() {
  local p
  for _ in $(seq 100); do
    p=$((20000 + RANDOM % 12000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return 0; fi
  done
  return 1
}

# wait_serving PORT PID NAME [KEY]: until a chat completion through PORT succeeds.
wait_serving() {
  local port=$1 pid=$2 name=$3 key=${4:-}
  local args=(--port "$port" --requests 1 --warmup 0)
  [[ -n "$key" ]] && args+=(--key "$key")
  for _ in $(seq 600); do
    kill -0 "$pid" 2>/dev/null || { log "$name exited"; return 1; }
    if "$TTFB_BIN" "${args[@]}" >/dev/null 2>"$WORK/ready-$name.err"; then return 0; fi
    sleep 0.1
  done
  log "$name does not serve on port $port: $(tail -n 3 "$WORK/ready-$name.err")"
  return 1
}

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
kv() { tr ' ' '\n' <<<"$1" | awk -F= -v k="$2" '$1 == k {print $2}'; }
errs() { local a b; a=$(kv "$1" non2xx); b=$(kv "$1" sock_errors); echo $(( ${a:-0} + ${b:-0} )); }
median() { tr ' ' '\n' <<<"$1" | awk 'NF' | sort -n | awk '{v[NR] = $1} END {if (NR) print v[int((NR + 1) / 2)]}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }

declare -A R PORT PID KEY

throughput() {
  local t=$1 url="http://127.0.0.1:${PORT[$1]}/" out
  log "$t: throughput, 32 connections, 1s warm-up + ${DURATION}s"
  env BENCH_KEY="${KEY[$t]:-}" "${ON_LOAD[@]}" timeout 30 wrk -t1 -c32 -d1s -s "$ROOT/bench/chat.lua" "$url" >/dev/null 2>&1 || true
  out=$(env BENCH_KEY="${KEY[$t]:-}" "${ON_LOAD[@]}" timeout $((DURATION + 20)) wrk -t1 -c32 -d"${DURATION}s" --timeout 5s \
    -s "$ROOT/bench/chat.lua" "$url" | grep '^WRK') || out=""
  R[$t.rps32]=$(kv "$out" rps); R[$t.err32]=$(errs "$out"); R[$t.req32]=$(kv "$out" requests)
}

sequential() {
  local t=$1 out k v args=()
  shift
  [[ -n "${KEY[$t]:-}" ]] && args+=(--key "${KEY[$t]}")
  out=$("${ON_LOAD[@]}" timeout 120 "$TTFB_BIN" "$@" "${args[@]}" --port "${PORT[$t]}" --requests $((REQUESTS / ROUNDS)) \
    --warmup 100 2>>"$WORK/ttfb-$t.err") || log "$t: sequential run $* had errors: $(tail -n 2 "$WORK/ttfb-$t.err")"
  for k in total_p50_us total_p99_us ttfb_p50_us; do
    v=$(kv "$out" "$k")
    if [[ -n "$v" && "$v" != -1 ]]; then R[$t.$k$*]+="$v "; fi
  done
}

rss128() {
  local t=$1 url="http://127.0.0.1:${PORT[$1]}/" pid=${PID[$1]} out max=0 r wpid
  log "$t: 128 connections, 5s, sampling RSS of pid $pid"
  env BENCH_KEY="${KEY[$t]:-}" "${ON_LOAD[@]}" timeout 30 wrk -t1 -c128 -d5s --timeout 5s -s "$ROOT/bench/chat.lua" "$url" \
    >"$WORK/wrk128-$t.out" 2>&1 &
  wpid=$!
  PIDS+=("$wpid")
  while kill -0 "$wpid" 2>/dev/null; do
    r=$(rss_kb "$pid")
    if ((r > max)); then max=$r; fi
    sleep 0.25
  done
  wait "$wpid" || true
  out=$(grep '^WRK' "$WORK/wrk128-$t.out" || true)
  R[$t.rps128]=$(kv "$out" rps); R[$t.err128]=$(errs "$out"); R[$t.req128]=$(kv "$out" requests)
  if ((max > 0)); then R[$t.rss128]=$max; fi
}

cpu_busy() {
  local a b
  a=($(head -n 1 /proc/stat)); sleep 1; b=($(head -n 1 /proc/stat))
  awk -v u=$((b[1] + b[2] + b[3] + b[6] + b[7] - a[1] - a[2] - a[3] - a[6] - a[7])) \
      -v i=$((b[4] + b[5] - a[4] - a[5])) 'BEGIN { printf "%.0f", 100 * u / (u + i + 1e-9) }'
}

# ---------------------------------------------------------------- servers
# A gateway config: gateway_yaml NAME PORT [DATABASE_URL]. Without a database: one static key.
gateway_yaml() {
  local name=$1 port=$2 db=${3:-}
  cat <<EOF
server: {listen: "127.0.0.1:$port", threads: 1}
logging: {level: warn}
providers:
  - {name: mock-upstream, type: openai_compatible, base_url: "http://127.0.0.1:$MOCK_PORT/v1", api_key: "bench"}
models:
  - name: bench-model
    deployments: [{provider: mock-upstream, model: bench-model}]
    price: {input_per_million: 1.0, output_per_million: 2.0}
EOF
  if [[ -z "$db" ]]; then
    echo 'keys: [{name: bench, key: "sk-bench-static-0123456789abcdef"}]'
  else
    cat <<EOF
master_key: "sk-bench-master-0123456789abcdef"
database: "$db"
ledger: {spool_dir: "$WORK/spool-$name"}
EOF
  fi
}

# start_gateway NAME [DATABASE_URL] [WRAPPER...]: starts a pinned gateway, sets PORT/PID/KEY.
start_gateway() {
  local name=$1 db=${2:-} port pid
  shift 2 || shift $#
  port=$(free_port) || die "no free port"
  gateway_yaml "$name" "$port" "$db" >"$WORK/$name.yaml"
  "${ON_SERVER[@]}" "$@" "$GATEWAY_BIN" --config "$WORK/$name.yaml" >"$WORK/$name.log" 2>&1 &
  pid=$!
  PIDS+=("$pid")
  PORT[$name]=$port; PID[$name]=$pid
  if [[ -z "$db" ]]; then
    KEY[$name]=sk-bench-static-0123456789abcdef
  else
    local m="Authorization: Bearer sk-bench-master-0123456789abcdef" team
    for _ in $(seq 600); do curl -sf "http://127.0.0.1:$port/health/readiness" >/dev/null && break; sleep 0.1; done
    team=$(curl -sf "http://127.0.0.1:$port/team/new" -H "$m" \
      -d '{"team_alias":"bench","max_budget":1000000,"budget_duration":"30d"}' | sed -n 's/.*"team_id":"\([^"]*\)".*/\1/p')
    KEY[$name]=$(curl -sf "http://127.0.0.1:$port/key/generate" -H "$m" \
      -d "{\"team_id\":\"$team\",\"max_budget\":1000000,\"budget_duration\":\"30d\",\"rpm_limit\":100000000,\"tpm_limit\":100000000000,\"max_parallel_requests\":100000}" \
      | sed -n 's/.*"key":"\(sk-[^"]*\)".*/\1/p')
    [[ -n "${KEY[$name]}" ]] || { tail -n 20 "$WORK/$name.log" >&2; return 1; }
  fi
  wait_serving "$port" "$pid" "$name" "${KEY[$name]}" || { tail -n 20 "$WORK/$name.log" >&2; return 1; }
  log "$name on 127.0.0.1:$port (pid $pid${db:+, ${db%%:*}})"
}

# rows_check NAME: every request the gateway answered has its spend row in the database.
rows_check() {
  local t=$1 port=${PORT[$1]} m="Authorization: Bearer sk-bench-master-0123456789abcdef" served rows pending
  for _ in $(seq 300); do
    pending=$(curl -sf "http://127.0.0.1:$port/metrics" -H "$m" | awk '$1 == "tollgate_ledger_pending_rows" {print $2}')
    [[ "${pending:-1}" == 0 ]] && break
    sleep 0.2
  done
  served=$(curl -sf "http://127.0.0.1:$port/metrics" -H "$m" \
    | awk '/^tollgate_requests_total\{model="bench-model"/ {s += $2} END {printf "%d", s}')
  rows=$(curl -sf "http://127.0.0.1:$port/spend/report?group_by=model" -H "$m" \
    | grep -o '"requests":[0-9]*' | awk -F: '{s += $2} END {printf "%d", s}')
  R[$t.served]=$served; R[$t.rows]=$rows
}

# instructions NAME PORT KEY CMD...: instructions per request of CMD (a server started here
# under callgrind), counted over CG_REQUESTS sequential requests after 100 of warm-up.
instructions() {
  local name=$1 port=$2 key=$3 pid out
  shift 3
  valgrind --tool=callgrind --callgrind-out-file="$WORK/cg-$name.%p" --dump-instr=no --trace-children=no \
    "$@" >"$WORK/cg-$name.log" 2>&1 &
  pid=$!
  PIDS+=("$pid")
  if ! wait_serving "$port" "$pid" "cg-$name" "$key"; then tail -n 10 "$WORK/cg-$name.log" >&2; return 1; fi
  local args=(--port "$port" --warmup 0)
  [[ -n "$key" ]] && args+=(--key "$key")
  "${ON_LOAD[@]}" "$TTFB_BIN" "${args[@]}" --requests 100 >/dev/null 2>&1 || true
  callgrind_control --zero "$pid" >/dev/null 2>&1
  "${ON_LOAD[@]}" "$TTFB_BIN" "${args[@]}" --requests "$CG_REQUESTS" >/dev/null 2>>"$WORK/cg-$name.err" || true
  callgrind_control --dump="measured" "$pid" >/dev/null 2>&1
  sleep 1
  out=$(grep -h '^summary:' "$WORK"/cg-"$name".*.[0-9]* 2>/dev/null | awk '{print $2}' | sort -n | tail -n 1)
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  [[ -n "$out" ]] && R[$name.instr]=$((out / CG_REQUESTS))
}

PRIORITY=""
if [[ $(id -u) -eq 0 ]] && renice -n -20 -p $$ >/dev/null 2>&1; then PRIORITY=", nice -20"; fi

# Mock upstream (load side).
"${ON_LOAD[@]}" "$MOCK_BIN" --port 0 >"$WORK/mock.out" 2>"$WORK/mock.err" &
MOCK_PID=$!
PIDS+=("$MOCK_PID")
for _ in $(seq 50); do grep -q '^listening' "$WORK/mock.out" 2>/dev/null && break; sleep 0.1; done
MOCK_PORT=$(sed -n 's/^listening 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$WORK/mock.out")
[[ -n "$MOCK_PORT" ]] || die "mock upstream did not start: $(cat "$WORK/mock.err")"
wait_serving "$MOCK_PORT" "$MOCK_PID" mock || die "mock upstream does not serve"
PORT[direct]=$MOCK_PORT; PID[direct]=$MOCK_PID

# nginx (server side): 1 worker, upstream keep-alive, no buffering.
nginx_conf() {
  local port=$1 dir=$2 extra=$3 user_line=""
  # As root the master would hand workers to "nobody", who cannot enter our 0700 temp dir.
  if [[ $(id -u) -eq 0 ]]; then user_line="user $(id -un) $(id -gn);"; fi
  mkdir -p "$dir"
  cat >"$dir/nginx.conf" <<EOF
$user_line
$extra
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $dir/body;
  proxy_temp_path $dir/proxy;
  fastcgi_temp_path $dir/fastcgi;
  uwsgi_temp_path $dir/uwsgi;
  scgi_temp_path $dir/scgi;
  keepalive_requests 1000000;
  keepalive_timeout 60s;
  upstream mock {
    server 127.0.0.1:$MOCK_PORT;
    keepalive 256;
    keepalive_requests 1000000;
  }
  server {
    listen 127.0.0.1:$port;
    location / {
      proxy_pass http://mock;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
    }
  }
}
EOF
}
NGINX_PORT=$(free_port) || die "no free port"
nginx_conf "$NGINX_PORT" "$WORK/nginx" ""
"${ON_SERVER[@]}" "$NGINX" -p "$WORK/nginx/" -c "$WORK/nginx/nginx.conf" -e "$WORK/nginx/error.log" -g 'daemon off;' \
  >"$WORK/nginx/stdout.log" 2>&1 &
NGINX_PID=$!
PIDS+=("$NGINX_PID")
wait_serving "$NGINX_PORT" "$NGINX_PID" nginx || { cat "$WORK/nginx/error.log" >&2; die "nginx does not serve"; }
PORT[nginx]=$NGINX_PORT; PID[nginx]=$(pgrep -P "$NGINX_PID" | head -n 1)

TARGETS=(direct nginx)
start_gateway gateway "" && TARGETS+=(gateway) || log "gateway did not start"
start_gateway full-sqlite "sqlite://$WORK/full.db" && TARGETS+=(full-sqlite) || log "full-sqlite did not start"
if [[ -n "$PG_URL" ]]; then
  start_gateway full-pg "$PG_URL" && TARGETS+=(full-pg) || log "full-pg did not start"
fi

# ---------------------------------------------------------------- measure
BUSY=$(cpu_busy)
for _ in $(seq $((IDLE_WAIT / 2))); do
  ((BUSY > 20)) || break
  log "the machine is ${BUSY}% busy; waiting for it to quieten (BENCH_IDLE_WAIT=${IDLE_WAIT}s)"
  sleep 1; BUSY=$(cpu_busy)
done
if ((BUSY > 20)); then log "warning: the machine is ${BUSY}% busy before the bench; numbers will be noisy"; fi

for t in "${TARGETS[@]}"; do throughput "$t"; done
ROUNDS=3
log "latency and streaming TTFB, 1 connection: $ROUNDS rounds of $((REQUESTS / ROUNDS)) requests per target"
for round in $(seq "$ROUNDS"); do
  for t in "${TARGETS[@]}"; do
    sequential "$t"
    sequential "$t" --stream
  done
done
for t in "${TARGETS[@]}"; do
  R[$t.p50]=$(median "${R[$t.total_p50_us]:-}"); R[$t.p99]=$(median "${R[$t.total_p99_us]:-}")
  R[$t.ttfb50]=$(median "${R[$t.ttfb_p50_us--stream]:-}")
done
for t in "${TARGETS[@]}"; do rss128 "$t"; done
for t in full-sqlite full-pg; do
  [[ " ${TARGETS[*]} " == *" $t "* ]] && rows_check "$t"
done
for t in gateway full-sqlite full-pg; do
  if [[ " ${TARGETS[*]} " == *" $t "* ]] && ! kill -0 "${PID[$t]}" 2>/dev/null; then R[$t.crashed]=1; fi
done

# Instructions per request: each server again, alone, under callgrind.
if ((CG_REQUESTS > 0)); then
  log "instructions per request (callgrind, $CG_REQUESTS requests after 100 of warm-up)"
  p=$(free_port); nginx_conf "$p" "$WORK/nginx-cg" "master_process off; daemon off;"
  instructions nginx "$p" "" "$NGINX" -p "$WORK/nginx-cg/" -c "$WORK/nginx-cg/nginx.conf" -e "$WORK/nginx-cg/error.log" \
    || log "nginx under callgrind failed"
  for t in gateway full-sqlite; do
    [[ " ${TARGETS[*]} " == *" $t "* ]] || continue
    p=$(free_port)
    sed "s/127.0.0.1:${PORT[$t]}/127.0.0.1:$p/; s#spool-$t#spool-cg-$t#" "$WORK/$t.yaml" >"$WORK/cg-$t.yaml"
    instructions "$t" "$p" "${KEY[$t]}" "$GATEWAY_BIN" --config "$WORK/cg-$t.yaml" || log "$t under callgrind failed"
  done
fi

# The ledger alone: rows/s recorded, made durable and shipped, into each database.
LEDGER_ROWS=100000
for db in sqlite pg; do
  url=""
  [[ $db == sqlite ]] && url="sqlite://$WORK/ledger.db"
  [[ $db == pg && -n "$PG_URL" ]] && url=$PG_URL
  [[ -n "$url" ]] || continue
  log "ledger: $LEDGER_ROWS rows into $db"
  out=$("${ON_SERVER[@]}" timeout 300 "$LEDGER_BIN" --url "$url" --rows "$LEDGER_ROWS" --threads 1 --dir "$WORK/ledger-$db" 2>&1 \
    | grep '^rows=' || true)
  R[ledger-$db.shipped]=$(kv "$out" shipped_rows_per_s | cut -d. -f1)
  R[ledger-$db.recorded]=$(kv "$out" record_rows_per_s | cut -d. -f1)
done

# ---------------------------------------------------------------- report
g() { local v=${R[$1]:-}; echo "${v:--}"; }
mb() { awk -v k="${R[$1]:-}" 'BEGIN { if (k == "") print "-"; else printf "%.1f MB", k / 1024 }'; }
added() { [[ -n "${R[$1.$2]:-}" && -n "${R[direct.$2]:-}" ]] && echo $(( R[$1.$2] - R[direct.$2] )); }
{
  echo
  echo "Tollgate bench  $(date -u +%Y-%m-%dT%H:%MZ)  $NCPU cores, servers on CPU $SERVER_CPU, load + mock +" \
    "database on CPU $LOAD_CPUS (${BUSY}% busy before start$PRIORITY)"
  echo "wrk -t1 ${DURATION}s; latency/TTFB: median of $ROUNDS rounds of $((REQUESTS / ROUNDS)) sequential requests;" \
    "instr/req: callgrind over $CG_REQUESTS requests"
  printf '%-11s | %8s | %6s | %8s | %8s | %9s | %9s | %8s | %9s | %6s | %9s\n' \
    target rps@32 'x nginx' 'p50@1 us' '+p50 us' 'ttfb p50' '+ttfb us' rps@128 'RSS@128' errors 'instr/req'
  printf -- '------------+----------+--------+----------+----------+-----------+-----------+----------+-----------+--------+----------\n'
  for t in "${TARGETS[@]}"; do
    printf '%-11s | %8s | %6s | %8s | %8s | %9s | %9s | %8s | %9s | %6s | %9s\n' \
      "$t" "$(g "$t.rps32")" "$(ratio "${R[$t.rps32]:-0}" "${R[nginx.rps32]:-0}")" "$(g "$t.p50")" \
      "$(added "$t" p50 || echo -)" "$(g "$t.ttfb50")" "$(added "$t" ttfb50 || echo -)" "$(g "$t.rps128")" \
      "$(mb "$t.rss128")" "$(( ${R[$t.err32]:-0} + ${R[$t.err128]:-0} ))" "$(g "$t.instr")"
  done
  for t in full-sqlite full-pg; do
    [[ -n "${R[$t.rows]:-}" ]] && echo "$t: ${R[$t.served]} requests answered, ${R[$t.rows]} spend rows in the database"
  done
  for db in sqlite pg; do
    [[ -n "${R[ledger-$db.shipped]:-}" ]] && echo "ledger into $db: ${R[ledger-$db.recorded]} rows/s recorded, ${R[ledger-$db.shipped]} rows/s shipped (bench_ledger, $LEDGER_ROWS rows)"
  done
  echo
} | tee "$WORK/table.txt"

# ---------------------------------------------------------------- targets
check() {  # check OK TEXT
  printf '%-5s %s\n' "$( [[ $1 == 1 ]] && echo PASS || echo MISS)" "$2"
}
ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 >= b + 0) }' && echo 1 || echo 0; }
{
  n=${R[nginx.rps32]:-0}
  for t in gateway full-sqlite full-pg; do
    want=0.60; [[ $t == gateway ]] && want=0.70
    if [[ -z "${R[$t.rps32]:-}" ]]; then
      [[ $t == full-pg && -z "$PG_URL" ]] && continue
      check 0 "$t: no measurement"; continue
    fi
    check "$(ge "${R[$t.rps32]}" "$(awk -v n="$n" -v w="$want" 'BEGIN {print n * w}')")" \
      "$t rps@32 ${R[$t.rps32]} = $(ratio "${R[$t.rps32]}" "$n") x nginx $n (target >= $want)"
    e=$(( ${R[$t.err32]:-0} + ${R[$t.err128]:-0} ))
    check "$( ((e == 0)) && ! [[ -n "${R[$t.crashed]:-}" ]] && echo 1 || echo 0)" "$t: $e errors under load${R[$t.crashed]:+, crashed}"
  done
  for t in gateway full-sqlite full-pg; do
    [[ -n "${R[$t.p50]:-}" ]] || continue
    ga=$(added "$t" p50); na=$(added nginx p50)
    check "$( ((ga <= 2 * na)) && echo 1 || echo 0)" "$t added p50@1 +$ga us vs nginx +$na us = $(ratio "$ga" "$na") x (target <= 2)"
    ga=$(added "$t" ttfb50); na=$(added nginx ttfb50)
    check "$( ((ga <= 2 * na)) && echo 1 || echo 0)" "$t added streaming TTFB +$ga us vs nginx +$na us = $(ratio "$ga" "$na") x (target <= 2)"
  done
  if [[ -n "${R[full-sqlite.instr]:-}" && -n "${R[nginx.instr]:-}" ]]; then
    check "$( ((R[full-sqlite.instr] <= 3 * R[nginx.instr])) && echo 1 || echo 0)" \
      "full policy: ${R[full-sqlite.instr]} instructions/request = $(ratio "${R[full-sqlite.instr]}" "${R[nginx.instr]}") x nginx ${R[nginx.instr]} (target <= 3)"
  elif ((CG_REQUESTS > 0)); then
    check 0 "instructions per request: no measurement"
  fi
  for t in full-sqlite full-pg; do
    [[ -n "${R[$t.rows]:-}" ]] || continue
    check "$( ((R[$t.rows] == R[$t.served] && R[$t.served] > 0)) && echo 1 || echo 0)" \
      "$t: ${R[$t.rows]} rows for ${R[$t.served]} requests"
  done
  for db in sqlite pg; do
    [[ -n "${R[ledger-$db.shipped]:-}" ]] || continue
    check "$(ge "${R[ledger-$db.shipped]}" 50000)" "ledger ships ${R[ledger-$db.shipped]} rows/s into $db (target >= 50000)"
  done
  for t in gateway full-sqlite full-pg; do
    [[ -n "${R[$t.rss128]:-}" ]] || continue
    check "$( ((R[$t.rss128] < 50 * 1024)) && echo 1 || echo 0)" "$t RSS@128 $(mb "$t.rss128") (target < 50 MB)"
  done
} | tee -a "$WORK/table.txt"
cp "$WORK/table.txt" "$BUILD/bench-results.txt" 2>/dev/null || true
grep -q '^MISS' "$WORK/table.txt" && exit 1
exit 0
