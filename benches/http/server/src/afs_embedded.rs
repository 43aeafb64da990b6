//! actix-flask-session on an embedded store, same routes as the Redis peer.
//! `afs-embedded <port> <store>`, where `<store>` is `filesystem:<dir>` (`FileSystemStore`),
//! `cachelib-fs:<dir>` (`CacheLibStore` over `FileSystemCache`) or `simple` (`CacheLibStore`
//! over `SimpleCache`); threshold `AFS_THRESHOLD` (default 500, the stores' default), one
//! worker. `AFS_REFRESH=0` turns `SESSION_REFRESH_EACH_REQUEST` off.

mod afs_app;

use actix_flask_session::backends::cachelib::{CacheLibStore, FileSystemCache, SimpleCache};
use actix_flask_session::backends::filesystem::FileSystemStore;

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let (port, spec) = afs_app::args(8085, "filesystem:/tmp/afs-bench-fs");
    let threshold = std::env::var("AFS_THRESHOLD")
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or(500);
    let (kind, dir) = spec.split_once(':').unwrap_or((spec.as_str(), ""));
    match kind {
        "filesystem" => {
            let store =
                FileSystemStore::new(dir, threshold, 0o600).map_err(std::io::Error::other)?;
            afs_app::serve(store, port).await
        }
        "cachelib-fs" => {
            let cache =
                FileSystemCache::new(dir, threshold, 0o600).map_err(std::io::Error::other)?;
            afs_app::serve(CacheLibStore::new(cache), port).await
        }
        "simple" => afs_app::serve(CacheLibStore::new(SimpleCache::new(threshold)), port).await,
        other => Err(std::io::Error::other(format!("unknown store {other:?}"))),
    }
}
