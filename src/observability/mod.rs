//! What an operator sees of the session layer: `tracing` spans around every store call,
//! counters and latency histograms through the [`metrics`](https://docs.rs/metrics)
//! facade (cargo feature `metrics`; the application installs the exporter), and a health
//! check that pings the store.
//!
//! The lifecycle reports its decisions here with one call each ([`Observer::loaded`],
//! [`Observer::saved`], [`cleaned`]); store calls are observed by [`Instrumented`], a store that wraps the
//! configured one, so the backends know nothing of it. Labels are bounded: backend,
//! operation, outcome, error kind; never a session or user id.

mod health;
mod instrumented;
#[cfg(any(test, feature = "metrics"))]
mod names;
#[cfg(feature = "metrics")]
mod record;
#[cfg(test)]
mod tests;

pub use health::StoreHealth;
pub(crate) use health::check;
pub(crate) use instrumented::Instrumented;

use crate::error::{SessionUnavailable, StoreError};

/// How a request's session was opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Load {
    /// The cookie named a stored session.
    Hit,
    /// The cookie named a well-formed id the store has nothing under (expired, deleted).
    Miss,
    /// No session cookie (or an empty one): a new session.
    Fresh,
    /// The stored entry was not a session (undecodable, foreign, over `SESSION_MAX_SIZE`):
    /// deleted, and a new session.
    Corrupt,
    /// The cookie's signature or shape is wrong: a new session.
    BadCookie,
    /// The store failed; the request gets a 5xx.
    Error,
}

impl Load {
    #[cfg_attr(not(feature = "metrics"), allow(dead_code))]
    fn as_str(self) -> &'static str {
        match self {
            Load::Hit => "hit",
            Load::Miss => "miss",
            Load::Fresh => "fresh",
            Load::Corrupt => "corrupt",
            Load::BadCookie => "bad_cookie",
            Load::Error => "error",
        }
    }
}

/// What the end of a request did with its session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Save {
    /// A new session was stored.
    Created,
    /// A session was moved to a new id (`regenerate`).
    Regenerated,
    /// A stored session was rewritten.
    Updated,
    /// Nothing was written (the cookie may have been sent again).
    Unchanged,
    /// An emptied session was deleted (logout).
    Deleted,
    /// The change was dropped: another request deleted (or moved) the session first.
    Gone,
}

impl Save {
    #[cfg_attr(not(feature = "metrics"), allow(dead_code))]
    fn as_str(self) -> &'static str {
        match self {
            Save::Created => "created",
            Save::Regenerated => "regenerated",
            Save::Updated => "updated",
            Save::Unchanged => "unchanged",
            Save::Deleted => "deleted",
            Save::Gone => "gone",
        }
    }
}

/// What started a cleanup of expired sessions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Trigger {
    /// Every `SESSION_CLEANUP_N_REQUESTS` requests.
    Background,
    /// [`ServerSideSessionInterface::cleanup`](crate::ServerSideSessionInterface::cleanup)
    /// (the CLI's `cleanup`, a cron job).
    Manual,
}

impl Trigger {
    #[cfg_attr(not(feature = "metrics"), allow(dead_code))]
    fn as_str(self) -> &'static str {
        match self {
            Trigger::Background => "background",
            Trigger::Manual => "manual",
        }
    }
}

/// The `kind` label of a store error: an outage (the request answered 503), data that is
/// not a session, or anything else (500).
pub(crate) fn error_kind(error: &StoreError) -> &'static str {
    match error {
        StoreError::Unavailable { .. } => "outage",
        StoreError::BadData { .. } => "bad_data",
        _ => "other",
    }
}

/// Where an interface reports how its sessions were opened and saved (with the `metrics`
/// feature, it keeps the counters' handles).
#[derive(Debug, Default)]
pub(crate) struct Observer {
    #[cfg(feature = "metrics")]
    handles: record::Handles,
}

impl Observer {
    /// Records how a session was opened.
    #[inline]
    pub(crate) fn loaded(&self, outcome: Load) {
        #[cfg(feature = "metrics")]
        record::loaded(&self.handles, outcome);
        #[cfg(not(feature = "metrics"))]
        let _ = outcome;
    }

    /// Records what a save did (or that it failed), and hands the result back.
    #[inline]
    pub(crate) fn saved(
        &self,
        result: Result<Save, SessionUnavailable>,
    ) -> Result<(), SessionUnavailable> {
        #[cfg(feature = "metrics")]
        record::saved(&self.handles, result.as_ref().ok().copied());
        result.map(|_: Save| ())
    }
}

/// Records a cleanup run and how many expired sessions it deleted.
#[inline]
pub(crate) fn cleaned(trigger: Trigger, result: &Result<u64, StoreError>) {
    #[cfg(feature = "metrics")]
    record::cleaned(trigger, result);
    #[cfg(not(feature = "metrics"))]
    let _ = (trigger, result);
}
