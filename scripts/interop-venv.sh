#!/usr/bin/env bash
# scripts/interop-venv.sh — create (idempotently) the Python venv the Flask interop tests
# run the real Flask-Session 0.8.0 in, and print its path.
#
#   bash scripts/interop-venv.sh          # create or complete the venv, print its path
#   INTEROP_VENV=/some/dir bash scripts/interop-venv.sh
#
# Installs only what is missing: when every pinned requirement is already satisfied, pip
# is not run at all. The tests find the venv at the same path (INTEROP_VENV, default
# $HOME/.cache/actix-flask-session-services/venv-interop) and use its bin/python.
set -euo pipefail

VENV="${INTEROP_VENV:-${HOME:-.}/.cache/actix-flask-session-services/venv-interop}"
PYTHON="${PYTHON:-python3}"
INSTALL_TIMEOUT="${INSTALL_TIMEOUT:-900}"

# Everything the backends' interop needs; flask-session is pinned exactly.
REQUIREMENTS=(
  "flask==3.1.*"
  "flask-session==0.8.0"
  "msgspec"
  "redis"
  "pymemcache"
  "pymongo"
  "boto3"
  "mypy-boto3-dynamodb"
  "flask-sqlalchemy"
  "psycopg2-binary"
)

if [ ! -x "$VENV/bin/python" ]; then
  mkdir -p "$(dirname "$VENV")"
  "$PYTHON" -m venv "$VENV" >&2
fi

# Which requirements are not satisfied yet (name and version specifier).
missing=$("$VENV/bin/python" - "${REQUIREMENTS[@]}" <<'PY'
import sys
from importlib import metadata
try:
    from packaging.requirements import Requirement
except ImportError:  # packaging is not in a fresh venv: check names and exact pins only
    Requirement = None
for spec in sys.argv[1:]:
    if Requirement is not None:
        req = Requirement(spec)
        name, ok_version = req.name, (lambda v, r=req: r.specifier.contains(v, prereleases=True))
    else:
        name, _, pin = spec.partition("==")
        ok_version = (lambda v, pin=pin: not pin or (v.startswith(pin[:-1]) if pin.endswith("*") else v == pin))
    try:
        version = metadata.version(name)
    except metadata.PackageNotFoundError:
        print(spec)
        continue
    if not ok_version(version):
        print(spec)
PY
)

if [ -n "$missing" ]; then
  echo "interop venv: installing $(echo $missing | tr '\n' ' ')" >&2
  # shellcheck disable=SC2086
  timeout "$INSTALL_TIMEOUT" "$VENV/bin/pip" install -q --disable-pip-version-check $missing >&2
fi

"$VENV/bin/python" -c 'import flask, flask_session, msgspec, redis' >&2
echo "$VENV"
