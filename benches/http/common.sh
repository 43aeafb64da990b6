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
