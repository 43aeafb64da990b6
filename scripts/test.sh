#!/usr/bin/env bash
# scripts/test.sh — the whole test suite in one command, on a fresh clone:
#   1. installs the system libraries the build needs and the headless Chromium of the
#      browser test (Debian packages, only if missing),
#   2. installs and starts every backend server the tests talk to (scripts/services.sh),
#   3. creates the Python venv with the real Flask-Session 0.8.0 for the interop tests,
#   4. installs the Diesel CLI once into a cache (scripts/diesel-cli.sh, in the background
#      while the next steps run), for the tests of the migrations the CLI emits,
#   5. runs cargo fmt --check, clippy -D warnings, every test (all features), the
#      doctests, rustdoc with warnings as errors, a smoke test of the quickstart example,
#      the README followed in a fresh project (scripts/readme-smoke.sh), and
#      `cargo publish --dry-run` (the packaged crate builds on its own).
# Any missing service makes the run fail: tests never skip silently.
#
#   bash scripts/test.sh              # everything
#   TEST_FILTER='redis' bash scripts/test.sh   # only tests whose name matches (nextest filter)
set -euo pipefail
cd "$(dirname "$0")/.."
T0=$(date +%s)
step() { printf '\n==> %s (%ss)\n' "$1" "$(( $(date +%s) - T0 ))"; }

step "system packages"
missing=()
# chromium and chromium-driver: the browser test of the quickstart (tests/tools/browser.rs).
for pkg in libmariadb-dev libpq-dev libsqlite3-dev pkg-config chromium chromium-driver; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi

step "diesel CLI (in the background; installed once, then reused from its cache)"
diesel_log=$(mktemp)
bash scripts/diesel-cli.sh >"$diesel_log.path" 2>"$diesel_log" &
diesel_pid=$!
trap 'kill "$diesel_pid" 2>/dev/null || true' EXIT

step "services"
bash scripts/services.sh
eval "$(bash scripts/services.sh env)"

if [ -f scripts/interop-venv.sh ]; then
  step "python venv for Flask-Session interop"
  bash scripts/interop-venv.sh
fi

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy (all targets, all features, -D warnings)"
cargo clippy --all-targets --all-features -- -D warnings

step "diesel CLI ready"
if ! wait "$diesel_pid"; then
  cat "$diesel_log"
  echo "installing the Diesel CLI failed (scripts/diesel-cli.sh)"
  exit 1
fi
DIESEL_CLI=$(cat "$diesel_log.path")
export DIESEL_CLI
rm -f "$diesel_log" "$diesel_log.path"

step "tests (all features)"
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --all-features --no-fail-fast ${TEST_FILTER:+-E "test(/$TEST_FILTER/)"}
else
  cargo test --all-features --no-fail-fast ${TEST_FILTER:+"$TEST_FILTER"}
fi

step "doctests"
cargo test --doc --all-features

step "rustdoc (all features, warnings are errors)"
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --all-features --quiet

step "quickstart smoke test"
bash scripts/quickstart-smoke.sh

step "README smoke test (a fresh project outside the repository: Redis, then PostgreSQL with the CLI's Diesel migration and the cron cleanup)"
bash scripts/readme-smoke.sh

step "cargo publish --dry-run (package contents build on their own, with the cli feature)"
cargo publish --dry-run --allow-dirty --features cli

step "done"
