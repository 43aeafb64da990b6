//! What the index holds per session, and what a listing shows.

use std::time::{Duration, SystemTime};

use actix_web::HttpRequest;
use serde::{Deserialize, Serialize};

/// The longest client address or user agent kept, in characters.
const MAX_CLIENT_TEXT: usize = 256;

/// One session in a user's index, as a store keeps it (see
/// [`SessionStore::index_put`](crate::SessionStore::index_put)). Stores keep it as the
/// bytes of [`to_bytes`](Self::to_bytes) under its [`handle`](Self::handle).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct IndexEntry {
    /// The opaque handle that names the session in listings (not its id).
    pub handle: String,
    /// The session's storage key, used to check and revoke it; never shown.
    pub key: String,
    /// When the session was indexed (its login), in Unix microseconds.
    pub created_us: u64,
    /// When the session was last seen, in Unix seconds (written at most once per
    /// `SESSION_LAST_SEEN_INTERVAL`).
    pub last_seen: u64,
    /// The client address seen at login (`SESSION_TRACK_CLIENT`).
    pub addr: Option<String>,
    /// The user agent seen at login (`SESSION_TRACK_CLIENT`).
    pub user_agent: Option<String>,
}

impl IndexEntry {
    /// An entry for the session stored under `key`.
    pub(crate) fn new(key: &str, created_us: u64, client: Option<&ClientInfo>) -> Self {
        IndexEntry {
            handle: super::handle_of(key),
            key: key.to_owned(),
            created_us,
            last_seen: created_us / 1_000_000,
            addr: client.and_then(|c| c.addr.clone()),
            user_agent: client.and_then(|c| c.user_agent.clone()),
        }
    }

    /// The entry as stored (MessagePack with named fields).
    pub fn to_bytes(&self) -> Vec<u8> {
        rmp_serde::to_vec_named(self).unwrap_or_default()
    }

    /// An entry read back from [`to_bytes`](Self::to_bytes); `None` for anything else.
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        rmp_serde::from_slice(bytes).ok()
    }
}

/// One live session of a user, as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct UserSession {
    /// The opaque handle to revoke it with (not the session id).
    pub handle: String,
    /// When it was indexed (its login).
    pub created: SystemTime,
    /// When it was last seen (to within `SESSION_LAST_SEEN_INTERVAL`).
    pub last_seen: SystemTime,
    /// When it expires if not used again: last seen + `PERMANENT_SESSION_LIFETIME`,
    /// or the end of `SESSION_ABSOLUTE_LIFETIME` counted from its login when that is
    /// sooner.
    pub expires: SystemTime,
    /// The client address seen at login, with `SESSION_TRACK_CLIENT`.
    pub addr: Option<String>,
    /// The user agent seen at login, with `SESSION_TRACK_CLIENT`.
    pub user_agent: Option<String>,
    /// Whether this is the session of the request that asked.
    pub current: bool,
}

impl UserSession {
    pub(crate) fn from_entry(
        entry: IndexEntry,
        idle: Duration,
        absolute: Option<Duration>,
        current: Option<&str>,
    ) -> Self {
        let created = SystemTime::UNIX_EPOCH + Duration::from_micros(entry.created_us);
        let last_seen = SystemTime::UNIX_EPOCH + Duration::from_secs(entry.last_seen);
        let mut expires = last_seen + idle;
        if let Some(absolute) = absolute {
            expires = expires.min(created + absolute);
        }
        UserSession {
            current: current == Some(entry.handle.as_str()),
            handle: entry.handle,
            created,
            last_seen,
            expires,
            addr: entry.addr,
            user_agent: entry.user_agent,
        }
    }
}

/// The client of a request, as `SESSION_TRACK_CLIENT` keeps it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ClientInfo {
    pub addr: Option<String>,
    pub user_agent: Option<String>,
}

impl ClientInfo {
    /// The address as actix's `ConnectionInfo::realip_remote_addr` gives it (the
    /// `Forwarded` / `X-Forwarded-For` header when present, else the peer) and the
    /// `User-Agent`, each cut to 256 characters.
    pub(crate) fn of(req: &HttpRequest) -> Self {
        let addr = req.connection_info().realip_remote_addr().map(bounded);
        let user_agent = req
            .headers()
            .get(actix_web::http::header::USER_AGENT)
            .map(|v| bounded(&String::from_utf8_lossy(v.as_bytes())));
        ClientInfo { addr, user_agent }
    }
}

fn bounded(text: &str) -> String {
    text.chars().take(MAX_CLIENT_TEXT).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip_and_client_text_is_bounded() {
        let client = ClientInfo {
            addr: Some("10.0.0.1".into()),
            user_agent: Some(bounded(&"x".repeat(1000))),
        };
        let entry = IndexEntry::new("session:abc", 1_700_000_000_123_456, Some(&client));
        assert_eq!(entry.last_seen, 1_700_000_000);
        assert_eq!(entry.user_agent.as_deref().map(str::len), Some(256));
        assert_eq!(IndexEntry::from_bytes(&entry.to_bytes()), Some(entry));
        assert_eq!(IndexEntry::from_bytes(b"junk"), None);
    }
}
