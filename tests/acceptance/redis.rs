//! The store-agnostic acceptance suite on a single Redis (`REDIS_URL`, default
//! `redis://127.0.0.1:6379`) and on the 6-node Redis Cluster (`REDIS_CLUSTER_URLS`, default
//! `redis://127.0.0.1:7000` .. `7005`) that `scripts/services.sh` starts. Every case gets
//! its own random key prefix from the suite.
#![cfg(all(feature = "redis", feature = "testing"))]

use actix_flask_session::backends::redis::{RedisOptions, RedisSessionInterface};

fn options() -> RedisOptions {
    let mut options = RedisOptions::default();
    options.pool_size = 2;
    options
}

/// Single Redis.
mod single {
    use super::*;

    actix_flask_session::acceptance_suite!(|| async {
        let url =
            std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
        match RedisSessionInterface::connect(&url, &options()).await {
            Ok(store) => store,
            Err(e) => panic!(
                "Redis is not reachable at {url}: {e}; start the services with scripts/test.sh"
            ),
        }
    });
}

/// Redis Cluster (3 masters, 3 replicas).
#[cfg(feature = "redis-cluster")]
mod cluster {
    use super::*;

    actix_flask_session::acceptance_suite!(|| async {
        let urls: Vec<String> = match std::env::var("REDIS_CLUSTER_URLS") {
            Ok(list) => list.split(',').map(str::to_owned).collect(),
            Err(_) => (7000..=7005)
                .map(|p| format!("redis://127.0.0.1:{p}"))
                .collect(),
        };
        match RedisSessionInterface::connect_cluster(&urls, &options()).await {
            Ok(store) => {
                assert!(store.is_cluster());
                store
            }
            Err(e) => panic!(
                "the Redis Cluster is not reachable at {urls:?}: {e}; start the services with scripts/test.sh"
            ),
        }
    });
}

/// Redis Sentinel (a master, two replicas, three sentinels: `REDIS_SENTINEL_URLS` and
/// `REDIS_SENTINEL_MASTER`, default the `redis-sentinel` service of `scripts/services.sh`).
#[cfg(feature = "redis-sentinel")]
mod sentinel {
    use super::*;
    use actix_flask_session::backends::redis::RedisSentinel;

    actix_flask_session::acceptance_suite!(|| async {
        let nodes: Vec<String> = match std::env::var("REDIS_SENTINEL_URLS") {
            Ok(list) => list.split(',').map(str::to_owned).collect(),
            Err(_) => (26379..=26381)
                .map(|p| format!("redis://127.0.0.1:{p}"))
                .collect(),
        };
        let master =
            std::env::var("REDIS_SENTINEL_MASTER").unwrap_or_else(|_| "mymaster".to_owned());
        let sentinel = RedisSentinel::new(master, nodes);
        match RedisSessionInterface::connect_sentinel(&sentinel, &options()).await {
            Ok(store) => {
                assert!(!store.is_cluster());
                store
            }
            Err(e) => panic!(
                "Redis Sentinel is not reachable ({sentinel:?}): {e}; start the services with scripts/test.sh"
            ),
        }
    });
}
