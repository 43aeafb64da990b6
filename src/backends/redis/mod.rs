//! Redis and Redis Cluster: [`RedisStore`] (`SESSION_TYPE = "redis"`).
//!
//! Sessions live under the key `SESSION_KEY_PREFIX + sid` as the serialized bytes, with a
//! Redis TTL of the whole seconds of `PERMANENT_SESSION_LIFETIME`: exactly what
//! Flask-Session 0.8 writes, so a Flask app and an actix app can share one
//! Redis and one cookie.
//!
//! # Configuration
//!
//! | key | value | default |
//! |-----|-------|---------|
//! | `SESSION_REDIS` | `redis://[user:password@]host[:port][/db]`, `rediss://...` (feature `redis-tls`), `redis+unix:///path` | `redis://127.0.0.1:6379/0`, a local Redis (as Flask-Session) |
//! | `SESSION_REDIS_CLUSTER` | a list of node URLs, e.g. `["redis://10.0.0.1:7000", "redis://10.0.0.2:7000"]` (feature `redis-cluster`); a comma-separated string works too | none |
//! | `SESSION_REDIS_POOL_SIZE` | number of multiplexed connections (see below) | number of CPUs |
//! | `SESSION_REDIS_CONNECT_TIMEOUT` | seconds or a duration string (`"500ms"`) | 5 s |
//! | `SESSION_REDIS_RESPONSE_TIMEOUT` | seconds or a duration string | 5 s |
//! | `SESSION_REDIS_SENTINEL` | `{ master = "mymaster", nodes = ["redis://10.0.0.1:26379", ...] }`, optionally `db`, `username`, `password` of the master (feature `redis-sentinel`) | none |
//!
//! ```toml
//! SESSION_TYPE = "redis"
//! SESSION_REDIS = "redis://127.0.0.1:6379/0"
//! ```
//!
//! Setting more than one of `SESSION_REDIS`, `SESSION_REDIS_CLUSTER` and
//! `SESSION_REDIS_SENTINEL` is an error; setting none
//! means a local Redis, `redis://127.0.0.1:6379/0`, as in Flask-Session.
//! [`from_figment`](RedisStore::from_figment) sends one `PING`, so a wrong
//! address (or no local Redis) fails at startup rather than on the first request.
//!
//! # Server version
//!
//! Redis 6.2 or newer: reads use `GETEX`. [`connect`] and
//! [`connect_cluster`] (so also `from_figment`) ask the server (on a cluster, every
//! master) for `INFO server` and refuse an older one with an error naming the server, the
//! version found and the version needed. A store built in code with
//! [`RedisStore::new`] is not checked.
//!
//! [`connect`]: RedisStore::connect
//! [`connect_cluster`]: RedisStore::connect_cluster
//!
//! In code, build the interface from a [`deadpool_redis::Pool`] with
//! [`RedisStore::new`] (or from a cluster pool with
//! [`RedisStore::cluster`]).
//!
//! # Commands per operation
//!
//! `<ttl>` is `PERMANENT_SESSION_LIFETIME` in whole seconds (1.9 s gives 1, as in
//! Flask-Session; a lifetime under one second is rejected because Redis refuses `EX 0`).
//!
//! | [`SessionStore`](crate::SessionStore) call | Redis command(s) | round trips |
//! |-----------------------|------------------|-------------|
//! | `load(key, Some(ttl))` (read, `SESSION_REFRESH_EACH_REQUEST` on) | `GETEX key EX <ttl>` | 1 |
//! | `load(key, None)` | `GET key` | 1 |
//! | `create(key, bytes, ttl)` (new session) | `SET key bytes NX EX <ttl>` | 1 |
//! | `update(key, bytes, ttl)` (modified session) | `SET key bytes XX EX <ttl>` | 1 |
//! | `delete(key)` (logout, `clear`) | `DEL key` | 1 |
//! | `rename(old, new, bytes, ttl)` (`regenerate`), single Redis | `EVALSHA` of a Lua script (`EXISTS old`; if it does, `SET new bytes NX EX <ttl>`, then `DEL old` only if the `SET` succeeded), falling back to `EVAL` once if the script is not cached | 1 |
//! | `rename(...)`, Redis Cluster | `SET new bytes NX EX <ttl>`, then `DEL old`; if `DEL` deleted nothing (the old session was logged out or moved meanwhile), `DEL new` (see [below](#scaling-out-with-redis-cluster)) | 2 (3 when rolled back) |
//! | `remove(key)` | `DEL key` (its count says whether the key was there) | 1 |
//!
//! So a request that only reads its session costs exactly one command (`GETEX`, which also
//! moves the expiry), a request that changes it exactly two (`GETEX` + `SET XX`), and a
//! request that does not take the session none. `SET XX` never recreates a session that a
//! concurrent logout deleted, and `SET NX` never overwrites an existing id. An empty stored
//! value is a miss, as in Flask-Session. Flask-Session itself writes with a plain `SET key
//! bytes EX <ttl>` and reads with `GET`; the stored bytes and TTL are identical.
//!
//! # Connections
//!
//! Every [`MultiplexedConnection`](crate::backends::redis::deadpool_redis::redis::aio::MultiplexedConnection) (and cluster connection) pipelines the commands of any
//! number of concurrent requests over one socket, and cloning it is cheap. Checking a
//! connection out of a deadpool pool for each request would instead send `UNWATCH` and
//! `PING` on every checkout (deadpool-redis' recycle check): three commands and two extra
//! round trips per request, which halves the throughput. So the pool is used only as the
//! *factory* of connections (it applies the URL, TLS, the connect timeout and the pool's
//! limits): the interface takes `SESSION_REDIS_POOL_SIZE` connections out of it, one per
//! *slot*, and keeps them. Each thread that uses the store is bound to one slot (threads
//! are numbered in the order they first use any Redis store; slot = number modulo the
//! slot count), and the slot's connection is made lazily by the first request of that
//! thread. With the default (one slot per CPU) every actix worker thread thus has its own
//! connection whose I/O task runs on the worker's own runtime, like a hand-written handler
//! that keeps one multiplexed connection per worker; with fewer slots than workers, some
//! workers share a connection, which still works (the connection is thread-safe) at the
//! cost of cross-thread wake-ups.
//!
//! `SESSION_REDIS_RESPONSE_TIMEOUT` is the limit each command's answer is waited for. On
//! single Redis the connection enforces it itself (it replaces the client library's
//! default of 500 ms, so a limit above that really applies); on a cluster the store puts a
//! timer around each command. An answer that does not come in time is an outage (503).
//!
//! A connection that fails at the I/O level (reset, closed, timed out) is dropped from its
//! slot; the next request of that slot reconnects. If the failing connection had served
//! earlier requests (it may have died while idle, e.g. across a Redis restart), the
//! command is retried once on a fresh connection, so the first request after Redis comes
//! back succeeds. While a connection attempt is in progress, other requests of the same
//! slot wait for it rather than opening their own, and if it fails they fail with it.
//!
//! # Outages
//!
//! Connection refused, reset or timed out, `LOADING`, `CLUSTERDOWN`, `MASTERDOWN`,
//! `TRYAGAIN`, `READONLY` and no master known to the sentinels are [`StoreError::Unavailable`](crate::StoreError::Unavailable): a request that needs its
//! session answers `503 Service Unavailable` with an opaque body and the cause is logged.
//! Requests that do not take the session never touch Redis and are unaffected. When Redis
//! returns, the next request reconnects; nothing needs a restart. A `WRONGTYPE` answer
//! (something else wrote a list, hash, ... under a session key) is
//! [`StoreError::BadData`](crate::StoreError::BadData): the request deletes that key and starts a fresh session, as for
//! corrupt bytes. Any other error from Redis is [`StoreError::Backend`](crate::StoreError::Backend) (a `500`).
//!
//! # Scaling out with Redis Cluster
//!
//! When one Redis is no longer enough, point `SESSION_REDIS_CLUSTER` at (some of) the nodes
//! of a Redis Cluster instead of `SESSION_REDIS`; nothing else changes. The client learns
//! the slot map from the nodes it is given and routes each command to the master that owns
//! the key's hash slot, following `MOVED`/`ASK` redirections when slots migrate, so adding
//! masters (and resharding with `redis-cli --cluster reshard` / `rebalance`) spreads the
//! sessions over more machines without a configuration change in the app. Every operation
//! touches one key, hence one slot, except `regenerate`, whose two keys usually live in
//! different slots (often on different masters), so no script or `MULTI` can hold both.
//! There it is `SET new NX EX`, then `DEL old`, whose count decides: 1 means the session
//! was moved; 0 means a concurrent logout deleted the old id (or another `regenerate`
//! moved it) first, and the new key is deleted again and the request sends no cookie.
//! `DEL` on one key is atomic, so of two concurrent `regenerate`s exactly one wins, and a
//! logout that deletes the old id before the `DEL` is never undone. What remains: for the
//! moment between the `SET` and the roll-back, the new key exists next to the old one,
//! but its id has not been sent to anyone yet; if the app dies (or Redis fails) in that
//! moment, an entry nobody holds the id of stays until its TTL ends. On a single Redis
//! the whole move is one script and none of this applies.
//! Replicas give failover; reads always go to the masters, so a session written by one
//! request is visible to the next. Flask-Session's `RedisCluster` client writes the same
//! keys and values, so a Flask app on the cluster shares sessions too.

// Without its feature the module only declares the backend: nothing to document.
#![cfg_attr(not(feature = "redis"), doc(hidden), allow(rustdoc::broken_intra_doc_links))]

use crate::backends::Backend;
use crate::config::keys::key;
use crate::config::keys::KeyDefault::{Described, Unset, Value};
use crate::config::keys::KeyType::{Duration, Integer, Table, Text, TextOrList};

#[cfg(feature = "redis-sentinel")]
mod sentinel;
#[cfg(feature = "redis-sentinel")]
#[doc(inline)]
pub use sentinel::RedisSentinel;
#[cfg(feature = "redis")]
mod store;
#[cfg(feature = "redis")]
mod users;
#[cfg(feature = "redis")]
#[doc(inline)]
pub use store::*;

/// Flask-Session's name for [`RedisStore`], for readers coming from Flask.
#[cfg(feature = "redis")]
pub type RedisSessionInterface = RedisStore;

/// This backend's declaration (see [`backends`](crate::backends)).
pub(crate) const BACKEND: Backend = Backend {
    session_types: &["redis"],
    feature: "redis",
    keys: &[
key("SESSION_REDIS", Text, Value("\"redis://127.0.0.1:6379/0\"")),
    key("SESSION_REDIS_CLUSTER", TextOrList, Unset),
    key("SESSION_REDIS_POOL_SIZE", Integer, Described("the number of CPUs")),
    key("SESSION_REDIS_CONNECT_TIMEOUT", Duration, Value("\"5s\"")),
    key("SESSION_REDIS_RESPONSE_TIMEOUT", Duration, Value("\"5s\"")),
    key("SESSION_REDIS_SENTINEL", Table, Unset),
    ],
    build: build_store!(feature = "redis", RedisStore),
};
