# Sourced by scripts/test.sh and bench/run.sh: start_postgres makes sure a local
# PostgreSQL cluster runs (Debian's pg_createcluster/pg_ctlcluster; they drop to the
# postgres user when run as root), creates the role `tollgate` and the database
# named by $1 (default tollgate_test) idempotently, and exports TOLLGATE_TEST_PG_URL.
# With $2 = fresh the database is dropped and created anew (the bench counts its rows).
start_postgres() {
  local db="${1:-tollgate_test}"
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
  if [[ "${2:-}" == fresh ]]; then "${psql[@]}" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null; fi
  if [[ -z "$("${psql[@]}" -c "SELECT 1 FROM pg_database WHERE datname = '$db'")" ]]; then
    "${psql[@]}" -c "CREATE DATABASE $db OWNER tollgate" >/dev/null
  fi
  export TOLLGATE_TEST_PG_URL="postgresql://tollgate:tollgate@127.0.0.1:${port}/$db"
  echo "== PostgreSQL $ver/$name on port $port; TOLLGATE_TEST_PG_URL set" >&2
}
