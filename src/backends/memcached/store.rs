use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_memcached::{Client, Error as McError, MetaProtocol, Status};
use async_trait::async_trait;
use deadpool::managed::{self, Metrics, Object, Pool, PoolError, RecycleError, RecycleResult};
use figment::Figment;

use crate::backends::server_version::{Requirement, Version};
use crate::config::{SessionConfig, extract_pool_size_key, extract_string_list_key};
use crate::error::{ConfigError, StoreError};
use crate::store::{SessionStore, SwapOutcome, Versioned};

#[path = "cas.rs"]
mod cas;

const BACKEND: &str = "memcached";

/// The oldest memcached the store works with: the meta protocol (`mg`, `ms`, `md`) is
/// final in memcached 1.6.
pub(crate) const MIN_MEMCACHED_VERSION: Version = Version::new(1, 6, 0);

const REQUIREMENT: Requirement = Requirement {
    backend: BACKEND,
    product: "memcached",
    minimum: MIN_MEMCACHED_VERSION,
    reason: "the meta commands mg, ms and md",
};

/// The server used when `SESSION_MEMCACHED` is not set (as Flask-Session's fallback).
pub(crate) const DEFAULT_SERVER: &str = "127.0.0.1:11211";

/// memcached's longest key, in bytes.
pub(crate) const MAX_KEY_LEN: usize = 250;

/// Time to live above which memcached reads the expiry as an absolute Unix time.
pub(crate) const MAX_RELATIVE_TTL: u64 = 30 * 24 * 3600;

/// How long one command (including getting a connection) may take.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(5);

/// Creates `async_memcached::Client`s for one server.
#[derive(Debug)]
struct Connector {
    dsn: String,
}

impl managed::Manager for Connector {
    type Type = Client;
    type Error = McError;

    async fn create(&self) -> Result<Client, McError> {
        Client::new(&self.dsn).await
    }

    async fn recycle(&self, client: &mut Client, _: &Metrics) -> RecycleResult<McError> {
        // An operation that failed half-way closes its connection; never reuse it.
        if client.is_closed() {
            Err(RecycleError::message(
                "connection closed after a failed command",
            ))
        } else {
            Ok(())
        }
    }
}

/// One memcached server: its node name (for hashing) and its connection pool.
struct Server {
    node: String,
    pool: Pool<Connector>,
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let status = self.pool.status();
        f.debug_struct("Server")
            .field("node", &self.node)
            .field("pool_size", &status.max_size)
            .field("connections", &status.size)
            .finish()
    }
}

/// A server address parsed from `SESSION_MEMCACHED`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Address {
    /// What `async_memcached::Client::new` connects to.
    dsn: String,
    /// The rendezvous-hash node name (`host:port` or the socket path), as pymemcache.
    node: String,
}

fn parse_address(raw: &str) -> Result<Address, String> {
    let s = raw.trim();
    if let Some(path) = s.strip_prefix("unix://") {
        if path.is_empty() {
            return Err("empty socket path".to_owned());
        }
        return Ok(Address {
            dsn: format!("unix://{path}"),
            node: path.to_owned(),
        });
    }
    let hostport = s
        .strip_prefix("memcache://")
        .or_else(|| s.strip_prefix("memcached://"))
        .or_else(|| s.strip_prefix("tcp://"))
        .unwrap_or(s)
        .trim_end_matches('/');
    if hostport.is_empty() || hostport.contains("://") || hostport.contains('/') {
        return Err("expected host:port".to_owned());
    }
    let (host, port) = match hostport.rsplit_once(':') {
        Some((host, port)) if !host.is_empty() && !host.ends_with(':') => {
            let port: u16 = port.parse().map_err(|_| format!("bad port {port:?}"))?;
            (host, port)
        }
        Some(_) => return Err("expected host:port".to_owned()),
        None => (hostport, 11211),
    };
    let node = format!("{host}:{port}");
    Ok(Address {
        dsn: format!("tcp://{node}"),
        node,
    })
}

/// Memcached session store: `mg`/`ms`/`md` meta commands over pooled async connections.
///
/// See the [module documentation](super) for the exact commands, key rules and the
/// multi-server hashing.
#[derive(Debug)]
pub struct MemcachedStore {
    servers: Vec<Server>,
}

impl MemcachedStore {
    /// Builds the store for one or more servers (same address forms as
    /// `SESSION_MEMCACHED`) with `pool_size` connections per server (`None`: deadpool's
    /// default, 2 × the number of CPUs). Connects lazily; use [`ping`](Self::ping) to check
    /// the servers.
    ///
    /// Errors: an empty list, an unparsable address or a pool size of 0
    /// ([`ConfigError::Invalid`] naming `SESSION_MEMCACHED` / `SESSION_MEMCACHED_POOL_SIZE`).
    pub fn new<S: AsRef<str>>(
        servers: &[S],
        pool_size: Option<usize>,
    ) -> Result<Self, ConfigError> {
        if servers.is_empty() {
            return Err(ConfigError::Invalid {
                key: "SESSION_MEMCACHED",
                value: "[]".to_owned(),
                allowed: "give at least one server address".to_owned(),
            });
        }
        if pool_size == Some(0) {
            return Err(ConfigError::Invalid {
                key: "SESSION_MEMCACHED_POOL_SIZE",
                value: "0".to_owned(),
                allowed: "expected a number of connections of at least 1".to_owned(),
            });
        }
        let mut out: Vec<Server> = Vec::with_capacity(servers.len());
        for raw in servers {
            let raw = raw.as_ref();
            let addr = parse_address(raw).map_err(|why| ConfigError::Invalid {
                key: "SESSION_MEMCACHED",
                value: format!("{raw:?}"),
                allowed: format!("{why}; expected host:port, memcache://host:port or unix:///path"),
            })?;
            if out.iter().any(|s| s.node == addr.node) {
                return Err(ConfigError::Invalid {
                    key: "SESSION_MEMCACHED",
                    value: format!("{raw:?}"),
                    allowed: "each server may be listed once".to_owned(),
                });
            }
            // No timeouts of the pool's own: every use of the pool is inside `exec`, whose
            // COMMAND_TIMEOUT bounds the wait for a connection, the connect and the
            // recycle as well (two more timers per command otherwise).
            let mut builder = Pool::builder(Connector { dsn: addr.dsn });
            if let Some(size) = pool_size {
                builder = builder.max_size(size);
            }
            let pool = builder.build().map_err(|e| ConfigError::Backend {
                backend: BACKEND,
                message: "cannot build the connection pool".to_owned(),
                source: Some(Box::new(e)),
            })?;
            out.push(Server {
                node: addr.node,
                pool,
            });
        }
        Ok(MemcachedStore { servers: out })
    }

    /// Reads `SESSION_MEMCACHED` (default `127.0.0.1:11211`) and
    /// `SESSION_MEMCACHED_POOL_SIZE`, builds the store and asks every server for its
    /// `version`; an unreachable server, or one older than 1.6, is a
    /// [`ConfigError::Backend`].
    pub async fn from_figment(
        _config: &SessionConfig,
        figment: &Figment,
    ) -> Result<Self, ConfigError> {
        let servers = extract_string_list_key(figment, "SESSION_MEMCACHED")?
            .unwrap_or_else(|| vec![DEFAULT_SERVER.to_owned()]);
        let pool_size = extract_pool_size_key(figment, "SESSION_MEMCACHED_POOL_SIZE")?;
        let store = Self::new(&servers, pool_size)?;
        for server in &store.servers {
            let version = exec(server, |mut c| async move { c.version().await })
                .await
                .map_err(|e| ConfigError::Backend {
                    backend: BACKEND,
                    message: format!("no answer from memcached at {}", server.node),
                    source: Some(Box::new(e)),
                })?;
            REQUIREMENT.check(&server.node, &version)?;
        }
        tracing::info!(servers = ?store.nodes(), "memcached session store");
        Ok(store)
    }

    /// The configured servers, as node names (`host:port` or socket path).
    pub fn nodes(&self) -> Vec<&str> {
        self.servers.iter().map(|s| s.node.as_str()).collect()
    }

    /// The node name of the server that holds `key` (see the module documentation).
    pub fn node_for(&self, key: &str) -> &str {
        &self.server_for(key).node
    }

    /// Sends `version` to every server.
    pub async fn ping(&self) -> Result<(), StoreError> {
        for server in &self.servers {
            exec(server, |mut c| async move { c.version().await.map(|_| ()) }).await?;
        }
        Ok(())
    }

    fn server_for(&self, key: &str) -> &Server {
        // `new` guarantees at least one server.
        let mut best = &self.servers[0];
        if self.servers.len() == 1 {
            return best;
        }
        let mut best_score = rendezvous_score(&best.node, key);
        for server in &self.servers[1..] {
            let score = rendezvous_score(&server.node, key);
            if score > best_score || (score == best_score && server.node > best.node) {
                best = server;
                best_score = score;
            }
        }
        best
    }
}

/// pymemcache's `RendezvousHash` score: `murmur3_32(f"{node}-{key}")`.
fn rendezvous_score(node: &str, key: &str) -> u32 {
    murmur3_32_pystr(
        node.chars().chain(std::iter::once('-')).chain(key.chars()),
        0,
    )
}

/// MurmurHash3 x86_32 over a Python `str` the way pymemcache's pure-Python version reads
/// it: one unit per character, its code point masked to 8 bits (so ASCII text hashes
/// exactly as its bytes).
pub(crate) fn murmur3_32_pystr(chars: impl Iterator<Item = char>, seed: u32) -> u32 {
    const C1: u32 = 0xcc9e_2d51;
    const C2: u32 = 0x1b87_3593;
    let units: Vec<u32> = chars.map(|c| (c as u32) & 0xff).collect();
    let mut h1 = seed;
    let mut blocks = units.chunks_exact(4);
    for b in &mut blocks {
        let mut k1 = b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24);
        k1 = k1.wrapping_mul(C1).rotate_left(15).wrapping_mul(C2);
        h1 ^= k1;
        h1 = h1.rotate_left(13).wrapping_mul(5).wrapping_add(0xe654_6b64);
    }
    let tail = blocks.remainder();
    if !tail.is_empty() {
        let mut k1 = 0u32;
        for (i, u) in tail.iter().enumerate() {
            k1 |= u << (8 * i);
        }
        k1 = k1.wrapping_mul(C1).rotate_left(15).wrapping_mul(C2);
        h1 ^= k1;
    }
    h1 ^= units.len() as u32;
    h1 ^= h1 >> 16;
    h1 = h1.wrapping_mul(0x85eb_ca6b);
    h1 ^= h1 >> 13;
    h1 = h1.wrapping_mul(0xc2b2_ae35);
    h1 ^= h1 >> 16;
    h1
}

/// Checks memcached's key rules before any I/O.
pub(crate) fn validate_key(key: &str) -> Result<(), StoreError> {
    let invalid = |message: String| StoreError::InvalidInput {
        backend: BACKEND,
        message,
    };
    if key.is_empty() {
        return Err(invalid("empty key".to_owned()));
    }
    if key.len() > MAX_KEY_LEN {
        return Err(invalid(format!(
            "key is {} bytes long; memcached allows at most {MAX_KEY_LEN}",
            key.len()
        )));
    }
    // One pass without early exit (the compiler vectorizes it); the byte is looked up
    // only for the message.
    let bad = |b: u8| b <= b' ' || b == 0x7f;
    if key.bytes().fold(false, |found, b| found | bad(b))
        && let Some(b) = key.bytes().find(|&b| bad(b))
    {
        return Err(invalid(format!(
            "key contains whitespace or a control character (byte {b:#04x})"
        )));
    }
    Ok(())
}

/// The `T` token for a time to live (see the module documentation).
pub(crate) fn exptime(ttl: Duration, now: SystemTime) -> i64 {
    let secs = ttl.as_secs();
    if secs == 0 {
        return -1;
    }
    if secs <= MAX_RELATIVE_TTL {
        return secs as i64;
    }
    let now = now
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    i64::try_from(now.saturating_add(secs)).unwrap_or(i64::MAX)
}

/// The `T<exptime>` meta flag for `ttl`, formatted on the stack (a `format!` per command
/// cost an allocation and the formatting machinery).
fn ttl_flag(ttl: Duration) -> TtlFlag {
    TtlFlag::new(exptime(ttl, SystemTime::now()))
}

/// `T` and a decimal `i64`: at most 1 + 1 + 19 bytes.
pub(crate) struct TtlFlag {
    buf: [u8; 24],
    start: usize,
}

impl TtlFlag {
    fn new(exptime: i64) -> Self {
        let mut buf = [0u8; 24];
        let mut start = buf.len();
        let mut n = exptime.unsigned_abs();
        loop {
            start -= 1;
            buf[start] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        if exptime < 0 {
            start -= 1;
            buf[start] = b'-';
        }
        start -= 1;
        buf[start] = b'T';
        TtlFlag { buf, start }
    }

    pub(crate) fn as_str(&self) -> &str {
        // Only ASCII is written above: the conversion cannot fail.
        std::str::from_utf8(&self.buf[self.start..]).unwrap_or_default()
    }
}

/// Whether the error means the connection (or the server) is gone.
fn is_connection_error(e: &McError) -> bool {
    matches!(
        e,
        McError::Connect(_) | McError::Io(_) | McError::ConnectionClosed
    )
}

fn map_error(e: McError) -> StoreError {
    if is_connection_error(&e) {
        StoreError::unavailable(BACKEND, e)
    } else {
        StoreError::backend(BACKEND, e)
    }
}

fn map_pool_error(e: PoolError<McError>) -> StoreError {
    match e {
        PoolError::Backend(e) => map_error(e),
        PoolError::Timeout(_) | PoolError::Closed => StoreError::unavailable(BACKEND, e),
        other => StoreError::backend(BACKEND, other),
    }
}

/// Runs one command on a pooled connection, under [`COMMAND_TIMEOUT`]. A connection that
/// was reused from the pool and fails at the connection level is assumed stale (server
/// restarted): the server's idle connections are dropped and the command is sent once
/// more on a fresh connection.
async fn exec<T, F, Fut>(server: &Server, op: F) -> Result<T, StoreError>
where
    F: Fn(Object<Connector>) -> Fut,
    Fut: std::future::Future<Output = Result<T, McError>>,
{
    let attempt = || async {
        let conn = server.pool.get().await.map_err(map_pool_error)?;
        let reused = Object::metrics(&conn).recycled.is_some();
        match op(conn).await {
            Err(e) if reused && is_connection_error(&e) => Ok(Err(e)),
            Err(e) => Err(map_error(e)),
            Ok(v) => Ok(Ok(v)),
        }
    };
    let run = async {
        match attempt().await? {
            Ok(v) => Ok(v),
            Err(stale) => {
                tracing::debug!(node = %server.node, error = %stale, "stale memcached connection; retrying on a new one");
                server.pool.retain(|_, _| false);
                match attempt().await? {
                    Ok(v) => Ok(v),
                    Err(e) => Err(map_error(e)),
                }
            }
        }
    };
    match tokio::time::timeout(COMMAND_TIMEOUT, run).await {
        Ok(result) => result,
        Err(elapsed) => Err(StoreError::unavailable(BACKEND, elapsed)),
    }
}

#[async_trait]
impl SessionStore for MemcachedStore {
    async fn load(
        &self,
        key: &str,
        refresh: Option<Duration>,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        validate_key(key)?;
        let ttl = refresh.map(ttl_flag);
        let flags = match &ttl {
            Some(t) => ["v", "f", t.as_str()],
            None => ["v", "f", ""],
        };
        let flags = &flags[..if ttl.is_some() { 3 } else { 2 }];
        let server = self.server_for(key);
        let found = exec(server, |mut c| async move {
            c.meta_get(key, false, None, Some(flags)).await
        })
        .await?;
        let Some(found) = found else {
            return Ok(None);
        };
        // Session bytes are stored with client flags 0 (by us and by pymemcache for
        // bytes); other flags mark a value another client serialized its own way.
        if let Some(flags) = found.flags.filter(|&f| f != 0) {
            return Err(StoreError::BadData {
                backend: BACKEND,
                message: format!("the entry has client flags {flags}, not 0 (raw bytes)"),
            });
        }
        // A hit without a value cannot happen with the `v` flag; an empty value is a miss
        // (Flask-Session treats falsy data the same way).
        Ok(found.data.filter(|d| !d.is_empty()))
    }

    async fn create(&self, key: &str, value: &[u8], ttl: Duration) -> Result<bool, StoreError> {
        validate_key(key)?;
        store(self.server_for(key), key, value, ttl, "ME").await
    }

    async fn update(&self, key: &str, value: &[u8], ttl: Duration) -> Result<bool, StoreError> {
        validate_key(key)?;
        store(self.server_for(key), key, value, ttl, "MR").await
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        validate_key(key)?;
        exec(self.server_for(key), |mut c| async move {
            match c.meta_delete(key, false, None, None).await {
                Ok(_) | Err(McError::Protocol(Status::NotFound)) => Ok(()),
                Err(e) => Err(e),
            }
        })
        .await
    }

    /// `md <key>`: `HD` → `true`, `NF` → `false`. [`rename`](SessionStore::rename) is the
    /// trait's default over it (see the module documentation).
    async fn remove(&self, key: &str) -> Result<bool, StoreError> {
        validate_key(key)?;
        exec(self.server_for(key), |mut c| async move {
            match c.meta_delete(key, false, None, None).await {
                Ok(_) => Ok(true),
                Err(McError::Protocol(Status::NotFound)) => Ok(false),
                Err(e) => Err(e),
            }
        })
        .await
    }

    /// Memcached's key rules (see the module docs, "Keys"), at startup.
    fn check_key_shape(&self, sample: &str) -> Result<(), String> {
        validate_key(sample).map_err(|e| match e {
            StoreError::InvalidInput { message, .. } => message,
            other => other.to_string(),
        })
    }

    /// `mg <key> v f c`: the value with its CAS token; see the `cas` module.
    async fn load_versioned(
        &self,
        key: &str,
        refresh: Option<Duration>,
    ) -> Result<Option<Versioned>, StoreError> {
        self.load_with_token(key, refresh).await
    }

    /// `ms <key> ... C<token>`; see the `cas` module.
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
        BACKEND
    }
}

/// `ms <key> <len> T<exp> M<mode>`: `true` when stored, `false` on `NS`.
async fn store(
    server: &Server,
    key: &str,
    value: &[u8],
    ttl: Duration,
    mode: &str,
) -> Result<bool, StoreError> {
    let t = ttl_flag(ttl);
    exec(server, |mut c| {
        let t = t.as_str();
        async move {
            match c.meta_set(key, value, false, None, Some(&[t, mode])).await {
                Ok(_) => Ok(true),
                Err(McError::Protocol(Status::NotStored)) => Ok(false),
                Err(e) => Err(e),
            }
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn murmur3_matches_reference_vectors() {
        // Reference values of MurmurHash3_x86_32 (seed 0).
        assert_eq!(murmur3_32_pystr("".chars(), 0), 0);
        assert_eq!(murmur3_32_pystr("hello".chars(), 0), 0x248b_fa47);
        assert_eq!(
            murmur3_32_pystr("The quick brown fox jumps over the lazy dog".chars(), 0),
            0x2e4f_f723
        );
    }

    #[test]
    fn addresses() {
        let a = parse_address("127.0.0.1:11211").unwrap();
        assert_eq!(
            (a.dsn.as_str(), a.node.as_str()),
            ("tcp://127.0.0.1:11211", "127.0.0.1:11211")
        );
        let a = parse_address("memcache://cache.local").unwrap();
        assert_eq!(a.node, "cache.local:11211");
        let a = parse_address("unix:///run/mc.sock").unwrap();
        assert_eq!(
            (a.dsn.as_str(), a.node.as_str()),
            ("unix:///run/mc.sock", "/run/mc.sock")
        );
        assert!(parse_address("127.0.0.1:http").is_err());
        assert!(parse_address("").is_err());
    }

    #[test]
    fn exptime_follows_memcached_rule() {
        let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(exptime(Duration::from_secs(2_592_000), now), 2_592_000);
        assert_eq!(exptime(Duration::from_secs(2_678_400), now), 1_702_678_400);
        assert_eq!(exptime(Duration::from_millis(1_900), now), 1);
        assert_eq!(exptime(Duration::ZERO, now), -1);
    }

    #[test]
    fn ttl_flags_are_formatted_like_format() {
        for n in [-1, 0, 1, 9, 10, 2_592_000, 1_702_678_400, i64::MAX, i64::MIN] {
            assert_eq!(TtlFlag::new(n).as_str(), format!("T{n}"));
        }
    }

    #[test]
    fn old_servers_are_refused() {
        // What `version` answers, after its "VERSION " header.
        assert!(REQUIREMENT.check("127.0.0.1:11211", "1.6.21").is_ok());
        let err = REQUIREMENT
            .check("10.0.0.2:11211", "1.5.22")
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "cannot set up the memcached session store: memcached at 10.0.0.2:11211 is version \
             1.5.22, but this store needs memcached 1.6.0 or newer (for the meta commands mg, \
             ms and md); upgrade the server"
        );
    }

    #[test]
    fn key_rules() {
        assert!(validate_key(&"k".repeat(250)).is_ok());
        assert!(validate_key(&"k".repeat(251)).is_err());
        for bad in ["", "a b", "a\tb", "a\nb", "a\rb", "a\0b", "a\x7fb"] {
            assert!(
                matches!(validate_key(bad), Err(StoreError::InvalidInput { .. })),
                "{bad:?}"
            );
        }
        assert!(validate_key("session:AAEC-_x").is_ok());
    }
}
