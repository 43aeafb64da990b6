//! Sessions per user (`SESSION_USER_KEY`): an index of each user's sessions, kept beside the
//! session data (never inside it), to list them with their device details and to revoke
//! one, all, or all but the current one; `SESSION_MAX_PER_USER` caps their number.
//!
//! # How the index is kept
//!
//! When a save leaves the session key named by `SESSION_USER_KEY` set (a login), the
//! session is written into its user's index: an [`IndexEntry`] with an opaque handle (a
//! SHA-256 digest of the storage key: a listing never shows a session id), the creation
//! and last-seen times and, with `SESSION_TRACK_CLIENT`, the client address and user
//! agent of that request. When the key changes or goes away (`clear`, logout), the index
//! follows; a `regenerate` moves the entry to the new id with its metadata. The last-seen
//! time is written at most once per `SESSION_LAST_SEEN_INTERVAL` per process (the first
//! request a process sees of an indexed session writes it, which also indexes sessions
//! whose user key another app, say Flask-Login, set), so a plain read still costs one
//! store command.
//!
//! An index can hold stale entries: a session that expired, or one deleted by an app
//! that does not keep the index. Listing checks every entry against the store and removes
//! the stale ones, so a listing shows live sessions only; the index itself expires one
//! `PERMANENT_SESSION_LIFETIME` after its last write.
//!
//! Listing and revoking, from a handler:
//! [`ServerSideSession::user_sessions`](crate::ServerSideSession::user_sessions),
//! [`revoke_session`](crate::ServerSideSession::revoke_session) and
//! [`revoke_other_sessions`](crate::ServerSideSession::revoke_other_sessions); from
//! anywhere else (an admin page, a job): [`Session::users`](crate::Session::users).

#[cfg(any(feature = "filesystem", feature = "cachelib"))]
pub(crate) mod blob;
mod entry;
mod manage;

pub(crate) use entry::ClientInfo;
pub use entry::{IndexEntry, UserSession};
pub use manage::UserSessions;

/// The name of a user's index: `SESSION_KEY_PREFIX + "user:" +` a SHA-256 digest of the
/// user id (40 hex digits), so any user id makes a bounded key that no session id (whose
/// alphabet has no `:`) can equal.
pub(crate) fn index_name(prefix: &str, user: &str) -> String {
    let mut name = String::with_capacity(prefix.len() + 45);
    name.push_str(prefix);
    name.push_str("user:");
    push_hex(&mut name, &digest(user).as_ref()[..20]);
    name
}

/// How long an index lives after its last write: longer than any of its sessions can
/// without a write to it.
pub(crate) fn index_ttl(config: &crate::config::SessionConfig) -> std::time::Duration {
    config.lifetime.saturating_add(config.last_seen_interval)
}

/// The opaque handle of the session stored under `key`: 32 hex digits of its SHA-256
/// digest. It names the session in listings without revealing its id.
pub(crate) fn handle_of(key: &str) -> String {
    let mut handle = String::with_capacity(32);
    push_hex(&mut handle, &digest(key).as_ref()[..16]);
    handle
}

fn digest(text: &str) -> ring::digest::Digest {
    ring::digest::digest(&ring::digest::SHA256, text.as_bytes())
}

fn push_hex(out: &mut String, bytes: &[u8]) {
    use std::fmt::Write;
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_are_bounded_and_opaque() {
        let index = super::index_name("session:", "alice");
        assert_eq!(index.len(), "session:user:".len() + 40);
        let handle = super::handle_of("session:abc");
        assert_eq!(handle.len(), 32);
        assert!(!handle.contains("abc"));
        assert_ne!(handle, super::handle_of("session:abd"));
    }
}
