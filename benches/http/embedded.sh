#!/usr/bin/env bash
# benches/http/embedded.sh — the embedded stores under HTTP load: FileSystemStore
# (`filesystem`), cachelib's FileSystemCache (`cachelib-fs`) and SimpleCache (`simple`), each
# with SESSION_REFRESH_EACH_REQUEST on (Flask-Session's default) and off (`-norefresh`),
# on one hot session and on SESSIONS distinct sessions (spread by sessions.lua).
#
#   bash benches/http/embedded.sh
#
# Every server: the `afs-embedded` release binary, one actix worker pinned to core
# SERVER_CPU, its own fresh directory under a temporary dir; wrk on core WRK_CPU. Rounds
# interleave everything (round 1 of every store, mode and route, then round 2, ...), and
# the table gives each round on its own line with its ratios, computed within the round:
# `/read` with refresh over `/read` without, `/incr` over `/read` without refresh.
#
# The file stores' directories go under DIR_BASE (default: the temporary directory): the
# filesystem under it decides what a write costs (see benches/README.md: this VM's root
# ext4 has no journal, which makes every new inode expensive; a loop-mounted journaled
# ext4 or /dev/shm shows the difference).
#
# Knobs: ROUNDS=3 DURATION=10s CONNECTIONS=64 THREADS=2 SERVER_CPU=0 WRK_CPU=1
#        SESSIONS=64 STORES="filesystem cachelib-fs simple" DIR_BASE=<dir>
#        BENCH_TARGET_DIR=<target dir>
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/common.sh"
SESSIONS=${SESSIONS:-64}
STORES=${STORES:-"filesystem cachelib-fs simple"}
OUT=$(mktemp -d)
DIRS=$(mktemp -d "${DIR_BASE:-${TMPDIR:-/tmp}}/afs-embedded.XXXXXX")
trap 'cleanup; rm -rf "$OUT" "$DIRS"' EXIT
echo "store directories under $DIRS ($(df -T "$DIRS" | awk 'NR == 2 { print $2 }'))" >&2

command -v wrk >/dev/null || apt-get install -y wrk >/dev/null
echo "building release binary (CARGO_TARGET_DIR=$CARGO_TARGET_DIR)" >&2
cargo build --release --quiet --manifest-path "$HERE/server/Cargo.toml" --bin afs-embedded
BIN="$CARGO_TARGET_DIR/release/afs-embedded"

declare -A PORT_OF
port=21450
for store in $STORES; do
  for refresh in 1 0; do
    name=$store$([ "$refresh" = 0 ] && echo -norefresh || true)
    spec=$store
    [ "$store" = simple ] || spec="$store:$DIRS/$name"
    AFS_REFRESH=$refresh taskset -c "$SERVER_CPU" "$BIN" "$port" "$spec" >"$OUT/$name.log" 2>&1 &
    PIDS+=($!)
    wait_http "$name" "$port" "${PIDS[-1]}" "$OUT/$name.log"
    python3 "$HERE/make_cookies.py" "$port" 1 >"$OUT/$name-1.cookies"
    python3 "$HERE/make_cookies.py" "$port" "$SESSIONS" >"$OUT/$name-$SESSIONS.cookies"
    PORT_OF[$name]=$port
    port=$((port + 1))
  done
done

for round in $(seq 1 "$ROUNDS"); do
  for n in 1 "$SESSIONS"; do
    for route in read incr; do
      for name in "${!PORT_OF[@]}"; do
        taskset -c "$WRK_CPU" wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency \
          -s "$HERE/sessions.lua" "http://127.0.0.1:${PORT_OF[$name]}/$route" \
          -- "$OUT/$name-$n.cookies" >"$OUT/$name-$n-$route-$round.txt"
      done
    done
  done
done

python3 - "$OUT" "$ROUNDS" "$SESSIONS" $STORES <<'PY'
import re, sys, pathlib
out, rounds, sessions, stores = pathlib.Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4:]

def ms(text):
    v, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(v) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[unit]

def run(name, n, route, r):
    t = (out / f"{name}-{n}-{route}-{r}.txt").read_text()
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", t)
    return (float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1)),
            ms(re.search(r"^\s+99%\s+(\S+)", t, re.M).group(1)), int(m.group(1)) if m else 0)

print("| store | sessions | round | /read req/s (p99 ms) | /read no refresh | /incr | /incr no refresh "
      "| read/read-norefresh | incr/read-norefresh | non-2xx |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for store in stores:
    for n in ("1", sessions):
        for r in range(1, rounds + 1):
            rd, rdn = run(store, n, "read", r), run(store + "-norefresh", n, "read", r)
            inc, incn = run(store, n, "incr", r), run(store + "-norefresh", n, "incr", r)
            bad = rd[2] + rdn[2] + inc[2] + incn[2]
            cell = lambda x: f"{x[0]:.0f} ({x[1]:.1f})"
            print(f"| {store} | {n} | {r} | {cell(rd)} | {cell(rdn)} | {cell(inc)} | {cell(incn)} "
                  f"| {rd[0] / rdn[0]:.2f} | {inc[0] / rdn[0]:.2f} | {bad} |")
PY
