//! The per-request session data and its bookkeeping flags.

use rmpv::Value;

use super::merge::{Change, Journal};
use crate::config::SerializationFormat;
use crate::error::SerializationError;
use crate::serialization::{self, SessionMap};
use crate::sid::{self, RandomnessError};

/// The key Flask keeps inside the session map for `session.permanent`.
pub(crate) const PERMANENT_KEY: &str = "_permanent";

/// One request's view of a session.
#[derive(Debug, Default)]
pub(crate) struct SessionState {
    /// The storage key, `SESSION_KEY_PREFIX + sid`: built once per request, it is both the
    /// key the store is asked for and, after the prefix, the id.
    key: String,
    /// The length of the prefix in `key`.
    prefix_len: usize,
    /// The data, in insertion order.
    pub data: SessionMap,
    /// Something changed that must be written.
    pub modified: bool,
    /// The handler looked at the session (drives `Vary: Cookie`).
    pub accessed: bool,
    /// An entry exists in the store under `key` (the session was loaded from there);
    /// false for new and regenerated sessions.
    pub stored: bool,
    /// The storage key of a stored id given up by `regenerate`; its entry is moved to
    /// `key` on save.
    pub stale_key: Option<String>,
    /// The request's cookie was signed with a `SECRET_KEY_FALLBACKS` key: the response
    /// sends it again, signed with the newest key, whatever else happens.
    pub resign: bool,
    /// The length `encode` gives `data` in the configured format (entries it cannot encode
    /// count for nothing: the save reports them). Computed when first needed, by the first
    /// insert of a request (or when a large session is decoded off the worker), then kept
    /// up to date by every change, so an insert costs the size of its value only.
    encoded_len: Option<usize>,
    /// The creation time (Unix seconds) kept for `SESSION_ABSOLUTE_LIFETIME`, taken out of
    /// the data while the request runs (see `lifecycle::lifetime`).
    pub created: Option<u64>,
    /// The user id the session held when it was loaded (`SESSION_USER_KEY`).
    pub user: Option<String>,
    /// The request's client, kept when `SESSION_TRACK_CLIENT` is on.
    pub client: Option<crate::users::ClientInfo>,
    /// With `SESSION_CONCURRENCY = "merge"`, for a loaded session: the version it was
    /// loaded at and every change since, replayed onto a newer entry on a conflict.
    pub journal: Option<Journal>,
}

impl SessionState {
    /// A new session under a fresh id of `id_length` random bytes, stored under `prefix` +
    /// id: empty, with `_permanent = true` when `SESSION_PERMANENT` is on.
    pub(crate) fn fresh(
        prefix: &str,
        id_length: usize,
        permanent: bool,
    ) -> Result<Self, RandomnessError> {
        let mut data = SessionMap::new();
        if permanent {
            data.push((Value::from(PERMANENT_KEY), Value::Boolean(true)));
        }
        Ok(SessionState {
            key: fresh_key(prefix, id_length)?,
            prefix_len: prefix.len(),
            data,
            ..SessionState::default()
        })
    }

    /// A session loaded from the store under `key`, whose first `prefix_len` bytes are the
    /// key prefix, with its encoded length when it is known.
    pub(crate) fn loaded(
        key: String,
        prefix_len: usize,
        data: SessionMap,
        encoded_len: Option<usize>,
    ) -> Self {
        SessionState {
            key,
            prefix_len,
            data,
            stored: true,
            encoded_len,
            ..SessionState::default()
        }
    }

    /// The encoded length of `data`, if it has been computed.
    pub(crate) fn known_encoded_len(&self) -> Option<usize> {
        self.encoded_len
    }

    /// The storage key.
    pub(crate) fn key(&self) -> &str {
        &self.key
    }

    /// The session id (unsigned): the storage key after the prefix.
    pub(crate) fn sid(&self) -> &str {
        self.key.get(self.prefix_len..).unwrap_or_default()
    }

    /// Gives the session a fresh id of `id_length` random bytes: the entry it was loaded
    /// from, if any, becomes stale (kept for the move on save; a second change keeps the
    /// first stale key) and the new id is not stored yet.
    pub(crate) fn new_id(&mut self, id_length: usize) -> Result<(), RandomnessError> {
        let key = fresh_key(
            self.key.get(..self.prefix_len).unwrap_or_default(),
            id_length,
        )?;
        let old = std::mem::replace(&mut self.key, key);
        if std::mem::take(&mut self.stored) && self.stale_key.is_none() {
            self.stale_key = Some(old);
        }
        Ok(())
    }

    fn position(&self, key: &str) -> Option<usize> {
        self.data.iter().position(|(k, _)| k.as_str() == Some(key))
    }

    pub(crate) fn get(&self, key: &str) -> Option<&Value> {
        self.position(key).map(|i| &self.data[i].1)
    }

    /// The encoded length of `data`, computed now if it is not known yet.
    fn encoded_len(&mut self, format: SerializationFormat) -> usize {
        match self.encoded_len {
            Some(len) => len,
            None => {
                let len = session_len(&self.data, format);
                self.encoded_len = Some(len);
                len
            }
        }
    }

    /// Sets `key` to a value that `format` can encode, unless the encoded session would
    /// then exceed `max_size` bytes; marks the session modified only when the value
    /// actually changes. Costs the size of the old and new values, plus one pass over the
    /// session on the first change of a request.
    pub(crate) fn insert_within(
        &mut self,
        key: &str,
        value: Value,
        format: SerializationFormat,
        max_size: usize,
    ) -> Result<(), SerializationError> {
        let value_len = serialization::value_len(&value, format)?;
        let position = self.position(key);
        if let Some(i) = position
            && self.data[i].1 == value
        {
            return Ok(());
        }
        let total = self.encoded_len(format);
        let size = match position {
            Some(i) => total.saturating_sub(lenient_value_len(&self.data[i].1, format)) + value_len,
            None => {
                let n = self.data.len();
                total.saturating_sub(serialization::frame_len(n, format))
                    + serialization::frame_len(n + 1, format)
                    + serialization::str_key_len(key, format)
                    + value_len
            }
        };
        if size > max_size {
            return Err(SerializationError::TooLarge {
                size,
                max: max_size,
            });
        }
        self.set(position, key, value);
        self.encoded_len = Some(size);
        Ok(())
    }

    /// Sets `key` without the checks of [`insert_within`](Self::insert_within) (for
    /// `_permanent`); marks the session modified only when the value actually changes.
    pub(crate) fn insert(&mut self, key: &str, value: Value, format: SerializationFormat) {
        let position = self.position(key);
        if let Some(i) = position
            && self.data[i].1 == value
        {
            return;
        }
        if let Some(total) = self.encoded_len {
            let added = lenient_value_len(&value, format);
            self.encoded_len = Some(match position {
                Some(i) => total.saturating_sub(lenient_value_len(&self.data[i].1, format)) + added,
                None => {
                    let n = self.data.len();
                    total.saturating_sub(serialization::frame_len(n, format))
                        + serialization::frame_len(n + 1, format)
                        + serialization::str_key_len(key, format)
                        + added
                }
            });
        }
        self.set(position, key, value);
    }

    /// Stores `value` at `position` (the index of `key`) or at the end.
    fn set(&mut self, position: Option<usize>, key: &str, value: Value) {
        if let Some(journal) = &mut self.journal {
            journal.record(Change::Set(key.to_owned(), value.clone()));
        }
        match position {
            Some(i) => self.data[i].1 = value,
            None => self.data.push((Value::from(key), value)),
        }
        self.modified = true;
    }

    pub(crate) fn remove(&mut self, key: &str, format: SerializationFormat) -> Option<Value> {
        let i = self.position(key)?;
        self.modified = true;
        if let Some(journal) = &mut self.journal {
            journal.record(Change::Remove(key.to_owned()));
        }
        let (k, v) = self.data.remove(i);
        if let Some(total) = self.encoded_len {
            let n = self.data.len();
            self.encoded_len = Some(
                (total + serialization::frame_len(n, format)).saturating_sub(
                    serialization::frame_len(n + 1, format) + lenient_entry_len(&k, &v, format),
                ),
            );
        }
        Some(v)
    }

    /// Flask's `clear()`: everything goes but `_permanent`, which is kept (default false); a
    /// session filled again after it starts a new absolute lifetime.
    pub(crate) fn clear(&mut self) {
        let permanent = self.permanent();
        if let Some(journal) = &mut self.journal {
            journal.record(Change::Clear);
        }
        self.data.clear();
        self.data
            .push((Value::from(PERMANENT_KEY), Value::Boolean(permanent)));
        self.modified = true;
        self.encoded_len = None;
        self.created = None;
    }

    pub(crate) fn permanent(&self) -> bool {
        matches!(self.get(PERMANENT_KEY), Some(Value::Boolean(true)))
    }

    /// Flask's truthiness rule: empty when there are no keys, or only `_permanent`.
    pub(crate) fn is_empty(&self) -> bool {
        self.data
            .iter()
            .all(|(k, _)| k.as_str() == Some(PERMANENT_KEY))
    }
}

/// `prefix` followed by a fresh id of `id_length` random bytes, in one allocation.
fn fresh_key(prefix: &str, id_length: usize) -> Result<String, RandomnessError> {
    let mut key = String::with_capacity(prefix.len() + sid::encoded_len(id_length));
    key.push_str(prefix);
    sid::generate_into(&mut key, id_length)?;
    Ok(key)
}

/// The encoded length of a session, keys and values that cannot be encoded counting for
/// nothing.
pub(crate) fn session_len(data: &SessionMap, format: SerializationFormat) -> usize {
    data.iter().fold(
        serialization::frame_len(data.len(), format),
        |total, (k, v)| total + lenient_entry_len(k, v, format),
    )
}

/// The encoded length of an entry, a key or value that cannot be encoded counting for
/// nothing.
fn lenient_entry_len(key: &Value, value: &Value, format: SerializationFormat) -> usize {
    serialization::key_len(key, format).unwrap_or(0) + lenient_value_len(value, format)
}

/// The encoded length of a value, or nothing when it cannot be encoded.
fn lenient_value_len(value: &Value, format: SerializationFormat) -> usize {
    serialization::value_len(value, format).unwrap_or(0)
}
