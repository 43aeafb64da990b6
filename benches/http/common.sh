# benches/http/common.sh — sourced by the HTTP benchmark scripts: the wrk knobs they share,
# the Cargo target dir, a trap that stops every process listed in PIDS on exit, and the
# Redis helpers of run.sh and callgrind.sh. (HERE must be set to benches/http by the caller,
# REDIS_PORT before a Redis helper is called.)
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
SERVER_CPU=${SERVER_CPU:-0}
WRK_CPU=${WRK_CPU:-1}
export CARGO_TARGET_DIR=${BENCH_TARGET_DIR:-$HERE/target}
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

# Starts a private redis-server on REDIS_PORT (nothing kept on disk, output to the file $1)
# and waits until it answers.
start_redis() { # log file
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no --daemonize no \
    >"$1" 2>&1 &
  PIDS+=($!)
  until [ "$(redis-cli -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ]; do sleep 0.05; done
}

# The session cookie (name=value) to load the server on port $2 with. The raw handler
# (binary `raw`) has no session layer: it gets the entry this crate would have written,
# seeded into Redis. The others: the first Set-Cookie of GET /incr.
session_cookie() { # binary port
  if [ "$1" = raw ]; then
    local sid=rawbenchAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA
    redis-cli -p "$REDIS_PORT" set "session:$sid" "$(printf '\x82\xaa_permanent\xc3\xa1n\x01')" \
      ex 2678400 >/dev/null
    echo "session=$sid"
  else
    curl -fsS -D - -o /dev/null "http://127.0.0.1:$2/incr" | tr -d '\r' |
      awk 'tolower($1) == "set-cookie:" { split($2, a, ";"); print a[1]; exit }'
  fi
}

# Builds the `afs` server with the crate's `metrics` feature (a Prometheus recorder
# installed) as $CARGO_TARGET_DIR/release/afs-metrics, then `afs` again without it.
build_afs_metrics() {
  cargo build --release --quiet --manifest-path "$HERE/server/Cargo.toml" --features metrics --bin afs
  cp "$CARGO_TARGET_DIR/release/afs" "$CARGO_TARGET_DIR/release/afs-metrics"
  cargo build --release --quiet --manifest-path "$HERE/server/Cargo.toml" --bin afs
}

# Waits until the server on port $2 (process $3) answers GET /hello; if the process dies
# first, prints its log ($4) and exits.
wait_http() { # name port pid log
  until curl -fs -o /dev/null "http://127.0.0.1:$2/hello" 2>/dev/null; do
    kill -0 "$3" 2>/dev/null || { echo "$1 did not start: $(cat "$4")" >&2; exit 1; }
    sleep 0.05
  done
}

# Starts SecantusDB in memory on port $1 (as scripts/services.sh does, but with mongod's
# 60 s TTL sweep), output to the file $2, any further arguments prefixed to the command
# (taskset ...); its pid in SECANTUS_PID, also in PIDS. Needs SECANTUS_PYTHON.
start_secantus() { # port log [prefix...]
  local port=$1 log=$2
  shift 2
  "$@" "$SECANTUS_PYTHON" -c '
import signal, sys
from secantus import SecantusDBServer
srv = SecantusDBServer(host="127.0.0.1", port=int(sys.argv[1]), storage_path=":memory:",
                       ttl_sweep_seconds=60.0, cache_size="256M", enable_test_commands=False)
def stop(*_):
    srv.stop(); sys.exit(0)
signal.signal(signal.SIGTERM, stop); signal.signal(signal.SIGINT, stop)
srv.start(); srv.wait()
' "$port" >"$log" 2>&1 &
  SECANTUS_PID=$!
  PIDS+=("$SECANTUS_PID")
}

# Ends a callgrind measurement of server $1 (process $4) on route $2 whose files are
# $OUT/$3.cg* and wrk output $OUT/$3.wrk, and prints its table row: the requests and the
# instructions per request. Fails on any non-2xx answer.
callgrind_row() { # server route tag pid
  callgrind_control -i off "$4" >/dev/null 2>&1
  kill -INT "$4"; wait "$4" 2>/dev/null || true
  if grep -q "Non-2xx" "$OUT/$3.wrk"; then echo "$1 $2: non-2xx answers" >&2; exit 1; fi
  local requests instructions
  requests=$(awk '/requests in/ { print $1 }' "$OUT/$3.wrk")
  instructions=$(cat "$OUT/$3.cg"* | awk '/^(summary|totals):/ { s += $2 } END { print s + 0 }')
  printf '| %s | %s | %s | %s |\n' "$1" "$2" "$requests" "$((instructions / requests))"
}
