//! The helpers of ../population.sh (how cost grows with the number of sessions), each going
//! through the crate's own code:
//!
//! - `growth serve-sql <port> <postgres-url> <table>`: the `afs-sql` peer on a table of
//!   its own (created by the crate's migration when missing), so that a near-empty table
//!   and a table of a million rows can be served side by side from one database;
//! - `growth sweep <postgres-url> <table>`: one `SessionStore::delete_expired` of the SQL
//!   store on that table (the sweep the app runs in the background with
//!   `SESSION_CLEANUP_N_REQUESTS`, and `actix-flask-session cleanup` from cron); prints
//!   `deleted <rows> in <seconds> s`;
//! - `growth fs-seed <dir> <count> <sid-prefix>`: creates `count` sessions
//!   `{"_permanent": true, "n": 1}` (31 days) through `FileSystemStore::create` (threshold
//!   off), so that the files are exactly what the store writes; the session ids are the
//!   prefix followed by the zero-padded index, 43 characters in all (the length of a
//!   default session id). Prints `created <count> in <seconds> s`.

// `afs_app::args` goes unused: this binary reads its own arguments.
#[allow(dead_code)]
mod afs_app;

use std::time::{Duration, Instant};

use actix_flask_session::SessionStore;
use actix_flask_session::backends::filesystem::FileSystemStore;
use actix_flask_session::backends::sql::{PoolOptions, SqlPool, SqlStore, SqlTable, migrate};

/// The stored bytes of `{"_permanent": true, "n": 1}`, as the crate writes them.
const TWO_KEYS: &[u8] = b"\x82\xaa_permanent\xc3\xa1n\x01";
/// Flask's `PERMANENT_SESSION_LIFETIME` default.
const TTL: Duration = Duration::from_secs(31 * 24 * 3600);
/// The length of a default session id (32 random bytes, base64url).
const SID_LEN: usize = 43;

async fn sql_store(url: &str, table: &str) -> std::io::Result<SqlStore> {
    let pool = SqlPool::connect(url, &PoolOptions::default())
        .await
        .map_err(std::io::Error::other)?;
    let table = SqlTable::new(table).map_err(std::io::Error::other)?;
    migrate::migrate(&pool, &table)
        .await
        .map_err(std::io::Error::other)?;
    SqlStore::new(pool, table)
        .await
        .map_err(std::io::Error::other)
}

fn usage() -> std::io::Error {
    std::io::Error::other(
        "usage: growth serve-sql <port> <postgres-url> <table> | growth sweep <postgres-url> <table> \
         | growth fs-seed <dir> <count> <sid-prefix>",
    )
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["serve-sql", port, url, table] => {
            let port = port.parse().map_err(|_| usage())?;
            let store = sql_store(url, table).await?;
            afs_app::serve(store, port).await
        }
        ["sweep", url, table] => {
            let store = sql_store(url, table).await?;
            let start = Instant::now();
            let deleted = store
                .delete_expired()
                .await
                .map_err(std::io::Error::other)?;
            println!(
                "deleted {deleted} in {:.3} s",
                start.elapsed().as_secs_f64()
            );
            Ok(())
        }
        ["fs-seed", dir, count, prefix] => {
            let count: usize = count.parse().map_err(|_| usage())?;
            if prefix.len() >= SID_LEN {
                return Err(usage());
            }
            // Threshold 0: no pruning, whatever the number of files.
            let store = FileSystemStore::new(dir, 0, 0o600).map_err(std::io::Error::other)?;
            let width = SID_LEN - prefix.len();
            let start = Instant::now();
            for i in 0..count {
                let key = format!("session:{prefix}{i:0width$}");
                let created = store
                    .create(&key, TWO_KEYS, TTL)
                    .await
                    .map_err(std::io::Error::other)?;
                if !created {
                    return Err(std::io::Error::other(format!("{key} already exists")));
                }
            }
            println!("created {count} in {:.3} s", start.elapsed().as_secs_f64());
            Ok(())
        }
        _ => Err(usage()),
    }
}
