#!/usr/bin/env bash
# benches/http/sql_pg.sh — the former PostgreSQL-only benchmark, kept for its name: runs
# sql.sh on PostgreSQL (DB=pg), this crate against the raw SQL peer over many sessions.
#
#   bash benches/http/sql_pg.sh
#
# Knobs: those of sql.sh (ROUNDS, DURATION, SESSIONS, SESSION_BYTES, CSV, ...); DB is pg.
set -euo pipefail
DB=pg exec bash "$(dirname "$0")/sql.sh" "$@"
