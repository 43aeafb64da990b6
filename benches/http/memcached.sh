#!/usr/bin/env bash
# benches/http/memcached.sh — this crate on memcached against a raw handler sending the same
# meta commands through the same client and pool (`raw-memcached`), over many sessions.
#
#   bash benches/http/memcached.sh
#
# Starts a private memcached on MC_PORT (so that its `stats` count only this benchmark),
# both servers pinned to core SERVER_CPU (one worker), creates SESSIONS sessions on each
# (the crate's through `GET /incr`; the raw peer's seeded with the same bytes), then runs
# `wrk -s sessions.lua` (every request with the next cookie) on core WRK_CPU, ROUNDS times,
# interleaved. Prints each round: req/s, p99, the ratio to raw and memcached commands per
# request (`cmd_get` + `cmd_set` + `cmd_touch` deltas of `stats` over the requests wrk
# completed; an `mg` with a `T` flag counts as a get and a touch).
#
# Knobs: ROUNDS=3 DURATION=10s CONNECTIONS=64 THREADS=2 SERVER_CPU=0 WRK_CPU=1
#        SESSIONS=4096 MC_PORT=21402 BENCH_TARGET_DIR=<target dir>
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/common.sh"
SESSIONS=${SESSIONS:-4096}
MC_PORT=${MC_PORT:-21402}
OUT=$(mktemp -d)

command -v wrk >/dev/null || apt-get install -y wrk >/dev/null
echo "building release binaries (CARGO_TARGET_DIR=$CARGO_TARGET_DIR)" >&2
cargo build --release --quiet --manifest-path "$HERE/server/Cargo.toml" --bin afs-memcached --bin raw-memcached
BIN="$CARGO_TARGET_DIR/release"

as_user=()
[ "$(id -u)" = 0 ] && as_user=(-u nobody) # memcached refuses to run as root
memcached "${as_user[@]}" -p "$MC_PORT" -l 127.0.0.1 -U 0 -m 256 -t 1 >"$OUT/memcached.log" 2>&1 &
PIDS+=($!)
mc_stats() { # prints cmd_get+cmd_set+cmd_touch
  python3 - "$MC_PORT" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"stats\r\n")
buf = b""
while not buf.endswith(b"END\r\n"):
    buf += s.recv(65536)
stats = dict(l.split()[1:3] for l in buf.decode().splitlines() if l.startswith("STAT"))
print(int(stats["cmd_get"]) + int(stats["cmd_set"]) + int(stats["cmd_touch"]))
PY
}
until mc_stats >/dev/null 2>&1; do
  kill -0 "${PIDS[-1]}" 2>/dev/null || { echo "memcached did not start: $(cat "$OUT/memcached.log")" >&2; exit 1; }
  sleep 0.1
done

taskset -c "$SERVER_CPU" "$BIN/afs-memcached" 21403 "127.0.0.1:$MC_PORT" >"$OUT/afs.log" 2>&1 &
PIDS+=($!)
taskset -c "$SERVER_CPU" "$BIN/raw-memcached" 21404 "127.0.0.1:$MC_PORT" >"$OUT/raw.log" 2>&1 &
PIDS+=($!)
for p in 21403 21404; do until curl -fs -o /dev/null "http://127.0.0.1:$p/hello"; do sleep 0.05; done; done
python3 "$HERE/make_cookies.py" 21403 "$SESSIONS" >"$OUT/afs.cookies"
# The raw peer's sessions: the bytes this crate writes for {_permanent: true, n: 1}.
python3 "$HERE/memcached_sessions.py" "$MC_PORT" "$SESSIONS" "$OUT/raw.cookies"

declare -A PORT_OF=([afs]=21403 [raw]=21404)
for round in $(seq 1 "$ROUNDS"); do
  for route in read incr hello; do
    for name in afs raw; do
      before=$(mc_stats)
      taskset -c "$WRK_CPU" wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency \
        -s "$HERE/sessions.lua" "http://127.0.0.1:${PORT_OF[$name]}/$route" -- "$OUT/$name.cookies" \
        >"$OUT/$name-$route-$round.txt"
      echo "$(( $(mc_stats) - before ))" >"$OUT/$name-$route-$round.calls"
    done
  done
done

python3 - "$OUT" "$ROUNDS" <<'PY'
import re, sys, pathlib
out, rounds = pathlib.Path(sys.argv[1]), int(sys.argv[2])
def ms(text):
    v, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(v) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[unit]
def run(name, route, r):
    t = (out / f"{name}-{route}-{r}.txt").read_text()
    reqs = int(re.search(r"(\d+) requests in", t).group(1))
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", t)
    calls = int((out / f"{name}-{route}-{r}.calls").read_text())
    return dict(rps=float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1)),
                p99=ms(re.search(r"^\s+99%\s+(\S+)", t, re.M).group(1)),
                cpr=calls / reqs, bad=int(m.group(1)) if m else 0)
print("| round | route | this crate req/s | raw req/s | vs raw | p99 ms crate / raw | memcached cmds/req crate / raw | non-2xx |")
print("|---:|---|---:|---:|---:|---|---|---:|")
for r in range(1, rounds + 1):
    for route in ("read", "incr", "hello"):
        a, b = run("afs", route, r), run("raw", route, r)
        print(f"| {r} | /{route} | {a['rps']:.0f} | {b['rps']:.0f} | {a['rps'] / b['rps']:.2f} | "
              f"{a['p99']:.2f} / {b['p99']:.2f} | {a['cpr']:.2f} / {b['cpr']:.2f} | {a['bad'] + b['bad']} |")
PY
