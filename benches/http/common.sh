# benches/http/common.sh — sourced by the HTTP benchmark scripts: the wrk knobs they share,
# the Cargo target dir, and a trap that stops every process listed in PIDS on exit.
# (HERE must be set to benches/http by the caller.)
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
