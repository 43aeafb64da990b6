//! `ServerSideSessionInterface`: open and save (Flask-Session's lifecycle) over one store.

use std::borrow::Cow;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use actix_web::http::header::{HeaderMap, HeaderValue, SET_COOKIE, VARY};

use super::lifetime;
use super::merge::{self, Journal, SaveLocks};
use super::state::SessionState;
use super::users::UserIndexing;
use crate::config::{Concurrency, SessionConfig};
use crate::cookie::CookieSettings;
use crate::error::{ConfigError, SerializationError, SessionUnavailable};
use crate::observability::{self, Instrumented, Load, Observer, Save, Trigger};
use crate::serialization;
use crate::sid;
use crate::signer::Signer;
use crate::store::{RenameOutcome, SessionStore};

/// The storage key a request's cookie names, and whether the cookie must be sent again
/// because its signature was made with a `SECRET_KEY_FALLBACKS` key.
#[derive(Debug)]
pub(crate) struct RequestedKey {
    key: String,
    resign: bool,
}

/// What [`ServerSideSessionInterface::save_start`] left of a save: the store calls.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Pending {
    /// An emptied session whose entry (or stale entry) must be deleted.
    Delete,
    /// A changed session to write, with its time to live.
    Write(std::time::Duration),
    /// An unmodified stored session whose user index must be touched (`SESSION_USER_KEY`)
    /// before its cookie is refreshed, with its time to live.
    Read(std::time::Duration),
}

/// How many fresh ids `create` may try before giving up on id collisions (with 128 or
/// more random bits a single retry never happens in practice).
const CREATE_ATTEMPTS: usize = 3;

/// Sessions larger than this (encoded bytes) are decoded and encoded on tokio's blocking
/// pool instead of the worker thread, which meanwhile serves other requests. The slowest
/// shapes decode at about 33 MB/s (arrays of 1-character strings; integer- or
/// string-keyed maps at 60–85 MB/s), so a session under the threshold holds the worker
/// for at most about 120 µs, and the hop to the pool and back (5–11 µs) costs under a
/// tenth of the work it moves (`cargo bench --bench large_sessions`).
const OFF_WORKER_BYTES: usize = 4 * 1024;

/// Runs `work` on tokio's blocking pool.
async fn off_worker<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, SessionUnavailable> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(SessionUnavailable::Blocking)
}

/// The session lifecycle over one store: reads the cookie, loads and saves the session,
/// writes the cookie. Cheap to clone.
///
/// Build one from a store and a configuration, then hand it to
/// [`Session::new`](crate::Session::new):
///
/// ```
/// use actix_flask_session::{ServerSideSessionInterface, Session, SessionConfig};
/// use actix_flask_session::backends::cachelib::{CacheLibStore, SimpleCache};
///
/// let store = CacheLibStore::new(SimpleCache::new(500));
/// let interface = ServerSideSessionInterface::new(store, SessionConfig::default()).unwrap();
/// let session = Session::new(interface);
/// ```
#[derive(Clone)]
pub struct ServerSideSessionInterface {
    inner: Arc<Inner>,
}

struct Inner {
    /// The store, wrapped by [`Instrumented`].
    store: Arc<dyn SessionStore>,
    /// The store itself, for [`calls`](ServerSideSessionInterface::calls).
    plain: Arc<dyn SessionStore>,
    config: SessionConfig,
    signer: Option<Signer>,
    cookie: CookieSettings,
    cleanup: Option<Cleanup>,
    users: Option<UserIndexing>,
    /// `SESSION_CONCURRENCY = "merge"`: the saves of one session in this process, one at
    /// a time.
    save_locks: Option<SaveLocks>,
    observer: Observer,
}

/// Runs `delete_expired` in the background every N session-using requests, one at a time.
struct Cleanup {
    every: u64,
    counter: AtomicU64,
    running: Arc<AtomicBool>,
}

impl std::fmt::Debug for ServerSideSessionInterface {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerSideSessionInterface")
            .field("store", &self.inner.store)
            .field("config", &self.inner.config)
            .finish()
    }
}

impl ServerSideSessionInterface {
    /// Builds the interface over `store`, after validating `config`.
    pub fn new(store: impl SessionStore, config: SessionConfig) -> Result<Self, ConfigError> {
        Self::from_arc(Arc::new(store), config)
    }

    /// Same as [`new`](Self::new) for a store that is already shared.
    pub fn from_arc(
        store: Arc<dyn SessionStore>,
        config: SessionConfig,
    ) -> Result<Self, ConfigError> {
        config.validate()?;
        let signer = if config.use_signer {
            let secret = config
                .secret_key
                .as_deref()
                .ok_or_else(|| ConfigError::Missing {
                    key: "SECRET_KEY",
                    hint: "SESSION_USE_SIGNER = true signs the cookie with SECRET_KEY".to_owned(),
                })?;
            Some(Signer::new(secret, &config.secret_key_fallbacks))
        } else {
            None
        };
        let cleanup = match config.cleanup_n_requests {
            Some(every) if every > 0 && !store.has_native_ttl() => Some(Cleanup {
                every,
                counter: AtomicU64::new(0),
                running: Arc::new(AtomicBool::new(false)),
            }),
            _ => None,
        };
        check_key_shape(store.as_ref(), &config)?;
        let users = UserIndexing::from_config(&config, store.as_ref())?;
        let save_locks = match config.concurrency {
            Concurrency::LastWriteWins => None,
            Concurrency::Merge if store.supports_compare_and_swap() => Some(SaveLocks::default()),
            Concurrency::Merge => {
                return Err(ConfigError::Invalid {
                    key: "SESSION_CONCURRENCY",
                    value: "\"merge\"".to_owned(),
                    allowed: format!(
                        "the {} store has no compare-and-swap (SessionStore::compare_and_swap), \
                         which merge mode needs; use \"last-write-wins\"",
                        store.name()
                    ),
                });
            }
        };
        let plain = Arc::clone(&store);
        let store = Instrumented::wrap(store);
        let cookie = CookieSettings::from_config(&config);
        Ok(ServerSideSessionInterface {
            inner: Arc::new(Inner {
                store,
                plain,
                config,
                signer,
                cookie,
                cleanup,
                users,
                save_locks,
                observer: Observer::default(),
            }),
        })
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn SessionStore> {
        &self.inner.store
    }

    /// The store the request path calls: the instrumented one, unless it would observe
    /// nothing (no `metrics` feature, and `debug` spans off, the check
    /// [`Instrumented`] makes itself first), when its wrapper, one boxed future more per
    /// call, is skipped.
    fn calls(&self) -> &Arc<dyn SessionStore> {
        if cfg!(feature = "metrics") || tracing::level_enabled!(tracing::Level::DEBUG) {
            &self.inner.store
        } else {
            &self.inner.plain
        }
    }

    /// The configuration.
    pub fn config(&self) -> &SessionConfig {
        &self.inner.config
    }

    /// The per-user index settings, with `SESSION_USER_KEY`.
    pub(crate) fn users(&self) -> Option<&UserIndexing> {
        self.inner.users.as_ref()
    }

    /// The storage key of a session id: `SESSION_KEY_PREFIX + sid`.
    pub fn storage_key(&self, sid: &str) -> String {
        let mut key = String::with_capacity(self.inner.config.key_prefix.len() + sid.len());
        key.push_str(&self.inner.config.key_prefix);
        key.push_str(sid);
        key
    }

    /// The cookie value for a session id: the id itself, or `id.signature` with
    /// `SESSION_USE_SIGNER`.
    pub fn cookie_value(&self, sid: &str) -> String {
        self.signed_sid(sid).into_owned()
    }

    fn signed_sid<'a>(&self, sid: &'a str) -> Cow<'a, str> {
        match &self.inner.signer {
            Some(signer) => Cow::Owned(signer.sign(sid)),
            None => Cow::Borrowed(sid),
        }
    }

    /// Deletes every expired entry now (for stores without native expiry); this is what
    /// `flask session_cleanup` does, for a cron job.
    pub async fn cleanup(&self) -> Result<u64, crate::StoreError> {
        let deleted = self.inner.store.delete_expired().await;
        observability::cleaned(Trigger::Manual, &deleted);
        deleted
    }

    /// A new, empty session under a fresh id.
    fn fresh(&self) -> Result<SessionState, SessionUnavailable> {
        let config = &self.inner.config;
        Ok(SessionState::fresh(
            &config.key_prefix,
            config.id_length,
            config.permanent,
        )?)
    }

    /// The storage key named by the request's session cookie: `None` when there is no
    /// cookie, or its signature (with `SESSION_USE_SIGNER`) or its shape is wrong, and the
    /// request starts a new session.
    pub(crate) fn requested_key(&self, headers: &HeaderMap) -> Option<RequestedKey> {
        let Some(cookie) = self.inner.cookie.read(headers) else {
            self.inner.observer.loaded(Load::Fresh);
            return None;
        };
        if cookie.is_empty() {
            self.inner.observer.loaded(Load::Fresh);
            return None;
        }
        let (sid, resign) = match &self.inner.signer {
            Some(signer) => {
                let Some((sid, key_index)) = signer.verify(&cookie) else {
                    tracing::debug!(
                        "session cookie has no valid signature; starting a new session"
                    );
                    self.inner.observer.loaded(Load::BadCookie);
                    return None;
                };
                (sid, key_index > 0)
            }
            None => (&*cookie, false),
        };
        if !sid::is_well_formed(sid, self.inner.config.id_length) {
            tracing::debug!("session cookie is not a well-formed id; starting a new session");
            self.inner.observer.loaded(Load::BadCookie);
            return None;
        }
        Some(RequestedKey {
            key: self.storage_key(sid),
            resign,
        })
    }

    /// Flask's `open_session`, lazily: called on the first extraction in a request with
    /// the key from [`requested_key`](Self::requested_key).
    pub(crate) async fn open(
        &self,
        requested: Option<RequestedKey>,
    ) -> Result<SessionState, SessionUnavailable> {
        self.tick_cleanup();
        let config = &self.inner.config;
        let Some(RequestedKey { key, resign }) = requested else {
            return self.fresh();
        };
        let refresh = lifetime::read_refresh(config);
        let mut journal = None;
        let loaded = match config.concurrency {
            Concurrency::LastWriteWins => self.calls().load(&key, refresh).await,
            Concurrency::Merge => self
                .calls()
                .load_versioned(&key, refresh)
                .await
                .map(|found| {
                    found.map(|versioned| {
                        let bytes = versioned.bytes().to_vec();
                        journal = Some(Journal::new(versioned));
                        bytes
                    })
                }),
        };
        let bytes = match loaded {
            Ok(Some(bytes)) => bytes,
            Ok(None) => {
                self.inner.observer.loaded(Load::Miss);
                return self.fresh();
            }
            Err(error @ crate::StoreError::BadData { .. }) => {
                return self.discard_bad_entry(&key, &error).await;
            }
            Err(error) => {
                self.inner.observer.loaded(Load::Error);
                return Err(error.into());
            }
        };
        let format = config.serialization_format;
        if bytes.len() > config.max_size {
            let why = format!(
                "{} bytes, over SESSION_MAX_SIZE ({}): not decoded",
                bytes.len(),
                config.max_size
            );
            return self.discard_bad_entry(&key, &why).await;
        }
        let decoded = if bytes.len() > OFF_WORKER_BYTES {
            // Large: decode on the blocking pool, and measure it there for the size cap
            // (boxed, as the encode's: a path small sessions never take).
            Box::pin(off_worker(move || {
                serialization::decode(&bytes, format)
                    .map(|data| (Some(super::state::session_len(&data, format)), data))
            }))
            .await?
        } else {
            serialization::decode(&bytes, format).map(|data| (None, data))
        };
        match decoded {
            Ok((encoded_len, data)) => {
                self.inner.observer.loaded(Load::Hit);
                let mut state =
                    SessionState::loaded(key, config.key_prefix.len(), data, encoded_len);
                state.resign = resign;
                if let Some(users) = &self.inner.users {
                    state.user = users.user_of(&state.data);
                }
                if lifetime::after_load(&mut state, config, lifetime::now_for(config))
                    == lifetime::Loaded::Expired
                {
                    // Boxed: a rare path, kept out of every load's future.
                    return Box::pin(self.end_expired(state)).await;
                }
                // Set after `after_load`: taking the creation time out is not a change to replay.
                state.journal = journal;
                Ok(state)
            }
            Err(error) => self.discard_bad_entry(&key, &error).await,
        }
    }

    /// Deletes a session past `SESSION_ABSOLUTE_LIFETIME` and starts a fresh one.
    async fn end_expired(&self, state: SessionState) -> Result<SessionState, SessionUnavailable> {
        tracing::debug!(key = %state.key(), "session past SESSION_ABSOLUTE_LIFETIME; starting a new session");
        self.inner.store.delete(state.key()).await?;
        self.fresh()
    }

    /// What a request does with an entry that is not a session (undecodable bytes, or a
    /// foreign value the store reports as [`BadData`](crate::StoreError::BadData)): logs
    /// it, deletes it, and starts a fresh session.
    async fn discard_bad_entry(
        &self,
        key: &str,
        error: &dyn std::fmt::Display,
    ) -> Result<SessionState, SessionUnavailable> {
        tracing::warn!(%key, %error, "unusable session data deleted; starting a new session");
        self.inner.observer.loaded(Load::Corrupt);
        if let Err(error) = self.inner.store.delete(key).await {
            tracing::warn!(%key, %error, "could not delete corrupt session data");
        }
        self.fresh()
    }

    /// Flask's `save_session`, with our rules (unmodified data is never written back,
    /// updates never recreate a deleted entry, new ids never overwrite an existing one),
    /// in two parts. This one needs no store call: `Vary`, and everything a session that
    /// is neither written nor deleted needs (its cookie, refreshed or re-signed), so that
    /// such a save costs no future. What is left, if anything, is for
    /// [`save_finish`](Self::save_finish).
    pub(crate) fn save_start(
        &self,
        state: &mut SessionState,
        headers: &mut HeaderMap,
    ) -> Result<Save, Pending> {
        let config = &self.inner.config;
        // Extraction marks the session accessed, so every saved session varies by cookie
        // (this also covers the cookies set below).
        if state.accessed {
            add_vary_cookie(headers);
        }
        if state.is_empty() {
            if !state.modified && state.stored && state.resign {
                // An empty entry (written by another app) under an old-key cookie: the
                // cookie still moves to the newest key.
                let value = self.signed_sid(state.sid());
                self.set_cookie(
                    headers,
                    self.inner.cookie.session_cookie(&value, state.permanent()),
                );
            }
            if !state.modified {
                return Ok(Save::Unchanged);
            }
            if !(state.stored || state.stale_key.is_some()) {
                // Never stored: nothing to delete, the browser forgets its cookie.
                self.set_cookie(headers, self.inner.cookie.deletion_cookie());
                return Ok(Save::Unchanged);
            }
            return Err(Pending::Delete);
        }
        let ttl = lifetime::before_save(state, config, lifetime::now_for(config));
        if state.modified {
            return Err(Pending::Write(ttl));
        }
        if state.stored && self.inner.users.is_some() {
            return Err(Pending::Read(ttl));
        }
        self.refresh_cookie(state, ttl, headers);
        Ok(Save::Unchanged)
    }

    /// The rest of a save that [`save_start`](Self::save_start) left, with the store calls.
    pub(crate) async fn save_finish(
        &self,
        mut state: SessionState,
        pending: Pending,
        headers: &mut HeaderMap,
    ) -> Result<Save, SessionUnavailable> {
        let config = &self.inner.config;
        let store = self.calls();
        let ttl = match pending {
            Pending::Delete => {
                if state.stored {
                    store.delete(state.key()).await?;
                }
                if let Some(stale) = &state.stale_key {
                    store.delete(stale).await?;
                }
                if let Some(users) = &self.inner.users {
                    Box::pin(users.after_delete(self, &state)).await?;
                }
                self.set_cookie(headers, self.inner.cookie.deletion_cookie());
                return Ok(Save::Deleted);
            }
            Pending::Read(ttl) => {
                if let Some(users) = &self.inner.users {
                    Box::pin(users.after_read(self, &state)).await?;
                }
                self.refresh_cookie(&state, ttl, headers);
                return Ok(Save::Unchanged);
            }
            Pending::Write(ttl) => ttl,
        };
        let format = config.serialization_format;
        lifetime::put_back(&mut state, format);
        let bytes = if state
            .known_encoded_len()
            .is_some_and(|len| len > OFF_WORKER_BYTES)
        {
            let data = std::mem::take(&mut state.data);
            let (data, bytes) = Box::pin(off_worker(move || {
                let bytes = serialization::encode(&data, format);
                (data, bytes)
            }))
            .await?;
            state.data = data;
            bytes?
        } else {
            serialization::encode(&state.data, format)?
        };
        if bytes.len() > config.max_size {
            // Inserts are checked; only a change that skips the check (`_permanent`
            // added to a session right at the limit) can get here.
            return Err(SessionUnavailable::Encode(SerializationError::TooLarge {
                size: bytes.len(),
                max: config.max_size,
            }));
        }
        let moved_from = state.stale_key.clone();
        let outcome;
        if let (true, Some(journal), Some(locks)) =
            (state.stored, state.journal.take(), &self.inner.save_locks)
        {
            let store = store.as_ref();
            // Boxed, as the user index calls below: large futures that only some
            // configurations await, kept out of every save's future.
            let merged = merge::save(store, config, ttl, locks, &mut state, journal, bytes);
            if !Box::pin(merged).await? {
                return Ok(Save::Gone);
            }
            outcome = Save::Updated;
        } else if state.stored {
            let key = state.key();
            if !store.update(key, &bytes, ttl).await? {
                tracing::info!(%key, "session was deleted by another request; change dropped");
                return Ok(Save::Gone);
            }
            outcome = Save::Updated;
        } else if !self.create(&mut state, &bytes, ttl).await? {
            return Ok(Save::Gone);
        } else if state.stale_key.is_some() {
            outcome = Save::Regenerated;
        } else {
            outcome = Save::Created;
        }
        if let Some(users) = &self.inner.users {
            Box::pin(users.after_write(self, &state, moved_from.as_deref())).await?;
        }
        self.set_session_cookie(&state, ttl, headers);
        Ok(outcome)
    }

    /// Sends the cookie of an unmodified, non-empty session again when it must be: a
    /// stored session re-signed with the newest key, or refreshed
    /// (`SESSION_REFRESH_EACH_REQUEST`, permanent sessions).
    fn refresh_cookie(
        &self,
        state: &SessionState,
        ttl: std::time::Duration,
        headers: &mut HeaderMap,
    ) {
        let config = &self.inner.config;
        if state.stored && (state.resign || config.refresh_each_request && state.permanent()) {
            self.set_session_cookie(state, ttl, headers);
        }
    }

    /// Sets the session's cookie, expiring with its entry (`ttl`) when permanent.
    fn set_session_cookie(
        &self,
        state: &SessionState,
        ttl: std::time::Duration,
        headers: &mut HeaderMap,
    ) {
        let value = self.signed_sid(state.sid());
        self.set_cookie(
            headers,
            self.inner
                .cookie
                .session_cookie_within(&value, state.permanent(), ttl),
        );
    }

    /// Reports what a save did, and hands the result back.
    pub(crate) fn saved(
        &self,
        result: Result<Save, SessionUnavailable>,
    ) -> Result<(), SessionUnavailable> {
        self.inner.observer.saved(result)
    }

    /// Writes a session under a free id: its own, or fresh ones after a collision. A
    /// regenerated session is moved from its old id, only if that entry still exists:
    /// returns `false` (nothing written, no cookie to send) when a concurrent logout
    /// deleted it or another `regenerate` moved it first.
    async fn create(
        &self,
        state: &mut SessionState,
        bytes: &[u8],
        ttl: std::time::Duration,
    ) -> Result<bool, SessionUnavailable> {
        let store = self.calls();
        for _ in 0..CREATE_ATTEMPTS {
            let key = state.key();
            let created = match &state.stale_key {
                Some(stale) => match store.rename(stale, key, bytes, ttl).await? {
                    RenameOutcome::Moved => true,
                    RenameOutcome::TargetExists => false,
                    RenameOutcome::SourceGone => {
                        tracing::info!(key = %stale, "session was deleted or moved by another request before regenerate saved; change dropped");
                        return Ok(false);
                    }
                },
                None => store.create(key, bytes, ttl).await?,
            };
            if created {
                return Ok(true);
            }
            tracing::warn!("session id collision; trying a fresh id");
            state.new_id(self.inner.config.id_length)?;
        }
        Err(crate::StoreError::InvalidInput {
            backend: store.name(),
            message: format!("no free session id after {CREATE_ATTEMPTS} attempts"),
        }
        .into())
    }

    fn set_cookie(&self, headers: &mut HeaderMap, cookie: String) {
        match HeaderValue::try_from(cookie) {
            Ok(value) => {
                headers.append(SET_COOKIE, value);
            }
            Err(error) => tracing::error!(%error, "session cookie is not a valid header value"),
        }
    }

    fn tick_cleanup(&self) {
        let Some(cleanup) = &self.inner.cleanup else {
            return;
        };
        let n = cleanup.counter.fetch_add(1, Ordering::Relaxed) + 1;
        if n % cleanup.every != 0 || cleanup.running.swap(true, Ordering::AcqRel) {
            return;
        }
        let store = Arc::clone(&self.inner.store);
        let running = Arc::clone(&cleanup.running);
        tokio::spawn(async move {
            let _reset = ResetOnDrop(running);
            let deleted = store.delete_expired().await;
            observability::cleaned(Trigger::Background, &deleted);
            match deleted {
                Ok(count) => tracing::debug!(count, "expired sessions deleted"),
                Err(error) => tracing::warn!(%error, "expired-session cleanup failed"),
            }
        });
    }
}

/// Refuses a `SESSION_KEY_PREFIX` / `SESSION_ID_LENGTH` pair whose keys the store cannot
/// take (memcached's 250 bytes, ...), so it fails at startup, not at every request.
fn check_key_shape(store: &dyn SessionStore, config: &SessionConfig) -> Result<(), ConfigError> {
    let id_len = sid::encoded_len(config.id_length);
    let mut sample = String::with_capacity(config.key_prefix.len() + id_len);
    sample.push_str(&config.key_prefix);
    sample.extend(std::iter::repeat_n('A', id_len));
    store
        .check_key_shape(&sample)
        .map_err(|why| ConfigError::Invalid {
            key: "SESSION_KEY_PREFIX",
            value: format!(
                "{:?} ({} bytes) with SESSION_ID_LENGTH = {} ({id_len}-character ids)",
                config.key_prefix,
                config.key_prefix.len(),
                config.id_length
            ),
            allowed: format!(
                "the {} store cannot take its {}-byte keys: {why}; shorten the prefix or the id \
                 length",
                store.name(),
                sample.len()
            ),
        })
}

/// Clears the "cleanup running" flag when the cleanup task ends, however it ends.
struct ResetOnDrop(Arc<AtomicBool>);

impl Drop for ResetOnDrop {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

/// Adds `Cookie` to `Vary`, merged into an existing value as Werkzeug does.
fn add_vary_cookie(headers: &mut HeaderMap) {
    if !headers.contains_key(VARY) {
        headers.insert(VARY, HeaderValue::from_static("Cookie"));
        return;
    }
    let existing: Vec<String> = headers
        .get_all(VARY)
        .filter_map(|v| v.to_str().ok())
        .map(str::to_owned)
        .collect();
    let covered = existing
        .iter()
        .flat_map(|v| v.split(','))
        .any(|token| token.trim().eq_ignore_ascii_case("cookie") || token.trim() == "*");
    if covered {
        return;
    }
    let merged = if existing.is_empty() {
        HeaderValue::from_static("Cookie")
    } else {
        match HeaderValue::try_from(format!("{}, Cookie", existing.join(", "))) {
            Ok(value) => value,
            Err(_) => HeaderValue::from_static("Cookie"),
        }
    };
    headers.insert(VARY, merged);
}
