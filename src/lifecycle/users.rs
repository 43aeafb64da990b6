//! The lifecycle's side of `SESSION_USER_KEY`: what a save does to the per-user index
//! (see [`crate::users`] for the design).

use std::collections::HashMap;
use std::sync::Mutex;

use rmpv::Value;

use super::interface::ServerSideSessionInterface;
use super::state::SessionState;
use crate::config::SessionConfig;
use crate::error::{ConfigError, StoreError};
use crate::serialization::SessionMap;
use crate::store::SessionStore;
use crate::users::{IndexEntry, UserSessions, handle_of, index_name, index_ttl};

/// How many last-seen writes a process remembers before it forgets the old ones.
const SEEN_CAPACITY: usize = 100_000;

/// The per-user index settings of one interface, and when this process last wrote the
/// last-seen time of each indexed session.
#[derive(Debug)]
pub(crate) struct UserIndexing {
    user_key: String,
    max: Option<usize>,
    pub(crate) track_client: bool,
    interval: u64,
    seen: Mutex<HashMap<String, u64>>,
}

impl UserIndexing {
    /// The settings when `SESSION_USER_KEY` is set; a store that cannot keep an index is
    /// refused with the reason.
    pub(crate) fn from_config(
        config: &SessionConfig,
        store: &dyn SessionStore,
    ) -> Result<Option<Self>, ConfigError> {
        let Some(user_key) = &config.user_key else {
            return Ok(None);
        };
        if !store.supports_user_index() {
            return Err(ConfigError::Invalid {
                key: "SESSION_USER_KEY",
                value: format!("{user_key:?}"),
                allowed: format!(
                    "the {} store keeps no per-user index, so it cannot list or revoke a \
                     user's sessions (memcached cannot enumerate its keys; a store built by \
                     hand may need its index set up, e.g. DynamoDbStore::with_user_index); \
                     leave SESSION_USER_KEY unset, or use a store that keeps one (README, \
                     \"Sessions per user\")",
                    store.name()
                ),
            });
        }
        Ok(Some(UserIndexing {
            user_key: user_key.clone(),
            max: config.max_per_user,
            track_client: config.track_client,
            interval: config.last_seen_interval.as_secs(),
            seen: Mutex::default(),
        }))
    }

    /// The user id in `data`: the value under `SESSION_USER_KEY`, a string or an integer
    /// (Flask-Login keeps a string).
    pub(crate) fn user_of(&self, data: &SessionMap) -> Option<String> {
        data.iter()
            .find(|(k, _)| k.as_str() == Some(self.user_key.as_str()))
            .and_then(|(_, v)| match v {
                Value::String(s) => s.as_str().map(str::to_owned),
                Value::Integer(n) => Some(n.to_string()),
                _ => None,
            })
    }

    fn seen(&self) -> std::sync::MutexGuard<'_, HashMap<String, u64>> {
        self.seen.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether the last-seen time of `handle` is due for a write at `now`; if so, it
    /// counts as written.
    fn due(&self, handle: &str, now: u64) -> bool {
        let mut seen = self.seen();
        if seen
            .get(handle)
            .is_some_and(|last| now < last.saturating_add(self.interval))
        {
            return false;
        }
        self.remember(&mut seen, handle, now);
        true
    }

    fn remember(&self, seen: &mut HashMap<String, u64>, handle: &str, now: u64) {
        if seen.len() >= SEEN_CAPACITY {
            let interval = self.interval;
            seen.retain(|_, last| now < last.saturating_add(interval));
            if seen.len() >= SEEN_CAPACITY {
                seen.clear();
            }
        }
        seen.insert(handle.to_owned(), now);
    }

    /// After a stored session was deleted (`clear`, logout): its entry leaves the index.
    pub(crate) async fn after_delete(
        &self,
        interface: &ServerSideSessionInterface,
        state: &SessionState,
    ) -> Result<(), StoreError> {
        let Some(user) = &state.user else {
            return Ok(());
        };
        let mut handles = vec![handle_of(state.key())];
        if let Some(stale) = &state.stale_key {
            handles.push(handle_of(stale));
        }
        let index = index_name(&interface.config().key_prefix, user);
        interface
            .store()
            .index_remove(&index, &handles, index_ttl(interface.config()))
            .await?;
        let mut seen = self.seen();
        for handle in &handles {
            seen.remove(handle);
        }
        Ok(())
    }

    /// After a session was written (under its key; moved there from `moved_from` by a
    /// regenerate): a new user, another user or a new id rewrites the index, and
    /// `SESSION_MAX_PER_USER` is applied; otherwise only the last-seen time may be due.
    pub(crate) async fn after_write(
        &self,
        interface: &ServerSideSessionInterface,
        state: &SessionState,
        moved_from: Option<&str>,
    ) -> Result<(), StoreError> {
        let user = self.user_of(&state.data);
        let old_user = state.user.as_deref();
        if old_user == user.as_deref() && moved_from.is_none() {
            return self.after_read(interface, state).await;
        }
        let store = interface.store();
        let config = interface.config();
        let now_us = now_us();
        let mut prior = None;
        if let Some(old) = old_user {
            let index = index_name(&config.key_prefix, old);
            let old_handle = handle_of(moved_from.unwrap_or(state.key()));
            if moved_from.is_some() && user.as_deref() == Some(old) {
                prior = store
                    .index_list(&index)
                    .await?
                    .into_iter()
                    .find(|e| e.handle == old_handle);
            }
            store
                .index_remove(&index, std::slice::from_ref(&old_handle), index_ttl(config))
                .await?;
            self.seen().remove(&old_handle);
        }
        let Some(user) = user else {
            return Ok(());
        };
        let mut entry = IndexEntry::new(state.key(), now_us, state.client.as_ref());
        if let Some(prior) = prior {
            entry.created_us = prior.created_us;
            entry.addr = prior.addr;
            entry.user_agent = prior.user_agent;
        }
        let index = index_name(&config.key_prefix, &user);
        store
            .index_put(&index, &entry, true, index_ttl(config))
            .await?;
        self.remember(&mut self.seen(), &entry.handle, now_us / 1_000_000);
        if let Some(max) = self.max {
            let revoked = UserSessions::new(interface.clone())
                .enforce_limit(&user, max)
                .await?;
            if revoked > 0 {
                tracing::info!(
                    revoked,
                    max,
                    "oldest sessions revoked over SESSION_MAX_PER_USER"
                );
            }
        }
        Ok(())
    }

    /// After a request that used a stored session without changing its user: writes the
    /// last-seen time when it is due (at most once per interval per process). The write
    /// adds the session to the index when it is missing there, so a session whose user key
    /// another app set is indexed the first time this process sees it.
    pub(crate) async fn after_read(
        &self,
        interface: &ServerSideSessionInterface,
        state: &SessionState,
    ) -> Result<(), StoreError> {
        let Some(user) = self.user_of(&state.data) else {
            return Ok(());
        };
        let now_us = now_us();
        let entry = IndexEntry::new(state.key(), now_us, state.client.as_ref());
        if !self.due(&entry.handle, now_us / 1_000_000) {
            return Ok(());
        }
        let config = interface.config();
        let index = index_name(&config.key_prefix, &user);
        let written = interface
            .store()
            .index_put(&index, &entry, false, index_ttl(config))
            .await;
        if written.is_err() {
            self.seen().remove(&entry.handle);
        }
        written
    }
}

fn now_us() -> u64 {
    u64::try_from(crate::clock::since_epoch().as_micros()).unwrap_or(u64::MAX)
}
