#!/usr/bin/env bash
# Builds `cargo run --example quickstart` and runs it in scratch directories: logs in with
# curl, checks the visit counter, the empty-name page and the logout cookie; checks that the
# log names the store really used and announces the address only once it is bound (the
# first request goes to the logged address without retrying); and that a bad PORT is an
# error; and that `/metrics` counts exactly what those requests did (Prometheus text
# format). Stops every process it started.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build -q --example quickstart --features metrics
bin="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/debug/examples/quickstart"
work=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT
fail() { echo "quickstart smoke test failed: $1"; cat "$work"/*/run.log 2>/dev/null; exit 1; }

# Starts the quickstart in directory $1 with PORT=0 (and the extra environment in $2...),
# waits for its "serving" line and sets $pid and $url.
start() {
  local dir=$1; shift
  mkdir -p "$dir"
  (cd "$dir" && exec env -u SESSION_TYPE -u ACTIX_FLASK_SESSION_CONFIG NO_COLOR=1 PORT=0 "$@" "$bin" >"$dir/run.log" 2>&1) &
  pid=$!
  url=
  for _ in $(seq 300); do
    url=$(sed -n 's#.*serving \(http://127\.0\.0\.1:[0-9]*/\).*#\1#p' "$dir/run.log" | head -n1)
    [ -n "$url" ] && return 0
    kill -0 "$pid" 2>/dev/null || fail "the quickstart exited: $(cat "$dir/run.log")"
    sleep 0.1
  done
  fail "no serving line in $dir/run.log"
}
stop() { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; pid=; }

# 1. Default: filesystem store in ./flask_session.
start "$work/fs"
# Bound before announced: the first request to the logged address succeeds without retry.
curl -fs "$url" | grep -q 'Log in' || fail "no login form at the announced address $url"
curl -fs -c "$work/jar" -b "$work/jar" -d name=alice "${url}login" -o /dev/null
curl -fs -c "$work/jar" -b "$work/jar" "$url" | grep -q 'visits: 1' || fail "visit 1"
curl -fs -c "$work/jar" -b "$work/jar" "$url" | grep -q 'visits: 2' || fail "visit 2"
[ "$(ls "$work/fs/flask_session" | wc -l)" -ge 1 ] || fail "no session file in $work/fs/flask_session"
# A name of spaces: 400 with the form again and what to fix, not a bare text.
status=$(curl -s -o "$work/empty.html" -w '%{http_code}' --data-urlencode 'name=   ' "${url}login")
[ "$status" = 400 ] || fail "empty name answered $status"
grep -q 'Please enter a name' "$work/empty.html" || fail "empty name: no explanation"
grep -q '<form method=post action=/login>' "$work/empty.html" || fail "empty name: no form to retry"
# "Your sessions": a second browser logs in as alice; the first sees both and logs the
# other out.
curl -fs -c "$work/jar2" -b "$work/jar2" -A 'Second browser' -d name=alice "${url}login" -o /dev/null
page=$(curl -fs -c "$work/jar" -b "$work/jar" "${url}sessions")
grep -q '<p id=count>2 sessions</p>' <<<"$page" || fail "the sessions page does not list 2 sessions: $page"
grep -q '(this one)' <<<"$page" || fail "the sessions page does not mark this one"
grep -q 'Second browser' <<<"$page" || fail "the sessions page does not show the other browser"
curl -fs -c "$work/jar" -b "$work/jar" -X POST "${url}sessions/revoke-others" -o /dev/null
curl -fs -c "$work/jar2" -b "$work/jar2" "$url" | grep -q 'Log in' || fail "the revoked browser is still logged in"
curl -fs -c "$work/jar" -b "$work/jar" "${url}sessions" | grep -q '<p id=count>1 session</p>' \
  || fail "after log out everywhere else, the page does not list 1 session"
curl -fsi -c "$work/jar" -b "$work/jar" -X POST "${url}logout" | grep -qi '^set-cookie: session=;' || fail "no deletion cookie"
# /metrics: 3 requests without a cookie (the form, the login, the empty name), 3 with one
# (two visits, the logout); what each saved, and the store calls behind it.
curl -fs "${url}metrics" >"$work/metrics.txt" || fail "no /metrics"
for line in \
  'actix_flask_session_loads_total{outcome="fresh"} 3' \
  'actix_flask_session_loads_total{outcome="hit"} 3' \
  'actix_flask_session_saves_total{outcome="unchanged"} 2' \
  'actix_flask_session_saves_total{outcome="created"} 1' \
  'actix_flask_session_saves_total{outcome="updated"} 2' \
  'actix_flask_session_saves_total{outcome="deleted"} 1' \
  'actix_flask_session_store_call_duration_seconds_count{backend="filesystem",operation="load",outcome="hit"} 3' \
  'actix_flask_session_store_call_duration_seconds_count{backend="filesystem",operation="create",outcome="created"} 1' \
  'actix_flask_session_store_call_duration_seconds_count{backend="filesystem",operation="update",outcome="updated"} 2' \
  'actix_flask_session_store_call_duration_seconds_count{backend="filesystem",operation="delete",outcome="ok"} 1' \
  '# TYPE actix_flask_session_store_call_duration_seconds histogram'; do
  grep -qxF "$line" "$work/metrics.txt" || fail "/metrics lacks the line: $line
$(cat "$work/metrics.txt")"
done
[ "$(grep -c '^actix_flask_session_loads_total{' "$work/metrics.txt")" = 2 ] || fail "/metrics has other load outcomes"
[ "$(grep -c '^actix_flask_session_saves_total{' "$work/metrics.txt")" = 4 ] || fail "/metrics has other save outcomes"
! grep -q 'actix_flask_session_store_errors_total' "$work/metrics.txt" || fail "/metrics counts store errors"
grep -q 'no configuration file' "$work/fs/run.log" || fail "log does not say which config it used"
grep -q 'store="filesystem"\|store=filesystem' "$work/fs/run.log" || fail "log does not name the filesystem store"
stop

# 2. SESSION_TYPE from the environment: the log names that store, not "filesystem".
start "$work/cl" SESSION_TYPE=cachelib 'SESSION_CACHELIB={ type = "simple" }'
curl -fs "$url" | grep -q 'Log in' || fail "cachelib: no login form"
grep -q 'store="cachelib"\|store=cachelib' "$work/cl/run.log" || fail "log does not name the cachelib store"
! grep -q 'filesystem' "$work/cl/run.log" || fail "the cachelib run logs \"filesystem\""
stop

# 3. A PORT that is not a port number is an error, not 8080.
mkdir -p "$work/port"
if (cd "$work/port" && env NO_COLOR=1 PORT=abc "$bin" >"$work/port/run.log" 2>&1); then
  fail "PORT=abc started a server"
fi
grep -q 'PORT must be a port number from 0 to 65535 (0: any free port), not "abc"' "$work/port/run.log" \
  || fail "PORT=abc does not say what is wrong"

echo "quickstart smoke test: ok"
