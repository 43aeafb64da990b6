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

/// A user's `Cache` that implements only the required methods, so cachelib's default
/// `rename` (and `get_and_touch`, `has`) carry the suite.
mod cache_trait_defaults {
    use std::time::Duration;

    use actix_flask_session::StoreError;
    use actix_flask_session::backends::cachelib::{Cache, CacheLibSessionInterface, SimpleCache};

    #[derive(Debug)]
    struct MinimalCache(SimpleCache);

    #[async_trait::async_trait]
    impl Cache for MinimalCache {
        async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
            self.0.get(key).await
        }
        async fn set(&self, key: &str, value: &[u8], timeout: Duration) -> Result<(), StoreError> {
            self.0.set(key, value, timeout).await
        }
        async fn add(
            &self,
            key: &str,
            value: &[u8],
            timeout: Duration,
        ) -> Result<bool, StoreError> {
            self.0.add(key, value, timeout).await
        }
        async fn replace(
            &self,
            key: &str,
            value: &[u8],
            timeout: Duration,
        ) -> Result<bool, StoreError> {
            self.0.replace(key, value, timeout).await
        }
        async fn touch(&self, key: &str, timeout: Duration) -> Result<bool, StoreError> {
            self.0.touch(key, timeout).await
        }
        async fn delete(&self, key: &str) -> Result<bool, StoreError> {
            self.0.delete(key).await
        }
    }

    actix_flask_session::acceptance_suite!(|| async {
        CacheLibSessionInterface::new(MinimalCache(SimpleCache::new(500)))
    });
}
