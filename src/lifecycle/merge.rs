//! `SESSION_CONCURRENCY = "merge"`: the journal of one request's changes, and the save that
//! replays it onto the current entry when another request changed the session meanwhile.
//!
//! A save writes with [`SessionStore::compare_and_swap`] against the version the request
//! loaded. When the store answers [`Changed`](SwapOutcome::Changed), the request's own
//! changes (in the order it made them: keys set, keys removed, `clear`, the permanent flag,
//! and the closures of [`update_with`](crate::ServerSideSession::update_with), run again on
//! the current value) are replayed onto the current entry, and the result is swapped
//! against that entry, at most [`MERGE_ATTEMPTS`] times in all. When the store answers
//! [`Gone`](SwapOutcome::Gone) (a logout deleted the session), nothing is written.
//!
//! Saves of one session in one process wait for each other ([`SaveLocks`]), so that
//! parallel requests of a session served by the same process conflict at most once each
//! (their load is not serialized, only the write), instead of all retrying against each
//! other; the attempts bound conflicts with other processes (or a Flask app) only.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rmpv::Value;

use super::state::{PERMANENT_KEY, SessionState};
use crate::config::SessionConfig;
use crate::error::{SerializationError, SessionUnavailable};
use crate::serialization::{self, SessionMap};
use crate::store::{SessionStore, SwapOutcome, Versioned};

/// How many compare-and-swaps one save makes before it gives up and answers `503`
/// ([`SessionUnavailable::Conflict`]): the first, plus one per conflict.
pub(crate) const MERGE_ATTEMPTS: usize = 16;

/// A read-modify-write of one key, re-applied to the current value on a conflict.
pub(crate) type Update =
    Arc<dyn Fn(Option<&Value>) -> Result<Value, SerializationError> + Send + Sync>;

/// `update` of [`update_with`](crate::ServerSideSession::update_with) as a function of
/// raw values.
pub(crate) fn erase<T, F>(update: F) -> Update
where
    T: serde::Serialize + serde::de::DeserializeOwned,
    F: Fn(Option<T>) -> T + Send + Sync + 'static,
{
    Arc::new(move |current: Option<&Value>| {
        let current = current.map(serialization::from_value::<T>).transpose()?;
        serialization::to_value(&update(current))
    })
}

/// One change a handler made to the session.
pub(crate) enum Change {
    /// The key was set to this value (`insert`, `set_permanent`).
    Set(String, Value),
    /// The key was removed.
    Remove(String),
    /// `clear()`: everything but `_permanent` went.
    Clear,
    /// `update_with`: the key's new value is this function of its current one.
    Update(String, Update),
}

impl fmt::Debug for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Change::Set(key, value) => f.debug_tuple("Set").field(key).field(value).finish(),
            Change::Remove(key) => f.debug_tuple("Remove").field(key).finish(),
            Change::Clear => f.write_str("Clear"),
            Change::Update(key, _) => f.debug_tuple("Update").field(key).finish(),
        }
    }
}

/// What merge mode keeps of a loaded session: the version it was loaded at and the
/// changes made to it since.
#[derive(Debug)]
pub(crate) struct Journal {
    loaded: Versioned,
    changes: Vec<Change>,
}

impl Journal {
    pub(crate) fn new(loaded: Versioned) -> Self {
        Journal {
            loaded,
            changes: Vec::new(),
        }
    }

    pub(crate) fn record(&mut self, change: Change) {
        self.changes.push(change);
    }

    pub(crate) fn len(&self) -> usize {
        self.changes.len()
    }

    /// Turns the `Set` of `key` recorded since the journal had `since` changes into the
    /// read-modify-write `update`, or records it when the value did not change.
    pub(crate) fn record_update(&mut self, since: usize, key: &str, update: Update) {
        if self.changes.len() > since
            && let Some(Change::Set(set, _)) = self.changes.last()
            && set == key
        {
            self.changes.pop();
        }
        self.changes.push(Change::Update(key.to_owned(), update));
    }
}

/// Applies `changes`, in order, to `data` (the current entry's map).
fn replay(changes: &[Change], data: &mut SessionMap) -> Result<(), SessionUnavailable> {
    for change in changes {
        match change {
            Change::Set(key, value) => set(data, key, value.clone()),
            Change::Remove(key) => {
                if let Some(i) = position(data, key) {
                    data.remove(i);
                }
            }
            Change::Clear => {
                let permanent = matches!(
                    position(data, PERMANENT_KEY).map(|i| &data[i].1),
                    Some(Value::Boolean(true))
                );
                data.clear();
                data.push((Value::from(PERMANENT_KEY), Value::Boolean(permanent)));
            }
            Change::Update(key, update) => {
                let current = position(data, key).map(|i| &data[i].1);
                let value = update(current).map_err(|source| SessionUnavailable::Replay {
                    key: key.clone(),
                    source,
                })?;
                set(data, key, value);
            }
        }
    }
    Ok(())
}

fn position(data: &SessionMap, key: &str) -> Option<usize> {
    data.iter().position(|(k, _)| k.as_str() == Some(key))
}

fn set(data: &mut SessionMap, key: &str, value: Value) {
    match position(data, key) {
        Some(i) => data[i].1 = value,
        None => data.push((Value::from(key), value)),
    }
}

/// One async lock per session key with a save in progress in this process.
#[derive(Debug, Default)]
pub(crate) struct SaveLocks {
    held: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl SaveLocks {
    /// Waits until no other save of `key` runs in this process; the save runs while the
    /// returned guard lives.
    async fn acquire(&self, key: &str) -> SaveGuard<'_> {
        let lock = {
            let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
            Arc::clone(held.entry(key.to_owned()).or_default())
        };
        let guard = Arc::clone(&lock).lock_owned().await;
        SaveGuard {
            locks: self,
            key: key.to_owned(),
            lock,
            _guard: guard,
        }
    }
}

/// A held [`SaveLocks`] entry; the last holder removes it from the map.
struct SaveGuard<'a> {
    locks: &'a SaveLocks,
    key: String,
    lock: Arc<tokio::sync::Mutex<()>>,
    _guard: tokio::sync::OwnedMutexGuard<()>,
}

impl Drop for SaveGuard<'_> {
    fn drop(&mut self) {
        let mut held = self.locks.held.lock().unwrap_or_else(|p| p.into_inner());
        // Three owners: the map, `lock` and the guard; nobody else waits for it.
        if Arc::strong_count(&self.lock) <= 3 {
            held.remove(&self.key);
        }
    }
}

/// Writes `bytes` (the encoded `state`) over the version the request loaded; on a
/// conflict replays the journal onto the current entry and tries again. Returns `false`
/// when the session was deleted meanwhile (nothing written). On return, `state.data` is
/// what was stored.
pub(crate) async fn save(
    store: &dyn SessionStore,
    config: &SessionConfig,
    ttl: Duration,
    locks: &SaveLocks,
    state: &mut SessionState,
    journal: Journal,
    mut bytes: Vec<u8>,
) -> Result<bool, SessionUnavailable> {
    let key = state.key().to_owned();
    let _guard = locks.acquire(&key).await;
    let Journal {
        loaded: mut expected,
        changes,
    } = journal;
    for attempt in 1..=MERGE_ATTEMPTS {
        match store.compare_and_swap(&key, &expected, &bytes, ttl).await? {
            SwapOutcome::Swapped => {
                if attempt > 1 {
                    tracing::debug!(%key, attempt, "session merged onto a concurrent change");
                }
                return Ok(true);
            }
            SwapOutcome::Gone => {
                tracing::info!(%key, "session was deleted by another request; change dropped");
                return Ok(false);
            }
            SwapOutcome::Changed(current) => {
                let mut data = match serialization::decode(
                    current.bytes(),
                    config.serialization_format,
                ) {
                    Ok(data) => data,
                    Err(error) => {
                        tracing::warn!(%key, %error, "the concurrent entry is not session data; writing this request's changes over it");
                        SessionMap::new()
                    }
                };
                replay(&changes, &mut data)?;
                super::lifetime::place_created(&mut data, state.created);
                bytes = serialization::encode(&data, config.serialization_format)?;
                if bytes.len() > config.max_size {
                    return Err(SessionUnavailable::Encode(SerializationError::TooLarge {
                        size: bytes.len(),
                        max: config.max_size,
                    }));
                }
                state.data = data;
                expected = current;
            }
        }
    }
    tracing::warn!(%key, attempts = MERGE_ATTEMPTS, "session kept changing; change not saved");
    Err(SessionUnavailable::Conflict {
        attempts: MERGE_ATTEMPTS,
    })
}
