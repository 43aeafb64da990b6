//! [`StoreHealth`]: whether the session store answers, for a readiness probe.

use std::time::{Duration, Instant};

use crate::error::StoreError;
use crate::lifecycle::ServerSideSessionInterface;

/// What [`Session::health`](crate::Session::health) found: whether the store answered,
/// how fast, and why not.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StoreHealth {
    /// The store answered the probe.
    pub answers: bool,
    /// How long the probe took (until the answer, or until the error).
    pub latency: Duration,
    /// The store's name (`"redis"`, `"sqlite"`, ...; `"custom"` for a store that does not
    /// name itself).
    pub backend: &'static str,
    /// Why the store did not answer: the error and its causes, one per line. `None` when
    /// it answered.
    pub error: Option<String>,
}

/// The key the probe reads: the configured prefix followed by a name that is never a
/// session id (`.` is outside the id alphabet), so it never touches a session.
fn probe_key(interface: &ServerSideSessionInterface) -> String {
    interface.storage_key(".health-check")
}

/// Reads a key that cannot exist, without refreshing anything: one round trip on every
/// store, and no write.
pub(crate) async fn check(interface: &ServerSideSessionInterface) -> StoreHealth {
    let store = interface.store();
    let key = probe_key(interface);
    let start = Instant::now();
    let result = store.load(&key, None).await;
    let latency = start.elapsed();
    // An entry that is not session data under the probe key is still an answer.
    let error = match result {
        Ok(_) | Err(StoreError::BadData { .. }) => None,
        Err(error) => Some(format!("{error:?}")),
    };
    StoreHealth {
        answers: error.is_none(),
        latency,
        backend: store.name(),
        error,
    }
}
