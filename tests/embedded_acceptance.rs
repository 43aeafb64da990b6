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
