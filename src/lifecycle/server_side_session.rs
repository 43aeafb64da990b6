//! `ServerSideSession`: the extractor handlers take.

use std::sync::{Arc, Mutex, MutexGuard};

use actix_web::{FromRequest, HttpMessage, HttpRequest, dev::Payload};
use futures_util::future::{LocalBoxFuture, ready};
use rmpv::Value;
use serde::{Serialize, de::DeserializeOwned};
use tokio::sync::OnceCell;

use super::interface::{RequestedKey, ServerSideSessionInterface};
use super::middleware::{RequestSession, current_interface};
use super::state::{PERMANENT_KEY, SessionState};
use crate::error::{SessionError, SessionUnavailable};
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
            session.mark_accessed();
            Ok(session)
        })
    }
}
