//! The backend contract: what a session store must do, and nothing more.

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;

use crate::error::StoreError;
use crate::users::IndexEntry;

/// What [`SessionStore::rename`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RenameOutcome {
    /// The session was moved: the new key holds it, the old key is gone.
    Moved,
    /// The new key already has a live entry; nothing was changed.
    TargetExists,
    /// The old key has no live entry (deleted or moved by a concurrent request, or
    /// expired); nothing was written.
    SourceGone,
}

/// A session store: the persistence half of a session interface.
///
/// The lifecycle in [`ServerSideSessionInterface`](crate::ServerSideSessionInterface)
/// drives a [`SessionStore`] with these calls. Keys are complete storage keys
/// (`SESSION_KEY_PREFIX + sid`); values are the serialized session bytes, already in the
/// configured wire format. A store never decodes them.
///
/// | Flask-Session hook          | `SessionStore` call | promise                                                     |
/// |-----------------------------|---------------------|-------------------------------------------------------------|
/// | `_retrieve_session_data`    | [`load`](SessionStore::load)      | never returns an expired entry; moves the expiry in the same round trip when asked |
/// | `_upsert_session` (new sid) | [`create`](SessionStore::create)  | writes only if the key is absent                             |
/// | `_upsert_session` (known)   | [`update`](SessionStore::update)  | writes only if the key is present (a logout is never undone) |
/// | `_delete_session`           | [`delete`](SessionStore::delete)  | idempotent                                                   |
/// | `regenerate` (new id)       | [`rename`](SessionStore::rename)  | moves only if the old key still has a live entry and the new one has none |
/// | `_delete_expired_sessions`  | [`delete_expired`](SessionStore::delete_expired) | only for stores without native expiry |
/// | (none: `SESSION_CONCURRENCY = "merge"`) | [`load_versioned`](SessionStore::load_versioned), [`compare_and_swap`](SessionStore::compare_and_swap) | writes only if the entry is still the version that was loaded |
///
/// The `testing` feature publishes an acceptance suite that any implementation can run to
/// prove it keeps these promises (see the crate's `testing` module).
///
/// # Implementing a store
///
/// The trait is used as `Arc<dyn SessionStore>`, and `async fn` in a trait is not yet
/// object-safe, so it is written with [`async-trait`](https://docs.rs/async-trait). The
/// crate re-exports the attribute as [`actix_flask_session::async_trait`](crate::async_trait):
/// put `#[actix_flask_session::async_trait]` on the `impl` block and no extra dependency is
/// needed. Implement `load`, `create`, `update` and `delete`; override `rename`,
/// `delete_expired`, `has_native_ttl` and `name` where the store can do better than the
/// defaults. The [`SessionStore`] page shows a complete store and how it is plugged in.
///
/// Implementations must be cheap to share (`Send + Sync`) and must keep the promises
/// above. All methods are async and must not block the
/// calling thread: run blocking clients on a blocking pool (`tokio::task::spawn_blocking`).
///
/// # Example
///
/// An in-memory store is all it takes to drive the middleware (this one ignores expiry,
/// which a real store must not):
///
/// ```
/// use std::{collections::HashMap, sync::Mutex, time::Duration};
/// use actix_flask_session::{SessionStore, StoreError};
///
/// #[derive(Debug, Default)]
/// struct MapStore(Mutex<HashMap<String, Vec<u8>>>);
///
/// #[actix_flask_session::async_trait]
/// impl SessionStore for MapStore {
///     async fn load(&self, key: &str, _refresh: Option<Duration>) -> Result<Option<Vec<u8>>, StoreError> {
///         Ok(self.0.lock().unwrap().get(key).cloned())
///     }
///     async fn create(&self, key: &str, value: &[u8], _ttl: Duration) -> Result<bool, StoreError> {
///         let mut map = self.0.lock().unwrap();
///         if map.contains_key(key) { return Ok(false); }
///         map.insert(key.to_owned(), value.to_vec());
///         Ok(true)
///     }
///     async fn update(&self, key: &str, value: &[u8], _ttl: Duration) -> Result<bool, StoreError> {
///         Ok(self.0.lock().unwrap().get_mut(key).map(|v| *v = value.to_vec()).is_some())
///     }
///     async fn delete(&self, key: &str) -> Result<(), StoreError> {
///         self.0.lock().unwrap().remove(key);
///         Ok(())
///     }
/// }
///
/// // Plugged in, with the configuration built in code (or read with `SessionConfig::from_figment`):
/// use actix_flask_session::{ServerSideSessionInterface, Session, SessionConfig};
///
/// let session = Session::new(ServerSideSessionInterface::new(
///     MapStore::default(),
///     SessionConfig::default(),
/// )?);
/// let app = session.init_app(actix_web::App::new());
/// # let _ = app;
/// # Ok::<(), actix_flask_session::ConfigError>(())
/// ```
#[async_trait]
pub trait SessionStore: Send + Sync + fmt::Debug + 'static {
    /// Returns the bytes stored under `key`, or `None` when the key is absent or its entry
    /// has expired (expiry is checked on read, not only left to a TTL sweeper).
    ///
    /// With `refresh = Some(ttl)` the entry's expiry moves to now + `ttl` in the same round
    /// trip as the read (Redis `GETEX`, memcached `gat`, SQL `UPDATE ... RETURNING`, ...).
    async fn load(
        &self,
        key: &str,
        refresh: Option<Duration>,
    ) -> Result<Option<Vec<u8>>, StoreError>;

    /// Stores `value` under `key` with the given time to live, only if `key` is absent.
    /// Returns `false` (and writes nothing) when the key already exists.
    async fn create(&self, key: &str, value: &[u8], ttl: Duration) -> Result<bool, StoreError>;

    /// Replaces the value under `key` and resets its time to live, only if `key` exists
    /// and has not expired. Returns `false` (and writes nothing) otherwise, so a session
    /// deleted by a concurrent logout is never brought back.
    async fn update(&self, key: &str, value: &[u8], ttl: Duration) -> Result<bool, StoreError>;

    /// Deletes `key`. Deleting an absent key is not an error.
    async fn delete(&self, key: &str) -> Result<(), StoreError>;

    /// Deletes `key` and reports whether a live (unexpired) entry was there, as one atomic
    /// step: of two concurrent calls on one entry, at most one returns `true`.
    ///
    /// The default [`rename`](Self::rename) relies on it. The default implementation is
    /// [`load`](Self::load) followed by [`delete`](Self::delete), which is *not* atomic
    /// (two concurrent calls may both see the entry); stores that can tell from the delete
    /// itself (a deleted-row count, `DEL`'s reply, memcached's `HD`/`NF`) should override it.
    async fn remove(&self, key: &str) -> Result<bool, StoreError> {
        let live = self.load(key, None).await?.is_some();
        self.delete(key).await?;
        Ok(live)
    }

    /// Moves a session to a new key (used by `regenerate`): `value` is stored under `to`
    /// with the given time to live and `from` is deleted, **only if `from` still has a live
    /// entry** and `to` has none. The data is under `from` or `to` at every moment.
    ///
    /// * [`Moved`](RenameOutcome::Moved): done; `from` is gone and `to` holds `value`.
    /// * [`TargetExists`](RenameOutcome::TargetExists): `to` has a live entry; nothing was
    ///   changed (the lifecycle retries with a fresh id).
    /// * [`SourceGone`](RenameOutcome::SourceGone): `from` has no live entry (a concurrent
    ///   logout deleted it, or another `regenerate` moved it first); nothing is stored
    ///   under `to`, so a logout is never undone and one session never gets two live ids.
    ///
    /// When both `to` exists and `from` is gone, either answer may be given.
    ///
    /// The default is [`create`](Self::create) of `to`, then [`remove`](Self::remove) of
    /// `from`, then, if `from` was gone, [`delete`](Self::delete) of `to` again. `to` is a
    /// fresh random id that no client knows before the response, so the short moment in
    /// which it exists next to `from` is invisible; the result is exact as long as `remove`
    /// is atomic (with the default `remove`, two concurrent renames of one `from` can both
    /// succeed, and a logout landing between its `load` and `delete` is missed). If the
    /// process dies between the `create` and the roll-back, an entry nobody knows the id
    /// of stays until it expires. Stores that can do the move in one atomic step should
    /// override this method.
    async fn rename(
        &self,
        from: &str,
        to: &str,
        value: &[u8],
        ttl: Duration,
    ) -> Result<RenameOutcome, StoreError> {
        rename_in_steps(self, from, to, value, ttl).await
    }

    /// Deletes every expired entry and returns how many were removed.
    ///
    /// Only meaningful for stores without native expiry (see
    /// [`has_native_ttl`](Self::has_native_ttl)); the default does nothing.
    async fn delete_expired(&self) -> Result<u64, StoreError> {
        Ok(0)
    }

    /// Whether the store removes expired entries by itself. Stores that return `false` get
    /// a background cleanup every `SESSION_CLEANUP_N_REQUESTS` requests.
    fn has_native_ttl(&self) -> bool {
        true
    }

    /// Checks, once at startup, that the store can take keys shaped like `sample`: the
    /// configured `SESSION_KEY_PREFIX` followed by an id of the configured
    /// `SESSION_ID_LENGTH`. A store with limits on keys (length, characters) returns what
    /// is wrong, and the interface refuses the configuration instead of failing every
    /// request. The default accepts every key.
    fn check_key_shape(&self, sample: &str) -> Result<(), String> {
        let _ = sample;
        Ok(())
    }

    /// A short name for logs and errors, e.g. `"redis"`.
    fn name(&self) -> &'static str {
        "custom"
    }

    /// Whether the store keeps per-user indexes (the `index_*` methods below), which
    /// `SESSION_USER_KEY` needs. The default is `false`, and a configuration with
    /// `SESSION_USER_KEY` over such a store is refused at startup.
    fn supports_user_index(&self) -> bool {
        false
    }

    /// Writes `entry` into the index named `index` (one per user), beside the session
    /// data, never inside it. With `replace` the entry replaces one of the same handle;
    /// without, an existing entry only gets the new `last_seen` (its creation time and
    /// client details stay). The index itself lives at least `ttl` from now.
    async fn index_put(
        &self,
        index: &str,
        entry: &IndexEntry,
        replace: bool,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        let _ = (index, entry, replace, ttl);
        Err(no_user_index(self.name()))
    }

    /// Removes the entries with these handles from `index` (absent ones are fine). A
    /// store that cannot rewrite the index and keep its expiry gives what remains `ttl`.
    async fn index_remove(
        &self,
        index: &str,
        handles: &[String],
        ttl: Duration,
    ) -> Result<(), StoreError> {
        let _ = (index, handles, ttl);
        Err(no_user_index(self.name()))
    }

    /// Every entry of `index`, stale ones included (the caller checks them with
    /// [`live_keys`](Self::live_keys) and removes those whose session is gone).
    async fn index_list(&self, index: &str) -> Result<Vec<IndexEntry>, StoreError> {
        let _ = index;
        Err(no_user_index(self.name()))
    }

    /// For each storage key, whether it has a live entry. The default loads each key
    /// (without refresh); stores that can ask in one round trip should override it.
    async fn live_keys(&self, keys: &[String]) -> Result<Vec<bool>, StoreError> {
        let mut live = Vec::with_capacity(keys.len());
        for key in keys {
            live.push(self.load(key, None).await?.is_some());
        }
        Ok(live)
    }

    /// [`load`](Self::load), with the version a later
    /// [`compare_and_swap`](Self::compare_and_swap) compares against. The default is
    /// `load` with the bytes themselves as the version ([`Versioned::new`]); a store whose
    /// server hands out version tokens (memcached's CAS) returns them here.
    async fn load_versioned(
        &self,
        key: &str,
        refresh: Option<Duration>,
    ) -> Result<Option<Versioned>, StoreError> {
        Ok(self.load(key, refresh).await?.map(Versioned::new))
    }

    /// Replaces the value under `key` and resets its time to live, **only if the live
    /// entry is still `expected`** (as [`load_versioned`](Self::load_versioned) or an
    /// earlier [`SwapOutcome::Changed`] gave it), as one atomic step:
    ///
    /// * [`Swapped`](SwapOutcome::Swapped): `value` is stored.
    /// * [`Changed`](SwapOutcome::Changed): another writer changed the entry; nothing was
    ///   written, and the current entry is returned (with its version) so the caller can
    ///   merge onto it and try again.
    /// * [`Gone`](SwapOutcome::Gone): no live entry (deleted by a logout, or expired);
    ///   nothing was written, so a deleted session is never recreated.
    ///
    /// `SESSION_CONCURRENCY = "merge"` needs it (and
    /// [`supports_compare_and_swap`](Self::supports_compare_and_swap) to say so). The
    /// default answers [`StoreError::Unsupported`].
    async fn compare_and_swap(
        &self,
        key: &str,
        expected: &Versioned,
        value: &[u8],
        ttl: Duration,
    ) -> Result<SwapOutcome, StoreError> {
        let _ = (key, expected, value, ttl);
        Err(StoreError::Unsupported {
            backend: self.name(),
            operation: "compare_and_swap",
        })
    }

    /// Whether [`compare_and_swap`](Self::compare_and_swap) is implemented; with `false`
    /// (the default), `SESSION_CONCURRENCY = "merge"` is refused at startup.
    fn supports_compare_and_swap(&self) -> bool {
        false
    }
}

/// A stored entry as [`SessionStore::load_versioned`] returns it: the bytes, and the
/// version [`SessionStore::compare_and_swap`] compares against (the bytes themselves, or a
/// token the store's server handed out with them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Versioned {
    bytes: Vec<u8>,
    token: Option<u64>,
}

impl Versioned {
    /// An entry whose version is its bytes: a compare-and-swap against it succeeds while
    /// the stored bytes are equal to these.
    ///
    /// ```
    /// use actix_flask_session::Versioned;
    ///
    /// let loaded = Versioned::new(b"\x80".to_vec());
    /// assert_eq!((loaded.bytes(), loaded.token()), (&b"\x80"[..], None));
    /// ```
    pub fn new(bytes: Vec<u8>) -> Self {
        Versioned { bytes, token: None }
    }

    /// An entry with a version token from the store's server (memcached's CAS unique).
    pub fn with_token(bytes: Vec<u8>, token: u64) -> Self {
        Versioned {
            bytes,
            token: Some(token),
        }
    }

    /// The stored bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The server's version token, if the store uses one.
    pub fn token(&self) -> Option<u64> {
        self.token
    }

    /// The stored bytes, taken out.
    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }
}

/// What [`SessionStore::compare_and_swap`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SwapOutcome {
    /// The entry was still the expected one: the new value is stored.
    Swapped,
    /// Another writer changed the entry: nothing was written; this is the current one.
    Changed(Versioned),
    /// There is no live entry (deleted or expired): nothing was written.
    Gone,
}

/// The error of the `index_*` methods of a store without per-user indexes.
fn no_user_index(backend: &'static str) -> StoreError {
    StoreError::InvalidInput {
        backend,
        message: "this store keeps no per-user index (SESSION_USER_KEY)".to_owned(),
    }
}

/// The default [`SessionStore::rename`]: `create(to)`, `remove(from)`, and `delete(to)`
/// again when `from` was gone (also used by stores whose two keys cannot be changed in
/// one atomic step, such as Redis Cluster and memcached).
pub(crate) async fn rename_in_steps<S: SessionStore + ?Sized>(
    store: &S,
    from: &str,
    to: &str,
    value: &[u8],
    ttl: Duration,
) -> Result<RenameOutcome, StoreError> {
    move_in_steps(to, store.create(to, value, ttl), store.remove(from), || {
        store.delete(to)
    })
    .await
}

/// A move made of three steps, for stores (and caches) that cannot make it atomic:
/// `create_to` (false: the new key is taken), then `remove_from` (false: the old entry
/// was deleted or moved meanwhile, so the new key is deleted again). The new key briefly
/// exists next to the old one, before its id is known to anyone.
pub(crate) async fn move_in_steps<D, DF>(
    to: &str,
    create_to: impl Future<Output = Result<bool, StoreError>>,
    remove_from: impl Future<Output = Result<bool, StoreError>>,
    delete_to: D,
) -> Result<RenameOutcome, StoreError>
where
    D: Fn() -> DF,
    DF: Future<Output = Result<(), StoreError>>,
{
    if !create_to.await? {
        return Ok(RenameOutcome::TargetExists);
    }
    match remove_from.await {
        Ok(true) => Ok(RenameOutcome::Moved),
        Ok(false) => {
            delete_to().await?;
            Ok(RenameOutcome::SourceGone)
        }
        Err(error) => {
            // Best effort: the new id was never handed out, so its entry is unreachable
            // anyway and expires with its time to live.
            if let Err(cleanup) = delete_to().await {
                tracing::warn!(key = %to, error = %cleanup, "could not delete the new key of a failed rename");
            }
            Err(error)
        }
    }
}
