#!/usr/bin/env bash
# benches/http/run.sh — HTTP load benchmark: actix-flask-session on Redis against
# actix-session 0.11 (Redis store) and a raw actix-web handler doing the same Redis
# commands (`raw`), and the same raw handler also sending the refreshed Set-Cookie and
# Vary: Cookie that Flask-Session's defaults send on every session request
# (`raw-cookie`). See benches/README.md.
#
#   bash benches/http/run.sh
#
# Builds the release binaries, starts a private redis-server (unpinned, its own port, so
# that INFO commandstats counts only this benchmark) and the servers (each pinned to core
# SERVER_CPU, one worker), then runs `wrk -t2 -c64 -d10s` on core WRK_CPU for every route
# and server, ROUNDS times, interleaved (round 1 of all, then round 2, ...). Prints
# medians: req/s, p50, p99, the ratios to raw, raw-cookie and actix-session, Redis
# commands per request (INFO commandstats delta divided by the requests wrk completed) and
# the server's CPU time (user + system, from /proc) per request.
#
# Knobs: ROUNDS=3 DURATION=10s CONNECTIONS=64 THREADS=2 SERVER_CPU=0 WRK_CPU=1
#        REDIS_PORT=6391 PORT_BASE=18080 (servers on PORT_BASE+1...) BENCH_TARGET_DIR=<target dir> ONLY="afs raw raw-cookie actix-session"
#        ROUTES="read incr hello"
#        (add `afs-metrics`: `afs` with the crate's `metrics` feature and a Prometheus recorder)
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/common.sh"
REDIS_PORT=${REDIS_PORT:-6391}
PORT_BASE=${PORT_BASE:-18080}
ONLY=${ONLY:-"afs raw raw-cookie actix-session"}
ROUTES=${ROUTES:-"read incr hello"}
REDIS_URL="redis://127.0.0.1:$REDIS_PORT"
OUT=$(mktemp -d)

need() { command -v "$1" >/dev/null 2>&1; }
if ! need wrk; then
  echo "installing wrk" >&2
  apt-get install -y wrk >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }
fi
for tool in taskset redis-server redis-cli curl python3; do
  need "$tool" || { echo "missing $tool" >&2; exit 1; }
done

echo "building release binaries (CARGO_TARGET_DIR=$CARGO_TARGET_DIR)" >&2
cargo build --release --quiet --manifest-path "$HERE/server/Cargo.toml"
cargo build --release --quiet --manifest-path "$HERE/actix-session-peer/Cargo.toml"
case " $ONLY " in *" afs-metrics "*) build_afs_metrics ;; esac
BIN="$CARGO_TARGET_DIR/release"

start_redis "$OUT/redis.log"

# Total calls in INFO commandstats, without INFO itself.
redis_calls() {
  redis-cli -p "$REDIS_PORT" info commandstats | tr -d '\r' |
    awk -F'[:=,]' '/^cmdstat_/ && $1 != "cmdstat_info" { s += $3 } END { print s + 0 }'
}

wait_http() { # port
  local i
  for i in $(seq 1 400); do
    curl -fsS -o /dev/null "http://127.0.0.1:$1/hello" 2>/dev/null && return 0
    sleep 0.05
  done
  echo "server on port $1 did not start" >&2; return 1
}

# Server CPU time (user + system, clock ticks) of a process, from /proc.
cpu_ticks() { # pid
  awk '{ print $14 + $15 }' "/proc/$1/stat"
}

declare -A PORT_OF PID_OF COOKIE_OF
start_server() { # name binary port [VAR=value for the server's environment]
  local name=$1 bin=$2 port=$3 cookie
  env ${4:-} taskset -c "$SERVER_CPU" "$bin" "$port" "$REDIS_URL" >"$OUT/$name.log" 2>&1 &
  PID_OF[$name]=$!
  PIDS+=("$!")
  PORT_OF[$name]=$port
  wait_http "$port"
  cookie=$(session_cookie "$(basename "$bin")" "$port")
  [ -n "$cookie" ] || { echo "$name: no session cookie" >&2; exit 1; }
  COOKIE_OF[$name]=$cookie
}

for name in $ONLY; do
  case $name in
    afs) start_server afs "$BIN/afs" $((PORT_BASE + 1)) ;;
    afs-metrics) start_server afs-metrics "$BIN/afs-metrics" $((PORT_BASE + 5)) ;;
    actix-session) start_server actix-session "$BIN/actix-session-peer" $((PORT_BASE + 2)) ;;
    raw) start_server raw "$BIN/raw" $((PORT_BASE + 3)) ;;
    raw-cookie) start_server raw-cookie "$BIN/raw" $((PORT_BASE + 4)) RAW_COOKIE=1 ;;
    *) echo "unknown server $name" >&2; exit 2 ;;
  esac
done

# Rounds interleave the servers (round 1 of every server and route, then round 2, ...), so
# that a change in the machine's load during the run falls on all of them alike. Only the
# server under load uses its core; the others are idle.
for round in $(seq 1 "$ROUNDS"); do
  for route in $ROUTES; do
    for name in $ONLY; do
      before=$(redis_calls)
      ticks=$(cpu_ticks "${PID_OF[$name]}")
      taskset -c "$WRK_CPU" wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency \
        -H "Cookie: ${COOKIE_OF[$name]}" "http://127.0.0.1:${PORT_OF[$name]}/$route" \
        >"$OUT/$name-$route-$round.txt"
      echo "$(( $(cpu_ticks "${PID_OF[$name]}") - ticks ))" >"$OUT/$name-$route-$round.ticks"
      echo "$(( $(redis_calls) - before ))" >"$OUT/$name-$route-$round.calls"
    done
  done
done

ROUTES="$ROUTES" python3 - "$OUT" "$ROUNDS" "$(getconf CLK_TCK)" $ONLY <<'PY'
import os, re, statistics, sys, pathlib
out, rounds, hz, names = pathlib.Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
routes = os.environ["ROUTES"].split()

def ms(text):
    v, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(v) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[unit]

res = {}
for name in names:
    for route in routes:
        rps, p50, p99, cpr, cpu, non2xx = [], [], [], [], [], 0
        for r in range(1, rounds + 1):
            t = (out / f"{name}-{route}-{r}.txt").read_text()
            rps.append(float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1)))
            p50.append(ms(re.search(r"^\s+50%\s+(\S+)", t, re.M).group(1)))
            p99.append(ms(re.search(r"^\s+99%\s+(\S+)", t, re.M).group(1)))
            reqs = int(re.search(r"(\d+) requests in", t).group(1))
            m = re.search(r"Non-2xx or 3xx responses: (\d+)", t)
            non2xx += int(m.group(1)) if m else 0
            calls = int((out / f"{name}-{route}-{r}.calls").read_text())
            cpr.append(calls / reqs if reqs else 0.0)
            ticks = int((out / f"{name}-{route}-{r}.ticks").read_text())
            cpu.append(ticks * 1e6 / hz / reqs if reqs else 0.0)
        res[(name, route)] = dict(rps=statistics.median(rps), p50=statistics.median(p50),
                                  p99=statistics.median(p99), cpr=statistics.median(cpr),
                                  cpu=statistics.median(cpu), bad=non2xx)

def ratio(name, route, other, key="rps", inverse=False):
    o = res.get((other, route))
    if not o or not o[key] or not res[(name, route)][key]:
        return "-"
    a, b = res[(name, route)][key], o[key]
    return f"{(b / a if inverse else a / b):.2f}"

print(f"wrk medians of {rounds} interleaved rounds; Redis commands per request from INFO "
      "commandstats; server CPU (user + system) per request from /proc")
print("| server | route | req/s | p50 ms | p99 ms | vs raw | vs raw-cookie | vs actix-session "
      "| cmds/req | server CPU µs/req | raw CPU / this CPU | non-2xx |")
print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for name in names:
    for route in routes:
        r = res[(name, route)]
        print(f"| {name} | /{route} | {r['rps']:.0f} | {r['p50']:.2f} | {r['p99']:.2f} | "
              f"{ratio(name, route, 'raw')} | {ratio(name, route, 'raw-cookie')} | "
              f"{ratio(name, route, 'actix-session')} | "
              f"{r['cpr']:.2f} | {r['cpu']:.1f} | {ratio(name, route, 'raw', 'cpu', True)} | "
              f"{r['bad']} |")
PY
