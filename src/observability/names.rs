//! The metrics this crate emits: one list, which the README's metrics table must match.

/// Session loads (the first extraction of a request), by `outcome`.
pub(crate) const LOADS: &str = "actix_flask_session_loads_total";
/// Session saves (the end of a request that took the session), by `outcome`.
pub(crate) const SAVES: &str = "actix_flask_session_saves_total";
/// Store calls that failed, by `backend`, `operation` and `kind`.
pub(crate) const STORE_ERRORS: &str = "actix_flask_session_store_errors_total";
/// Store-call latency, by `backend`, `operation` and `outcome`.
pub(crate) const STORE_CALL_DURATION: &str = "actix_flask_session_store_call_duration_seconds";
/// Expired-session cleanups, by `trigger` and `outcome`.
pub(crate) const CLEANUP_RUNS: &str = "actix_flask_session_cleanup_runs_total";
/// Expired sessions deleted by cleanups, by `trigger`.
pub(crate) const CLEANUP_DELETED: &str = "actix_flask_session_cleanup_deleted_total";

/// A metric's type, as the README's table names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Counter,
    Histogram,
}

/// Every metric: name, type, label names and what it means (the README's table says the
/// same; a unit test compares both).
pub(crate) const METRICS: &[(&str, Kind, &[&str], &str)] = &[
    (
        LOADS,
        Kind::Counter,
        &["outcome"],
        "session loads: hit, miss, fresh, corrupt, bad_cookie, error",
    ),
    (
        SAVES,
        Kind::Counter,
        &["outcome"],
        "session saves: created, regenerated, updated, unchanged, deleted, gone, error",
    ),
    (
        STORE_ERRORS,
        Kind::Counter,
        &["backend", "operation", "kind"],
        "failed store calls: outage, bad_data, other",
    ),
    (
        STORE_CALL_DURATION,
        Kind::Histogram,
        &["backend", "operation", "outcome"],
        "store-call latency in seconds",
    ),
    (
        CLEANUP_RUNS,
        Kind::Counter,
        &["trigger", "outcome"],
        "expired-session cleanups: background or manual, ok or error",
    ),
    (
        CLEANUP_DELETED,
        Kind::Counter,
        &["trigger"],
        "expired sessions deleted by cleanups",
    ),
];
