//! `SESSION_CONCURRENCY`: what happens when requests of one session save at the same time.

use std::fmt;
use std::str::FromStr;

use crate::error::ConfigError;

/// How a save treats changes other requests of the same session made since this request
/// loaded it (`SESSION_CONCURRENCY`).
///
/// ```
/// use actix_flask_session::config::Concurrency;
///
/// assert_eq!("merge".parse::<Concurrency>()?, Concurrency::Merge);
/// assert_eq!(Concurrency::default().as_str(), "last-write-wins");
/// # Ok::<(), actix_flask_session::ConfigError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Concurrency {
    /// Flask's behaviour (the default): a save writes the request's whole session map, so
    /// of two overlapping requests the later save's map stands and the other's changes
    /// are lost.
    #[default]
    LastWriteWins,
    /// A save writes only if the stored entry is still the one the request loaded
    /// (compare-and-swap); otherwise it replays the request's own changes onto the current
    /// entry and tries again. Needs a store with
    /// [`compare_and_swap`](crate::SessionStore::compare_and_swap).
    Merge,
}

/// The values `SESSION_CONCURRENCY` accepts, for error messages.
const ALLOWED: &str = "expected \"last-write-wins\" or \"merge\" (lowercase)";

impl Concurrency {
    /// The value as configured: `"last-write-wins"` or `"merge"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Concurrency::LastWriteWins => "last-write-wins",
            Concurrency::Merge => "merge",
        }
    }
}

impl fmt::Display for Concurrency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Parses a `SESSION_CONCURRENCY` value.
impl FromStr for Concurrency {
    type Err = ConfigError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "last-write-wins" => Ok(Concurrency::LastWriteWins),
            "merge" => Ok(Concurrency::Merge),
            _ => Err(ConfigError::Invalid {
                key: "SESSION_CONCURRENCY",
                value: format!("{s:?}"),
                allowed: ALLOWED.to_owned(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_value_names_the_key_and_the_allowed_values() {
        let error = "Merge".parse::<Concurrency>().unwrap_err().to_string();
        assert_eq!(
            error,
            "invalid value for SESSION_CONCURRENCY: \"Merge\"; expected \"last-write-wins\" or \
             \"merge\" (lowercase)"
        );
        assert_eq!(
            "last-write-wins".parse::<Concurrency>().ok(),
            Some(Concurrency::LastWriteWins)
        );
    }
}
