//! The acceptance suite on the embedded stores: filesystem, and cachelib over its
//! in-memory and file caches.

mod filesystem {
    actix_flask_session::acceptance_suite!(|| async {
        let dir = tempfile::tempdir().expect("temp dir").keep();
        actix_flask_session::backends::filesystem::FileSystemSessionInterface::new(dir, 500, 0o600)
            .expect("filesystem store")
    });
}

mod cachelib_simple {
    use actix_flask_session::backends::cachelib::{CacheLibSessionInterface, SimpleCache};

    actix_flask_session::acceptance_suite!(|| async {
        CacheLibSessionInterface::new(SimpleCache::new(500))
    });
}

mod cachelib_filesystem {
    use actix_flask_session::backends::cachelib::{CacheLibSessionInterface, FileSystemCache};

    actix_flask_session::acceptance_suite!(|| async {
        let dir = tempfile::tempdir().expect("temp dir").keep();
        CacheLibSessionInterface::new(FileSystemCache::new(dir, 500, 0o600).expect("file cache"))
    });
}

/// A store that implements only the required methods (as a third-party store may), so
/// `remove` and `rename` are the trait's defaults: the suite holds for them too.
mod trait_defaults {
    use std::time::Duration;

    use actix_flask_session::backends::cachelib::{CacheLibSessionInterface, SimpleCache};
    use actix_flask_session::{SessionStore, StoreError};

    #[derive(Debug)]
    struct Minimal(CacheLibSessionInterface<SimpleCache>);

    #[async_trait::async_trait]
    impl SessionStore for Minimal {
        async fn load(
            &self,
            key: &str,
            refresh: Option<Duration>,
        ) -> Result<Option<Vec<u8>>, StoreError> {
            self.0.load(key, refresh).await
        }
        async fn create(&self, key: &str, value: &[u8], ttl: Duration) -> Result<bool, StoreError> {
            self.0.create(key, value, ttl).await
        }
        async fn update(&self, key: &str, value: &[u8], ttl: Duration) -> Result<bool, StoreError> {
            self.0.update(key, value, ttl).await
        }
        async fn delete(&self, key: &str) -> Result<(), StoreError> {
            self.0.delete(key).await
        }
    }

    actix_flask_session::acceptance_suite!(|| async {
        Minimal(CacheLibSessionInterface::new(SimpleCache::new(500)))
    });
}
