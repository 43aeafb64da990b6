#!/usr/bin/env bash
# benches/http/merge.sh — SESSION_CONCURRENCY under load: lost updates in
# last-write-wins against merge mode, and what merge mode costs when nothing conflicts.
#
#   bash benches/http/merge.sh
#
# 1. Conflicts, on Redis, PostgreSQL and the filesystem store: `wrk -c64 -d10s` on ONE
#    session, (a) /own: every request sets a key of its own; keys lost = successful saves
#    (the store's answers, counted by the server) - keys in the session afterwards;
#    (b) /incr_with: `update_with(n + 1)`; increments lost = successful saves - (n - 1).
#    Retries per request = compare-and-swaps that met a newer entry / saves.
# 2. No conflict, on Redis: /read and /incr with every in-flight request on a session of its
#    own (distinct_sessions.lua, 128 sessions), both modes interleaved, ROUNDS rounds:
#    req/s and Redis commands per request (INFO commandstats of a private redis-server).
#
# Knobs: ROUNDS=3 DURATION=10s CONNECTIONS=64 THREADS=2 SERVER_CPU=0 WRK_CPU=1
#        REDIS_PORT=21290 PORT=21201 PG_URL=postgresql://root@127.0.0.1:5432
#        STORES="redis pg fs" BENCH_TARGET_DIR=<target dir>
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/common.sh"
REDIS_PORT=${REDIS_PORT:-21290}
PORT=${PORT:-21201}
PG_URL=${PG_URL:-postgresql://root@127.0.0.1:5432}
STORES=${STORES:-"redis pg fs"}
DB=afs_bench_merge
OUT=$(mktemp -d)
FS_DIR="$OUT/sessions"

command -v wrk >/dev/null || apt-get install -y wrk >/dev/null
echo "building release binary (CARGO_TARGET_DIR=$CARGO_TARGET_DIR)" >&2
cargo build --release --quiet --manifest-path "$HERE/server/Cargo.toml" --features merge --bin afs-merge
BIN="$CARGO_TARGET_DIR/release/afs-merge"

start_redis "$OUT/redis.log"
if [[ " $STORES " == *" pg "* ]]; then
  psql "$PG_URL/postgres" -Atqc "SELECT 1 FROM pg_database WHERE datname = '$DB'" | grep -q 1 \
    || psql "$PG_URL/postgres" -qc "CREATE DATABASE $DB"
fi

target_of() { # store
  case $1 in
    redis) echo "redis://127.0.0.1:$REDIS_PORT" ;;
    pg) echo "$PG_URL/$DB?sslmode=disable" ;;
    fs) mkdir -p "$FS_DIR"; echo "fs:$FS_DIR" ;;
  esac
}

SERVER=
start() { # store mode
  taskset -c "$SERVER_CPU" "$BIN" "$PORT" "$(target_of "$1")" "$2" >"$OUT/server-$1-$2.log" 2>&1 &
  SERVER=$!
  PIDS+=("$SERVER")
  until curl -fs "http://127.0.0.1:$PORT/hello" >/dev/null; do sleep 0.05; done
}
stop() { kill "$SERVER"; wait "$SERVER" 2>/dev/null || true; }
cookie() { # route
  curl -fsS -D - -o /dev/null "http://127.0.0.1:$PORT/$1" | tr -d '\r' |
    awk 'tolower($1) == "set-cookie:" { split($2, a, ";"); print a[1]; exit }'
}
# The server's counters once they stop moving (requests wrk gave up on may still finish).
stats() {
  local a b
  a=$(curl -fsS "http://127.0.0.1:$PORT/stats")
  while sleep 0.3; b=$(curl -fsS "http://127.0.0.1:$PORT/stats"); [ "$a" != "$b" ]; do a=$b; done
  echo "$b"
}
field() { sed -n "s/.*$1=\([0-9]*\).*/\1/p" <<<"$2"; }
# `name calls usec` per Redis command (INFO itself left out).
redis_calls() {
  redis-cli -p "$REDIS_PORT" info commandstats | tr -d '\r' |
    awk -F'[:=,]' '/^cmdstat_/ && $1 != "cmdstat_info" { sub("cmdstat_", "", $1); print $1, $3, $5 }'
}
# Redis CPU (commandstats usec, all commands) per request.
redis_usec() { # before-file after-file requests
  awk -v r="$3" 'NR == FNR { b[$1] = $3; next } { s += $3 - b[$1] } END { printf "%.2f", s / r }' "$1" "$2"
}
# Per request, each command whose count moved: "getex 1.00 evalsha 1.00 ...". Commands a
# script runs (redis.call) are counted by Redis too, though they cost no round trip.
per_request() { # before-file after-file requests
  awk -v r="$3" 'NR == FNR { b[$1] = $2; next } { d = $2 - b[$1]; if (d > 0) printf "%s %.2f ", $1, d / r }' "$1" "$2"
}
wrk_run() { # out-file url [wrk args]
  local out=$1 url=$2; shift 2
  taskset -c "$WRK_CPU" wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$@" "$url" >"$out"
}
rps() { awk '/Requests\/sec/ {print $2}' "$1"; }
reqs() { awk '/requests in/ {print $1}' "$1"; }
non2xx() { local n; n=$(awk '/Non-2xx/ {print $5}' "$1" | head -1); echo "${n:-0}"; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

echo "## 1. One session, $CONNECTIONS connections, $DURATION"
echo
echo "| store | mode | route | req/s | saves | lost | lost % | conflicts (retries) per save | non-2xx |"
echo "|---|---|---|---:|---:|---:|---:|---:|---:|"
for store in $STORES; do
  for route in own incr_with; do
    for mode in last-write-wins merge; do
      start "$store" "$mode"
      c=$(cookie "$route")
      s0=$(stats)
      wrk_run "$OUT/$store-$mode-$route.txt" "http://127.0.0.1:$PORT/$route" -H "Cookie: $c"
      s1=$(stats)
      got=$(curl -fsS -H "Cookie: $c" "http://127.0.0.1:$PORT/count")
      saves=$(( $(field stored "$s1") - $(field stored "$s0") ))
      changed=$(( $(field changed "$s1") - $(field changed "$s0") ))
      if [ "$route" = own ]; then kept=$(( $(field keys "$got") - 1 )); else kept=$(( $(field n "$got") - 1 )); fi
      lost=$(( saves - kept ))
      printf '| %s | %s | /%s | %s | %d | %d | %s | %s | %s |\n' "$store" "$mode" "$route" \
        "$(rps "$OUT/$store-$mode-$route.txt")" "$saves" "$lost" \
        "$(awk -v l="$lost" -v s="$saves" 'BEGIN{printf "%.2f", s ? 100*l/s : 0}')" \
        "$(awk -v c="$changed" -v s="$saves" 'BEGIN{printf "%.3f", s ? c/s : 0}')" \
        "$(non2xx "$OUT/$store-$mode-$route.txt")"
      stop
    done
  done
done

echo
echo "## 2. No conflict (Redis; each in-flight request on a session of its own), medians of $ROUNDS"
echo
declare -A RPS CPR CONF USEC CPU
for mode in last-write-wins merge; do
  start redis "$mode"
  : >"$OUT/cookies-$mode"
  for _ in $(seq 128); do cookie incr >>"$OUT/cookies-$mode"; done
  stop
done
for round in $(seq "$ROUNDS"); do
  for route in read incr; do
    for mode in last-write-wins merge; do
      start redis "$mode"
      s0=$(stats)
      redis_calls >"$OUT/before"
      ticks=$(cpu_ticks "$SERVER")
      f="$OUT/nc-$mode-$route-$round.txt"
      COOKIES="$OUT/cookies-$mode" THREADS="$THREADS" wrk_run "$f" "http://127.0.0.1:$PORT/$route" \
        -s "$HERE/distinct_sessions.lua"
      s1=$(stats)
      redis_calls >"$OUT/after"
      USEC[$mode-$route]+="$(redis_usec "$OUT/before" "$OUT/after" "$(reqs "$f")") "
      CPU[$mode-$route]+="$(awk -v t="$(( $(cpu_ticks "$SERVER") - ticks ))" -v hz="$(getconf CLK_TCK)" -v r="$(reqs "$f")" 'BEGIN{printf "%.1f", t * 1e6 / hz / r}') "
      RPS[$mode-$route]+="$(rps "$f") "
      CPR[$mode-$route]="$(per_request "$OUT/before" "$OUT/after" "$(reqs "$f")")"
      CONF[$mode-$route]+="$(( $(field changed "$s1") - $(field changed "$s0") )) "
      stop
    done
  done
done
median() { printf '%s\n' $1 | sort -g | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }
echo "| route | mode | req/s | / last-write-wins | server CPU µs/req | Redis CPU µs/req | Redis commands per request (last round) | conflicts per round |"
echo "|---|---|---:|---:|---:|---:|---|---|"
for route in read incr; do
  base=$(median "${RPS[last-write-wins-$route]}")
  for mode in last-write-wins merge; do
    r=$(median "${RPS[$mode-$route]}")
    printf '| /%s | %s | %s | %s | %s | %s | %s | %s |\n' "$route" "$mode" "$r" \
      "$(awk -v a="$r" -v b="$base" 'BEGIN{printf "%.3f", a/b}')" \
      "$(median "${CPU[$mode-$route]}")" "$(median "${USEC[$mode-$route]}")" \
      "${CPR[$mode-$route]}" "${CONF[$mode-$route]}"
  done
done
echo
echo "(raw wrk outputs: $OUT)"
