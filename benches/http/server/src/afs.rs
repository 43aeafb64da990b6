//! Peer (a): actix-flask-session on Redis. `afs <port> <redis-url>`; one worker.

mod afs_app;

use actix_flask_session::backends::redis::{RedisOptions, RedisStore};

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let (port, url) = afs_app::args(8081, "redis://127.0.0.1:6379");
    let store = RedisStore::connect(&url, &RedisOptions::default())
        .await
        .map_err(std::io::Error::other)?;
    afs_app::serve(store, port).await
}
