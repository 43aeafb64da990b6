//! The store-agnostic acceptance suite on the memcached store (a real memcached, see
//! `scripts/services.sh`; `MEMCACHED_URL` overrides 127.0.0.1:11211).
#![cfg(all(feature = "memcached", feature = "testing"))]

use actix_flask_session::backends::memcached::MemcachedSessionInterface;

actix_flask_session::acceptance_suite!(|| async {
    let url = std::env::var("MEMCACHED_URL").unwrap_or_else(|_| "127.0.0.1:11211".to_owned());
    let store = MemcachedSessionInterface::new(&[url.as_str()], Some(4)).expect("valid address");
    if let Err(e) = store.ping().await {
        panic!("memcached is not reachable at {url}: {e}; start the services with scripts/test.sh");
    }
    store
});
