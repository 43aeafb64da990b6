use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use figment::Figment;
use figment::value::Dict;

use crate::backends::file_engine::{self, FileEngine};
use crate::config::{self, SessionConfig, file_values};
use crate::error::{ConfigError, StoreError};
use crate::store::{RenameOutcome, SessionStore, SwapOutcome, Versioned};

#[path = "cas.rs"]
mod cas;

const BACKEND: &str = "cachelib";
const KEY: &str = "SESSION_CACHELIB";

/// The default threshold of the caches, as in cachelib.
pub(crate) const DEFAULT_THRESHOLD: usize = 500;
/// The default directory of the fallback [`FileSystemCache`], relative to the CWD.
pub(crate) const DEFAULT_DIR: &str = "flask_session";
/// The default permission bits of [`FileSystemCache`] files (`0o600`).
pub(crate) const DEFAULT_MODE: u32 = 0o600;

/// A key-value cache with per-entry timeouts, modelled on cachelib's `BaseCache`.
///
/// A `timeout` of zero means "never expires" (cachelib's rule). Every method must treat
/// an expired entry exactly like an absent one. The trait is object-safe; a
/// [`CacheLibStore`] drives any implementation as a session store:
///
/// | [`SessionStore`] call | `Cache` call |
/// |-----------------------|--------------|
/// | `load(key, None)`     | [`get`](Self::get) |
/// | `load(key, Some(ttl))`| [`get_and_touch`](Self::get_and_touch) |
/// | `create`              | [`add`](Self::add) |
/// | `update`              | [`replace`](Self::replace) |
/// | `delete`, `remove`    | [`delete`](Self::delete) |
/// | `rename`              | [`rename`](Self::rename) |
/// | `delete_expired`      | [`delete_expired`](Self::delete_expired) |
///
/// For the session guarantees to hold, `add` must be atomic (two concurrent `add`s of a
/// key: one `true`), `delete` must report truthfully and atomically whether it removed a
/// live entry (two concurrent `delete`s of a key: at most one `true`), and `replace` and
/// `touch` must never write a key that is absent (a logout is never undone).
///
/// # Example
///
/// A cache over another cache, counting hits:
///
/// ```
/// use std::sync::atomic::{AtomicU64, Ordering};
/// use std::time::Duration;
/// use actix_flask_session::StoreError;
/// use actix_flask_session::backends::cachelib::{Cache, CacheLibStore, SimpleCache};
///
/// #[derive(Debug, Default)]
/// struct Counting { inner: SimpleCache, hits: AtomicU64 }
///
/// #[async_trait::async_trait]
/// impl Cache for Counting {
///     async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
///         let v = self.inner.get(key).await?;
///         if v.is_some() { self.hits.fetch_add(1, Ordering::Relaxed); }
///         Ok(v)
///     }
///     async fn set(&self, key: &str, value: &[u8], timeout: Duration) -> Result<(), StoreError> {
///         self.inner.set(key, value, timeout).await
///     }
///     async fn add(&self, key: &str, value: &[u8], timeout: Duration) -> Result<bool, StoreError> {
///         self.inner.add(key, value, timeout).await
///     }
///     async fn replace(&self, key: &str, value: &[u8], timeout: Duration) -> Result<bool, StoreError> {
///         self.inner.replace(key, value, timeout).await
///     }
///     async fn touch(&self, key: &str, timeout: Duration) -> Result<bool, StoreError> {
///         self.inner.touch(key, timeout).await
///     }
///     async fn delete(&self, key: &str) -> Result<bool, StoreError> {
///         self.inner.delete(key).await
///     }
/// }
///
/// let store = CacheLibStore::new(Counting::default());
/// ```
#[async_trait]
pub trait Cache: Send + Sync + fmt::Debug + 'static {
    /// Returns the value of a live entry, or `None`.
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError>;

    /// Stores `value` under `key`, replacing any entry; it expires after `timeout`
    /// (zero = never).
    async fn set(&self, key: &str, value: &[u8], timeout: Duration) -> Result<(), StoreError>;

    /// Stores `value` only if `key` has no live entry. Returns whether it was stored.
    async fn add(&self, key: &str, value: &[u8], timeout: Duration) -> Result<bool, StoreError>;

    /// Replaces the value and timeout of a live entry; writes nothing and returns `false`
    /// when `key` has no live entry.
    async fn replace(&self, key: &str, value: &[u8], timeout: Duration)
    -> Result<bool, StoreError>;

    /// Moves the expiry of a live entry to now + `timeout`; `false` when there is none.
    async fn touch(&self, key: &str, timeout: Duration) -> Result<bool, StoreError>;

    /// Removes `key`. Returns whether a live entry was removed.
    async fn delete(&self, key: &str) -> Result<bool, StoreError>;

    /// Returns the value of a live entry and moves its expiry to now + `timeout`.
    ///
    /// The default calls [`touch`](Self::touch) then [`get`](Self::get) (two steps; an
    /// entry deleted in between is a miss, which is safe). Override it when the cache can
    /// do both at once, as both shipped caches do.
    async fn get_and_touch(
        &self,
        key: &str,
        timeout: Duration,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        if !self.touch(key, timeout).await? {
            return Ok(None);
        }
        self.get(key).await
    }

    /// Moves the live entry of `from` to `to` (the session store's
    /// [`rename`](SessionStore::rename)): stores `value` under `to` and removes `from`,
    /// only if `from` has a live entry and `to` has none.
    ///
    /// The default is [`add`](Self::add) of `to`, then [`delete`](Self::delete) of `from`,
    /// and, when that removed nothing (`from` was deleted or moved meanwhile), `delete` of
    /// `to` again. It is exact when `delete` is atomic; the new key briefly exists next
    /// to the old one, before its id is known to anyone. Both shipped caches override it
    /// with one atomic step.
    async fn rename(
        &self,
        from: &str,
        to: &str,
        value: &[u8],
        timeout: Duration,
    ) -> Result<RenameOutcome, StoreError> {
        crate::store::move_in_steps(
            to,
            self.add(to, value, timeout),
            self.delete(from),
            || async { self.delete(to).await.map(drop) },
        )
        .await
    }

    /// Whether `key` has a live entry. The default calls [`get`](Self::get).
    async fn has(&self, key: &str) -> Result<bool, StoreError> {
        Ok(self.get(key).await?.is_some())
    }

    /// Removes every expired entry and returns how many were removed. The default does
    /// nothing (for caches that expire entries by themselves).
    async fn delete_expired(&self) -> Result<u64, StoreError> {
        Ok(0)
    }

    /// Whether the cache drops expired entries by itself; when `false` the session
    /// lifecycle calls [`delete_expired`](Self::delete_expired) in the background every
    /// `SESSION_CLEANUP_N_REQUESTS` requests. The default is `true`.
    fn has_native_ttl(&self) -> bool {
        true
    }

    /// Replaces the value and timeout of a live entry only if its value is still
    /// `expected`, as one atomic step (the session store's
    /// [`compare_and_swap`](SessionStore::compare_and_swap)): `Changed` carries the
    /// current value. The default answers [`StoreError::Unsupported`]; both shipped caches
    /// implement it.
    async fn compare_and_swap(
        &self,
        key: &str,
        expected: &[u8],
        value: &[u8],
        timeout: Duration,
    ) -> Result<SwapOutcome, StoreError> {
        let _ = (key, expected, value, timeout);
        Err(StoreError::Unsupported {
            backend: BACKEND,
            operation: "compare_and_swap",
        })
    }

    /// Whether [`compare_and_swap`](Self::compare_and_swap) is implemented (default
    /// `false`): `SESSION_CONCURRENCY = "merge"` needs it.
    fn supports_compare_and_swap(&self) -> bool {
        false
    }
}

/// A [`SessionStore`] over any [`Cache`] (Flask-Session's `CacheLibStore`).
///
/// `C` defaults to `dyn Cache`, the type [`from_figment`](Self::from_figment) builds;
/// [`new`](Self::new) keeps the concrete type. See [`Cache`] for the mapping of calls.
///
/// # Example
///
/// ```
/// # actix_rt::System::new().block_on(async {
/// use std::time::Duration;
/// use actix_flask_session::SessionStore;
/// use actix_flask_session::backends::cachelib::{CacheLibStore, SimpleCache};
///
/// let store = CacheLibStore::new(SimpleCache::new(500));
/// assert!(store.create("session:abc", b"\x80", Duration::from_secs(60)).await?);
/// assert!(!store.create("session:abc", b"\x80", Duration::from_secs(60)).await?);
/// # Ok::<_, actix_flask_session::StoreError>(())
/// # }).unwrap();
/// ```
pub struct CacheLibStore<C: Cache + ?Sized = dyn Cache> {
    cache: Arc<C>,
}

impl<C: Cache + ?Sized> Clone for CacheLibStore<C> {
    fn clone(&self) -> Self {
        CacheLibStore {
            cache: Arc::clone(&self.cache),
        }
    }
}

impl<C: Cache + ?Sized> fmt::Debug for CacheLibStore<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CacheLibStore")
            .field("cache", &&*self.cache)
            .finish()
    }
}

impl<C: Cache> CacheLibStore<C> {
    /// Uses `cache` as the session store.
    pub fn new(cache: C) -> Self {
        CacheLibStore {
            cache: Arc::new(cache),
        }
    }
}

impl<C: Cache + ?Sized> CacheLibStore<C> {
    /// Uses a shared `cache` as the session store (e.g. `Arc<dyn Cache>`).
    pub fn from_arc(cache: Arc<C>) -> Self {
        CacheLibStore { cache }
    }

    /// The cache.
    pub fn cache(&self) -> &Arc<C> {
        &self.cache
    }
}

impl CacheLibStore {
    /// Builds the store from `SESSION_CACHELIB` (see the [module docs](super)).
    ///
    /// Without the key: a [`FileSystemCache`] in `flask_session` (relative to the current
    /// directory) with threshold 500 and mode `0o600`, as Flask-Session falls back to,
    /// logged at `info`. A filesystem cache is opened on the blocking pool.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] naming `SESSION_CACHELIB` for an unknown `type` or field, a value
    /// of the wrong type, a negative threshold, a bad mode, `dir`/`mode` with
    /// `type = "simple"`, or a directory that cannot be created or written.
    pub async fn from_figment(
        _config: &SessionConfig,
        figment: &Figment,
    ) -> Result<Self, ConfigError> {
        let Some(value) = config::find_key(figment, KEY)? else {
            let cache = FileSystemCache::open_blocking(
                PathBuf::from(DEFAULT_DIR),
                DEFAULT_THRESHOLD,
                DEFAULT_MODE,
            )
            .await?;
            tracing::info!(
                dir = %cache.dir().display(),
                threshold = DEFAULT_THRESHOLD,
                "SESSION_CACHELIB is not set: using a FileSystemCache in {DEFAULT_DIR:?} with threshold {DEFAULT_THRESHOLD} (Flask-Session's fallback)"
            );
            let cache: Arc<dyn Cache> = Arc::new(cache);
            return Ok(Self::from_arc(cache));
        };
        let empty = Dict::new();
        let (kind, table) = if let Some(s) = value.as_str() {
            (s.to_owned(), &empty)
        } else if let Some(table) = value.as_dict() {
            for field in table.keys() {
                if !["type", "dir", "threshold", "mode"].contains(&field.as_str()) {
                    return Err(invalid(
                        format!("unknown field {field:?}"),
                        "a table with the fields type, dir, threshold and mode",
                    ));
                }
            }
            let kind = match table.get("type") {
                None => "filesystem".to_owned(),
                Some(v) => v
                    .as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| invalid(format!("type = {}", file_values::describe(v)), TYPES))?,
            };
            (kind, table)
        } else {
            return Err(invalid(
                file_values::describe(&value),
                "a table such as { type = \"filesystem\", dir = \"flask_session\", threshold = 500, mode = 0o600 } or { type = \"simple\" }",
            ));
        };
        let threshold = match table.get("threshold") {
            Some(v) => file_values::parse_threshold(v, KEY)?,
            None => DEFAULT_THRESHOLD,
        };
        match kind.trim().to_ascii_lowercase().as_str() {
            "simple" => {
                if let Some(field) = ["dir", "mode"].into_iter().find(|f| table.contains_key(*f)) {
                    return Err(invalid(
                        format!("{field} with type = \"simple\""),
                        "dir and mode only apply to type = \"filesystem\"",
                    ));
                }
                tracing::info!(
                    threshold,
                    "cachelib session store: SimpleCache (in memory, this process only)"
                );
                let cache: Arc<dyn Cache> = Arc::new(SimpleCache::new(threshold));
                Ok(Self::from_arc(cache))
            }
            "filesystem" => {
                let dir = match table.get("dir") {
                    Some(v) => file_values::parse_dir(v, KEY)?,
                    None => PathBuf::from(DEFAULT_DIR),
                };
                let mode = match table.get("mode") {
                    Some(v) => file_values::parse_mode(v, KEY)?,
                    None => DEFAULT_MODE,
                };
                let cache = FileSystemCache::open_blocking(dir, threshold, mode).await?;
                tracing::info!(dir = %cache.dir().display(), threshold, mode = format_args!("{mode:#o}"), "cachelib session store: FileSystemCache");
                let cache: Arc<dyn Cache> = Arc::new(cache);
                Ok(Self::from_arc(cache))
            }
            _ => Err(invalid(format!("type = {kind:?}"), TYPES)),
        }
    }
}

const TYPES: &str = "type = \"simple\" or type = \"filesystem\"";

fn invalid(value: String, allowed: &str) -> ConfigError {
    ConfigError::Invalid {
        key: KEY,
        value,
        allowed: allowed.to_owned(),
    }
}

#[async_trait]
impl<C: Cache + ?Sized> SessionStore for CacheLibStore<C> {
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

    async fn load(
        &self,
        key: &str,
        refresh: Option<Duration>,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        match refresh {
            None => self.cache.get(key).await,
            Some(ttl) => self.cache.get_and_touch(key, ttl).await,
        }
    }

    async fn create(&self, key: &str, value: &[u8], ttl: Duration) -> Result<bool, StoreError> {
        self.cache.add(key, value, ttl).await
    }

    async fn update(&self, key: &str, value: &[u8], ttl: Duration) -> Result<bool, StoreError> {
        self.cache.replace(key, value, ttl).await
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.cache.delete(key).await.map(|_| ())
    }

    async fn remove(&self, key: &str) -> Result<bool, StoreError> {
        self.cache.delete(key).await
    }

    async fn rename(
        &self,
        from: &str,
        to: &str,
        value: &[u8],
        ttl: Duration,
    ) -> Result<RenameOutcome, StoreError> {
        self.cache.rename(from, to, value, ttl).await
    }

    async fn delete_expired(&self) -> Result<u64, StoreError> {
        self.cache.delete_expired().await
    }

    fn has_native_ttl(&self) -> bool {
        self.cache.has_native_ttl()
    }

    async fn compare_and_swap(
        &self,
        key: &str,
        expected: &Versioned,
        value: &[u8],
        ttl: Duration,
    ) -> Result<SwapOutcome, StoreError> {
        self.cache
            .compare_and_swap(key, expected.bytes(), value, ttl)
            .await
    }

    fn supports_compare_and_swap(&self) -> bool {
        self.cache.supports_compare_and_swap()
    }

    fn name(&self) -> &'static str {
        BACKEND
    }
}

#[derive(Debug)]
struct SimpleEntry {
    value: Vec<u8>,
    /// `None` = never expires.
    expires: Option<Instant>,
    /// Read back, touched or rewritten since it was added (pruning keeps these longer).
    used: bool,
}

impl SimpleEntry {
    fn is_live(&self, now: Instant) -> bool {
        self.expires.is_none_or(|at| now < at)
    }
}

/// An in-memory [`Cache`] for one process, like cachelib's `SimpleCache`.
///
/// A `HashMap` behind a `std::sync::Mutex`, with an absolute expiry per entry (monotonic
/// clock). Every call takes the mutex once and never awaits while holding it, so each
/// call is atomic. Expired entries are dropped when met, by
/// [`delete_expired`](Cache::delete_expired) (the cache reports no native TTL so the
/// lifecycle runs it periodically) and by pruning.
///
/// Pruning: the number of entries never exceeds `threshold` (`0` = no limit). When a new
/// key would take it over, expired entries are dropped first; if that is not enough, live
/// entries are dropped until the new one fits: first the *unused* ones (added and never
/// read, touched or rewritten since, as every session of a flood of new visitors is),
/// then the others, closest to expiry first within each group (never-expiring ones
/// last). So sessions in use survive a flood of new ones as long as the flood alone can
/// fill the threshold. Live sessions can be evicted this way, as in cachelib; a warning
/// is logged when that happens.
///
/// Sessions in a `SimpleCache` are lost on restart and are not shared between worker
/// processes; use it for tests and single-process apps.
#[derive(Debug)]
pub struct SimpleCache {
    entries: Mutex<HashMap<String, SimpleEntry>>,
    threshold: usize,
}

impl Default for SimpleCache {
    /// A cache with cachelib's default threshold, 500.
    fn default() -> Self {
        SimpleCache::new(DEFAULT_THRESHOLD)
    }
}

impl SimpleCache {
    /// An empty cache holding at most `threshold` entries (`0` = no limit).
    pub fn new(threshold: usize) -> Self {
        SimpleCache {
            entries: Mutex::new(HashMap::new()),
            threshold,
        }
    }

    /// The maximum number of entries (`0` = no limit).
    pub fn threshold(&self) -> usize {
        self.threshold
    }

    /// The number of entries held, live or not yet dropped.
    pub fn len(&self) -> usize {
        self.entries().len()
    }

    /// Whether the cache holds no entries at all.
    pub fn is_empty(&self) -> bool {
        self.entries().is_empty()
    }

    fn entries(&self) -> MutexGuard<'_, HashMap<String, SimpleEntry>> {
        // No call panics while holding the lock with the map half-updated, so the data
        // behind a poisoned lock is consistent.
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn expiry(now: Instant, timeout: Duration) -> Option<Instant> {
        if timeout.is_zero() {
            None
        } else {
            now.checked_add(timeout)
        }
    }

    /// Makes room for one new key.
    fn prune(&self, map: &mut HashMap<String, SimpleEntry>, now: Instant) {
        if self.threshold == 0 || map.len() < self.threshold {
            return;
        }
        map.retain(|_, e| e.is_live(now));
        if map.len() < self.threshold {
            return;
        }
        let excess = map.len() + 1 - self.threshold;
        let mut candidates: Vec<(bool, Option<Instant>, String)> = map
            .iter()
            .map(|(k, e)| (e.used, e.expires, k.clone()))
            .collect();
        // Unused entries first; never-expiring (None) entries last within each group.
        candidates.sort_by(|a, b| {
            a.0.cmp(&b.0).then_with(|| match (a.1, b.1) {
                (Some(x), Some(y)) => x.cmp(&y),
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (None, None) => std::cmp::Ordering::Equal,
            })
        });
        for (_, _, key) in candidates.into_iter().take(excess) {
            map.remove(&key);
        }
        tracing::warn!(
            evicted = excess,
            threshold = self.threshold,
            "SimpleCache full: evicted the live entries closest to expiry; raise the threshold (0 = no limit) to keep them"
        );
    }

    fn insert(
        &self,
        map: &mut HashMap<String, SimpleEntry>,
        key: &str,
        value: &[u8],
        timeout: Duration,
        now: Instant,
    ) {
        let used = map.contains_key(key);
        if !used {
            self.prune(map, now);
        }
        map.insert(
            key.to_owned(),
            SimpleEntry {
                value: value.to_vec(),
                expires: Self::expiry(now, timeout),
                used,
            },
        );
    }
}

#[async_trait]
impl Cache for SimpleCache {
    async fn compare_and_swap(
        &self,
        key: &str,
        expected: &[u8],
        value: &[u8],
        timeout: Duration,
    ) -> Result<SwapOutcome, StoreError> {
        Ok(self.swap_entry(key, expected, value, timeout))
    }

    fn supports_compare_and_swap(&self) -> bool {
        true
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let now = Instant::now();
        let mut map = self.entries();
        match map.get_mut(key) {
            Some(e) if e.is_live(now) => {
                e.used = true;
                Ok(Some(e.value.clone()))
            }
            Some(_) => {
                map.remove(key);
                Ok(None)
            }
            None => Ok(None),
        }
    }

    /// A look that does not count as a use (pruning still sees the entry as unused).
    async fn has(&self, key: &str) -> Result<bool, StoreError> {
        let now = Instant::now();
        Ok(self.entries().get(key).is_some_and(|e| e.is_live(now)))
    }

    async fn set(&self, key: &str, value: &[u8], timeout: Duration) -> Result<(), StoreError> {
        let now = Instant::now();
        let mut map = self.entries();
        self.insert(&mut map, key, value, timeout, now);
        Ok(())
    }

    async fn add(&self, key: &str, value: &[u8], timeout: Duration) -> Result<bool, StoreError> {
        let now = Instant::now();
        let mut map = self.entries();
        if map.get(key).is_some_and(|e| e.is_live(now)) {
            return Ok(false);
        }
        self.insert(&mut map, key, value, timeout, now);
        Ok(true)
    }

    async fn replace(
        &self,
        key: &str,
        value: &[u8],
        timeout: Duration,
    ) -> Result<bool, StoreError> {
        let now = Instant::now();
        let mut map = self.entries();
        match map.get_mut(key) {
            Some(e) if e.is_live(now) => {
                e.value = value.to_vec();
                e.expires = Self::expiry(now, timeout);
                e.used = true;
                Ok(true)
            }
            Some(_) => {
                map.remove(key);
                Ok(false)
            }
            None => Ok(false),
        }
    }

    async fn touch(&self, key: &str, timeout: Duration) -> Result<bool, StoreError> {
        Ok(self.get_and_touch(key, timeout).await?.is_some())
    }

    async fn delete(&self, key: &str) -> Result<bool, StoreError> {
        let now = Instant::now();
        Ok(self.entries().remove(key).is_some_and(|e| e.is_live(now)))
    }

    /// One step under the mutex.
    async fn rename(
        &self,
        from: &str,
        to: &str,
        value: &[u8],
        timeout: Duration,
    ) -> Result<RenameOutcome, StoreError> {
        let now = Instant::now();
        let mut map = self.entries();
        if !map.get(from).is_some_and(|e| e.is_live(now)) {
            map.remove(from);
            return Ok(RenameOutcome::SourceGone);
        }
        if map.get(to).is_some_and(|e| e.is_live(now)) {
            return Ok(RenameOutcome::TargetExists);
        }
        map.remove(from);
        self.insert(&mut map, to, value, timeout, now);
        Ok(RenameOutcome::Moved)
    }

    async fn get_and_touch(
        &self,
        key: &str,
        timeout: Duration,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let now = Instant::now();
        let mut map = self.entries();
        match map.get_mut(key) {
            Some(e) if e.is_live(now) => {
                e.expires = Self::expiry(now, timeout);
                e.used = true;
                Ok(Some(e.value.clone()))
            }
            Some(_) => {
                map.remove(key);
                Ok(None)
            }
            None => Ok(None),
        }
    }

    async fn delete_expired(&self) -> Result<u64, StoreError> {
        let now = Instant::now();
        let mut map = self.entries();
        let before = map.len();
        map.retain(|_, e| e.is_live(now));
        Ok((before - map.len()) as u64)
    }

    fn has_native_ttl(&self) -> bool {
        false
    }
}

/// A [`Cache`] in a directory, one file per key, like cachelib's `FileSystemCache` but
/// without pickle.
///
/// The file names (SHA-256 of the key), the file format (a 32-byte header with the
/// absolute expiry and a checksum, then the value), atomic writes in new or recycled
/// files, the cross-process locking and the threshold pruning are those of the
/// `filesystem` session store and are documented in the
/// [`filesystem`](crate::backends::filesystem#entry-file-format-version-2) backend's docs; a `FileSystemCache` and a
/// `FileSystemStore` on the same directory read each other's entries. All
/// file work runs on tokio's blocking pool. Per call (`<file>` = the key's file, `<lock>`
/// = its lock file):
///
/// | call | file operations |
/// |------|-----------------|
/// | [`get`](Cache::get) | read `<file>`; if expired or corrupt: lock, read again, remove if still so |
/// | [`get_and_touch`](Cache::get_and_touch), [`touch`](Cache::touch) | lock; read; remove if dead, else rewrite with the new expiry |
/// | [`set`](Cache::set) | lock; read the header; write over `<file>` |
/// | [`add`](Cache::add) | lock; read; if live → `false`; else write with `persist_noclobber` |
/// | [`replace`](Cache::replace) | lock; read; if not live → `false`; else write over it |
/// | [`delete`](Cache::delete) | lock; remove `<file>` |
/// | [`rename`](Cache::rename) | lock both keys (lower stripe first); if the old entry is not live → `SourceGone`; if the new one is → `TargetExists`; else write the new file (no-clobber) and remove the old one |
/// | [`delete_expired`](Cache::delete_expired) | list; for each dead entry: lock, re-check, remove |
///
/// A write that adds a file may first prune the directory, so that it never holds more
/// than `threshold + slack` files per process (see [`slack`](Self::slack) and the module
/// `filesystem` backend's docs). [`has_native_ttl`](Cache::has_native_ttl) is `false`.
#[derive(Debug, Clone)]
pub struct FileSystemCache {
    files: FileEngine,
}

impl FileSystemCache {
    /// Opens (creating if needed) `dir` with a pruning `threshold` (`0` = no limit) and
    /// the permission bits `mode` for its files.
    ///
    /// Blocking I/O (creates the directory and `.locks`, writes a probe file, counts the
    /// entries): call it at startup. A relative `dir` is resolved against the current
    /// directory now.
    ///
    /// # Errors
    ///
    /// [`ConfigError::Invalid`] when `mode` is over `0o777` or lacks the owner's read and
    /// write bits; [`ConfigError::Backend`] when the directory cannot be created or
    /// written.
    pub fn new(dir: impl AsRef<Path>, threshold: usize, mode: u32) -> Result<Self, ConfigError> {
        let files = FileEngine::open(dir.as_ref().to_path_buf(), threshold, mode, BACKEND, KEY)?;
        Ok(FileSystemCache { files })
    }

    async fn open_blocking(dir: PathBuf, threshold: usize, mode: u32) -> Result<Self, ConfigError> {
        let files = file_engine::open_blocking(dir, threshold, mode, BACKEND, KEY).await?;
        Ok(FileSystemCache { files })
    }

    /// The directory (absolute).
    pub fn dir(&self) -> &Path {
        self.files.dir()
    }

    /// The pruning threshold (`0` = no limit).
    pub fn threshold(&self) -> usize {
        self.files.threshold()
    }

    /// How many files one process may add over the threshold before it prunes: the
    /// directory never holds more than `threshold + slack` files per process sharing it
    /// (see the file engine's `slack_for`).
    pub fn slack(&self) -> usize {
        self.files.slack()
    }

    /// The permission bits given to the files.
    pub fn mode(&self) -> u32 {
        self.files.mode()
    }

    /// The file that holds `key`: `<dir>/<lowercase hex SHA-256 of key>`.
    pub fn file_path(&self, key: &str) -> PathBuf {
        self.files.path_for(key)
    }
}

#[async_trait]
impl Cache for FileSystemCache {
    async fn compare_and_swap(
        &self,
        key: &str,
        expected: &[u8],
        value: &[u8],
        timeout: Duration,
    ) -> Result<SwapOutcome, StoreError> {
        self.swap_file(key, expected, value, timeout).await
    }

    fn supports_compare_and_swap(&self) -> bool {
        true
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.files.get(key, None).await
    }

    async fn set(&self, key: &str, value: &[u8], timeout: Duration) -> Result<(), StoreError> {
        self.files.set(key, value, timeout).await
    }

    async fn add(&self, key: &str, value: &[u8], timeout: Duration) -> Result<bool, StoreError> {
        self.files.add(key, value, timeout).await
    }

    async fn replace(
        &self,
        key: &str,
        value: &[u8],
        timeout: Duration,
    ) -> Result<bool, StoreError> {
        self.files.replace(key, value, timeout).await
    }

    async fn touch(&self, key: &str, timeout: Duration) -> Result<bool, StoreError> {
        self.files.touch(key, timeout).await
    }

    async fn delete(&self, key: &str) -> Result<bool, StoreError> {
        self.files.delete(key).await
    }

    async fn rename(
        &self,
        from: &str,
        to: &str,
        value: &[u8],
        timeout: Duration,
    ) -> Result<RenameOutcome, StoreError> {
        self.files.rename(from, to, value, timeout).await
    }

    async fn get_and_touch(
        &self,
        key: &str,
        timeout: Duration,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        self.files.get(key, Some(timeout)).await
    }

    async fn delete_expired(&self) -> Result<u64, StoreError> {
        self.files.delete_expired().await
    }

    fn has_native_ttl(&self) -> bool {
        false
    }
}
