#!/usr/bin/env bash
# benches/http/population.sh — how cost grows with the number of stored sessions: `/read`
# against a near-empty store and against a full one, side by side, on Redis, PostgreSQL and
# the filesystem store; and the SQL store's `delete_expired` over a million expired rows,
# alone and under `/read` load.
#
#   bash benches/http/population.sh
#
# Each store runs twice, as two servers of this crate (one actix worker each, pinned to
# core SERVER_CPU; wrk on core WRK_CPU): one whose store holds only the ACTIVE sessions
# that wrk cycles through (`sessions.lua`), one whose store holds the same ACTIVE sessions
# plus POPULATION others (FS_POPULATION for files). Rounds interleave the two (round 1 of
# every store, near-empty then full, then round 2, ...), so both see the same machine.
#   redis: two private redis-servers (REDIS_PORT, REDIS_PORT+1), sessions written with
#          `redis-cli --pipe` (growth_seed.py), server `afs`;
#   pg:    two tables of the crate's layout (its migration) in database PG_DB, rows written
#          with one INSERT ... SELECT generate_series each, then ANALYZE; server
#          `growth serve-sql` (the `afs-sql` peer on a named table);
#   fs:    two directories of FileSystemStore, threshold off (AFS_THRESHOLD=0), files
#          written by the store's own `create` (`growth fs-seed`); server `afs-embedded`.
# Every session is {"_permanent": true, "n": 1} (16 bytes); SESSION_REFRESH_EACH_REQUEST
# on (Flask-Session's default), so `/read` is GETEX on Redis, one UPDATE ... RETURNING on
# PostgreSQL, a read (and a header write at most once a second) on files.
#
#   sweep: a third table holding the ACTIVE sessions and EXPIRED expired rows. Per round:
#          load the expired rows (+ VACUUM ANALYZE); `/read` for DURATION with no sweep;
#          `/read` while `growth sweep` runs `SessionStore::delete_expired` (wrk starts
#          first and is stopped when the sweep returns: its whole run overlaps the sweep);
#          load the rows again and time the sweep with no load. The sweep is a separate
#          process, as `actix-flask-session cleanup` from cron is; the app's own background
#          sweep (SESSION_CLEANUP_N_REQUESTS) sends the same statements.
#
# Everything it creates is removed on exit (servers, Redis, directories, its tables).
#
# Knobs: ROUNDS=3 DURATION=10s CONNECTIONS=64 THREADS=2 SERVER_CPU=0 WRK_CPU=1
#        STORES="redis pg fs sweep" ACTIVE=4096 POPULATION=1000000 FS_POPULATION=100000
#        EXPIRED=1000000 REDIS_PORT=21641 PORT_BASE=21643 (servers on PORT_BASE..+6)
#        PG_URL=postgresql://root@127.0.0.1:5432 PG_DB=afs_bench_growth SWEEP_MAX=600s
#        BENCH_TARGET_DIR=<target dir>
# A smoke run: ROUNDS=1 DURATION=2s ACTIVE=256 POPULATION=10000 FS_POPULATION=10000 EXPIRED=10000
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/common.sh"
STORES=${STORES:-"redis pg fs sweep"}
ACTIVE=${ACTIVE:-4096}
POPULATION=${POPULATION:-1000000}
FS_POPULATION=${FS_POPULATION:-100000}
EXPIRED=${EXPIRED:-1000000}
REDIS_PORT=${REDIS_PORT:-21641}
PORT_BASE=${PORT_BASE:-21643}
PG_URL=${PG_URL:-postgresql://root@127.0.0.1:5432}
PG_DB=${PG_DB:-afs_bench_growth}
SWEEP_MAX=${SWEEP_MAX:-600s}
OUT=$(mktemp -d)
has() { case " $STORES " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

psql_db() { psql "$PG_URL/$PG_DB" -X -v ON_ERROR_STOP=1 -Atq "$@"; }
drop_tables() {
  if has pg || has sweep; then
    psql_db -c "DROP TABLE IF EXISTS growth_small, growth_full, growth_sweep" 2>/dev/null || true
  fi
}
trap 'cleanup; drop_tables; rm -rf "$OUT"' EXIT

if ! command -v wrk >/dev/null; then
  apt-get install -y wrk >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }
fi
for tool in taskset redis-server redis-cli curl python3 psql; do
  command -v "$tool" >/dev/null || { echo "missing $tool" >&2; exit 1; }
done
echo "building release binaries (CARGO_TARGET_DIR=$CARGO_TARGET_DIR)" >&2
cargo build --release --quiet --manifest-path "$HERE/server/Cargo.toml" --bin afs --bin afs-embedded
cargo build --release --quiet --manifest-path "$HERE/server/Cargo.toml" --features sql --bin growth
BIN="$CARGO_TARGET_DIR/release"
if has pg || has sweep; then
  psql "$PG_URL/postgres" -X -Atqc "SELECT 1 FROM pg_database WHERE datname = '$PG_DB'" | grep -q 1 \
    || psql "$PG_URL/postgres" -X -qc "CREATE DATABASE $PG_DB"
  drop_tables
fi
PG="$PG_URL/$PG_DB?sslmode=disable"

python3 "$HERE/growth_seed.py" cookies a "$ACTIVE" >"$OUT/active.cookies"
SESSION_HEX=$(python3 "$HERE/growth_seed.py" value 0)

declare -A PORT_OF PID_OF
NAMES=()
start() { # name port command...
  local name=$1 port=$2; shift 2
  taskset -c "$SERVER_CPU" "$@" >"$OUT/$name.log" 2>&1 &
  PID_OF[$name]=$!
  PIDS+=($!)
  PORT_OF[$name]=$port
  wait_http "$name" "$port" "${PID_OF[$name]}" "$OUT/$name.log"
}
# The first active session reads back n = 1.
check() { # name
  local got
  got=$(curl -fsS -H "Cookie: $(head -1 "$OUT/active.cookies")" "http://127.0.0.1:${PORT_OF[$1]}/read")
  [ "$got" = 1 ] || { echo "$1: /read answered '$got', not 1" >&2; exit 1; }
}
elapsed() { # command... ; prints its wall time in seconds on stderr
  local t0=$EPOCHREALTIME
  "$@"
  echo "  $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }') s" >&2
}

if has redis; then
  for i in 0 1; do
    port=$((REDIS_PORT + i))
    redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --daemonize no \
      >"$OUT/redis-$i.log" 2>&1 &
    PIDS+=($!)
    until [ "$(redis-cli -p "$port" ping 2>/dev/null)" = PONG ]; do sleep 0.05; done
    python3 "$HERE/growth_seed.py" redis a "$ACTIVE" 0 | redis-cli -p "$port" --pipe >"$OUT/seed.log"
    grep -q "errors: 0, replies: $ACTIVE" "$OUT/seed.log" || { cat "$OUT/seed.log" >&2; exit 1; }
  done
  echo "redis: writing $POPULATION sessions" >&2
  seed_redis() {
    python3 "$HERE/growth_seed.py" redis p "$POPULATION" 0 | redis-cli -p $((REDIS_PORT + 1)) --pipe >"$OUT/seed.log"
  }
  elapsed seed_redis
  grep -q "errors: 0, replies: $POPULATION" "$OUT/seed.log" || { cat "$OUT/seed.log" >&2; exit 1; }
  echo "redis: $(redis-cli -p "$REDIS_PORT" dbsize) keys / $(redis-cli -p $((REDIS_PORT + 1)) dbsize) keys," \
    "used_memory $(redis-cli -p $((REDIS_PORT + 1)) info memory | tr -d '\r' | awk -F: '$1 == "used_memory_human" { print $2 }')" >&2
  start redis-small "$PORT_BASE" "$BIN/afs" "$PORT_BASE" "redis://127.0.0.1:$REDIS_PORT"
  start redis-full $((PORT_BASE + 1)) "$BIN/afs" $((PORT_BASE + 1)) "redis://127.0.0.1:$((REDIS_PORT + 1))"
  check redis-small; check redis-full
  NAMES+=(redis-small redis-full)
fi

# Rows of a table: the active sessions (ids a...) and COUNT others (ids p...), live or
# expired, as the store writes them (key = prefix + id, expiry in UTC without time zone).
pg_rows() { # table prefix count live|expired
  local when="+ interval '31 days'"
  [ "$4" = expired ] && when="- interval '1 hour'"
  psql_db -c "INSERT INTO $1 (session_id, data, expiry)
    SELECT 'session:$2' || lpad(g::text, $((43 - ${#2})), '0'), '\\x$SESSION_HEX'::bytea,
           (now() AT TIME ZONE 'UTC') $when
    FROM generate_series(0, $3 - 1) g"
}
if has pg; then
  # The servers create their tables (the crate's migration), then the rows go in.
  start pg-small $((PORT_BASE + 2)) "$BIN/growth" serve-sql $((PORT_BASE + 2)) "$PG" growth_small
  start pg-full $((PORT_BASE + 3)) "$BIN/growth" serve-sql $((PORT_BASE + 3)) "$PG" growth_full
  pg_rows growth_small a "$ACTIVE" live
  echo "pg: writing $POPULATION rows" >&2
  seed_pg() { pg_rows growth_full p "$POPULATION" live && pg_rows growth_full a "$ACTIVE" live; }
  elapsed seed_pg
  psql_db -c "VACUUM ANALYZE growth_small" -c "VACUUM ANALYZE growth_full"
  echo "pg: $(psql_db -c "SELECT count(*) FROM growth_small") rows / $(psql_db -c "SELECT count(*) FROM growth_full") rows," \
    "$(psql_db -c "SELECT pg_size_pretty(pg_total_relation_size('growth_full'))")" >&2
  check pg-small; check pg-full
  NAMES+=(pg-small pg-full)
fi

if has fs; then
  mkdir -p "$OUT/fs-small" "$OUT/fs-full"
  "$BIN/growth" fs-seed "$OUT/fs-small" "$ACTIVE" a >/dev/null
  echo "fs: writing $FS_POPULATION files" >&2
  "$BIN/growth" fs-seed "$OUT/fs-full" "$FS_POPULATION" p >&2
  "$BIN/growth" fs-seed "$OUT/fs-full" "$ACTIVE" a >/dev/null
  echo "fs: $(find "$OUT/fs-small" -maxdepth 1 -type f | wc -l) files / $(find "$OUT/fs-full" -maxdepth 1 -type f | wc -l) files" >&2
  start fs-small $((PORT_BASE + 4)) env AFS_THRESHOLD=0 "$BIN/afs-embedded" $((PORT_BASE + 4)) "filesystem:$OUT/fs-small"
  start fs-full $((PORT_BASE + 5)) env AFS_THRESHOLD=0 "$BIN/afs-embedded" $((PORT_BASE + 5)) "filesystem:$OUT/fs-full"
  check fs-small; check fs-full
  NAMES+=(fs-small fs-full)
fi

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
load() { # name file [duration]
  local ticks
  ticks=$(cpu_ticks "${PID_OF[$1]}")
  taskset -c "$WRK_CPU" wrk -t"$THREADS" -c"$CONNECTIONS" -d"${3:-$DURATION}" --latency \
    -s "$HERE/sessions.lua" "http://127.0.0.1:${PORT_OF[$1]}/read" -- "$OUT/active.cookies" >"$2"
  echo "$(( $(cpu_ticks "${PID_OF[$1]}") - ticks ))" >"$2.ticks"
}

for round in $(seq 1 "$ROUNDS"); do
  for name in "${NAMES[@]}"; do
    load "$name" "$OUT/$name-$round.txt"
  done
done

# The sweep phase needs none of them: stop them (and free their connections).
for name in "${NAMES[@]}"; do kill "${PID_OF[$name]}" 2>/dev/null || true; done

if has sweep; then
  start sweep $((PORT_BASE + 6)) "$BIN/growth" serve-sql $((PORT_BASE + 6)) "$PG" growth_sweep
  pg_rows growth_sweep a "$ACTIVE" live
  check sweep
  fill() {
    pg_rows growth_sweep p "$EXPIRED" expired
    psql_db -c "VACUUM ANALYZE growth_sweep"
  }
  for round in $(seq 1 "$ROUNDS"); do
    echo "sweep round $round: writing $EXPIRED expired rows" >&2
    elapsed fill
    load sweep "$OUT/nosweep-$round.txt"
    # wrk first, then the sweep; wrk is stopped (SIGINT: it prints its figures) when the
    # sweep returns, so that the whole run overlaps the sweep.
    ticks=$(cpu_ticks "${PID_OF[sweep]}")
    taskset -c "$WRK_CPU" wrk -t"$THREADS" -c"$CONNECTIONS" -d"$SWEEP_MAX" --latency \
      -s "$HERE/sessions.lua" "http://127.0.0.1:${PORT_OF[sweep]}/read" -- "$OUT/active.cookies" \
      >"$OUT/sweep-$round.txt" &
    wrk_pid=$!
    PIDS+=($wrk_pid)
    sleep 0.5
    "$BIN/growth" sweep "$PG" growth_sweep >"$OUT/sweep-$round.time"
    kill -INT "$wrk_pid" 2>/dev/null || true
    wait "$wrk_pid" || true
    echo "$(( $(cpu_ticks "${PID_OF[sweep]}") - ticks ))" >"$OUT/sweep-$round.txt.ticks"
    echo "  under load: $(cat "$OUT/sweep-$round.time")" >&2
    fill
    "$BIN/growth" sweep "$PG" growth_sweep >"$OUT/alone-$round.time"
    echo "  alone: $(cat "$OUT/alone-$round.time")" >&2
  done
  check sweep
fi

python3 - "$OUT" "$ROUNDS" "$(getconf CLK_TCK)" "$STORES" "$ACTIVE" "$POPULATION" "$FS_POPULATION" "$EXPIRED" <<'PY'
import re, sys, pathlib
out, rounds, hz = pathlib.Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
stores, active, population, fs_population, expired = sys.argv[4].split(), *map(int, sys.argv[5:9])

def ms(text):
    v, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(v) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[unit]

def run(path):
    t = (out / path).read_text()
    reqs = int(re.search(r"(\d+) requests in", t).group(1))
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", t)
    ticks = int((out / f"{path}.ticks").read_text())
    return dict(rps=float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1)),
                p99=ms(re.search(r"^\s+99%\s+(\S+)", t, re.M).group(1)),
                cpu=ticks * 1e6 / hz / reqs if reqs else 0.0,
                bad=int(m.group(1)) if m else 0)

rows = [(s, n) for s, n in (("redis", population), ("pg", population), ("fs", fs_population)) if s in stores]
if rows:
    print(f"`/read` over {active} active sessions, near-empty store (only those) against a full one")
    print("| store | round | near-empty req/s | full req/s | full / near-empty | p99 ms near-empty / full "
          "| server CPU µs/req near-empty / full | non-2xx |")
    print("|---|---:|---:|---:|---:|---|---|---:|")
    for store, n in rows:
        for r in range(1, rounds + 1):
            a, b = run(f"{store}-small-{r}.txt"), run(f"{store}-full-{r}.txt")
            print(f"| {store} ({active} / {active + n:,} sessions) | {r} | {a['rps']:.0f} | {b['rps']:.0f} | "
                  f"{b['rps'] / a['rps']:.2f} | {a['p99']:.2f} / {b['p99']:.2f} | "
                  f"{a['cpu']:.1f} / {b['cpu']:.1f} | {a['bad'] + b['bad']} |")
if "sweep" in stores:
    print()
    print(f"`delete_expired` over {expired:,} expired PostgreSQL rows ({active} live), and `/read` meanwhile")
    print("| round | sweep alone | sweep under /read load | /read req/s without sweep | during sweep | "
          "during / without | p99 ms without / during | server CPU µs/req without / during | non-2xx |")
    print("|---:|---|---|---:|---:|---:|---|---|---:|")
    def sweep_time(path):
        m = re.search(r"deleted (\d+) in ([\d.]+) s", (out / path).read_text())
        return f"{float(m.group(2)):.2f} s ({int(m.group(1)):,} rows)"
    for r in range(1, rounds + 1):
        a, b = run(f"nosweep-{r}.txt"), run(f"sweep-{r}.txt")
        print(f"| {r} | {sweep_time(f'alone-{r}.time')} | {sweep_time(f'sweep-{r}.time')} | "
              f"{a['rps']:.0f} | {b['rps']:.0f} | {b['rps'] / a['rps']:.2f} | "
              f"{a['p99']:.2f} / {b['p99']:.2f} | {a['cpu']:.1f} / {b['cpu']:.1f} | {a['bad'] + b['bad']} |")
PY
