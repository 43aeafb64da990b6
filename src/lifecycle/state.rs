//! The per-request session data and its bookkeeping flags.

use rmpv::Value;

use crate::serialization::SessionMap;
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
    /// key prefix.
    pub(crate) fn loaded(key: String, prefix_len: usize, data: SessionMap) -> Self {
        SessionState {
            key,
            prefix_len,
            data,
            stored: true,
            ..SessionState::default()
        }
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

    /// Sets `key`; marks the session modified only when the value actually changes.
    pub(crate) fn insert(&mut self, key: &str, value: Value) {
        match self.position(key) {
            Some(i) if self.data[i].1 == value => {}
            Some(i) => {
                self.data[i].1 = value;
                self.modified = true;
            }
            None => {
                self.data.push((Value::from(key), value));
                self.modified = true;
            }
        }
    }

    pub(crate) fn remove(&mut self, key: &str) -> Option<Value> {
        let i = self.position(key)?;
        self.modified = true;
        Some(self.data.remove(i).1)
    }

    /// Flask's `clear()`: everything goes but `_permanent`, which is kept (default false).
    pub(crate) fn clear(&mut self) {
        let permanent = self.permanent();
        self.data.clear();
        self.data
            .push((Value::from(PERMANENT_KEY), Value::Boolean(permanent)));
        self.modified = true;
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
