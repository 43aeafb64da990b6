#!/usr/bin/env bash
# benches/http/callgrind.sh — user-space instructions per request, counted by
# `valgrind --tool=callgrind`: repeatable whatever else the machine is doing, so this is
# how changes to the request path are judged (wall-clock req/s on this VM moves ±10%).
#
#   bash benches/http/callgrind.sh                 # afs, raw and raw-cookie; /read /incr /hello
#   SERVERS=afs ROUTES=/incr bash benches/http/callgrind.sh
#   SERVERS="afs afs-metrics" bash benches/http/callgrind.sh   # the cost of the `metrics` feature
#
# Builds the `afs` and `raw` release binaries (`raw-cookie` is `raw` with RAW_COOKIE=1) of benches/http/server, starts a private
# redis-server, then for each server and route runs the server under callgrind with
# instrumentation off, sets a session cookie, switches instrumentation on, runs
# `wrk -t1 -c$CONNECTIONS -d$DURATION` with that cookie, switches it off again and divides the
# instructions counted (all threads of the server) by the requests wrk completed.
#
# Knobs: SERVERS="afs raw raw-cookie" ROUTES="/read /incr /hello" DURATION=15s CONNECTIONS=4 REDIS_PORT=6393
#        PORT=18090 BENCH_TARGET_DIR=<target dir> KEEP=<dir to keep callgrind files in>
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
SERVERS=${SERVERS:-"afs raw raw-cookie"}
ROUTES=${ROUTES:-"/read /incr /hello"}
DURATION=${DURATION:-15s}
CONNECTIONS=${CONNECTIONS:-4}
source "$HERE/common.sh"
REDIS_PORT=${REDIS_PORT:-6393}
PORT=${PORT:-18090}
OUT=${KEEP:-$(mktemp -d)}
mkdir -p "$OUT"

for tool in valgrind callgrind_control wrk redis-server redis-cli curl; do
  command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install valgrind wrk redis-server)" >&2; exit 1; }
done

echo "building release binaries (CARGO_TARGET_DIR=$CARGO_TARGET_DIR)" >&2
cargo build --release --quiet --manifest-path "$HERE/server/Cargo.toml" --bin afs --bin raw
case " $SERVERS " in *" afs-metrics "*) build_afs_metrics ;; esac
BIN="$CARGO_TARGET_DIR/release"

start_redis "$OUT/redis.log"

printf '| server | route | requests | instructions/request |\n|---|---|---:|---:|\n'
for server in $SERVERS; do
  for route in $ROUTES; do
    tag="$server${route//\//-}"
    case $server in
      raw-cookie) binary=raw env=(RAW_COOKIE=1) ;;
      *) binary=$server env=() ;;
    esac
    env "${env[@]}" valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$OUT/$tag.cg" \
      "$BIN/$binary" "$PORT" "redis://127.0.0.1:$REDIS_PORT" >"$OUT/$tag.log" 2>&1 &
    pid=$!
    PIDS+=("$pid")
    wait_http "$server" "$PORT" "$pid" "$OUT/$tag.log"
    cookie=$(session_cookie "$binary" "$PORT")
    [ -n "$cookie" ] || { echo "$server: no session cookie" >&2; exit 1; }
    callgrind_control -i on "$pid" >/dev/null 2>&1
    wrk -t1 -c"$CONNECTIONS" -d"$DURATION" -H "Cookie: $cookie" "http://127.0.0.1:$PORT$route" >"$OUT/$tag.wrk"
    callgrind_row "$server" "$route" "$tag" "$pid"
  done
done
echo "callgrind files: $OUT" >&2
