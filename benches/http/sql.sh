#!/usr/bin/env bash
# benches/http/sql.sh — this crate's SqlStore (`afs-sql`) against a raw handler sending the
# same statements through the same diesel + r2d2 pool (`raw-sql`), on PostgreSQL,
# MariaDB/MySQL and SQLite, over many sessions.
#
#   bash benches/http/sql.sh
#   DB=pg SESSION_BYTES=65536 CSV=/tmp/growth.csv bash benches/http/sql.sh
#
# For each database of DB: a fresh `sessions` table (the crate's DDL, created by afs-sql)
# in a database of its own (DBNAME on the PostgreSQL and MariaDB servers; SQLite: a file in
# a temporary directory); both servers pinned to core SERVER_CPU, one actix worker each;
# SESSIONS sessions for each in the same table: the crate's created through `GET /incr`
# (make_cookies.py), the raw peer's bulk-inserted with the bytes the crate writes
# (msgpack {"_permanent": true, "n": 1}). With SESSION_BYTES, every row of both is then
# given the same value of about that many bytes, {"_permanent": true, "blob": <bin of
# random bytes>, "n": 1}. After a warm-up run of each route on each server (pools filled,
# statements prepared), `wrk -s sessions.lua` (each request with the next cookie) on core
# WRK_CPU, ROUNDS times, interleaved: round 1 of every route and server, then round 2...
#
# Printed for each run: req/s, p99, the ratio to raw, statements per request counted by
# diesel's instrumentation in the server (`GET /stats`), the database server's own counters
# per request, the app server's CPU time per request (user + system, /proc/<pid>/stat) and
# non-2xx answers (plus wrk's socket errors, if any). Server counters:
#  - PostgreSQL: pg_stat_database of DBNAME (transactions committed, rows updated and
#    fetched); after each run the script waits PG_FLUSH_WAIT seconds, the time idle
#    backends take to report (PGSTAT_IDLE_INTERVAL, 10 s); this script's own reads are
#    measured once at the start and subtracted;
#  - MariaDB/MySQL: SHOW GLOBAL STATUS Com_* deltas (Com_set_option counts the protocol's
#    COM_SET_OPTION, which diesel sends around each BEGIN and COMMIT). They are
#    server-wide: other clients of a shared server add noise. This script's own reads are
#    measured at the start and subtracted;
#  - SQLite has no server: the instrumentation count is the figure.
#
# Knobs: DB="pg mysql sqlite" ROUNDS=3 DURATION=10s CONNECTIONS=64 THREADS=2 SERVER_CPU=0
#        WRK_CPU=1 SESSIONS=4096 SESSION_BYTES= (empty: the two-key session; e.g. 100,
#        4096, 65536, 1048576) MAX_SEED_BYTES=268435456 (SESSIONS is lowered, to at least
#        64, so that each server's sessions hold at most this many bytes) WARMUP=2s
#        PG_FLUSH_WAIT=11 MYSQL_ALT=1 (MariaDB/MySQL: a third server, `raw-alt`, the raw
#        peer with RAW_SQL_MYSQL_LOAD=transaction, the store's earlier load in a transaction)
#        SQL_POOL_SIZE= (both servers' pool size; empty: the store's default, 10. SQLite with
#        concurrent writers mostly measures its busy handler's sleeps: SQL_POOL_SIZE=1
#        queues them in the pool instead)
#        CSV=<file> (appends backend,server,route,session_bytes,round,rps,p99_ms,
#        cpu_us_per_req,stmts_per_req) KEEP=0 (1: leave the tables in place)
#        PG_URL=postgresql://root@127.0.0.1:5432 MYSQL_HOST=127.0.0.1 MYSQL_PORT=3306
#        MYSQL_USER=root DBNAME=afs_bench_sqlraw PORT_BASE=21600 BENCH_TARGET_DIR=<target dir>
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/common.sh"
DB=${DB:-pg mysql sqlite}
SESSIONS=${SESSIONS:-4096}
SESSION_BYTES=${SESSION_BYTES:-}
MAX_SEED_BYTES=${MAX_SEED_BYTES:-268435456}
WARMUP=${WARMUP:-2s}
PG_FLUSH_WAIT=${PG_FLUSH_WAIT:-11}
MYSQL_ALT=${MYSQL_ALT:-1}
CSV=${CSV:-}
KEEP=${KEEP:-0}
PG_URL=${PG_URL:-postgresql://root@127.0.0.1:5432}
MYSQL_HOST=${MYSQL_HOST:-127.0.0.1}
MYSQL_PORT=${MYSQL_PORT:-3306}
MYSQL_USER=${MYSQL_USER:-root}
DBNAME=${DBNAME:-afs_bench_sqlraw}
PORT_BASE=${PORT_BASE:-21600}
OUT=$(mktemp -d)
TICK=$(getconf CLK_TCK)

command -v wrk >/dev/null || apt-get install -y wrk >/dev/null
missing=()
for pkg in libpq-dev libmariadb-dev libsqlite3-dev pkg-config; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] || DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null
echo "building release binaries (CARGO_TARGET_DIR=$CARGO_TARGET_DIR)" >&2
cargo build --release --quiet --manifest-path "$HERE/server/Cargo.toml" --features sql \
  --bin afs-sql --bin raw-sql
BIN="$CARGO_TARGET_DIR/release"

# The stored value (hex) and its length: the crate's bytes for {_permanent: true, n: 1},
# or with SESSION_BYTES a value of about that size with `n` last (the raw peer's /incr
# changes the last byte).
python3 - "$SESSION_BYTES" "$OUT/value.hex" <<'PY'
import random, sys
size, path = sys.argv[1], sys.argv[2]
head, tail = b"\xaa_permanent\xc3", b"\xa1n\x01"
if not size:
    value = b"\x82" + head + tail
else:
    fixed = 1 + len(head) + len(b"\xa4blob") + len(tail)
    n = max(1, int(size) - fixed - 2)
    hdr = b"\xc4" + bytes([n]) if n < 256 else None
    if hdr is None:
        n = max(1, int(size) - fixed - 3)
        hdr = b"\xc5" + n.to_bytes(2, "big") if n < 65536 else None
    if hdr is None:
        n = max(1, int(size) - fixed - 5)
        hdr = b"\xc6" + n.to_bytes(4, "big")
    blob = random.Random(16).randbytes(n)  # incompressible, the same on every run
    value = b"\x83" + head + b"\xa4blob" + hdr + blob + tail
open(path, "w").write(value.hex())
PY
VALUE_BYTES=$(( $(wc -c <"$OUT/value.hex") / 2 ))
if [ -n "$SESSION_BYTES" ] && [ $((SESSIONS * VALUE_BYTES)) -gt "$MAX_SEED_BYTES" ]; then
  fit=$((MAX_SEED_BYTES / VALUE_BYTES))
  [ "$fit" -ge 64 ] || fit=64
  echo "SESSIONS lowered from $SESSIONS to $fit (MAX_SEED_BYTES=$MAX_SEED_BYTES, $VALUE_BYTES bytes each)" >&2
  SESSIONS=$fit
fi
echo "sessions: $SESSIONS per server, $VALUE_BYTES bytes each" >&2

export PGOPTIONS=${PGOPTIONS:---client-min-messages=warning}
pg() { psql "$PG_URL/$DBNAME" -Atqc "$1"; }
my() { mysql -h"$MYSQL_HOST" -P"$MYSQL_PORT" -u"$MYSQL_USER" -N -B "$DBNAME" -e "$1"; }
# One line of name=value counters of the database server (empty for SQLite).
counters() { # db
  case $1 in
    pg) pg "SELECT 'xact=' || xact_commit || ' upd=' || tup_updated || ' fetch=' || tup_fetched
              || ' ins=' || tup_inserted FROM pg_stat_database WHERE datname = '$DBNAME'" ;;
    mysql) my "SHOW GLOBAL STATUS WHERE Variable_name IN ('Com_begin', 'Com_commit',
                 'Com_select', 'Com_update', 'Com_insert', 'Com_set_option', 'Com_stmt_execute')" |
             awk '{printf "%s=%s ", $1, $2} END {print ""}' ;;
    sqlite) echo ;;
  esac
}
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
stats() { curl -fsS "http://127.0.0.1:$1/stats"; }

# Creates the raw peer's rows and gives the crate's rows the same value (SESSION_BYTES).
seed() { # db
  local hex n=$((SESSIONS - 1))
  hex=$(cat "$OUT/value.hex")
  case $1 in
    pg)
      { echo "INSERT INTO sessions (session_id, data, expiry) SELECT 'session:raw' || lpad(i::text, 40, '0'),"
        echo "  decode('$hex', 'hex'), (now() AT TIME ZONE 'utc') + interval '31 days' FROM generate_series(0, $n) i;"
        [ -z "$SESSION_BYTES" ] || echo "UPDATE sessions SET data = decode('$hex', 'hex') WHERE session_id NOT LIKE 'session:raw%';"
      } >"$OUT/seed.sql"
      psql "$PG_URL/$DBNAME" -q -v ON_ERROR_STOP=1 -f "$OUT/seed.sql" >/dev/null
      pg "VACUUM ANALYZE sessions" >/dev/null
      pg "SELECT count(*) || ' rows, ' || count(DISTINCT data) || ' distinct values' FROM sessions" ;;
    mysql)
      { echo "INSERT INTO sessions (session_id, data, expiry) SELECT CONCAT('session:raw', LPAD(seq, 40, '0')),"
        echo "  X'$hex', UTC_TIMESTAMP() + INTERVAL 31 DAY FROM seq_0_to_$n;"
        [ -z "$SESSION_BYTES" ] || echo "UPDATE sessions SET data = X'$hex' WHERE session_id NOT LIKE 'session:raw%';"
        echo "ANALYZE TABLE sessions;"
      } >"$OUT/seed.sql"
      mysql -h"$MYSQL_HOST" -P"$MYSQL_PORT" -u"$MYSQL_USER" "$DBNAME" <"$OUT/seed.sql" >/dev/null
      my "SELECT CONCAT(COUNT(*), ' rows, ', COUNT(DISTINCT MD5(data)), ' distinct values') FROM sessions" ;;
    sqlite)
      python3 - "$OUT/sessions.db" "$OUT/value.hex" "$SESSIONS" "$SESSION_BYTES" <<'PY'
import datetime, sqlite3, sys
path, value, n, resize = sys.argv[1], bytes.fromhex(open(sys.argv[2]).read()), int(sys.argv[3]), sys.argv[4]
expiry = (datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
          + datetime.timedelta(days=31)).strftime("%Y-%m-%d %H:%M:%S.%f")
db = sqlite3.connect(path, timeout=30)
with db:
    db.executemany("INSERT INTO sessions (session_id, data, expiry) VALUES (?, ?, ?)",
                   ((f"session:raw{i:040d}", value, expiry) for i in range(n)))
    if resize:
        db.execute("UPDATE sessions SET data = ? WHERE session_id NOT LIKE 'session:raw%'", (value,))
db.execute("ANALYZE")
rows, distinct = db.execute("SELECT count(*), count(DISTINCT data) FROM sessions").fetchone()
print(f"{rows} rows, {distinct} distinct values")
PY
      ;;
  esac
  for i in $(seq 0 "$n"); do printf 'session=raw%040d\n' "$i"; done >"$OUT/raw.cookies"
}

declare -A PORT_OF PID_OF COOKIES_OF=([afs]=afs [raw]=raw [raw-alt]=raw)
PORT_OF=([afs]=$PORT_BASE [raw]=$((PORT_BASE + 1)) [raw-alt]=$((PORT_BASE + 2)))

start() { # name url [env...]
  local name=$1 url=$2 bin=raw-sql
  shift 2
  [ "$name" = afs ] && bin=afs-sql
  env "$@" taskset -c "$SERVER_CPU" "$BIN/$bin" "${PORT_OF[$name]}" "$url" >"$OUT/$name.log" 2>&1 &
  PID_OF[$name]=$!
  PIDS+=($!)
  wait_http "$name" "${PORT_OF[$name]}" "${PID_OF[$name]}" "$OUT/$name.log"
}

wrk_run() { # name route duration output
  taskset -c "$WRK_CPU" wrk -t"$THREADS" -c"$CONNECTIONS" -d"$3" --latency -s "$HERE/sessions.lua" \
    "http://127.0.0.1:${PORT_OF[$1]}/$2" -- "$OUT/${COOKIES_OF[$1]}.cookies" >"$4"
}

# One measured run: wrk, with every counter read before and after.
run() { # db name route round
  local db=$1 name=$2 route=$3 round=$4 pid=${PID_OF[$2]} port=${PORT_OF[$2]}
  local s0 s1 k0 k1 c0 c1
  s0=$(stats "$port"); c0=$(counters "$db"); k0=$(cpu_ticks "$pid")
  wrk_run "$name" "$route" "$DURATION" "$OUT/$db-$name-$route-$round.txt"
  k1=$(cpu_ticks "$pid"); s1=$(stats "$port")
  [ "$db" != pg ] || sleep "$PG_FLUSH_WAIT"
  c1=$(counters "$db")
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$db" "$name" "$route" "$round" \
    "$((s1 - s0))" "$((k1 - k0))" "$c0" "$c1" >>"$OUT/runs.tsv"
}

: >"$OUT/runs.tsv"
: >"$OUT/seeds.tsv"
for db in $DB; do
  case $db in
    pg|postgres|postgresql) db=pg
      psql "$PG_URL/postgres" -Atqc "SELECT 1 FROM pg_database WHERE datname = '$DBNAME'" | grep -q 1 \
        || psql "$PG_URL/postgres" -qc "CREATE DATABASE $DBNAME"
      pg "DROP TABLE IF EXISTS sessions"
      url="$PG_URL/$DBNAME?sslmode=disable&gssencmode=disable" ;;
    mysql|mariadb) db=mysql
      mysql -h"$MYSQL_HOST" -P"$MYSQL_PORT" -u"$MYSQL_USER" -e \
        "CREATE DATABASE IF NOT EXISTS $DBNAME; DROP TABLE IF EXISTS $DBNAME.sessions"
      url="mysql://$MYSQL_USER@$MYSQL_HOST:$MYSQL_PORT/$DBNAME" ;;
    sqlite)
      url="sqlite:///$OUT/sessions.db" ;;
    *) echo "unknown DB $db: pg, mysql or sqlite" >&2; exit 1 ;;
  esac
  # This script's own footprint in the counters: one read, seen by the next.
  printf '%s\t%s\t%s\n' "$db" "$(counters "$db")" "$(counters "$db")" >>"$OUT/calibration.tsv"

  servers=(afs raw)
  start afs "$url"
  start raw "$url"
  if [ "$db" = mysql ] && [ "$MYSQL_ALT" = 1 ]; then
    start raw-alt "$url" RAW_SQL_MYSQL_LOAD=transaction
    servers+=(raw-alt)
  fi
  echo "$db: creating $SESSIONS sessions on each server" >&2
  python3 "$HERE/make_cookies.py" "${PORT_OF[afs]}" "$SESSIONS" >"$OUT/afs.cookies"
  printf '%s\t%s\n' "$db" "$(seed "$db")" >>"$OUT/seeds.tsv"
  for name in "${servers[@]}"; do
    for route in read incr; do wrk_run "$name" "$route" "$WARMUP" /dev/null; done
  done
  # The warm-up's statistics must be reported before the first run's counters are read.
  [ "$db" != pg ] || sleep "$PG_FLUSH_WAIT"
  for round in $(seq 1 "$ROUNDS"); do
    echo "$db: round $round of $ROUNDS" >&2
    for route in read incr hello; do
      for name in "${servers[@]}"; do run "$db" "$name" "$route" "$round"; done
    done
  done
  for name in "${servers[@]}"; do
    kill "${PID_OF[$name]}" 2>/dev/null || true
    wait "${PID_OF[$name]}" 2>/dev/null || true
  done
  if [ "$KEEP" != 1 ]; then
    case $db in
      pg) pg "DROP TABLE IF EXISTS sessions" ;;
      mysql) my "DROP TABLE IF EXISTS sessions" ;;
      sqlite) rm -f "$OUT"/sessions.db* ;;
    esac
  fi
done

python3 - "$OUT" "$TICK" "$VALUE_BYTES" "$CSV" <<'PY'
import csv, os, re, sys, pathlib
out, tick, value_bytes, csv_path = pathlib.Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]

def kv(text):
    return {k: int(v) for k, v in (p.split("=") for p in text.split())}

def ms(text):
    v, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(v) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[unit]

# One read of the counters as seen by the next read: subtracted once per run.
footprint = {}
for line in (out / "calibration.tsv").read_text().splitlines():
    db, a, b = (line.split("\t") + ["", ""])[:3]
    a, b = kv(a), kv(b)
    footprint[db] = {k: b[k] - a[k] for k in a}
seeds = dict(line.split("\t", 1) for line in (out / "seeds.tsv").read_text().splitlines())

SHORT = {"Com_begin": "begin", "Com_select": "select", "Com_update": "update",
         "Com_insert": "insert", "Com_commit": "commit", "Com_set_option": "set_option",
         "Com_stmt_execute": "stmt_execute", "xact": "xact", "upd": "upd", "fetch": "fetch",
         "ins": "ins"}
runs = {}
for line in (out / "runs.tsv").read_text().splitlines():
    db, name, route, rnd, stmts, ticks, c0, c1 = line.split("\t")
    t = (out / f"{db}-{name}-{route}-{rnd}.txt").read_text()
    reqs = int(re.search(r"(\d+) requests in", t).group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", t)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", t)
    c0, c1 = kv(c0), kv(c1)
    fp = footprint.get(db, {})
    counted = {k: (c1[k] - c0[k] - fp.get(k, 0)) / reqs for k in c0}
    runs[(db, name, route, int(rnd))] = dict(
        rps=float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1)),
        p99=ms(re.search(r"^\s+99%\s+(\S+)", t, re.M).group(1)),
        stmts=int(stmts) / reqs,
        cpu=int(ticks) / tick / reqs * 1e6,
        counters=" ".join(f"{SHORT[k]} {v:.2f}" for k, v in counted.items() if abs(v) >= 0.005) or "-",
        bad=int(bad.group(1)) if bad else 0,
        sock=sum(int(x) for x in sock.groups()) if sock else 0,
    )

for db, seed in seeds.items():
    print(f"{db}: {seed} ({value_bytes} bytes a session)")
print()
print("| database | round | route | server | req/s | vs raw | p99 ms | statements/req (diesel) "
      "| server counters per request | server CPU µs/req | non-2xx |")
print("|---|---:|---|---|---:|---:|---:|---:|---|---:|---:|")
rows = []
for (db, name, route, rnd), r in runs.items():
    raw = runs.get((db, "raw", route, rnd))
    ratio = f"{r['rps'] / raw['rps']:.2f}" if raw else "-"
    bad = f"{r['bad']}" + (f" ({r['sock']} socket errors)" if r["sock"] else "")
    print(f"| {db} | {rnd} | /{route} | {name} | {r['rps']:.0f} | {ratio} | {r['p99']:.2f} | "
          f"{r['stmts']:.2f} | {r['counters']} | {r['cpu']:.1f} | {bad} |")
    rows.append([db, name, route, value_bytes, rnd, f"{r['rps']:.1f}", f"{r['p99']:.2f}",
                 f"{r['cpu']:.1f}", f"{r['stmts']:.3f}"])
# Medians over the rounds, in the layout of benches/README.md's results table.
def median(values):
    values, mid = sorted(values), len(values) // 2
    return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2
keys = sorted({(db, route, name) for (db, name, route, _) in runs},
              key=lambda k: (list(seeds).index(k[0]) if k[0] in seeds else 0,
                             ["read", "incr", "hello"].index(k[1]), k[2]))
print("\nMedians over the rounds:\n")
print("| database | route | server | req/s | vs raw | p99 ms | statements/req | server counters per request (last round) | server CPU µs/req | non-2xx (all rounds) |")
print("|---|---|---|---:|---:|---:|---:|---|---:|---:|")
for db, route, name in keys:
    rs = [r for (d, n, ro, _), r in sorted(runs.items()) if (d, ro, n) == (db, route, name)]
    ratios = [r["rps"] / runs[(db, "raw", route, rnd)]["rps"] for (d, n, ro, rnd), r in runs.items()
              if (d, ro, n) == (db, route, name) and (db, "raw", route, rnd) in runs]
    ratio = f"{median(ratios):.2f}" if ratios else "-"
    print(f"| {db} | /{route} | {name} | {median([r['rps'] for r in rs]):.0f} | {ratio} | "
          f"{median([r['p99'] for r in rs]):.2f} | {median([r['stmts'] for r in rs]):.2f} | "
          f"{rs[-1]['counters']} | {median([r['cpu'] for r in rs]):.1f} | "
          f"{sum(r['bad'] + r['sock'] for r in rs)} |")
if csv_path:
    new = not os.path.exists(csv_path) or os.path.getsize(csv_path) == 0
    with open(csv_path, "a", newline="") as f:
        w = csv.writer(f)
        if new:
            w.writerow(["backend", "server", "route", "session_bytes", "round", "rps", "p99_ms",
                        "cpu_us_per_req", "stmts_per_req"])
        w.writerows(rows)
    print(f"\nappended {len(rows)} rows to {csv_path}")
PY
