//! actix-flask-session on memcached, same routes as the Redis peer.
//! `afs-memcached <port> <host:port>`; one worker; pool of 64 connections.

mod afs_app;

use actix_flask_session::backends::memcached::MemcachedStore;

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let (port, server) = afs_app::args(8086, "127.0.0.1:11211");
    let store = MemcachedStore::new(&[server], Some(64)).map_err(std::io::Error::other)?;
    afs_app::serve(store, port).await
}
