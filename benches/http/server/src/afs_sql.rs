//! actix-flask-session on PostgreSQL, same routes as the Redis peer.
//! `afs-sql <port> <postgres-url>`; one worker; creates the table if missing.

mod afs_app;

use actix_flask_session::backends::sql::{
    PoolOptions, SqlStore, SqlPool, SqlTable, migrate,
};

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let (port, url) = afs_app::args(
        8083,
        "postgresql://root@127.0.0.1/afs_bench?sslmode=disable",
    );
    let pool = SqlPool::connect(&url, &PoolOptions::default())
        .await
        .map_err(std::io::Error::other)?;
    let table = SqlTable::default();
    migrate::migrate(&pool, &table)
        .await
        .map_err(std::io::Error::other)?;
    let store = SqlStore::new(pool, table)
        .await
        .map_err(std::io::Error::other)?;
    afs_app::serve(store, port).await
}
