#!/usr/bin/env bash
# benches/http/mongodb.sh — this crate on MongoDB against a raw handler sending the same
# commands through the same driver client and pool (`raw-mongo`), over many sessions.
#
#   bash benches/http/mongodb.sh
#   ROUNDS=1 DURATION=2s SESSIONS=256 bash benches/http/mongodb.sh      # smoke run
#
# Starts a private SecantusDB (the MongoDB wire-compatible server the tests use, in memory,
# from the venv scripts/services.sh installs) on MONGO_PORT, so that its counters count
# only this benchmark; both servers (`afs-mongo`: MongoDbStore, collection `sessions`;
# `raw-mongo`: collection `raw_sessions`; database MONGO_DB) pinned to core SERVER_CPU,
# one worker each. Creates SESSIONS sessions on each (the crate's through `GET /incr`, by
# make_cookies.py; the raw peer's inserted with the bytes the crate writes), then runs
# `wrk -s sessions.lua` (every request with the next cookie) on core WRK_CPU, ROUNDS times,
# interleaved. Prints each round: req/s, p99, the ratio to raw, CPU time per request of
# the app server and of the SecantusDB process (user + system, /proc), MongoDB operations
# per request and, per command, `top`'s counts for the server's own collection (`fam`
# findAndModify, `upd` update, `find`, `ins` insert). Operations are the server's own
# counts (serverStatus().opcounters insert + query + update + delete + getmore); per
# request they come from a probe after each run (PROBE requests one after another: exact,
# nothing else in flight). SecantusDB is slow enough that the requests in flight when wrk
# stops (up to CONNECTIONS) are a visible share of a run: the script waits for them, and
# divides CPU time by the requests the servers ran (operations counted over the run ÷ the
# probe's operations per request; the table shows how many that adds to wrk's count).
#
# Knobs: ROUNDS=3 DURATION=10s CONNECTIONS=64 THREADS=2 SERVER_CPU=0 WRK_CPU=1
#        SESSIONS=4096 MONGO_PORT=21620 (servers on 21621, 21622) MONGO_DB=afs_bench_mongo
#        PROBE=50 DB_CPU=<core for SecantusDB; default unpinned> CSV=<file to append rows to>
#        SECANTUS_PYTHON=<python with secantus and pymongo; default services.sh's venv>
#        BENCH_TARGET_DIR=<target dir>
# CSV rows: backend,server,route,session_bytes,round,rps,p99_ms,cpu_us_per_req,ops_per_req
# (a header line first when the file is new; session_bytes: the stored session the run
# starts with; cpu: the app server's; ops: the probe's).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/common.sh"
SESSIONS=${SESSIONS:-4096}
MONGO_PORT=${MONGO_PORT:-21620}
MONGO_DB=${MONGO_DB:-afs_bench_mongo}
DB_CPU=${DB_CPU:-}
CSV=${CSV:-}
PROBE=${PROBE:-50}
SVC_HOME=${SVC_HOME:-${HOME:-.}/.cache/actix-flask-session-services}
SECANTUS_PYTHON=${SECANTUS_PYTHON:-$SVC_HOME/venv-mongo/bin/python}
OUT=$(mktemp -d)
URL="mongodb://127.0.0.1:$MONGO_PORT"

command -v wrk >/dev/null || apt-get install -y wrk >/dev/null
"$SECANTUS_PYTHON" -c 'import secantus, pymongo' 2>/dev/null || {
  echo "no SecantusDB at $SECANTUS_PYTHON: run \`SERVICES=mongodb bash scripts/services.sh\` once (it installs it), or set SECANTUS_PYTHON" >&2
  exit 1
}
echo "building release binaries (CARGO_TARGET_DIR=$CARGO_TARGET_DIR)" >&2
cargo build --release --quiet --manifest-path "$HERE/server/Cargo.toml" --features mongodb \
  --bin afs-mongo --bin raw-mongo
BIN="$CARGO_TARGET_DIR/release"

# SecantusDB as scripts/services.sh starts it (in memory), but with mongod's 60 s TTL sweep.
db_pin=()
[ -n "$DB_CPU" ] && db_pin=(taskset -c "$DB_CPU")
start_secantus "$MONGO_PORT" "$OUT/secantus.log" "${db_pin[@]}"
DB_PID=$SECANTUS_PID
tool() { "$SECANTUS_PYTHON" "$HERE/mongo_sessions.py" "$@"; }
until tool ping "$URL" >/dev/null 2>&1; do
  kill -0 "$DB_PID" 2>/dev/null || { echo "SecantusDB did not start: $(cat "$OUT/secantus.log")" >&2; exit 1; }
  sleep 0.2
done

declare -A PORT_OF=([afs]=21621 [raw]=21622) COLLECTION_OF=([afs]=sessions [raw]=raw_sessions) PID_OF
for name in afs raw; do
  AFS_MONGO_DB=$MONGO_DB taskset -c "$SERVER_CPU" "$BIN/$name-mongo" "${PORT_OF[$name]}" "$URL" \
    >"$OUT/$name.log" 2>&1 &
  PID_OF[$name]=$!
  PIDS+=($!)
done
for name in afs raw; do
  wait_http "$name-mongo" "${PORT_OF[$name]}" "${PID_OF[$name]}" "$OUT/$name.log"
done
python3 "$HERE/make_cookies.py" "${PORT_OF[afs]}" "$SESSIONS" >"$OUT/afs.cookies"
tool seed "$URL" "$MONGO_DB" raw_sessions "$SESSIONS" "$OUT/raw.cookies"

cpu_ticks() { # pid: user + system clock ticks
  awk '{ print $14 + $15 }' "/proc/$1/stat"
}

for round in $(seq 1 "$ROUNDS"); do
  for route in read incr hello; do
    for name in afs raw; do
      run="$OUT/$name-$route-$round"
      tool stats "$URL" "$MONGO_DB" >"$run.before" # (waits for the server to be idle)
      app=$(cpu_ticks "${PID_OF[$name]}") db=$(cpu_ticks "$DB_PID")
      taskset -c "$WRK_CPU" wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency \
        -s "$HERE/sessions.lua" "http://127.0.0.1:${PORT_OF[$name]}/$route" -- "$OUT/$name.cookies" \
        >"$run.txt"
      # The requests still in flight when wrk stops are run too: wait for them, count them.
      tool stats "$URL" "$MONGO_DB" >"$run.after"
      echo "$(( $(cpu_ticks "${PID_OF[$name]}") - app )) $(( $(cpu_ticks "$DB_PID") - db ))" >"$run.ticks"
      tool probe "$URL" "$MONGO_DB" "${COLLECTION_OF[$name]}" "${PORT_OF[$name]}" "/$route" \
        "$OUT/$name.cookies" "$PROBE" >"$run.probe"
    done
  done
done

python3 - "$OUT" "$ROUNDS" "$(getconf CLK_TCK)" "$CSV" <<'PY'
import json, re, sys, pathlib
out, rounds, hz, csv = pathlib.Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
SESSION_BYTES = 16  # msgpack of {"_permanent": true, "n": 1}, what both start with
def ms(text):
    v, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(v) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[unit]
def run(name, route, r):
    base = out / f"{name}-{route}-{r}"
    read = lambda suffix: base.with_suffix(suffix).read_text()
    t = read(".txt")
    reqs = int(re.search(r"(\d+) requests in", t).group(1))
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", t)
    before, after, probe = (json.loads(read(s)) for s in (".before", ".after", ".probe"))
    app, db = (int(x) for x in read(".ticks").split())
    ops = after["ops"] - before["ops"]
    # Requests the servers ran: wrk's, plus the ones in flight when it stopped (counted
    # by their operations).
    served = ops / probe["ops"] if probe["ops"] else reqs
    detail = " ".join(f"{label} {probe['top'][s]:.2f}"
                      for label, s in (("fam", "commands"), ("upd", "update"),
                                       ("find", "queries"), ("ins", "insert"))
                      if probe["top"][s])
    per = lambda x: x / served if served else 0.0
    return dict(rps=float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1)),
                p99=ms(re.search(r"^\s+99%\s+(\S+)", t, re.M).group(1)),
                ops=probe["ops"], detail=detail or "-", tail=served - reqs,
                cpu=per(app * 1e6 / hz), db=per(db * 1e6 / hz),
                bad=int(m.group(1)) if m else 0)
rows = []
print("| round | route | this crate req/s | raw req/s | vs raw | p99 ms crate / raw "
      "| app CPU µs/req crate / raw | SecantusDB CPU µs/req crate / raw "
      "| ops/req crate / raw | per command crate / raw | in flight at the end crate / raw | non-2xx |")
print("|---:|---|---:|---:|---:|---|---|---|---|---|---|---:|")
for r in range(1, rounds + 1):
    for route in ("read", "incr", "hello"):
        a, b = run("afs", route, r), run("raw", route, r)
        print(f"| {r} | /{route} | {a['rps']:.0f} | {b['rps']:.0f} | {(a['rps'] / b['rps'] if b['rps'] else float('nan')):.2f} | "
              f"{a['p99']:.2f} / {b['p99']:.2f} | {a['cpu']:.1f} / {b['cpu']:.1f} | "
              f"{a['db']:.0f} / {b['db']:.0f} | {a['ops']:.2f} / {b['ops']:.2f} | "
              f"{a['detail']} / {b['detail']} | {a['tail']:.0f} / {b['tail']:.0f} | "
              f"{a['bad'] + b['bad']} |")
        for name, v in (("afs", a), ("raw", b)):
            rows.append(f"mongodb,{name},/{route},{SESSION_BYTES},{r},{v['rps']:.1f},"
                        f"{v['p99']:.2f},{v['cpu']:.2f},{v['ops']:.3f}\n")
if csv:
    path = pathlib.Path(csv)
    header = not path.exists() or path.stat().st_size == 0
    with open(path, "a") as f:
        if header:
            f.write("backend,server,route,session_bytes,round,rps,p99_ms,cpu_us_per_req,ops_per_req\n")
        f.writelines(rows)
PY
