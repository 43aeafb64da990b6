#!/usr/bin/env bash
# scripts/readme-smoke.sh — the README followed as a new user would, in a fresh cargo
# project outside this repository (a temporary directory):
#   1. the dependency line of "Five minutes" (with this checkout's path) and its main.rs,
#      on Redis with the README's Session.toml: two visits count 1, 2;
#   2. "SQL setup" on PostgreSQL: the CLI installed with `cargo install --path`, its
#      emitted Diesel migration (schema and sequence) applied by `diesel migration run`,
#      the same app on it, and the cron cleanup command.
# Versions are pinned by this crate's Cargo.lock (what the app adds, e.g. actix-web's
# default compression, comes from the registry). Builds go to target/readme-smoke (kept,
# so a rerun is quick).
# Needs the services (scripts/services.sh) and the Diesel CLI (scripts/diesel-cli.sh).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
eval "$(bash "$repo/scripts/services.sh" env)"
diesel=${DIESEL_CLI:-$(bash "$repo/scripts/diesel-cli.sh")}
export CARGO_TARGET_DIR="$repo/target/readme-smoke"
work=$(mktemp -d)
app_pid=
cleanup() {
  [ -n "$app_pid" ] && kill "$app_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "README smoke test failed: $1"; [ -f "$work/app/log.txt" ] && cat "$work/app/log.txt"; exit 1; }

# The n-th fenced block of `lang` in the README whose text contains `needle`.
block() { # lang needle
  python3 - "$repo/README.md" "$1" "$2" <<'PY'
import re, sys, textwrap
text = open(sys.argv[1]).read()
# The info string may carry rustdoc attributes (```rust,no_run).
for m in re.finditer(r"^( *)```" + re.escape(sys.argv[2]) + r"(?:,[\w-]+)*\n(.*?)^\1```", text, re.S | re.M):
    body = textwrap.dedent(m.group(2))
    if sys.argv[3] in body:
        print(body, end="")
        sys.exit(0)
sys.exit(f"no ```{sys.argv[2]} block containing {sys.argv[3]!r} in README.md")
PY
}

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cargo new -q --vcs none "$work/app"
cd "$work/app"
dep=$(block toml 'actix-flask-session = { path')
grep -q '^actix-flask-session = { path = "../actix-flask-session", features = \["redis"\] }$' <<<"$dep" \
  || fail "the README's dependency line changed: $dep"
# This checkout stands for ../actix-flask-session; the SQL part adds its feature.
sed -e "s|\"../actix-flask-session\"|\"$repo\"|" -e 's|features = \["redis"\]|features = ["redis", "postgres"]|' \
  <<<"$dep" | grep -v '^\[dependencies\]' >>Cargo.toml
cp "$repo/Cargo.lock" Cargo.lock
block rust 'async fn index(session: ServerSideSession)' | sed "s/8080/$port/" >src/main.rs
echo "building the README's app"
cargo build -q

visits() { # label
  rm -f jar
  for _ in $(seq 300); do curl -fs -o /dev/null "http://127.0.0.1:$port/" 2>/dev/null && break
    kill -0 "$app_pid" 2>/dev/null || fail "$1: the app exited"; sleep 0.1; done
  # (the probe above was visit 1 of another browser; this one has its own jar)
  [ "$(curl -fs -c jar -b jar "http://127.0.0.1:$port/")" = "visit 1" ] || fail "$1: visit 1"
  [ "$(curl -fs -c jar -b jar "http://127.0.0.1:$port/")" = "visit 2" ] || fail "$1: visit 2"
  echo "$1: visits counted"
}
start() { "$CARGO_TARGET_DIR/debug/app" >log.txt 2>&1 & app_pid=$!; }
stop() { kill "$app_pid"; wait "$app_pid" 2>/dev/null || true; app_pid=; }

# 1. Redis, with the README's Session.toml (REDIS_URL stands for its redis://127.0.0.1:6379).
block toml 'SESSION_TYPE = "redis"' | sed "s|redis://127.0.0.1:6379|$REDIS_URL|" >Session.toml
start; visits "redis"; stop

# 2. PostgreSQL: the CLI as the README installs it, the emitted Diesel migration, cron.
echo "installing the CLI (cargo install --path)"
cargo install -q --debug --path "$repo" --features cli,postgres --root "$work/tools"
export PATH="$work/tools/bin:$PATH"
# A database of this script's own (created by `diesel setup`), a new schema each run.
schema="readme_$(date +%s)_$$"
db_url="${PG_URL%/*}/afs_readme_smoke"
block toml 'SESSION_TYPE = "sqlalchemy"' \
  | sed -e "s|postgresql://app@127.0.0.1/app|${db_url//&/\\&}|" -e "s|\"web\"|\"$schema\"|" -e "s|web_sessions_id_seq|${schema}_id_seq|" \
  >Session.toml
grep -q "SESSION_SQLALCHEMY_SEQUENCE = \"${schema}_id_seq\"" Session.toml || fail "the README's SQL Session.toml changed"
# A Diesel project as `diesel setup` makes it (diesel.toml, migrations/, the database).
"$diesel" setup --database-url "$db_url" >/dev/null
actix-flask-session migrate --emit migrations >/dev/null
"$diesel" migration run --database-url "$db_url" >/dev/null
start; visits "postgres (schema $schema)"; stop
cron=$(block cron 'actix-flask-session cleanup' | sed 's/^.*&& //')
[ "$($cron)" = "0 expired sessions deleted from the postgres store" ] || fail "cron cleanup: $($cron)"
echo "postgres: cron cleanup ran"
"$diesel" migration revert --database-url "$db_url" >/dev/null
echo "README smoke test: ok"
