#!/usr/bin/env bash
# benches/http/sizes.sh — how cost grows with the session's size, on Redis: this crate
# (`afs`) against the raw handler (`raw`: the same GETEX / SET of the whole value, no
# session layer, no codec) with every stored session SIZES bytes long.
#
#   bash benches/http/sizes.sh
#
# A private redis-server on REDIS_PORT (so that INFO counts only this benchmark), both
# servers pinned to core SERVER_CPU (one actix worker), wrk on core WRK_CPU. Every session
# is the msgpack of {"_permanent": true, "n": 1, "blob": "<text>"}, exactly SIZE bytes,
# seeded straight into Redis with the same bytes for both servers (growth_seed.py; the
# crate's sessions and raw's under different ids). `/read` loads it (GETEX); `/incr` loads
# it, increments `n` and writes the whole session back (the crate decodes and re-encodes
# it, raw changes its last byte and SETs the same length). The number of sessions per
# size is SESSIONS, cut so that one server's sessions hold at most MAX_BYTES (the default
# gives 4096 sessions at 100 B and 4 KB, 1024 at 64 KB, 67 at 1 MB); `sessions.lua` spreads
# the requests over them. Rounds interleave everything (round 1 of every size, route and
# server, then round 2, ...). Each round is a line: req/s, p99, the app server's CPU per
# request (user + system from /proc, its blocking pool included), Redis' CPU per request
# (INFO cpu: used_cpu_user + used_cpu_sys, network I/O included), Redis commands per
# request (INFO commandstats), the ratio to raw and the non-2xx count.
#
# "1 MB" is 1,000,000 bytes: SESSION_MAX_SIZE's default is 1 MiB (1,048,576 bytes) and a
# session at that limit could not grow by the byte that a larger `n` takes.
#
# Knobs: ROUNDS=3 DURATION=10s CONNECTIONS=64 THREADS=2 SERVER_CPU=0 WRK_CPU=1
#        SIZES="100 4096 65536 1000000" SESSIONS=4096 MAX_BYTES=67108864 ROUTES="read incr"
#        REDIS_PORT=21641 PORT_BASE=21642 (afs on PORT_BASE+1, raw on PORT_BASE+2)
#        CSV=<file> (appends rows backend,server,route,session_bytes,round,rps,p99_ms,
#        cpu_us_per_req,store_cpu_us_per_req; header written when the file is new)
#        BENCH_TARGET_DIR=<target dir>
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/common.sh"
SIZES=${SIZES:-"100 4096 65536 1000000"}
SESSIONS=${SESSIONS:-4096}
MAX_BYTES=${MAX_BYTES:-67108864}
ROUTES=${ROUTES:-"read incr"}
REDIS_PORT=${REDIS_PORT:-21641}
PORT_BASE=${PORT_BASE:-21642}
CSV=${CSV:-}
OUT=$(mktemp -d)
trap 'cleanup; rm -rf "$OUT"' EXIT

if ! command -v wrk >/dev/null; then
  apt-get install -y wrk >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }
fi
for tool in taskset redis-server redis-cli curl python3; do
  command -v "$tool" >/dev/null || { echo "missing $tool" >&2; exit 1; }
done
echo "building release binaries (CARGO_TARGET_DIR=$CARGO_TARGET_DIR)" >&2
cargo build --release --quiet --manifest-path "$HERE/server/Cargo.toml" --bin afs --bin raw
BIN="$CARGO_TARGET_DIR/release"

start_redis "$OUT/redis.log"
rcli() { redis-cli -p "$REDIS_PORT" "$@"; }

declare -A PORT_OF=([afs]=$((PORT_BASE + 1)) [raw]=$((PORT_BASE + 2)))
declare -A PID_OF
for name in afs raw; do
  taskset -c "$SERVER_CPU" "$BIN/$name" "${PORT_OF[$name]}" "redis://127.0.0.1:$REDIS_PORT" \
    >"$OUT/$name.log" 2>&1 &
  PID_OF[$name]=$!
  PIDS+=($!)
done
for name in afs raw; do
  wait_http "$name" "${PORT_OF[$name]}" "${PID_OF[$name]}" "$OUT/$name.log"
done

# Seeding: per size, the crate's sessions (ids a<size>-...) and raw's (r<size>-...).
declare -A COUNT_OF
for size in $SIZES; do
  n=$(( MAX_BYTES / size )); [ "$n" -gt "$SESSIONS" ] && n=$SESSIONS; [ "$n" -lt 1 ] && n=1
  COUNT_OF[$size]=$n
  for name in afs raw; do
    prefix=${name:0:1}$size-
    python3 "$HERE/growth_seed.py" cookies "$prefix" "$n" >"$OUT/$name-$size.cookies"
    python3 "$HERE/growth_seed.py" redis "$prefix" "$n" "$size" | rcli --pipe >"$OUT/seed.log"
    grep -q "errors: 0, replies: $n" "$OUT/seed.log" || { cat "$OUT/seed.log" >&2; exit 1; }
  done
  # Both servers see the session: the crate reads n = 1, raw the whole value's length.
  a=$(curl -fsS -H "Cookie: $(head -1 "$OUT/afs-$size.cookies")" "http://127.0.0.1:${PORT_OF[afs]}/read")
  r=$(curl -fsS -H "Cookie: $(head -1 "$OUT/raw-$size.cookies")" "http://127.0.0.1:${PORT_OF[raw]}/read")
  [ "$a" = 1 ] && [ "$r" = "$size" ] || { echo "size $size: afs /read=$a (want 1), raw /read=$r (want $size)" >&2; exit 1; }
  echo "size $size: $n sessions per server, $(awk -v b=$(( n * size * 2 )) 'BEGIN { printf "%.1f", b / 1048576 }') MiB in Redis" >&2
done

redis_cpu() { # used_cpu_user + used_cpu_sys, seconds
  rcli info cpu | tr -d '\r' | awk -F: '$1 == "used_cpu_user" || $1 == "used_cpu_sys" { s += $2 } END { printf "%.6f\n", s }'
}
redis_calls() { # total calls in INFO commandstats, without INFO itself
  rcli info commandstats | tr -d '\r' |
    awk -F'[:=,]' '/^cmdstat_/ && $1 != "cmdstat_info" { s += $3 } END { print s + 0 }'
}
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

for round in $(seq 1 "$ROUNDS"); do
  for size in $SIZES; do
    for route in $ROUTES; do
      for name in afs raw; do
        f="$OUT/$name-$size-$route-$round"
        ticks=$(cpu_ticks "${PID_OF[$name]}"); rc=$(redis_cpu); calls=$(redis_calls)
        taskset -c "$WRK_CPU" wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency \
          -s "$HERE/sessions.lua" "http://127.0.0.1:${PORT_OF[$name]}/$route" \
          -- "$OUT/$name-$size.cookies" >"$f.txt"
        echo "$(( $(cpu_ticks "${PID_OF[$name]}") - ticks )) $(redis_cpu) $rc $(( $(redis_calls) - calls ))" >"$f.counts"
      done
    done
  done
done

sessions_of=""
for size in $SIZES; do sessions_of+="$size=${COUNT_OF[$size]} "; done
python3 - "$OUT" "$ROUNDS" "$(getconf CLK_TCK)" "$CSV" "$SIZES" "$ROUTES" "$sessions_of" <<'PY'
import os, re, sys, pathlib
out, rounds, hz, csv = pathlib.Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
sizes, routes = sys.argv[5].split(), sys.argv[6].split()
sessions = dict(kv.split("=") for kv in sys.argv[7].split())

def ms(text):
    v, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(v) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[unit]

def run(name, size, route, r):
    base = f"{name}-{size}-{route}-{r}"
    t = (out / f"{base}.txt").read_text()
    ticks, rc_after, rc_before, calls = (out / f"{base}.counts").read_text().split()
    reqs = int(re.search(r"(\d+) requests in", t).group(1))
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", t)
    errors = re.search(r"Socket errors: (.*)", t)
    return dict(rps=float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1)),
                p99=ms(re.search(r"^\s+99%\s+(\S+)", t, re.M).group(1)),
                cpu=int(ticks) * 1e6 / hz / reqs if reqs else 0.0,
                store=(float(rc_after) - float(rc_before)) * 1e6 / reqs if reqs else 0.0,
                cpr=int(calls) / reqs if reqs else 0.0,
                bad=(int(m.group(1)) if m else 0), errors=errors.group(1) if errors else "")

print("| round | size (bytes) | sessions | route | crate req/s | raw req/s | vs raw | p99 ms crate / raw "
      "| app CPU µs/req crate / raw | Redis CPU µs/req crate / raw | Redis cmds/req crate / raw | non-2xx crate / raw |")
print("|---:|---:|---:|---|---:|---:|---:|---|---|---|---|---|")
rows = []
for r in range(1, rounds + 1):
    for size in sizes:
        for route in routes:
            a, b = run("afs", size, route, r), run("raw", size, route, r)
            print(f"| {r} | {size} | {sessions[size]} | /{route} | {a['rps']:.0f} | {b['rps']:.0f} | "
                  f"{a['rps'] / b['rps']:.2f} | {a['p99']:.2f} / {b['p99']:.2f} | "
                  f"{a['cpu']:.1f} / {b['cpu']:.1f} | {a['store']:.1f} / {b['store']:.1f} | "
                  f"{a['cpr']:.2f} / {b['cpr']:.2f} | {a['bad']} / {b['bad']} |")
            for name, x in (("afs", a), ("raw", b)):
                if x["errors"]:
                    print(f"  ({name} {size} /{route} round {r}: socket errors {x['errors']})")
                rows.append(f"redis,{name},{route},{size},{r},{x['rps']:.1f},{x['p99']:.3f},"
                            f"{x['cpu']:.2f},{x['store']:.2f}\n")
if csv:
    new = not os.path.exists(csv) or os.path.getsize(csv) == 0
    with open(csv, "a") as f:
        if new:
            f.write("backend,server,route,session_bytes,round,rps,p99_ms,cpu_us_per_req,store_cpu_us_per_req\n")
        f.writelines(rows)
    print(f"appended {len(rows)} rows to {csv}")
PY
