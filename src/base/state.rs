//! The per-request session data and its bookkeeping flags.

use rmpv::Value;

use crate::serialization::SessionMap;

/// The key Flask keeps inside the session map for `session.permanent`.
pub(crate) const PERMANENT_KEY: &str = "_permanent";

/// One request's view of a session.
#[derive(Debug, Default)]
pub(crate) struct SessionState {
    /// The session id (unsigned).
    pub sid: String,
    /// The data, in insertion order.
    pub data: SessionMap,
    /// Something changed that must be written.
    pub modified: bool,
    /// The handler looked at the session (drives `Vary: Cookie`).
    pub accessed: bool,
    /// The storage key (`SESSION_KEY_PREFIX + sid`) of the entry this session was loaded
    /// from; `None` when no entry exists under `sid` (new or regenerated sessions). Kept so
    /// that saving writes back without rebuilding the key.
    pub stored_key: Option<String>,
    /// A stored id given up by `regenerate`; its entry is moved to `sid` on save.
    pub stale_sid: Option<String>,
}

impl SessionState {
    /// A new session: empty, with `_permanent = true` when `SESSION_PERMANENT` is on.
    pub fn fresh(sid: String, permanent: bool) -> Self {
        let mut data = SessionMap::new();
        if permanent {
            data.push((Value::from(PERMANENT_KEY), Value::Boolean(true)));
        }
        SessionState {
            sid,
            data,
            ..SessionState::default()
        }
    }

    /// A session loaded from the store under `key`, the storage key of `sid`.
    pub fn loaded(sid: String, key: String, data: SessionMap) -> Self {
        SessionState {
            sid,
            data,
            stored_key: Some(key),
            ..SessionState::default()
        }
    }

    /// Whether an entry exists in the store under `sid` (it was loaded from there).
    pub fn stored(&self) -> bool {
        self.stored_key.is_some()
    }

    fn position(&self, key: &str) -> Option<usize> {
        self.data.iter().position(|(k, _)| k.as_str() == Some(key))
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.position(key).map(|i| &self.data[i].1)
    }

    /// Sets `key`; marks the session modified only when the value actually changes.
    pub fn insert(&mut self, key: String, value: Value) {
        match self.position(&key) {
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

    pub fn remove(&mut self, key: &str) -> Option<Value> {
        let i = self.position(key)?;
        self.modified = true;
        Some(self.data.remove(i).1)
    }

    /// Flask's `clear()`: everything goes but `_permanent`, which is kept (default false).
    pub fn clear(&mut self) {
        let permanent = self.permanent();
        self.data.clear();
        self.data
            .push((Value::from(PERMANENT_KEY), Value::Boolean(permanent)));
        self.modified = true;
    }

    pub fn permanent(&self) -> bool {
        matches!(self.get(PERMANENT_KEY), Some(Value::Boolean(true)))
    }

    /// Flask's truthiness rule: empty when there are no keys, or only `_permanent`.
    pub fn is_empty(&self) -> bool {
        self.data
            .iter()
            .all(|(k, _)| k.as_str() == Some(PERMANENT_KEY))
    }
}
