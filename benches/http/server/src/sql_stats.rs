//! Statements sent to the database, counted by diesel's instrumentation: every
//! `StartQuery` event of every connection opened after [`install`] (prepared statements,
//! and the `BEGIN` / `COMMIT` diesel sends for a transaction) adds one to a global counter,
//! served as a plain integer on `GET /stats`. The statements diesel runs while it sets up
//! a new connection are not counted (its instrumentation is attached after them); the
//! `PRAGMA`s r2d2's customizer runs on a new SQLite connection are, once per connection.
//! Shared by `afs-sql` and `raw-sql`, so both count alike; also their pool size.

use std::sync::atomic::{AtomicU64, Ordering};

use diesel::connection::{Instrumentation, InstrumentationEvent, set_default_instrumentation};

static STATEMENTS: AtomicU64 = AtomicU64::new(0);

fn counter() -> Option<Box<dyn Instrumentation>> {
    Some(Box::new(|event: InstrumentationEvent<'_>| {
        if matches!(event, InstrumentationEvent::StartQuery { .. }) {
            STATEMENTS.fetch_add(1, Ordering::Relaxed);
        }
    }))
}

/// Counts the statements of every connection made from now on.
pub fn install() -> std::io::Result<()> {
    set_default_instrumentation(counter).map_err(std::io::Error::other)
}

/// `GET /stats`: the statements counted so far.
pub async fn stats() -> String {
    STATEMENTS.load(Ordering::Relaxed).to_string()
}

/// `SQL_POOL_SIZE`: the pool's size when set (both peers read it; the store's default is 10).
pub fn pool_size() -> std::io::Result<Option<u32>> {
    match std::env::var("SQL_POOL_SIZE") {
        Err(_) => Ok(None),
        Ok(v) => v.parse().map(Some).map_err(|_| {
            std::io::Error::other(format!(
                "SQL_POOL_SIZE={v:?}: expected a number of connections"
            ))
        }),
    }
}
