//! actix-flask-session on MongoDB, same routes as the Redis peer.
//! `afs-mongo <port> <mongodb-url>`; one worker. The store is `MongoDbStore` on the client
//! of `MongoDbStore::connect` (the driver's pool, default size), in database `$AFS_MONGO_DB`
//! (default `afs_bench_mongo`), collection `sessions`.

mod afs_app;

use actix_flask_session::backends::mongodb::MongoDbStore;

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let (port, url) = afs_app::args(8088, "mongodb://127.0.0.1:27017");
    let database = std::env::var("AFS_MONGO_DB").unwrap_or_else(|_| "afs_bench_mongo".to_owned());
    let client = MongoDbStore::connect(&url)
        .await
        .map_err(std::io::Error::other)?;
    let store = MongoDbStore::new(client, &database, "sessions")
        .await
        .map_err(std::io::Error::other)?;
    afs_app::serve(store, port).await
}
