#!/usr/bin/env bash
# benches/http/sql_pg.sh — the HTTP benchmark of benches/http/run.sh on the PostgreSQL
# store: same routes (/read, /incr, /hello with a session cookie), same wrk
# settings, plus statements per request.
#
#   bash benches/http/sql_pg.sh
#
# Uses its own database (afs_bench, created if missing) on the PostgreSQL server at
# PG_URL (default postgresql://root@127.0.0.1:5432). Statements per request = the
# database's xact_commit delta (pg_stat_database; every statement of the store runs in
# autocommit, one transaction each) divided by the requests wrk completed; the two
# counter reads of this script are subtracted. pg_stat_statements needs a server
# restart (shared_preload_libraries), which a shared server does not allow.
#
# Knobs: ROUNDS=3 DURATION=10s CONNECTIONS=64 THREADS=2 SERVER_CPU=0 WRK_CPU=1
#        PORT=8093 PG_URL=... BENCH_TARGET_DIR=<target dir>
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/common.sh"
PORT=${PORT:-8093}
PG_URL=${PG_URL:-postgresql://root@127.0.0.1:5432}
DB=afs_bench

command -v wrk >/dev/null || apt-get install -y wrk >/dev/null
psql "$PG_URL/postgres" -Atqc "SELECT 1 FROM pg_database WHERE datname = '$DB'" | grep -q 1 \
  || psql "$PG_URL/postgres" -qc "CREATE DATABASE $DB"

echo "building release binary (CARGO_TARGET_DIR=$CARGO_TARGET_DIR)" >&2
cargo build --release --quiet --manifest-path "$HERE/server/Cargo.toml" --features sql --bin afs-sql
taskset -c "$SERVER_CPU" "$CARGO_TARGET_DIR/release/afs-sql" "$PORT" "$PG_URL/$DB?sslmode=disable" &
PIDS+=($!)
until curl -fs "http://127.0.0.1:$PORT/hello" >/dev/null; do sleep 0.05; done
COOKIE=$(curl -fsi "http://127.0.0.1:$PORT/incr" | tr -d '\r' | sed -n 's/^[Ss]et-[Cc]ookie: \(session=[^;]*\).*/\1/p')

commits() { psql "$PG_URL/$DB" -Atqc "SELECT xact_commit FROM pg_stat_database WHERE datname = '$DB'"; }

printf '| route | req/s (median of %s) | p50 | p99 | statements/request | non-2xx |\n|---|---|---|---|---|---|\n' "$ROUNDS"
for route in read incr hello; do
  rates=(); p50s=(); p99s=(); spr=(); bad=0
  for _ in $(seq "$ROUNDS"); do
    before=$(commits)
    out=$(taskset -c "$WRK_CPU" wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency \
          -H "Cookie: $COOKIE" "http://127.0.0.1:$PORT/$route")
    # An idle backend flushes its counters within PGSTAT_IDLE_INTERVAL (10 s, PG 15).
    sleep 11
    after=$(commits)
    reqs=$(awk '/requests in/ {print $1}' <<<"$out")
    rates+=("$(awk '/Requests\/sec/ {print $2}' <<<"$out")")
    p50s+=("$(awk '$1=="50%" {print $2}' <<<"$out")")
    p99s+=("$(awk '$1=="99%" {print $2}' <<<"$out")")
    # 1 commit per counter read (the "before" read is counted in "after").
    spr+=("$(awk -v a="$after" -v b="$before" -v r="$reqs" 'BEGIN{printf "%.3f", (a-b-1)/r}')")
    non2xx=$(awk '/Non-2xx/ {print $5}' <<<"$out" | head -1)
    bad=$((bad + ${non2xx:-0}))
  done
  median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }
  printf '| /%s | %s | %s | %s | %s | %s |\n' "$route" "$(median "${rates[@]}")" \
    "$(median "${p50s[@]}")" "$(median "${p99s[@]}")" "$(median "${spr[@]}")" "$bad"
done
