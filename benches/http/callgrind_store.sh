#!/usr/bin/env bash
# benches/http/callgrind_store.sh — user-space instructions per request of a store's two
# peers (this crate and the raw handler sending the same commands), counted by
# `valgrind --tool=callgrind` over many sessions: callgrind.sh for memcached and MongoDB.
# The counts do not depend on the machine's load, so this is how the crate's share of a
# store's request is judged on a busy machine.
#
#   bash benches/http/callgrind_store.sh                           # memcached, /read and /incr
#   STORE=mongodb bash benches/http/callgrind_store.sh
#   STORE=memcached SERVERS=afs-memcached ROUTES=/incr KEEP=/tmp/cg bash benches/http/callgrind_store.sh
#
# Builds the peers of STORE (memcached: afs-memcached, raw-memcached; mongodb: afs-mongo,
# raw-mongo, feature `mongodb`), starts a private memcached or SecantusDB on STORE_PORT,
# seeds SESSIONS sessions for the raw peer (the bytes the crate writes), then for each
# server and route runs the server under callgrind with instrumentation off (the crate's
# SESSIONS sessions are created through its `GET /incr` the first time it runs; they stay
# in the store for the next runs), switches instrumentation on, runs `wrk -t1
# -c$CONNECTIONS -d$DURATION -s sessions.lua` (every request with the next cookie), switches
# it off and divides the instructions counted (all threads of the server) by the requests
# wrk completed. `callgrind_annotate <KEEP>/<server>-<route>.cg.*` shows where they go.
#
# Knobs: STORE=memcached|mongodb SERVERS="afs-memcached raw-memcached" (mongodb: "afs-mongo raw-mongo")
#        ROUTES="/read /incr"
#        SESSIONS=4096 DURATION=15s CONNECTIONS=4 PORT=21630 STORE_PORT=21631
#        SECANTUS_PYTHON=<python with secantus and pymongo; default services.sh's venv>
#        BENCH_TARGET_DIR=<target dir> KEEP=<dir to keep callgrind files in>
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
STORE=${STORE:-memcached}
case $STORE in mongodb) PEER=mongo ;; *) PEER=$STORE ;; esac
SERVERS=${SERVERS:-"afs-$PEER raw-$PEER"}
ROUTES=${ROUTES:-"/read /incr"}
SESSIONS=${SESSIONS:-4096}
DURATION=${DURATION:-15s}
CONNECTIONS=${CONNECTIONS:-4}
PORT=${PORT:-21630}
STORE_PORT=${STORE_PORT:-21631}
source "$HERE/common.sh"
SVC_HOME=${SVC_HOME:-${HOME:-.}/.cache/actix-flask-session-services}
SECANTUS_PYTHON=${SECANTUS_PYTHON:-$SVC_HOME/venv-mongo/bin/python}
OUT=${KEEP:-$(mktemp -d)}
mkdir -p "$OUT"
rm -f "$OUT/afs.cookies" "$OUT/raw.cookies" # sessions live in this run's private store only

for tool in valgrind callgrind_control wrk curl python3; do
  command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install valgrind wrk)" >&2; exit 1; }
done

echo "building release binaries (CARGO_TARGET_DIR=$CARGO_TARGET_DIR)" >&2
case $STORE in
  memcached)
    command -v memcached >/dev/null || { echo "missing memcached (apt-get install memcached)" >&2; exit 1; }
    cargo build --release --quiet --manifest-path "$HERE/server/Cargo.toml" --bin afs-memcached --bin raw-memcached
    as_user=()
    [ "$(id -u)" = 0 ] && as_user=(-u nobody) # memcached refuses to run as root
    memcached "${as_user[@]}" -p "$STORE_PORT" -l 127.0.0.1 -U 0 -m 256 -t 1 >"$OUT/memcached.log" 2>&1 &
    PIDS+=($!)
    until (exec 3<>"/dev/tcp/127.0.0.1/$STORE_PORT") 2>/dev/null; do sleep 0.1; done
    STORE_ARG="127.0.0.1:$STORE_PORT"
    python3 "$HERE/memcached_sessions.py" "$STORE_PORT" "$SESSIONS" "$OUT/raw.cookies"
    ;;
  mongodb)
    "$SECANTUS_PYTHON" -c 'import secantus, pymongo' 2>/dev/null || {
      echo "no SecantusDB at $SECANTUS_PYTHON: run \`SERVICES=mongodb bash scripts/services.sh\` once, or set SECANTUS_PYTHON" >&2
      exit 1
    }
    cargo build --release --quiet --manifest-path "$HERE/server/Cargo.toml" --features mongodb --bin afs-mongo --bin raw-mongo
    start_secantus "$STORE_PORT" "$OUT/secantus.log"
    STORE_ARG="mongodb://127.0.0.1:$STORE_PORT"
    until "$SECANTUS_PYTHON" "$HERE/mongo_sessions.py" ping "$STORE_ARG" >/dev/null 2>&1; do sleep 0.2; done
    # The raw peer's collection gets its indexes from raw-mongo; seeding first is the same
    # (createIndexes on a filled collection).
    "$SECANTUS_PYTHON" "$HERE/mongo_sessions.py" seed "$STORE_ARG" afs_bench_mongo raw_sessions "$SESSIONS" "$OUT/raw.cookies"
    ;;
  *) echo "unknown STORE $STORE (memcached or mongodb)" >&2; exit 2 ;;
esac
BIN="$CARGO_TARGET_DIR/release"

printf '| server | route | requests | instructions/request |\n|---|---|---:|---:|\n'
for server in $SERVERS; do
  case $server in
    afs-*) cookies="$OUT/afs.cookies" ;;
    raw-*) cookies="$OUT/raw.cookies" ;;
    *) echo "unknown server $server" >&2; exit 2 ;;
  esac
  for route in $ROUTES; do
    tag="$server${route//\//-}"
    rm -f "$OUT/$tag.cg"*
    valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$OUT/$tag.cg" \
      "$BIN/$server" "$PORT" "$STORE_ARG" >"$OUT/$tag.log" 2>&1 &
    pid=$!
    PIDS+=("$pid")
    wait_http "$server" "$PORT" "$pid" "$OUT/$tag.log"
    if [ ! -s "$cookies" ]; then
      python3 "$HERE/make_cookies.py" "$PORT" "$SESSIONS" >"$cookies"
    fi
    callgrind_control -i on "$pid" >/dev/null 2>&1
    wrk -t1 -c"$CONNECTIONS" -d"$DURATION" -s "$HERE/sessions.lua" "http://127.0.0.1:$PORT$route" -- "$cookies" >"$OUT/$tag.wrk"
    callgrind_row "$server" "$route" "$tag" "$pid"
  done
done
echo "callgrind files: $OUT" >&2
