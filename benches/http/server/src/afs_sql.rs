//! actix-flask-session's `SqlStore`, same routes as the Redis peer, plus `GET /stats`: the
//! statements sent so far (diesel's instrumentation, see `sql_stats`).
//!
//! `afs-sql <port> <database-url>`; the database from the URL's scheme, as the store reads
//! it: `postgresql://...`, `mysql://...` (MariaDB too), `sqlite:////absolute/path.db`.
//! One worker; the store's default pool (10 connections, or `SQL_POOL_SIZE`); creates the table
//! (`migrate::migrate`, the crate's DDL) if it is missing.

mod afs_app;
mod sql_stats;

use actix_flask_session::backends::sql::{PoolOptions, SqlPool, SqlStore, SqlTable, migrate};
use actix_web::web;

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    sql_stats::install()?;
    let (port, url) = afs_app::args(
        8083,
        "postgresql://root@127.0.0.1/afs_bench?sslmode=disable",
    );
    let mut options = PoolOptions::default();
    if let Some(size) = sql_stats::pool_size()? {
        options.max_size = size;
    }
    let pool = SqlPool::connect(&url, &options)
        .await
        .map_err(std::io::Error::other)?;
    let table = SqlTable::default();
    migrate::migrate(&pool, &table)
        .await
        .map_err(std::io::Error::other)?;
    let store = SqlStore::new(pool, table)
        .await
        .map_err(std::io::Error::other)?;
    afs_app::serve_with(store, port, |app| {
        app.route("/stats", web::get().to(sql_stats::stats));
    })
    .await
}
