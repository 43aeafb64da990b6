//! SQL store (`SESSION_TYPE = "sqlalchemy"`, also `"sql"`): PostgreSQL, MySQL/MariaDB and
//! SQLite through Diesel and r2d2, on Flask-Session's table.
//!
//! # Setup
//!
//! 1. Create the table (with the configured table, schema and sequence) with the
//!    command-line tool, which reads the same `SESSION_*` configuration as the app
//!    (`cargo install actix-flask-session --features cli,postgres`): `actix-flask-session
//!    migrate`, or `actix-flask-session migrate --emit migrations` to add a Diesel
//!    migration to your own `migrations` directory for `diesel migration run`; or from
//!    code with [`migrate::migrate`]. A table created by Flask-Session works as is (add
//!    the `expiry` index with `actix-flask-session migrate`), and Flask-Session works on
//!    a table created here.
//! 2. Configure:
//!
//! ```toml
//! SESSION_TYPE = "sqlalchemy"
//! SESSION_SQLALCHEMY = "postgresql://app@127.0.0.1/app"   # or SQLALCHEMY_DATABASE_URI,
//!                                                          # or SQLALCHEMY_BINDS + SESSION_SQLALCHEMY_BIND_KEY
//! SESSION_SQLALCHEMY_TABLE = "sessions"        # default
//! SESSION_SQLALCHEMY_SCHEMA = "app"            # optional
//! SESSION_SQLALCHEMY_SEQUENCE = "sessions_seq" # optional, PostgreSQL
//! SESSION_SQLALCHEMY_POOL_SIZE = 10            # default (SQLite: 1)
//! SESSION_SQLALCHEMY_POOL_TIMEOUT = "5s"       # default: wait for a connection, then 503
//! SESSION_CLEANUP_N_REQUESTS = 1000            # optional: background cleanup every N requests
//! ```
//!
//! The URL is SQLAlchemy's: `postgresql[+driver]://`, `postgres://`, `mysql[+driver]://`,
//! `mariadb[+driver]://`, `sqlite:///relative.db`, `sqlite:////absolute.db`, `sqlite://`
//! (in memory: keep `SESSION_SQLALCHEMY_POOL_SIZE` at SQLite's default of 1, each
//! connection is its own database). Each database needs its cargo feature: `postgres`, `mysql`, `sqlite`.
//! SQLite also takes the forms the Diesel CLI takes, so one URL can serve both: a path
//! ending in `.db`, `.db3`, `.sqlite` or `.sqlite3`, a `file:` URI, `sqlite://relative.db`.
//! Only `sqlite:///x.db` differs: SQLAlchemy's (and this crate's) relative `x.db`, Diesel's
//! absolute `/x.db`; give Diesel the plain path.
//!
//! SQLite takes one writer at a time, and with `SESSION_REFRESH_EACH_REQUEST` on (the
//! default) every read of a session writes its new expiry. With several connections the
//! waiting writers sleep in SQLite's busy handler instead of queueing: under 64 concurrent
//! requests a pool of 10 gave p99 latencies near one second and some `503`s (`database is
//! locked` after the busy timeout), where a pool of 1 gave the same throughput with p99
//! under 35 ms and no failure (`benches/README.md`, "SQL stores against a raw handler").
//! So SQLite's pool defaults to one connection ([`PoolOptions::for_dialect`]); set
//! `SESSION_SQLALCHEMY_POOL_SIZE` higher only if reads do not write (refresh off).
//!
//! A missing table is a startup error ([`ConfigError::Backend`](crate::ConfigError::Backend)) that says how to create
//! it. A database outage makes requests that need the session answer `503`; the pool
//! replaces dead connections by itself when the database is back.
//!
//! # SQL per operation
//!
//! `T` is the quoted, schema-qualified table; every value is a bind parameter. Times are
//! UTC from the application's clock, as Flask-Session does (`datetime.utcnow()`), so both
//! apps agree on expiry whatever the database's time zone; keep app servers in sync with
//! NTP. They have microsecond precision, whole seconds on MySQL (`DATETIME`).
//!
//! | operation | PostgreSQL, SQLite | MySQL/MariaDB |
//! |---|---|---|
//! | [`load`](crate::SessionStore::load) | `SELECT data FROM T WHERE session_id = $1 AND expiry > $now` | same |
//! | `load` with refresh | `UPDATE T SET expiry = $exp WHERE session_id = $1 AND expiry > $now RETURNING data` (one statement) | two statements, no transaction (no `RETURNING` on MySQL/MariaDB): `UPDATE T SET expiry = ? WHERE session_id = ? AND expiry > ?`, then, if it matched a row, `SELECT data FROM T WHERE session_id = ? AND expiry > ?` (a write landing between them is read; a delete makes it a miss) |
//! | [`create`](crate::SessionStore::create) | `INSERT INTO T (session_id, data, expiry) VALUES ($1, $2, $exp) ON CONFLICT (session_id) DO UPDATE SET data = excluded.data, expiry = excluded.expiry WHERE T.expiry IS NULL OR T.expiry <= $now` (with a sequence: `id` = `nextval('"seq"')`); created when one row was written | `INSERT INTO T (session_id, data, expiry) VALUES (?, ?, ?)`; on a duplicate key: `UPDATE T SET data = ?, expiry = ? WHERE session_id = ? AND (expiry IS NULL OR expiry <= ?)` |
//! | [`update`](crate::SessionStore::update) | `UPDATE T SET data = $1, expiry = $exp WHERE session_id = $2 AND expiry > $now` | same |
//! | [`delete`](crate::SessionStore::delete) | `DELETE FROM T WHERE session_id = $1` | same |
//! | [`rename`](crate::SessionStore::rename) | `UPDATE T SET session_id = $new, data = $1, expiry = $exp WHERE session_id = $old AND expiry > $now` (one statement, the row moves in place): no row → the old session was logged out or moved meanwhile (`SourceGone`); a unique violation → the new id is taken (`TargetExists`), unless its row has expired: then `DELETE FROM T WHERE session_id = $new AND (expiry IS NULL OR expiry <= $now)` and the `UPDATE` once more | same |
//! | [`delete_expired`](crate::SessionStore::delete_expired) | under a lock shared by every instance (`pg_try_advisory_lock` / `GET_LOCK` / a lock file; skipped when held), `DELETE` of the rows with `expiry <= $now OR expiry IS NULL` in batches of 1000 (uses the `expiry` index) | same |
//!
//! So a request that reads the session costs one statement, one that changes it two.
//! An expired row is never returned and never updated; `create` takes over an expired row
//! with the same key, but never a live one. Statements are prepared once per connection.
//!
//! # Per-user index
//!
//! With `SESSION_USER_KEY`, each user's sessions are indexed in a table of their own,
//! `<table>_users` in the same schema (the name cut to 63 characters), so the session
//! table stays Flask-Session's and a Flask-Session app keeps writing it. `actix-flask-session
//! migrate` creates it when the configuration sets `SESSION_USER_KEY` (`migrate --emit`
//! writes it as a second Diesel migration, `create_session_users_[<schema>_]<table>`,
//! and only that one when the folder already holds the session table's; `down.sql` drops
//! only the index table); from code, [`migrate::migrate_users`].
//! [`Session::from_figment`](crate::Session::from_figment) checks at startup that it
//! exists when `SESSION_USER_KEY` is set (a store built with [`SqlStore::new`] finds out
//! at the first login: a 500 with the database's error logged).
//!
//! | column | type | holds |
//! |---|---|---|
//! | `user_index`, `handle` | `VARCHAR(255)`, `VARCHAR(64)`, the primary key | the user's index name (a digest of the user id, never the id), the opaque handle |
//! | `session_id` | `VARCHAR(255)` | the session's row (never shown) |
//! | `created_us`, `last_seen` | `BIGINT` | login (Unix µs), last seen (Unix s) |
//! | `client_addr`, `user_agent` | `VARCHAR(256)`, nullable | `SESSION_TRACK_CLIENT` |
//! | `expiry` | as the session table's, indexed | when the row stops counting |
//!
//! Each operation is one statement: a login is an upsert (`INSERT ... ON CONFLICT
//! (user_index, handle) DO UPDATE` / `ON DUPLICATE KEY UPDATE`; a last-seen write keeps
//! the creation and client and takes the greater last-seen), a revoke `DELETE ... WHERE
//! user_index = ? AND handle IN (...)`, a listing a `SELECT` on the primary key (after a
//! `DELETE` of that user's expired rows), and liveness one `SELECT session_id FROM T
//! WHERE session_id IN (...) AND expiry > ?` (500 keys per statement). `IN` lists are not
//! kept as prepared statements. [`delete_expired`](crate::SessionStore::delete_expired)
//! (`SESSION_CLEANUP_N_REQUESTS`, `actix-flask-session cleanup`) also deletes the expired
//! index rows, under the same lock and in batches of 1000 (its count is the sessions'
//! only); a row whose session was deleted before it expired (by an app without the
//! index) stays until the user's sessions are next listed or revoked, which drop it.
//!
//! # Cleanup
//!
//! The store has no native expiry ([`has_native_ttl`](crate::SessionStore::has_native_ttl) is
//! `false`): with `SESSION_CLEANUP_N_REQUESTS = N` the lifecycle runs
//! [`delete_expired`](crate::SessionStore::delete_expired) in the background on every Nth
//! request that uses the session, one run at a time. Without it, run
//! `actix-flask-session cleanup` (Flask's `flask session_cleanup`) from cron.
//!
//! Several app instances on one table sweep one at a time: a sweep first takes a lock
//! that every instance shares and skips (is not queued) when another instance holds it,
//! since that one is already deleting the same rows.
//!
//! | database | lock | batch |
//! |----------|------|-------|
//! | PostgreSQL | `pg_try_advisory_lock(k)`, `k` = the first 64 bits of `md5('actix-flask-session sweep ' \|\| '<schema.>table')`, released by `pg_advisory_unlock(k)` on the same connection | `DELETE FROM T WHERE id IN (SELECT id FROM T WHERE expiry <= $now OR expiry IS NULL LIMIT 1000)` |
//! | MySQL / MariaDB | `GET_LOCK(LEFT(CONCAT('afs-sweep:', DATABASE(), '.', '<table>'), 64), 0)`, released by `RELEASE_LOCK` | `DELETE FROM T WHERE expiry <= ? OR expiry IS NULL LIMIT 1000` |
//! | SQLite file | an exclusive `flock` on `<database file>.afs-sweep.lock`, not waited for | as PostgreSQL |
//!
//! The sweep deletes 1000 rows per statement until a statement deletes fewer. Each batch
//! is its own transaction, so no statement holds row locks (and, on MySQL, gap locks on
//! the `expiry` index) on more than 1000 rows: concurrent session requests wait for at
//! most one small batch, never for one `DELETE` over a million expired rows. An instance
//! that dies mid-sweep loses its connection, which releases the lock.
//!
//! # Blocking
//!
//! Diesel is synchronous: every call runs on tokio's blocking pool
//! (`tokio::task::spawn_blocking`), never on an actix worker thread.

// Without its feature the module only declares the backend: nothing to document.
#![cfg_attr(not(any(feature = "postgres", feature = "mysql", feature = "sqlite")), doc(hidden), allow(rustdoc::broken_intra_doc_links))]

use crate::backends::Backend;
use crate::config::keys::key;
use crate::config::keys::KeyDefault::{Described, Unset, Value};
use crate::config::keys::KeyType::{Duration, Integer, Table, Text};

#[cfg(any(feature = "postgres", feature = "mysql", feature = "sqlite"))]
mod store;
#[cfg(any(feature = "postgres", feature = "mysql", feature = "sqlite"))]
#[doc(inline)]
pub use store::*;

/// Flask-Session's name for [`SqlStore`], for readers coming from Flask.
#[cfg(any(feature = "postgres", feature = "mysql", feature = "sqlite"))]
pub type SqlAlchemySessionInterface = SqlStore;

/// This backend's declaration (see [`backends`](crate::backends)).
pub(crate) const BACKEND: Backend = Backend {
    session_types: &["sqlalchemy", "sql"],
    feature: "postgres, mysql or sqlite",
    keys: &[
key(
        "SESSION_SQLALCHEMY", Text,
        Described("SQLALCHEMY_BINDS[SESSION_SQLALCHEMY_BIND_KEY], else SQLALCHEMY_DATABASE_URI"),
    ),
    key("SQLALCHEMY_DATABASE_URI", Text, Unset),
    key("SQLALCHEMY_BINDS", Table, Unset),
    key("SESSION_SQLALCHEMY_BIND_KEY", Text, Unset),
    key("SESSION_SQLALCHEMY_TABLE", Text, Value("\"sessions\"")),
    key("SESSION_SQLALCHEMY_SCHEMA", Text, Unset),
    key("SESSION_SQLALCHEMY_SEQUENCE", Text, Unset),
    key("SESSION_SQLALCHEMY_POOL_SIZE", Integer, Described("10; 1 for SQLite")),
    key("SESSION_SQLALCHEMY_POOL_TIMEOUT", Duration, Value("\"5s\"")),
    ],
    build: build_store!(any(feature = "postgres", feature = "mysql", feature = "sqlite"), SqlStore),
};
