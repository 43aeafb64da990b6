#!/usr/bin/env bash
# scripts/diesel-cli.sh — the Diesel CLI the tests drive (tests/tools/cli.rs applies and redoes
# the migration folders `actix-flask-session migrate --emit` writes), installed from
# crates.io once into a cache directory and reused by every later run:
#
#   bash scripts/diesel-cli.sh          # installs if missing, prints the binary's path
#   DIESEL_CLI=$(bash scripts/diesel-cli.sh)
#
# The cache is $ACTIX_FLASK_SESSION_TOOLS (default ~/.cache/actix-flask-session-tools);
# the build needs libpq, libmariadb and libsqlite3 (scripts/test.sh installs them).
set -euo pipefail
DIESEL_CLI_VERSION=2.3.14
root="${ACTIX_FLASK_SESSION_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/actix-flask-session-tools}/diesel-$DIESEL_CLI_VERSION"
bin="$root/bin/diesel"
if [ ! -x "$bin" ]; then
  echo "installing diesel_cli $DIESEL_CLI_VERSION into $root (once; later runs reuse it)" >&2
  # Its own target dir, so the install neither waits for nor invalidates the crate's build.
  CARGO_TARGET_DIR="$root/build" cargo install diesel_cli --version "$DIESEL_CLI_VERSION" \
    --locked --no-default-features --features postgres,mysql,sqlite --root "$root" >&2
  rm -rf "$root/build"
fi
echo "$bin"
