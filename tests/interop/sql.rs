//! Live interop with Flask-Session 0.8's SQLAlchemy backend on PostgreSQL: one table, one
//! cookie, sessions shared both ways, whichever side created the table.
//!
//! Needs a Python with `flask-session==0.8.0`, `flask-sqlalchemy` and `psycopg2-binary`
//! (scripts/interop-venv.sh makes one; see `python()` for where it is looked up); a
//! missing venv fails the tests, it never skips them.
#![cfg(all(feature = "testing", feature = "postgres"))]

use crate::sql_support;

use actix_flask_session::backends::sql::{Dialect, SqlAlchemySessionInterface, migrate};
use actix_flask_session::testing::{Harness, request, send};
use sql_support::Fixture;

/// The Flask side: one request against the shared table, printed as JSON.
const FLASK: &str = r#"
import json, sys
from flask import Flask, session, request
from flask_session import Session
from flask_sqlalchemy import SQLAlchemy

url, schema, action, cookie, value = sys.argv[1:6]
app = Flask(__name__)
app.config.update(SECRET_KEY="interop-secret", SESSION_TYPE="sqlalchemy",
                  SQLALCHEMY_DATABASE_URI=url, SESSION_SQLALCHEMY_SCHEMA=schema)
db = SQLAlchemy(app)
app.config["SESSION_SQLALCHEMY"] = db
Session(app)

@app.route("/set", methods=["POST"])
def set_value():
    session["value"] = request.args["value"]
    return "ok"

@app.route("/get")
def get_value():
    return session.get("value", "no value set")

@app.route("/login", methods=["POST"])
def login():
    session["_user_id"] = request.args["value"]
    return "ok"

@app.route("/clear", methods=["POST"])
def clear():
    session.clear()
    return "ok"

client = app.test_client()
if cookie:
    client.set_cookie("session", cookie)
if action == "get":
    resp = client.get("/get")
else:
    resp = client.post(f"/{action}?value={value}")
set_cookie = resp.headers.get("Set-Cookie", "")
sid = set_cookie.split(";")[0].split("=", 1)[1] if set_cookie else ""
print(json.dumps({"status": resp.status_code, "body": resp.get_data(as_text=True), "cookie": sid}))
"#;

#[derive(serde::Deserialize, Debug)]
struct FlaskReply {
    status: u16,
    body: String,
    cookie: String,
}

/// `INTEROP_PYTHON`, else `bin/python` of the venv that scripts/interop-venv.sh makes
/// (`INTEROP_VENV`, default `$HOME/.cache/actix-flask-session-services/venv-interop`).
fn python() -> String {
    if let Ok(python) = std::env::var("INTEROP_PYTHON") {
        return python;
    }
    let venv = std::env::var("INTEROP_VENV").unwrap_or_else(|_| {
        let home = std::env::var("HOME").unwrap_or_else(|_| ".".to_owned());
        format!("{home}/.cache/actix-flask-session-services/venv-interop")
    });
    let python = format!("{venv}/bin/python");
    assert!(
        std::path::Path::new(&python).exists(),
        "no interop venv at {venv}: run scripts/test.sh (or scripts/interop-venv.sh) first"
    );
    python
}

async fn flask(python: &str, f: &Fixture, action: &str, cookie: &str, value: &str) -> FlaskReply {
    // SQLAlchemy's URL for psycopg2.
    let url = f.url.replacen("postgresql://", "postgresql+psycopg2://", 1);
    let schema = f.table.schema().expect("schema").to_string();
    let args = [
        python.to_owned(),
        "-c".into(),
        FLASK.into(),
        url,
        schema,
        action.into(),
        cookie.into(),
        value.into(),
    ];
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(&args[0])
            .args(&args[1..])
            .output()
    })
    .await
    .expect("task")
    .expect("run python");
    assert!(
        out.status.success(),
        "flask failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

/// Both apps on one table, Flask-Session's defaults (prefix `session:`, msgpack).
async fn share_both_ways(python: &str, f: &Fixture) {
    let store = SqlAlchemySessionInterface::new(f.pool().await, f.table.clone())
        .await
        .expect("store");
    let h = Harness::new(store).configure(|c| {
        c.key_prefix = "session:".to_owned();
        c.secret_key = Some("interop-secret".to_owned());
    });
    let app = h.app().await;

    // Flask writes, actix reads and writes, Flask reads.
    let from_flask = flask(python, f, "set", "", "from-flask").await;
    assert_eq!(from_flask.status, 200);
    let sid = from_flask.cookie;
    assert_eq!(sid.len(), 43);
    let rows = f.rows_now().await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].session_id, format!("session:{sid}"));
    // {"_permanent": true, "value": "from-flask"} as msgspec writes it.
    assert_eq!(
        hex::encode(&rows[0].data),
        "82aa5f7065726d616e656e74c3a576616c7565aa66726f6d2d666c61736b"
    );
    assert_eq!(
        send(&app, request("GET", "/get", Some(&sid))).await.body,
        "from-flask"
    );
    assert_eq!(
        send(&app, request("POST", "/set?value=from-actix", Some(&sid)))
            .await
            .status,
        200
    );
    assert_eq!(flask(python, f, "get", &sid, "").await.body, "from-actix");

    // actix writes a new session, Flask reads it and writes, actix reads.
    let created = send(&app, request("POST", "/set?value=made-by-actix", None)).await;
    let sid = created.cookie("session").expect("cookie");
    assert_eq!(
        flask(python, f, "get", &sid, "").await.body,
        "made-by-actix"
    );
    assert_eq!(
        flask(python, f, "set", &sid, "flask-again").await.status,
        200
    );
    assert_eq!(
        send(&app, request("GET", "/get", Some(&sid))).await.body,
        "flask-again"
    );
    assert_eq!(f.rows_now().await.len(), 2);
}

/// Flask-Session creates the table (its `create(checkfirst=True)`); we use it as is.
#[actix_rt::test]
async fn flask_creates_the_table() {
    let python = python();
    let f = Fixture::empty(Dialect::Postgres, "afs_interop_flask_first").await;
    let probe = flask(&python, &f, "get", "", "").await;
    assert_eq!(probe.body, "no value set");
    share_both_ways(&python, &f).await;
    // Our migrate() on Flask's table only adds the expiry index.
    let pool = f.pool().await;
    migrate::migrate(&pool, &f.table)
        .await
        .expect("migrate on Flask's table");
    share_both_ways_again(&python, &f).await;
}

async fn share_both_ways_again(python: &str, f: &Fixture) {
    let before = f.rows_now().await.len();
    let reply = flask(python, f, "set", "", "after-index").await;
    assert_eq!(reply.status, 200);
    assert_eq!(f.rows_now().await.len(), before + 1);
}

/// Our migration creates the table; Flask-Session finds it and uses it.
#[actix_rt::test]
async fn we_create_the_table() {
    let python = python();
    let f = Fixture::new(Dialect::Postgres, "afs_interop_ours_first").await;
    share_both_ways(&python, &f).await;
}

/// A Flask-Login-style `_user_id` that Flask-Session wrote into the shared table is indexed
/// (in the `_users` table beside it) when our app next saves that session
/// (`SESSION_USER_KEY = "_user_id"`); the row's bytes stay Flask's, Flask keeps reading
/// it, and after a logout in Flask the listing is empty.
#[actix_rt::test]
async fn flask_login_user_is_indexed_by_the_next_save() {
    let python = python();
    let f = Fixture::new(Dialect::Postgres, "afs_interop_users").await;
    let pool = f.pool().await;
    migrate::migrate_users(&pool, &f.table)
        .await
        .expect("the index table");
    let store = SqlAlchemySessionInterface::new(pool, f.table.clone())
        .await
        .expect("store");
    let h = Harness::new(store).configure(|c| {
        c.key_prefix = "session:".to_owned();
        c.secret_key = Some("interop-secret".to_owned());
        c.user_key = Some("_user_id".to_owned());
    });
    let app = h.app().await;
    let users = actix_flask_session::Session::new(h.interface()).users();

    let login = flask(&python, &f, "login", "", "42").await;
    assert_eq!(login.status, 200);
    let sid = login.cookie;
    assert_eq!(users.list("42").await.expect("listing").len(), 0);

    let saved = send(&app, request("POST", "/set?value=x", Some(&sid))).await;
    assert_eq!(saved.status, 200);
    let listed = users.list("42").await.expect("listing");
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert!(!listed[0].handle.contains(&sid), "a handle is not the id");
    let rows = f.rows_now().await;
    assert_eq!(rows.len(), 1);
    // {"_permanent": true, "_user_id": "42", "value": "x"}: nothing of the index inside.
    assert_eq!(
        hex::encode(&rows[0].data),
        "83aa5f7065726d616e656e74c3a85f757365725f6964a23432a576616c7565a178"
    );
    assert_eq!(flask(&python, &f, "get", &sid, "").await.body, "x");

    assert_eq!(flask(&python, &f, "clear", &sid, "").await.status, 200);
    assert_eq!(users.list("42").await.expect("listing").len(), 0);
}
