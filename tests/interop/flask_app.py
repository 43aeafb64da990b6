"""The Flask side of the live interop tests: ONE generic app on the real Flask-Session 0.8.

Configured from environment variables named exactly like the configuration keys
(SESSION_TYPE, SECRET_KEY, SESSION_USE_SIGNER, SESSION_SERIALIZATION_FORMAT,
SESSION_PERMANENT, SESSION_KEY_PREFIX, PERMANENT_SESSION_LIFETIME, ... and the backend
URLs such as SESSION_REDIS). The backend client object Flask-Session wants is built from
the URL in make_backend(app), one branch per backend.

    python tests/interop/flask_app.py --port 5001

The actix mirror app in tests/support/ offers the same routes with the same answers:

    GET  /hello            no session access; body "hello"
    GET  /get/<key>        {"value": <tagged>} or {"missing": true}
    POST /set/<key>        JSON body -> session[key]; with ?next=URL a redirect there
    POST /delete/<key>     session.pop(key, None)
    POST /clear            session.clear()
    POST /regenerate       app.session_interface.regenerate(session)
    POST /permanent/<0|1>  session.permanent = bool
    GET  /dump             {"sid": ..., "permanent": ..., "data": {key: <tagged>, ...}}
    POST /set_typed        stores the values of the round-trip table (one value per stored type)
    GET  /ready            readiness probe (no session)

<tagged> is JSON with tags for what JSON cannot say: bytes {"$bytes": base64},
datetime {"$datetime": isoformat()}, dict {"$dict": [[<tagged key>, <tagged value>], ...]}
(order and key types kept), list/tuple/set as arrays, everything else as JSON.
"""

import argparse
import base64
import datetime
import decimal
import os
import uuid
import warnings

from flask import Flask, jsonify, redirect, request, session
from flask_session import Session

warnings.simplefilter("ignore", DeprecationWarning)  # SESSION_USE_SIGNER is deprecated

BOOL_KEYS = (
    "SESSION_USE_SIGNER",
    "SESSION_PERMANENT",
    "SESSION_REFRESH_EACH_REQUEST",
    "SESSION_COOKIE_SECURE",
    "SESSION_COOKIE_HTTPONLY",
)
INT_KEYS = ("SESSION_ID_LENGTH", "PERMANENT_SESSION_LIFETIME", "SESSION_CLEANUP_N_REQUESTS")
STR_KEYS = (
    "SESSION_TYPE",
    "SECRET_KEY",
    "SESSION_SERIALIZATION_FORMAT",
    "SESSION_KEY_PREFIX",
    "SESSION_COOKIE_NAME",
    "SESSION_COOKIE_DOMAIN",
    "SESSION_COOKIE_PATH",
    "SESSION_COOKIE_SAMESITE",
)


def config_from_env(app):
    for key in STR_KEYS:
        if key in os.environ:
            app.config[key] = os.environ[key]
    for key in BOOL_KEYS:
        if key in os.environ:
            app.config[key] = os.environ[key].strip().lower() in ("1", "true", "yes", "on")
    for key in INT_KEYS:
        if key in os.environ:
            app.config[key] = int(os.environ[key])


def make_backend(app):
    """Builds the client object Flask-Session expects from the backend URL in the
    environment. One branch per backend; add yours here."""
    kind = app.config.get("SESSION_TYPE", "").lower()
    if kind == "redis":
        import redis

        app.config["SESSION_REDIS"] = redis.Redis.from_url(os.environ["SESSION_REDIS"])
    elif kind == "memcached":
        # one server "host:port" (or memcache://host:port), as SESSION_MEMCACHED; the
        # pymemcache client Flask-Session builds itself, made to wait for memcached's
        # answer as the README says (its default_noreply=True lets Flask answer before
        # the session is stored). FLASK_MEMCACHED_NOREPLY=1 keeps pymemcache's default,
        # for the test that shows the trap.
        from pymemcache.client.base import Client as MemcacheClient

        addr = os.environ["SESSION_MEMCACHED"].removeprefix("memcache://").rstrip("/")
        host, _, port = addr.rpartition(":")
        noreply = os.environ.get("FLASK_MEMCACHED_NOREPLY") == "1"
        app.config["SESSION_MEMCACHED"] = MemcacheClient((host, int(port)), default_noreply=noreply)
    elif kind == "mongodb":
        import pymongo

        app.config["SESSION_MONGODB"] = pymongo.MongoClient(os.environ["SESSION_MONGODB"])
        for key in ("SESSION_MONGODB_DB", "SESSION_MONGODB_COLLECT"):
            if key in os.environ:
                app.config[key] = os.environ[key]
    elif kind == "dynamodb":
        # SESSION_DYNAMODB_ENDPOINT / SESSION_DYNAMODB_REGION stand for the table
        # SESSION_DYNAMODB = {endpoint_url, region}; credentials from the AWS environment
        import boto3

        app.config["SESSION_DYNAMODB"] = boto3.resource(
            "dynamodb",
            endpoint_url=os.environ["SESSION_DYNAMODB_ENDPOINT"],
            region_name=os.environ.get("SESSION_DYNAMODB_REGION", "us-east-1"),
        )
        if "SESSION_DYNAMODB_TABLE" in os.environ:
            app.config["SESSION_DYNAMODB_TABLE"] = os.environ["SESSION_DYNAMODB_TABLE"]
    elif kind == "sqlalchemy":
        # SQLALCHEMY_DATABASE_URI (e.g. postgresql+psycopg2://root@127.0.0.1/afs_test),
        # optional SESSION_SQLALCHEMY_TABLE / _SCHEMA / _SEQUENCE, as the Rust side reads them
        from flask_sqlalchemy import SQLAlchemy

        app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["SQLALCHEMY_DATABASE_URI"]
        for key in ("SESSION_SQLALCHEMY_TABLE", "SESSION_SQLALCHEMY_SCHEMA", "SESSION_SQLALCHEMY_SEQUENCE"):
            if key in os.environ:
                app.config[key] = os.environ[key]
        app.config["SESSION_SQLALCHEMY"] = SQLAlchemy(app)
    else:
        raise SystemExit(f"flask_app.py: no backend branch for SESSION_TYPE={kind!r} yet")


def tag(value):
    if isinstance(value, bool) or value is None or isinstance(value, (int, float, str)):
        return value
    if isinstance(value, (bytes, bytearray)):
        return {"$bytes": base64.b64encode(bytes(value)).decode()}
    if isinstance(value, datetime.datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, dict):
        return {"$dict": [[tag(k), tag(v)] for k, v in value.items()]}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [tag(v) for v in value]
    return {"$repr": repr(value)}


def typed_values():
    """The Python values of the round-trip table (one value per stored type)."""
    return {
        "tuple": (1, "a"),
        "set": {7},
        "bytes": b"\x00\xff",
        "aware": datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc),
        "naive": datetime.datetime(2024, 1, 2, 3, 4, 5),
        "decimal": decimal.Decimal("1.10"),
        "uuid": uuid.UUID("12345678-1234-5678-1234-567812345678"),
        "int_keys": {1: "a", 2: "b"},
        "float": 1.5,
        "none": None,
        "nested": {"list": [1, [2, 3]], "map": {"k": "v"}, "t": True},
    }


def create_app():
    app = Flask(__name__)
    config_from_env(app)
    make_backend(app)
    Session(app)

    @app.get("/ready")
    def ready():
        return "ok"

    @app.get("/hello")
    def hello():
        return "hello"

    @app.get("/get/<key>")
    def get(key):
        if key in session:
            return jsonify(value=tag(session[key]))
        return jsonify(missing=True)

    @app.post("/set/<key>")
    def set_(key):
        session[key] = request.get_json(force=True)
        if "next" in request.args:  # a login that redirects (to a route of the Rust app)
            return redirect(request.args["next"])
        return "ok"

    @app.post("/delete/<key>")
    def delete(key):
        session.pop(key, None)
        return "ok"

    @app.post("/clear")
    def clear():
        session.clear()
        return "ok"

    @app.post("/regenerate")
    def regenerate():
        app.session_interface.regenerate(session)
        return "ok"

    @app.post("/permanent/<int:flag>")
    def permanent(flag):
        session.permanent = bool(flag)
        return "ok"

    @app.get("/dump")
    def dump():
        return jsonify(
            sid=session.sid,
            permanent=session.permanent,
            data={k: tag(v) for k, v in session.items()},
        )

    @app.post("/set_typed")
    def set_typed():
        for k, v in typed_values().items():
            session[k] = v
        return "ok"

    return app


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    app = create_app()
    app.json.sort_keys = False
    app.run(host="127.0.0.1", port=args.port, debug=False, use_reloader=False, threaded=True)


if __name__ == "__main__":
    main()
