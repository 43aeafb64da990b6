#!/usr/bin/env bash
# Builds and starts `cargo run --example quickstart` in a scratch directory, logs in with
# curl, checks the visit counter and the logout cookie, and stops it again.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build -q --example quickstart
bin="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/debug/examples/quickstart"
work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
(cd "$work" && PORT=$port exec "$bin" >"$work/log.txt" 2>&1) &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 100); do curl -fs -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
fail() { echo "quickstart smoke test failed: $1"; cat "$work/log.txt"; exit 1; }
curl -fs "http://127.0.0.1:$port/" | grep -q 'Log in' || fail "no login form"
curl -fs -c "$work/jar" -b "$work/jar" -d name=alice "http://127.0.0.1:$port/login" -o /dev/null
curl -fs -c "$work/jar" -b "$work/jar" "http://127.0.0.1:$port/" | grep -q 'visits: 1' || fail "visit 1"
curl -fs -c "$work/jar" -b "$work/jar" "http://127.0.0.1:$port/" | grep -q 'visits: 2' || fail "visit 2"
[ "$(ls "$work/flask_session" | wc -l)" -ge 1 ] || fail "no session file in $work/flask_session"
curl -fsi -c "$work/jar" -b "$work/jar" -X POST "http://127.0.0.1:$port/logout" | grep -qi '^set-cookie: session=;' || fail "no deletion cookie"
grep -q 'no configuration file' "$work/log.txt" || fail "log does not say which config it used"
echo "quickstart smoke test: ok"
