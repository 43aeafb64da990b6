//! Listing and revoking a user's sessions: [`UserSessions`].

use futures_util::stream::{self, StreamExt, TryStreamExt};

use super::{IndexEntry, UserSession, index_name};
use crate::error::StoreError;
use crate::lifecycle::ServerSideSessionInterface;

/// How many store calls a listing or a revocation keeps in flight.
const IN_FLIGHT: usize = 64;

/// Lists and revokes the sessions of any user, outside a request too (an admin page, a
/// job, "log out everywhere" after a password change). Get it from
/// [`Session::users`](crate::Session::users); it needs `SESSION_USER_KEY`.
///
/// ```no_run
/// # async fn run(session: actix_flask_session::Session) -> Result<(), actix_flask_session::StoreError> {
/// let users = session.users();
/// for s in users.list("42").await? {
///     println!("{} since {:?} from {:?}", s.handle, s.created, s.addr);
/// }
/// users.revoke_all("42").await?; // after a password change
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct UserSessions {
    interface: ServerSideSessionInterface,
}

impl UserSessions {
    pub(crate) fn new(interface: ServerSideSessionInterface) -> Self {
        UserSessions { interface }
    }

    /// The index name of `user`, or an error when `SESSION_USER_KEY` is not set.
    fn index(&self, user: &str) -> Result<String, StoreError> {
        let config = self.interface.config();
        if config.user_key.is_none() {
            return Err(StoreError::InvalidInput {
                backend: self.interface.store().name(),
                message: "sessions are not indexed per user: set SESSION_USER_KEY".to_owned(),
            });
        }
        Ok(index_name(&config.key_prefix, user))
    }

    /// The live entries of `user`'s index, oldest first (by creation, then handle); stale
    /// entries (whose session is gone) are removed from the index on the way.
    pub(crate) async fn live_entries(&self, user: &str) -> Result<Vec<IndexEntry>, StoreError> {
        let store = self.interface.store();
        let index = self.index(user)?;
        let entries = store.index_list(&index).await?;
        let keys: Vec<String> = entries.iter().map(|e| e.key.clone()).collect();
        let live = store.live_keys(&keys).await?;
        let (mut live, stale): (Vec<_>, Vec<_>) =
            entries.into_iter().zip(live).partition(|(_, live)| *live);
        if !stale.is_empty() {
            let handles: Vec<String> = stale.into_iter().map(|(e, _)| e.handle).collect();
            tracing::debug!(
                count = handles.len(),
                "stale per-user index entries removed"
            );
            store
                .index_remove(&index, &handles, super::index_ttl(self.interface.config()))
                .await?;
        }
        live.sort_by(|(a, _), (b, _)| (a.created_us, &a.handle).cmp(&(b.created_us, &b.handle)));
        Ok(live.into_iter().map(|(e, _)| e).collect())
    }

    /// The live sessions of `user`, oldest first.
    pub async fn list(&self, user: &str) -> Result<Vec<UserSession>, StoreError> {
        self.list_marking(user, None).await
    }

    /// [`list`](Self::list), marking the session whose handle is `current`.
    pub(crate) async fn list_marking(
        &self,
        user: &str,
        current: Option<&str>,
    ) -> Result<Vec<UserSession>, StoreError> {
        let config = self.interface.config();
        Ok(self
            .live_entries(user)
            .await?
            .into_iter()
            .map(|e| UserSession::from_entry(e, config.lifetime, config.absolute_lifetime, current))
            .collect())
    }

    /// Revokes the session of `user` named by `handle`: its data is deleted, so its next
    /// request starts without a session. Returns whether a live session was revoked.
    pub async fn revoke(&self, user: &str, handle: &str) -> Result<bool, StoreError> {
        let index = self.index(user)?;
        let entries = self.interface.store().index_list(&index).await?;
        let chosen: Vec<IndexEntry> = entries.into_iter().filter(|e| e.handle == handle).collect();
        Ok(self.revoke_entries(&index, chosen).await? > 0)
    }

    /// Revokes every session of `user` ("log out everywhere"). Returns how many live
    /// sessions were revoked.
    pub async fn revoke_all(&self, user: &str) -> Result<usize, StoreError> {
        let index = self.index(user)?;
        let entries = self.interface.store().index_list(&index).await?;
        self.revoke_entries(&index, entries).await
    }

    /// Revokes every session of `user` but the one named by `keep`.
    pub(crate) async fn revoke_all_except(
        &self,
        user: &str,
        keep: &str,
    ) -> Result<usize, StoreError> {
        let index = self.index(user)?;
        let entries = self.interface.store().index_list(&index).await?;
        let others = entries.into_iter().filter(|e| e.handle != keep).collect();
        self.revoke_entries(&index, others).await
    }

    /// Revokes the oldest live sessions of `user` beyond the `max` newest. Concurrent
    /// calls agree on the order (creation time, then handle), so two logins past the
    /// limit at once leave the `max` newest sessions, not fewer.
    pub(crate) async fn enforce_limit(&self, user: &str, max: usize) -> Result<usize, StoreError> {
        let mut live = self.live_entries(user).await?;
        if live.len() <= max {
            return Ok(0);
        }
        let excess = live.len() - max;
        live.truncate(excess);
        let index = self.index(user)?;
        self.revoke_entries(&index, live).await
    }

    /// Deletes the sessions of `entries`, then their index entries; returns how many were
    /// live.
    async fn revoke_entries(
        &self,
        index: &str,
        entries: Vec<IndexEntry>,
    ) -> Result<usize, StoreError> {
        if entries.is_empty() {
            return Ok(0);
        }
        let store = self.interface.store();
        // Collected first: a stream over a mapping closure would not be provably `Send`.
        let removals: Vec<_> = entries.iter().map(|e| store.remove(&e.key)).collect();
        let removed: Vec<bool> = stream::iter(removals)
            .buffer_unordered(IN_FLIGHT)
            .try_collect()
            .await?;
        let handles: Vec<String> = entries.into_iter().map(|e| e.handle).collect();
        store
            .index_remove(index, &handles, super::index_ttl(self.interface.config()))
            .await?;
        Ok(removed.into_iter().filter(|live| *live).count())
    }
}
