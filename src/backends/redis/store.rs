use std::fmt;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
/// The `deadpool-redis` crate this store is built on (and through it `redis`), for an
/// application that builds its own pool for [`RedisStore::new`] or
/// [`RedisStore::cluster`]: the same version, no dependency of its own to keep in step.
pub use deadpool_redis;
use deadpool_redis::redis::aio::{ConnectionLike, MultiplexedConnection};
use deadpool_redis::redis::{
    self, Cmd, ErrorKind, RedisError, ServerErrorKind, Value as RedisValue,
};
use deadpool_redis::{PoolError, Runtime};
use figment::Figment;

use crate::backends::server_version::{Requirement, Version};
use crate::config::{
    SessionConfig, extract_pool_size_key, extract_string_key, extract_string_list_key,
    extract_timeout_key,
};
use crate::config::redact_url;
use crate::error::{ConfigError, StoreError};
use crate::store::{RenameOutcome, SessionStore, SwapOutcome, Versioned};

#[path = "cas.rs"]
mod cas;

/// The Lua script [`RedisStore::rename`] runs on a single Redis:
/// `KEYS[1]` = old key, `KEYS[2]` = new key, `ARGV[1]` = bytes, `ARGV[2]` = TTL seconds.
/// Returns 2 (and changes nothing) when the old key is gone, 0 (and changes nothing) when
/// the new key exists, and 1 when the session was moved. Redis runs a script atomically,
/// so no logout or other `regenerate` can land between the check and the move.
pub(crate) const RENAME_SCRIPT: &str = "if redis.call('EXISTS', KEYS[1]) == 0 then return 2 end \
if redis.call('SET', KEYS[2], ARGV[1], 'NX', 'EX', ARGV[2]) then \
redis.call('DEL', KEYS[1]) return 1 else return 0 end";

/// `SESSION_REDIS` when neither it nor `SESSION_REDIS_CLUSTER` is set: a local Redis, as
/// Flask-Session's default client.
pub(crate) const DEFAULT_URL: &str = "redis://127.0.0.1:6379/0";

/// Default for `SESSION_REDIS_CONNECT_TIMEOUT` and `SESSION_REDIS_RESPONSE_TIMEOUT`.
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// The oldest Redis the store works with: `GETEX` came in Redis 6.2.
pub(crate) const MIN_REDIS_VERSION: Version = Version::new(6, 2, 0);

const NAME: &str = "redis";
#[cfg(feature = "redis-cluster")]
const CLUSTER_NAME: &str = "redis-cluster";
#[cfg(feature = "redis-sentinel")]
const SENTINEL_NAME: &str = "redis-sentinel";

/// Connection settings for [`RedisStore::connect`] and
/// [`RedisStore::connect_cluster`]; the `SESSION_REDIS_*` keys in code.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RedisOptions {
    /// `SESSION_REDIS_POOL_SIZE`: how many multiplexed connections the store keeps
    /// (default: the number of CPUs). See the [module documentation](super#connections).
    pub pool_size: usize,
    /// `SESSION_REDIS_CONNECT_TIMEOUT`: the limit for opening one connection (default 5 s).
    pub connect_timeout: Duration,
    /// `SESSION_REDIS_RESPONSE_TIMEOUT`: the limit for one command's answer (default 5 s).
    pub response_timeout: Duration,
}

impl Default for RedisOptions {
    fn default() -> Self {
        RedisOptions {
            pool_size: std::thread::available_parallelism().map_or(1, usize::from),
            connect_timeout: DEFAULT_TIMEOUT,
            response_timeout: DEFAULT_TIMEOUT,
        }
    }
}

impl RedisOptions {
    /// Reads the `SESSION_REDIS_*` options from a Figment; absent keys keep their
    /// defaults. Every bad value is an error naming the key.
    pub fn from_figment(figment: &Figment) -> Result<Self, ConfigError> {
        let mut options = RedisOptions::default();
        if let Some(size) = extract_pool_size_key(figment, "SESSION_REDIS_POOL_SIZE")? {
            options.pool_size = size;
        }
        for (key, slot) in [
            (
                "SESSION_REDIS_CONNECT_TIMEOUT",
                &mut options.connect_timeout,
            ),
            (
                "SESSION_REDIS_RESPONSE_TIMEOUT",
                &mut options.response_timeout,
            ),
        ] {
            if let Some(timeout) = extract_timeout_key(figment, key)? {
                *slot = timeout;
            }
        }
        Ok(options)
    }
}

/// Flask-Session's `RedisStore`: the session store on Redis or Redis Cluster.
///
/// Cheap to clone (clones share the connections). See the [module documentation](super)
/// for the configuration keys, the exact commands, the connection design and outages.
///
/// ```no_run
/// use actix_flask_session::backends::redis::{RedisOptions, RedisStore};
/// use actix_flask_session::{ServerSideSessionInterface, Session, SessionConfig};
///
/// # async fn run() -> Result<(), actix_flask_session::ConfigError> {
/// let store = RedisStore::connect("redis://127.0.0.1:6379/0", &RedisOptions::default()).await?;
/// let session = Session::new(ServerSideSessionInterface::new(store, SessionConfig::default())?);
/// # let _ = session; Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisStore {
    inner: std::sync::Arc<Inner>,
}

struct Inner {
    pool: Pool,
    slots: Box<[Slot]>,
    /// The limit for one command's answer: set on each single-Redis connection (the
    /// connection times its own requests), applied around each command on a cluster;
    /// `None` leaves the connections' own limit.
    response_timeout: Option<Duration>,
    rename_script: redis::Script,
    generation: AtomicU64,
}

pub(super) enum Pool {
    Single(deadpool_redis::Pool),
    #[cfg(feature = "redis-sentinel")]
    Sentinel(deadpool_redis::sentinel::Pool),
    #[cfg(feature = "redis-cluster")]
    Cluster(deadpool_redis::cluster::Pool),
}

/// One kept connection of either kind; clones share the socket.
#[derive(Clone)]
enum Conn {
    Single(MultiplexedConnection),
    #[cfg(feature = "redis-cluster")]
    Cluster(deadpool_redis::cluster::ClusterConnection),
}

impl Conn {
    /// Sends one command; an error reply from the server (which the connection hands back
    /// as a value) becomes an `Err`. A single-Redis connection enforces its own response
    /// timeout; a cluster command is timed here when `limit` is set.
    async fn query(
        &mut self,
        cmd: &Cmd,
        limit: Option<Duration>,
    ) -> redis::RedisResult<RedisValue> {
        #[cfg(not(feature = "redis-cluster"))]
        let _ = limit;
        let reply = match self {
            Conn::Single(c) => c.req_packed_command(cmd).await,
            #[cfg(feature = "redis-cluster")]
            Conn::Cluster(c) => match limit {
                Some(limit) => tokio::time::timeout(limit, c.req_packed_command(cmd))
                    .await
                    .unwrap_or_else(|_| {
                        Err(RedisError::from(std::io::Error::new(
                            std::io::ErrorKind::TimedOut,
                            format!("no answer from Redis within {limit:?}"),
                        )))
                    }),
                None => c.req_packed_command(cmd).await,
            },
        };
        reply.and_then(RedisValue::extract_error)
    }
}

/// A connection slot: the kept connection (tagged with a generation so that only the
/// request that saw it fail removes it) and a lock that lets one request at a time
/// reconnect.
#[derive(Default)]
struct Slot {
    current: Mutex<Option<(u64, Conn)>>,
    connecting: tokio::sync::Mutex<()>,
    failed_connects: AtomicU64,
}

impl Slot {
    fn get(&self) -> Option<(u64, Conn)> {
        self.current
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn set(&self, generation: u64, conn: Conn) {
        *self.current.lock().unwrap_or_else(PoisonError::into_inner) = Some((generation, conn));
    }

    fn discard(&self, generation: u64) {
        let mut current = self.current.lock().unwrap_or_else(PoisonError::into_inner);
        if current.as_ref().is_some_and(|(g, _)| *g == generation) {
            *current = None;
        }
    }
}

/// A connection handed to one command.
struct Lease {
    conn: Conn,
    slot: usize,
    generation: u64,
    /// The connection existed before this request (it may have died while idle).
    reused: bool,
}

static NEXT_THREAD: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// The number of this thread among the threads that used a Redis store.
    static THREAD_NUMBER: usize = NEXT_THREAD.fetch_add(1, Ordering::Relaxed);
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStore")
            .field("kind", &self.name())
            .field("connections", &self.inner.slots.len())
            .field("response_timeout", &self.inner.response_timeout)
            .finish_non_exhaustive()
    }
}

impl RedisStore {
    /// A store over single-Redis connections made by `pool`. It keeps as many
    /// connections as the pool's `max_size` (see the [module documentation](super#connections)).
    /// Connecting is limited by the pool's `create` timeout; each command by the response
    /// timeout of the connections the pool makes (redis' default is 500 ms; build the pool's
    /// manager with [`deadpool_redis::Manager::new_with_config`] to choose another), unless
    /// [`with_response_timeout`](Self::with_response_timeout) sets one.
    ///
    /// The pool is `deadpool-redis`'s, the one dependency type here: it is how an
    /// application hands over a pool it built itself. Build it with the re-exported
    /// [`deadpool_redis`](crate::backends::redis::deadpool_redis), so its version is this
    /// crate's.
    pub fn new(pool: deadpool_redis::Pool) -> Self {
        let size = pool.status().max_size;
        Self::from_parts(Pool::Single(pool), size, None)
    }

    /// A store over Redis Cluster connections made by `pool` (feature `redis-cluster`).
    /// It keeps as many connections as the pool's `max_size`. Commands are not timed out
    /// unless [`with_response_timeout`](Self::with_response_timeout) says so. The pool is
    /// `deadpool-redis`'s (re-exported), as for [`new`](Self::new).
    #[cfg(feature = "redis-cluster")]
    pub fn cluster(pool: deadpool_redis::cluster::Pool) -> Self {
        let size = pool.status().max_size;
        Self::from_parts(Pool::Cluster(pool), size, None)
    }

    /// Limits the time each command may take. On single Redis the limit becomes the
    /// response timeout of each connection the store opens (replacing the pool's); on a
    /// cluster it is a timer around each command. `None` keeps the connections' own limit.
    /// Takes effect for this store only.
    pub fn with_response_timeout(self, timeout: Option<Duration>) -> Self {
        let inner = match std::sync::Arc::try_unwrap(self.inner) {
            Ok(mut inner) => {
                inner.response_timeout = timeout;
                inner
            }
            Err(shared) => Inner {
                pool: shared.pool.clone_handle(),
                slots: (0..shared.slots.len()).map(|_| Slot::default()).collect(),
                response_timeout: timeout,
                rename_script: redis::Script::new(RENAME_SCRIPT),
                generation: AtomicU64::new(0),
            },
        };
        RedisStore {
            inner: std::sync::Arc::new(inner),
        }
    }

    pub(super) fn from_parts(pool: Pool, slots: usize, response_timeout: Option<Duration>) -> Self {
        RedisStore {
            inner: std::sync::Arc::new(Inner {
                pool,
                slots: (0..slots.max(1)).map(|_| Slot::default()).collect(),
                response_timeout,
                rename_script: redis::Script::new(RENAME_SCRIPT),
                generation: AtomicU64::new(0),
            }),
        }
    }

    /// Connects to the single Redis at `url` (`redis://`, `rediss://` with feature
    /// `redis-tls`, `redis+unix://`) and checks it with one `PING`.
    pub async fn connect(url: &str, options: &RedisOptions) -> Result<Self, ConfigError> {
        let key = "SESSION_REDIS";
        check_url(key, url)?;
        // The connections time out their own connects; `open_connection` gives each one
        // the response timeout.
        let connection_config = redis::AsyncConnectionConfig::new()
            .set_connection_timeout(Some(options.connect_timeout));
        let manager = deadpool_redis::Manager::new_with_config(url, connection_config)
            .map_err(|e| invalid_url(key, url, e))?;
        let pool = deadpool_redis::Pool::builder(manager)
            .max_size(options.pool_size)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(options.connect_timeout))
            .create_timeout(Some(options.connect_timeout))
            .build()
            .map_err(|e| {
                setup_error(
                    format!("cannot build the connection pool for {}", redact_url(url)),
                    e,
                )
            })?;
        let store = Self::from_parts(
            Pool::Single(pool),
            options.pool_size,
            Some(options.response_timeout),
        );
        store.ping().await.map_err(|e| {
            setup_error(
                format!("cannot reach Redis at {} (SESSION_REDIS)", redact_url(url)),
                e,
            )
        })?;
        store.check_version(&redact_url(url)).await?;
        tracing::info!(url = %redact_url(url), connections = options.pool_size, "redis session store ready");
        Ok(store)
    }

    /// Connects to the Redis Cluster that `urls` (some or all of its nodes) belong to
    /// and checks it with one `PING` (feature `redis-cluster`).
    #[cfg(feature = "redis-cluster")]
    pub async fn connect_cluster(
        urls: &[String],
        options: &RedisOptions,
    ) -> Result<Self, ConfigError> {
        let key = "SESSION_REDIS_CLUSTER";
        if urls.is_empty() {
            return Err(ConfigError::Invalid {
                key,
                value: "[]".to_owned(),
                allowed: "expected at least one node URL such as \"redis://127.0.0.1:7000\""
                    .to_owned(),
            });
        }
        for url in urls {
            check_url(key, url)?;
        }
        let described = urls
            .iter()
            .map(|u| redact_url(u))
            .collect::<Vec<_>>()
            .join(", ");
        let manager = deadpool_redis::cluster::Manager::new(urls.to_vec(), false)
            .map_err(|e| invalid_url(key, &described, e))?;
        let pool = deadpool_redis::cluster::Pool::builder(manager)
            .max_size(options.pool_size)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(options.connect_timeout))
            .create_timeout(Some(options.connect_timeout))
            .build()
            .map_err(|e| {
                setup_error(format!("cannot build the cluster pool for {described}"), e)
            })?;
        let store = Self::from_parts(
            Pool::Cluster(pool),
            options.pool_size,
            Some(options.response_timeout),
        );
        store.ping().await.map_err(|e| {
            setup_error(
                format!("cannot reach the Redis Cluster at {described} (SESSION_REDIS_CLUSTER)"),
                e,
            )
        })?;
        store.check_version(&described).await?;
        tracing::info!(nodes = %described, connections = options.pool_size, "redis cluster session store ready");
        Ok(store)
    }

    /// Builds the store from `SESSION_REDIS`, `SESSION_REDIS_CLUSTER` or
    /// `SESSION_REDIS_SENTINEL` and the
    /// `SESSION_REDIS_*` options (see the [module documentation](super#configuration)).
    pub async fn from_figment(
        _config: &SessionConfig,
        figment: &Figment,
    ) -> Result<Self, ConfigError> {
        let options = RedisOptions::from_figment(figment)?;
        let url = extract_string_key(figment, "SESSION_REDIS")?;
        let cluster = extract_string_list_key(figment, "SESSION_REDIS_CLUSTER")?.map(split_list);
        #[cfg(feature = "redis-sentinel")]
        if let Some(sentinel) = super::sentinel::RedisSentinel::from_figment(figment)? {
            if url.is_some() || cluster.is_some() {
                return Err(sentinel_conflict());
            }
            return Self::connect_sentinel(&sentinel, &options).await;
        }
        #[cfg(not(feature = "redis-sentinel"))]
        if crate::config::extract_key::<figment::value::Value>(figment, "SESSION_REDIS_SENTINEL")?
            .is_some()
        {
            return Err(ConfigError::FeatureDisabled {
                session_type: "redis",
                feature: "redis-sentinel",
            });
        }
        match (url, cluster) {
            (Some(_), Some(_)) => Err(ConfigError::Invalid {
                key: "SESSION_REDIS_CLUSTER",
                value: "(set together with SESSION_REDIS)".to_owned(),
                allowed: "set SESSION_REDIS for one Redis or SESSION_REDIS_CLUSTER for a cluster, not both"
                    .to_owned(),
            }),
            (Some(url), None) => Self::connect(&url, &options).await,
            (None, Some(urls)) => {
                #[cfg(feature = "redis-cluster")]
                {
                    Self::connect_cluster(&urls, &options).await
                }
                #[cfg(not(feature = "redis-cluster"))]
                {
                    let _ = urls;
                    Err(ConfigError::FeatureDisabled { session_type: "redis", feature: "redis-cluster" })
                }
            }
            (None, None) => Self::connect(DEFAULT_URL, &options).await,
        }
    }

    /// Whether this store talks to a Redis Cluster.
    pub fn is_cluster(&self) -> bool {
        match self.inner.pool {
            Pool::Single(_) => false,
            #[cfg(feature = "redis-sentinel")]
            Pool::Sentinel(_) => false,
            #[cfg(feature = "redis-cluster")]
            Pool::Cluster(_) => true,
        }
    }

    /// The number of connection slots (see the [module documentation](super#connections)).
    pub fn connections(&self) -> usize {
        self.inner.slots.len()
    }

    pub(super) async fn ping(&self) -> Result<(), StoreError> {
        // A throw-away connection, so that no slot is bound to the caller's runtime.
        let mut conn = self.open_connection().await?;
        let reply = conn
            .query(&redis::cmd("PING"), self.inner.response_timeout)
            .await
            .map_err(|e| self.error(e))?;
        match reply {
            RedisValue::SimpleString(s) if s == "PONG" => Ok(()),
            RedisValue::BulkString(b) if b == b"PONG" => Ok(()),
            other => Err(self.unexpected("PING", &other)),
        }
    }

    /// Asks for `INFO server` (a cluster answers for each master) and refuses a Redis
    /// older than [`MIN_REDIS_VERSION`]. `address` names the server when the reply does
    /// not (single Redis).
    pub(super) async fn check_version(&self, address: &str) -> Result<(), ConfigError> {
        let requirement = Requirement {
            backend: self.name(),
            product: "Redis",
            minimum: MIN_REDIS_VERSION,
            reason: "GETEX",
        };
        let asked = async {
            let mut conn = self.open_connection().await?;
            conn.query(
                redis::cmd("INFO").arg("server"),
                self.inner.response_timeout,
            )
            .await
            .map_err(|e| self.error(e))
        };
        let reply = asked.await.map_err(|e| {
            setup_error(format!("cannot ask Redis at {address} for its version"), e)
        })?;
        for (node, info) in info_replies(address, reply) {
            requirement.check(&node, redis_version(&info).unwrap_or(""))?;
        }
        Ok(())
    }

    /// A new connection from the pool, taken out of it for good.
    async fn open_connection(&self) -> Result<Conn, StoreError> {
        match &self.inner.pool {
            Pool::Single(pool) => {
                let object = pool.get().await.map_err(|e| self.pool_error(e))?;
                let mut conn = deadpool_redis::Connection::take(object);
                if let Some(limit) = self.inner.response_timeout {
                    conn.set_response_timeout(limit);
                }
                Ok(Conn::Single(conn))
            }
            #[cfg(feature = "redis-sentinel")]
            Pool::Sentinel(pool) => {
                // Each new connection asks the sentinels for the current master.
                let object = pool.get().await.map_err(|e| self.pool_error(e))?;
                let mut conn = deadpool_redis::sentinel::Connection::take(object);
                if let Some(limit) = self.inner.response_timeout {
                    conn.set_response_timeout(limit);
                }
                Ok(Conn::Single(conn))
            }
            #[cfg(feature = "redis-cluster")]
            Pool::Cluster(pool) => {
                let object = pool.get().await.map_err(|e| self.pool_error(e))?;
                Ok(Conn::Cluster(deadpool_redis::cluster::Connection::take(
                    object,
                )))
            }
        }
    }

    /// The calling thread's connection, connecting it if needed.
    async fn lease(&self) -> Result<Lease, StoreError> {
        let index = THREAD_NUMBER.with(|n| *n) % self.inner.slots.len();
        if let Some((generation, conn)) = self.inner.slots[index].get() {
            return Ok(Lease {
                conn,
                slot: index,
                generation,
                reused: true,
            });
        }
        // Boxed: the pool's connect future is large, and only this cold path needs it, so
        // every request's future stays small.
        Box::pin(self.connect_slot(index)).await
    }

    /// Connects slot `index`, or waits for the request that is connecting it.
    async fn connect_slot(&self, index: usize) -> Result<Lease, StoreError> {
        let slot = &self.inner.slots[index];
        let failures_before = slot.failed_connects.load(Ordering::Acquire);
        let _connecting = slot.connecting.lock().await;
        if let Some((generation, conn)) = slot.get() {
            return Ok(Lease {
                conn,
                slot: index,
                generation,
                reused: true,
            });
        }
        if slot.failed_connects.load(Ordering::Acquire) != failures_before {
            return Err(StoreError::unavailable(
                self.name(),
                "a concurrent attempt to connect to Redis just failed",
            ));
        }
        match self.open_connection().await {
            Ok(conn) => {
                let generation = self.inner.generation.fetch_add(1, Ordering::Relaxed);
                slot.set(generation, conn.clone());
                tracing::debug!(slot = index, store = self.name(), "redis connection opened");
                Ok(Lease {
                    conn,
                    slot: index,
                    generation,
                    reused: false,
                })
            }
            Err(error) => {
                slot.failed_connects.fetch_add(1, Ordering::AcqRel);
                Err(error)
            }
        }
    }

    /// Runs one command on the thread's connection; a broken connection is dropped and,
    /// if it was an old one, the command is retried once on a fresh connection.
    pub(super) async fn query(&self, cmd: &Cmd) -> Result<RedisValue, StoreError> {
        let mut lease = self.lease().await?;
        match lease.conn.query(cmd, self.inner.response_timeout).await {
            Ok(value) => Ok(value),
            Err(error) if is_broken_connection(&error) => {
                self.inner.slots[lease.slot].discard(lease.generation);
                if !(lease.reused && error.is_connection_dropped()) {
                    return Err(self.error(error));
                }
                tracing::warn!(%error, store = self.name(), "redis connection lost; reconnecting");
                // Boxed: a cold path that would otherwise double every request's future.
                Box::pin(self.retry(cmd)).await
            }
            Err(error) => Err(self.error(error)),
        }
    }

    /// The second try of [`query`](Self::query), on a fresh connection.
    async fn retry(&self, cmd: &Cmd) -> Result<RedisValue, StoreError> {
        let mut lease = self.lease().await?;
        lease
            .conn
            .query(cmd, self.inner.response_timeout)
            .await
            .map_err(|error| {
                if is_broken_connection(&error) {
                    self.inner.slots[lease.slot].discard(lease.generation);
                }
                self.error(error)
            })
    }

    fn error(&self, error: RedisError) -> StoreError {
        if is_outage(&error) {
            StoreError::unavailable(self.name(), error)
        } else if error.code() == Some("WRONGTYPE") {
            // Something else wrote a list, hash, ... under a session key.
            StoreError::BadData {
                backend: self.name(),
                message: error.to_string(),
            }
        } else {
            StoreError::backend(self.name(), error)
        }
    }

    fn pool_error(&self, error: PoolError) -> StoreError {
        match error {
            PoolError::Backend(error) => self.error(error),
            PoolError::Timeout(kind) => StoreError::unavailable(
                self.name(),
                format!("timed out connecting to Redis ({kind:?})"),
            ),
            other => StoreError::backend(self.name(), other),
        }
    }

    pub(super) fn unexpected(&self, command: &str, reply: &RedisValue) -> StoreError {
        StoreError::backend(
            self.name(),
            format!("unexpected reply to {command}: {reply:?}"),
        )
    }

    fn ttl_secs(&self, ttl: Duration) -> Result<u64, StoreError> {
        match ttl.as_secs() {
            0 => Err(StoreError::InvalidInput {
                backend: self.name(),
                message: format!(
                    "a time to live of {ttl:?} is under one second; Redis needs EX >= 1"
                ),
            }),
            secs => Ok(secs),
        }
    }

    /// `SET key value <NX|XX> EX ttl`: true when written, false when the condition failed.
    async fn set_if(
        &self,
        key: &str,
        value: &[u8],
        ttl: Duration,
        condition: &str,
    ) -> Result<bool, StoreError> {
        let mut cmd = command("SET", 5, key.len() + value.len() + 24);
        cmd.arg(key)
            .arg(value)
            .arg(condition)
            .arg("EX")
            .arg(self.ttl_secs(ttl)?);
        match self.query(&cmd).await? {
            RedisValue::Okay => Ok(true),
            RedisValue::SimpleString(s) if s == "OK" => Ok(true),
            RedisValue::Nil => Ok(false),
            other => Err(self.unexpected("SET", &other)),
        }
    }
}

impl Pool {
    fn clone_handle(&self) -> Pool {
        match self {
            Pool::Single(p) => Pool::Single(p.clone()),
            #[cfg(feature = "redis-sentinel")]
            Pool::Sentinel(p) => Pool::Sentinel(p.clone()),
            #[cfg(feature = "redis-cluster")]
            Pool::Cluster(p) => Pool::Cluster(p.clone()),
        }
    }
}

#[async_trait]
impl SessionStore for RedisStore {
    /// `GETEX key EX <ttl>` with a refresh, `GET key` without; one round trip. An empty
    /// value is a miss.
    async fn load(
        &self,
        key: &str,
        refresh: Option<Duration>,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let cmd = match refresh {
            Some(ttl) => {
                let mut cmd = command("GETEX", 3, key.len() + 24);
                cmd.arg(key).arg("EX").arg(self.ttl_secs(ttl)?);
                cmd
            }
            None => {
                let mut cmd = command("GET", 1, key.len());
                cmd.arg(key);
                cmd
            }
        };
        match self.query(&cmd).await? {
            RedisValue::Nil => Ok(None),
            RedisValue::BulkString(bytes) if bytes.is_empty() => Ok(None),
            RedisValue::BulkString(bytes) => Ok(Some(bytes)),
            other => Err(self.unexpected(if refresh.is_some() { "GETEX" } else { "GET" }, &other)),
        }
    }

    /// `SET key value NX EX <ttl>`.
    async fn create(&self, key: &str, value: &[u8], ttl: Duration) -> Result<bool, StoreError> {
        self.set_if(key, value, ttl, "NX").await
    }

    /// `SET key value XX EX <ttl>`.
    async fn update(&self, key: &str, value: &[u8], ttl: Duration) -> Result<bool, StoreError> {
        self.set_if(key, value, ttl, "XX").await
    }

    /// `DEL key`.
    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        let mut cmd = redis::cmd("DEL");
        cmd.arg(key);
        match self.query(&cmd).await? {
            RedisValue::Int(_) => Ok(()),
            other => Err(self.unexpected("DEL", &other)),
        }
    }

    /// `DEL key`; `true` when it deleted a (live) key.
    async fn remove(&self, key: &str) -> Result<bool, StoreError> {
        let mut cmd = redis::cmd("DEL");
        cmd.arg(key);
        match self.query(&cmd).await? {
            RedisValue::Int(n) => Ok(n > 0),
            other => Err(self.unexpected("DEL", &other)),
        }
    }

    /// Single Redis: `RENAME_SCRIPT` by `EVALSHA` (one round trip; `EVAL` once more if
    /// Redis does not have the script cached). Cluster: `SET new NX EX`, then `DEL old`,
    /// rolled back by `DEL new` when `DEL old` deleted nothing (the trait's default, with
    /// [`remove`](SessionStore::remove) as `DEL`).
    async fn rename(
        &self,
        from: &str,
        to: &str,
        value: &[u8],
        ttl: Duration,
    ) -> Result<RenameOutcome, StoreError> {
        let secs = self.ttl_secs(ttl)?;
        if self.is_cluster() {
            return crate::store::rename_in_steps(self, from, to, value, ttl).await;
        }
        let script = &self.inner.rename_script;
        let mut evalsha = redis::cmd("EVALSHA");
        evalsha
            .arg(script.get_hash())
            .arg(2)
            .arg(from)
            .arg(to)
            .arg(value)
            .arg(secs);
        let reply = match self.query(&evalsha).await {
            Err(StoreError::Backend { source, .. })
                if source
                    .downcast_ref::<RedisError>()
                    .is_some_and(|e| e.kind() == ErrorKind::Server(ServerErrorKind::NoScript)) =>
            {
                let mut eval = redis::cmd("EVAL");
                eval.arg(RENAME_SCRIPT)
                    .arg(2)
                    .arg(from)
                    .arg(to)
                    .arg(value)
                    .arg(secs);
                self.query(&eval).await?
            }
            other => other?,
        };
        match reply {
            RedisValue::Int(1) => Ok(RenameOutcome::Moved),
            RedisValue::Int(0) => Ok(RenameOutcome::TargetExists),
            RedisValue::Int(2) => Ok(RenameOutcome::SourceGone),
            other => Err(self.unexpected("EVALSHA", &other)),
        }
    }

    fn supports_user_index(&self) -> bool {
        true
    }

    async fn index_put(
        &self,
        index: &str,
        entry: &crate::IndexEntry,
        replace: bool,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        self.put_index_entry(index, entry, replace, ttl).await
    }

    async fn index_remove(
        &self,
        index: &str,
        handles: &[String],
        ttl: Duration,
    ) -> Result<(), StoreError> {
        self.remove_index_entries(index, handles, ttl).await
    }

    async fn index_list(&self, index: &str) -> Result<Vec<crate::IndexEntry>, StoreError> {
        self.list_index(index).await
    }

    async fn live_keys(&self, keys: &[String]) -> Result<Vec<bool>, StoreError> {
        self.exist(keys).await
    }

    /// A Lua script on the key by `EVALSHA` (one round trip, also on a cluster).
    async fn compare_and_swap(
        &self,
        key: &str,
        expected: &Versioned,
        value: &[u8],
        ttl: Duration,
    ) -> Result<SwapOutcome, StoreError> {
        self.swap(key, expected, value, ttl).await
    }

    fn supports_compare_and_swap(&self) -> bool {
        true
    }

    fn name(&self) -> &'static str {
        match self.inner.pool {
            Pool::Single(_) => NAME,
            #[cfg(feature = "redis-sentinel")]
            Pool::Sentinel(_) => SENTINEL_NAME,
            #[cfg(feature = "redis-cluster")]
            Pool::Cluster(_) => CLUSTER_NAME,
        }
    }
}

#[cfg(feature = "redis-sentinel")]
fn sentinel_conflict() -> ConfigError {
    ConfigError::Invalid {
        key: "SESSION_REDIS_SENTINEL",
        value: "(set together with SESSION_REDIS or SESSION_REDIS_CLUSTER)".to_owned(),
        allowed: "set exactly one of SESSION_REDIS, SESSION_REDIS_CLUSTER and SESSION_REDIS_SENTINEL"
            .to_owned(),
    }
}

/// A command `name` with room for `args` more arguments of `bytes` bytes in all, so that
/// building it allocates once per buffer.
fn command(name: &str, args: usize, bytes: usize) -> Cmd {
    let mut cmd = Cmd::with_capacity(args + 1, name.len() + bytes);
    cmd.arg(name);
    cmd
}

/// The connection is unusable and must be replaced.
/// `READONLY` counts too: the server was a master and has been demoted to a replica (a
/// Sentinel failover while the connection stayed open), so the next connection must ask
/// again where the master is.
fn is_broken_connection(error: &RedisError) -> bool {
    error.is_io_error()
        || error.is_connection_dropped()
        || error.is_unrecoverable_error()
        || matches!(error.kind(), ErrorKind::Server(ServerErrorKind::ReadOnly))
}

/// Redis is down, unreachable, too slow or not ready: the request should get a 503.
fn is_outage(error: &RedisError) -> bool {
    error.is_io_error()
        || error.is_connection_refusal()
        || error.is_timeout()
        || error.is_connection_dropped()
        || matches!(
            error.kind(),
            ErrorKind::ClusterConnectionNotFound
                | ErrorKind::MasterNameNotFoundBySentinel
                | ErrorKind::NoValidReplicasFoundBySentinel
                | ErrorKind::Server(
                    ServerErrorKind::BusyLoading
                        | ServerErrorKind::ClusterDown
                        | ServerErrorKind::MasterDown
                        | ServerErrorKind::TryAgain
                        | ServerErrorKind::ReadOnly
                )
        )
}

/// Accepts a list of URLs given as one comma-separated string (an environment variable)
/// as well as a real list.
fn split_list(list: Vec<String>) -> Vec<String> {
    list.iter()
        .flat_map(|item| {
            item.trim()
                .trim_start_matches('[')
                .trim_end_matches(']')
                .split(',')
        })
        .map(|url| {
            url.trim()
                .trim_matches(|c| c == '"' || c == '\'')
                .to_owned()
        })
        .filter(|url| !url.is_empty())
        .collect()
}

pub(super) fn check_url(key: &'static str, url: &str) -> Result<(), ConfigError> {
    let scheme = url.split_once("://").map(|(s, _)| s.to_ascii_lowercase());
    match scheme.as_deref() {
        Some("redis" | "redis+unix" | "unix") => Ok(()),
        #[cfg(feature = "redis-tls")]
        Some("rediss") => Ok(()),
        #[cfg(not(feature = "redis-tls"))]
        Some("rediss") => Err(ConfigError::FeatureDisabled { session_type: "redis", feature: "redis-tls" }),
        _ => Err(ConfigError::Invalid {
            key,
            value: redact_url(url),
            allowed: "expected a URL such as redis://127.0.0.1:6379/0, rediss://... or redis+unix:///path"
                .to_owned(),
        }),
    }
}

fn invalid_url(key: &'static str, url: &str, error: RedisError) -> ConfigError {
    ConfigError::Invalid {
        key,
        value: redact_url(url),
        allowed: format!("expected a valid Redis URL such as redis://127.0.0.1:6379/0 ({error})"),
    }
}

pub(super) fn setup_error(
    message: String,
    error: impl std::error::Error + Send + Sync + 'static,
) -> ConfigError {
    ConfigError::Backend {
        backend: NAME,
        message,
        source: Some(Box::new(error)),
    }
}

/// The `INFO` text of each server in `reply`: one text (single Redis, named `address`) or
/// a map from node address to text (a cluster command sent to every master).
fn info_replies(address: &str, reply: RedisValue) -> Vec<(String, String)> {
    fn text(value: RedisValue) -> String {
        match value {
            RedisValue::BulkString(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            RedisValue::SimpleString(text) => text,
            RedisValue::VerbatimString { text, .. } => text,
            _ => String::new(),
        }
    }
    match reply {
        RedisValue::Map(nodes) => nodes
            .into_iter()
            .map(|(node, info)| (text(node), text(info)))
            .collect(),
        single => vec![(address.to_owned(), text(single))],
    }
}

/// The `redis_version:` field of an `INFO` text.
fn redis_version(info: &str) -> Option<&str> {
    info.lines()
        .find_map(|line| line.strip_prefix("redis_version:"))
        .map(str::trim)
}


#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_is_read_from_info() {
        let info = "# Server\r\nredis_version:7.0.15\r\nredis_git_sha1:00000000\r\n";
        assert_eq!(redis_version(info), Some("7.0.15"));
        assert_eq!(redis_version("# Server\r\n"), None);
        let single = info_replies("redis://h:1", RedisValue::BulkString(info.into()));
        assert_eq!(single, [("redis://h:1".to_owned(), info.to_owned())]);
        let cluster = info_replies(
            "ignored",
            RedisValue::Map(vec![(
                RedisValue::SimpleString("10.0.0.1:7000".into()),
                RedisValue::VerbatimString {
                    format: redis::VerbatimFormat::Text,
                    text: "redis_version:6.0.9\r\n".into(),
                },
            )]),
        );
        assert_eq!(
            cluster,
            [(
                "10.0.0.1:7000".to_owned(),
                "redis_version:6.0.9\r\n".to_owned()
            )]
        );
        let requirement = Requirement {
            backend: NAME,
            product: "Redis",
            minimum: MIN_REDIS_VERSION,
            reason: "GETEX",
        };
        let err = requirement
            .check(&cluster[0].0, redis_version(&cluster[0].1).unwrap())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("Redis at 10.0.0.1:7000 is version 6.0.9, but this store needs Redis 6.2.0 or newer (for GETEX)"),
            "{err}"
        );
    }


    #[test]
    fn lists_from_the_environment() {
        assert_eq!(
            split_list(vec!["redis://a:1, redis://b:2".to_owned()]),
            vec!["redis://a:1".to_owned(), "redis://b:2".to_owned()]
        );
        assert_eq!(
            split_list(vec!["[\"redis://a:1\",\"redis://b:2\"]".to_owned()]),
            vec!["redis://a:1".to_owned(), "redis://b:2".to_owned()]
        );
        assert_eq!(
            split_list(vec!["redis://a:1".to_owned()]),
            vec!["redis://a:1".to_owned()]
        );
    }

    #[test]
    fn url_schemes() {
        assert!(check_url("SESSION_REDIS", "redis://127.0.0.1").is_ok());
        assert!(check_url("SESSION_REDIS", "redis+unix:///tmp/r.sock").is_ok());
        let err = check_url("SESSION_REDIS", "http://127.0.0.1").unwrap_err();
        assert!(err.to_string().contains("SESSION_REDIS"), "{err}");
    }
}
