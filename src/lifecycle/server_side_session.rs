//! `ServerSideSession`: the extractor handlers take.

use std::sync::{Arc, Mutex, MutexGuard};

use actix_web::{FromRequest, HttpMessage, HttpRequest, dev::Payload, http::header::HeaderMap};
use futures_util::future::{LocalBoxFuture, ready};
use rmpv::Value;
use serde::{Serialize, de::DeserializeOwned};
use tokio::sync::OnceCell;

use super::interface::{Pending, RequestedKey, ServerSideSessionInterface};
use super::middleware::{RequestSession, current_interface};
use super::state::{PERMANENT_KEY, SessionState};
use crate::error::{SessionError, SessionUnavailable};
use crate::observability::Save;
use crate::serialization;

/// The session of the current request, as Flask's `session` object.
///
/// Take it as a handler argument. The first extraction in a request loads the session
/// from the store (one round trip, which also moves the expiry when
/// `SESSION_REFRESH_EACH_REQUEST` is on); later extractions in the same request share it.
/// Handlers that do not take it cost no store access at all.
///
/// Values are kept as a MessagePack value tree in insertion order, so data written by a
/// Python app round-trips untouched; [`get`](Self::get) and [`insert`](Self::insert)
/// convert through serde. Any use of the extractor marks the session accessed, which adds
/// `Vary: Cookie` to the response.
///
/// The handle is cheap to clone and `Send`, so it can move into spawned tasks; changes
/// made after the response has been saved are lost.
///
/// ```
/// use actix_flask_session::ServerSideSession;
///
/// async fn index(session: ServerSideSession) -> actix_web::Result<String> {
///     let visits: u64 = session.get("visits")?.unwrap_or(0);
///     session.insert("visits", visits + 1)?;
///     Ok(format!("visit {}", visits + 1))
/// }
/// ```
#[derive(Clone)]
pub struct ServerSideSession {
    shared: Arc<Shared>,
}

/// What the handles of one request's session share.
struct Shared {
    interface: ServerSideSessionInterface,
    state: Mutex<SessionState>,
    /// Set once the state has been loaded: every extraction of the request awaits the same
    /// load, so two extractors (say a handler argument and a custom extractor built on it)
    /// cost one store round trip.
    loaded: OnceCell<()>,
}

impl std::fmt::Debug for ServerSideSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerSideSession")
            .field("state", &*self.lock())
            .finish()
    }
}

impl ServerSideSession {
    /// The request's session before it is loaded (the state is an empty placeholder).
    pub(crate) fn pending(interface: ServerSideSessionInterface) -> Self {
        ServerSideSession {
            shared: Arc::new(Shared {
                interface,
                state: Mutex::default(),
                loaded: OnceCell::new(),
            }),
        }
    }

    /// Whether the state has been loaded.
    pub(crate) fn is_loaded(&self) -> bool {
        self.shared.loaded.initialized()
    }

    /// Loads the state, or waits for the extraction that is loading it.
    async fn load(
        &self,
        key: impl FnOnce() -> Option<RequestedKey>,
    ) -> Result<(), SessionUnavailable> {
        self.shared
            .loaded
            .get_or_try_init(|| async {
                let state = self.shared.interface.open(key()).await?;
                *self.raw_lock() = state;
                Ok::<_, SessionUnavailable>(())
            })
            .await?;
        Ok(())
    }

    /// The interface the session is loaded and saved through.
    pub(crate) fn interface(&self) -> &ServerSideSessionInterface {
        &self.shared.interface
    }

    fn raw_lock(&self) -> MutexGuard<'_, SessionState> {
        self.shared
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Locks the state and marks it accessed (any access counts, as in Flask ≥ 3.1.3).
    fn lock(&self) -> MutexGuard<'_, SessionState> {
        let mut guard = self.raw_lock();
        guard.accessed = true;
        guard
    }

    fn mark_accessed(&self) {
        drop(self.lock());
    }

    /// Runs the part of the save that needs no store call on the state in place
    /// ([`save_start`](ServerSideSessionInterface::save_start)); when that was all, the
    /// state is taken out as [`take_state`](Self::take_state) would, else the state stays
    /// for the rest.
    pub(crate) fn start_save(&self, headers: &mut HeaderMap) -> Result<Save, Pending> {
        let mut guard = self.lock();
        let started = self.shared.interface.save_start(&mut guard, headers);
        if started.is_ok() {
            drop(std::mem::take(&mut *guard));
        }
        started
    }

    /// Takes the state out for saving, leaving an empty placeholder behind.
    pub(crate) fn take_state(&self) -> SessionState {
        std::mem::take(&mut *self.lock())
    }

    /// The value under `key`, deserialized into `T`; `Ok(None)` when the key is absent.
    ///
    /// An error means the stored value does not have the shape of `T`.
    pub fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, SessionError> {
        let guard = self.lock();
        guard
            .get(key)
            .map(|value| serialization::from_value(value))
            .transpose()
            .map_err(|source| SessionError::Value {
                key: key.to_owned(),
                source,
            })
    }

    /// The raw value under `key`.
    pub fn get_value(&self, key: &str) -> Option<Value> {
        self.lock().get(key).cloned()
    }

    /// Stores `value` under `key`. The value is serialized now: a value that cannot be
    /// stored in the configured format (or nested deeper than 126 levels of arrays and
    /// maps), or that would make
    /// the encoded session larger than `SESSION_MAX_SIZE`, is an error here
    /// ([`SerializationError::TooLarge`](crate::SerializationError::TooLarge) for the size),
    /// never a failure after the handler returned. Setting a key to the value it already
    /// has changes nothing.
    ///
    /// Takes any serializable value, references included (`insert("n", 1)`,
    /// `insert("name", "alice")`, `insert("user", &user)`), under a `&str` or `String` key.
    pub fn insert<T: Serialize>(
        &self,
        key: impl AsRef<str> + Into<String>,
        value: T,
    ) -> Result<(), SessionError> {
        match serialization::to_value(&value) {
            Ok(value) => self.insert_value(key, value),
            Err(source) => Err(SessionError::Value {
                key: key.into(),
                source,
            }),
        }
    }

    /// Stores a raw value under `key`, checked as [`insert`](Self::insert) checks it.
    pub fn insert_value(
        &self,
        key: impl AsRef<str> + Into<String>,
        value: Value,
    ) -> Result<(), SessionError> {
        let config = self.interface().config();
        let inserted = self.lock().insert_within(
            key.as_ref(),
            value,
            config.serialization_format,
            config.max_size,
        );
        inserted.map_err(|source| SessionError::Value {
            key: key.into(),
            source,
        })
    }

    /// Sets `key` to `update(current value)` and returns the new value: a read-modify-write
    /// (a counter, appending to a cart) that concurrent requests of the session do not
    /// undo.
    ///
    /// With `SESSION_CONCURRENCY = "merge"`, when the save finds that another request
    /// changed the session since this one loaded it, `update` runs again on the current
    /// value under `key`, so that 64 parallel increments give +64. **It may therefore run
    /// more than once** (once now, once more per conflict, after the handler returned):
    /// keep it a pure function of its argument, without side effects (no I/O, no
    /// counting, nothing that must happen once), and cheap. The value it returns on a
    /// re-run is what is stored; the handler saw the first run's result. In
    /// last-write-wins mode it runs once, and equals a [`get`](Self::get) followed by an
    /// [`insert`](Self::insert).
    ///
    /// Errors as [`get`](Self::get) (the stored value does not have the shape of `T`) and
    /// [`insert`](Self::insert) (the new value cannot be stored). If the re-run on a
    /// conflict meets a value of another shape, the save fails with
    /// [`SessionUnavailable::Replay`](crate::SessionUnavailable::Replay).
    ///
    /// ```
    /// use actix_flask_session::ServerSideSession;
    ///
    /// async fn incr(session: ServerSideSession) -> actix_web::Result<String> {
    ///     let n = session.update_with("counter", |n: Option<u64>| n.unwrap_or(0) + 1)?;
    ///     Ok(n.to_string())
    /// }
    /// ```
    pub fn update_with<T, F>(
        &self,
        key: impl AsRef<str> + Into<String>,
        update: F,
    ) -> Result<T, SessionError>
    where
        T: Serialize + DeserializeOwned,
        F: Fn(Option<T>) -> T + Send + Sync + 'static,
    {
        let config = self.interface().config();
        let (format, max_size) = (config.serialization_format, config.max_size);
        let value_error = |key: &str, source| SessionError::Value {
            key: key.to_owned(),
            source,
        };
        let mut guard = self.lock();
        let current = guard
            .get(key.as_ref())
            .map(serialization::from_value::<T>)
            .transpose()
            .map_err(|source| value_error(key.as_ref(), source))?;
        let new = update(current);
        let value =
            serialization::to_value(&new).map_err(|source| value_error(key.as_ref(), source))?;
        let recorded = guard.journal.as_ref().map(|journal| journal.len());
        guard
            .insert_within(key.as_ref(), value, format, max_size)
            .map_err(|source| value_error(key.as_ref(), source))?;
        if let (Some(since), Some(journal)) = (recorded, guard.journal.as_mut()) {
            journal.record_update(since, key.as_ref(), super::merge::erase(update));
        }
        Ok(new)
    }

    /// Removes `key` and returns its raw value, if it was there.
    pub fn remove(&self, key: &str) -> Option<Value> {
        let format = self.interface().config().serialization_format;
        self.lock().remove(key, format)
    }

    /// Removes `key` and returns its value deserialized into `T`.
    pub fn remove_as<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, SessionError> {
        self.remove(key)
            .map(|value| serialization::from_value(&value))
            .transpose()
            .map_err(|source| SessionError::Value {
                key: key.to_owned(),
                source,
            })
    }

    /// Whether `key` is present.
    pub fn contains_key(&self, key: &str) -> bool {
        self.lock().get(key).is_some()
    }

    /// The number of keys, `_permanent` included (as Python's `len(session)`).
    pub fn len(&self) -> usize {
        self.lock().data.len()
    }

    /// Flask's emptiness rule: no keys, or only `_permanent`. Empty sessions are never
    /// stored.
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    /// The string keys in insertion order, `_permanent` included.
    pub fn keys(&self) -> Vec<String> {
        self.lock()
            .data
            .iter()
            .filter_map(|(k, _)| k.as_str().map(str::to_owned))
            .collect()
    }

    /// Removes every key but `_permanent` (Flask's `clear()`): the entry is deleted from the
    /// store and the browser gets a deletion cookie. This is how to log out.
    pub fn clear(&self) {
        self.lock().clear();
    }

    /// The session id (unsigned), as stored after the key prefix.
    pub fn sid(&self) -> String {
        self.lock().sid().to_owned()
    }

    /// Whether the session is permanent (`_permanent` is true): its cookie then carries
    /// an `Expires` of now + `PERMANENT_SESSION_LIFETIME`.
    pub fn permanent(&self) -> bool {
        self.lock().permanent()
    }

    /// Sets `_permanent`. A non-permanent session gets a browser-session cookie, but its
    /// store entry still expires after `PERMANENT_SESSION_LIFETIME` of inactivity.
    pub fn set_permanent(&self, permanent: bool) {
        let format = self.interface().config().serialization_format;
        self.lock()
            .insert(PERMANENT_KEY, Value::Boolean(permanent), format);
    }

    /// Whether the session will be written at the end of the request.
    pub fn modified(&self) -> bool {
        self.lock().modified
    }

    /// Forces a write at the end of the request, e.g. after changing a value in place
    /// through [`get_value`](Self::get_value) + [`insert_value`](Self::insert_value) of an
    /// equal value.
    pub fn mark_modified(&self) {
        self.lock().modified = true;
    }

    /// Whether the session was accessed in this request (always true once extracted).
    pub fn accessed(&self) -> bool {
        self.lock().accessed
    }

    /// Gives the session a new id, keeping its data (call it at login against session
    /// fixation). When the response is saved, the data moves to the new id only if the old
    /// entry still exists (see [`SessionStore::rename`](crate::SessionStore::rename)), and
    /// the browser gets the new cookie. If a concurrent logout deleted the old entry, or
    /// another `regenerate` moved it first, nothing is stored and no cookie is sent: a
    /// logout is never undone and one session never gets two ids. An empty session is
    /// left alone, as in Flask.
    pub fn regenerate(&self) -> Result<(), SessionError> {
        let mut guard = self.lock();
        if guard.is_empty() {
            return Ok(());
        }
        guard
            .new_id(self.interface().config().id_length)
            .map_err(SessionError::Randomness)?;
        guard.modified = true;
        Ok(())
    }
}

/// Sessions per user (`SESSION_USER_KEY`; see [`UserSessions`](crate::UserSessions)).
impl ServerSideSession {
    /// The user id this session holds and the handle of its stored entry (the one it
    /// was loaded from, before any `regenerate` of this request moves it).
    fn user_and_handle(&self) -> (Option<String>, String) {
        let guard = self.lock();
        let user = self
            .interface()
            .users()
            .and_then(|users| users.user_of(&guard.data));
        let key = guard.stale_key.as_deref().unwrap_or(guard.key());
        (user, crate::users::handle_of(key))
    }

    fn admin(&self) -> crate::UserSessions {
        crate::UserSessions::new(self.interface().clone())
    }

    /// The live sessions of this session's user (the value under `SESSION_USER_KEY`),
    /// oldest first, this one marked [`current`](crate::UserSession::current); empty when
    /// the session holds no user. An error when `SESSION_USER_KEY` is not set.
    pub async fn user_sessions(&self) -> Result<Vec<crate::UserSession>, SessionUnavailable> {
        let (user, handle) = self.user_and_handle();
        let Some(user) = user else {
            return Ok(Vec::new());
        };
        Ok(self.admin().list_marking(&user, Some(&handle)).await?)
    }

    /// Revokes the session of this user named by `handle` (from
    /// [`user_sessions`](Self::user_sessions)); revoking this session itself is a
    /// [`clear`](Self::clear). Returns whether a session was revoked.
    pub async fn revoke_session(&self, handle: &str) -> Result<bool, SessionUnavailable> {
        let (user, own) = self.user_and_handle();
        let Some(user) = user else {
            return Ok(false);
        };
        if handle == own {
            self.clear();
            return Ok(true);
        }
        Ok(self.admin().revoke(&user, handle).await?)
    }

    /// "Log out everywhere else": revokes every session of this user but this one.
    /// Returns how many were revoked.
    pub async fn revoke_other_sessions(&self) -> Result<usize, SessionUnavailable> {
        let (user, own) = self.user_and_handle();
        let Some(user) = user else {
            return Ok(0);
        };
        Ok(self.admin().revoke_all_except(&user, &own).await?)
    }
}

impl FromRequest for ServerSideSession {
    type Error = SessionUnavailable;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let session = {
            let mut extensions = req.extensions_mut();
            match extensions.get::<RequestSession>() {
                Some(RequestSession(session)) if session.is_loaded() => {
                    session.mark_accessed();
                    return Box::pin(ready(Ok(session.clone())));
                }
                Some(RequestSession(session)) => session.clone(),
                None => {
                    let Some(interface) = current_interface() else {
                        return Box::pin(ready(Err(SessionUnavailable::NoMiddleware)));
                    };
                    let session = ServerSideSession::pending(interface);
                    extensions.insert(RequestSession(session.clone()));
                    session
                }
            }
        };
        let req = req.clone();
        Box::pin(async move {
            // The first extraction of the request loads; any other one awaits that load.
            session
                .load(|| session.interface().requested_key(req.headers()))
                .await?;
            if session.interface().users().is_some_and(|u| u.track_client) {
                let client = crate::users::ClientInfo::of(&req);
                session.raw_lock().client.get_or_insert(client);
            }
            session.mark_accessed();
            Ok(session)
        })
    }
}
