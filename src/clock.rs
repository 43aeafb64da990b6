//! The wall clock as Unix time, read the same way by the cookie's `Expires` and the stores
//! that keep an absolute expiry.

use std::time::{Duration, SystemTime};

/// Time since the Unix epoch; zero if the system clock is set before 1970.
pub(crate) fn since_epoch() -> Duration {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default()
}
