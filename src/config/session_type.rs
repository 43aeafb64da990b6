//! `SESSION_TYPE`: which registered backend stores the sessions.

use std::fmt;
use std::str::FromStr;

use crate::backends::{self, Backend};
use crate::config::keys::Key;
use crate::error::ConfigError;

/// Which backend `SESSION_TYPE` selects: one of the backends this crate declares (see
/// [`backends`](crate::backends)), whatever features are enabled; building a store whose
/// feature is off is an error that names the feature.
///
/// Parsing is case-insensitive, surrounding whitespace ignored, `sql` accepted for
/// `sqlalchemy`:
///
/// ```
/// use actix_flask_session::config::SessionType;
///
/// assert_eq!("REDIS".parse::<SessionType>()?.as_str(), "redis");
/// assert_eq!("sql".parse::<SessionType>()?.as_str(), "sqlalchemy");
/// assert_eq!("sql".parse::<SessionType>()?, "SqlAlchemy".parse()?);
/// assert!("null".parse::<SessionType>().is_err());
/// # Ok::<(), actix_flask_session::ConfigError>(())
/// ```
#[derive(Clone, Copy)]
pub struct SessionType {
    backend: &'static Backend,
}

impl SessionType {
    /// Every session type, in the order the docs list them.
    pub fn all() -> impl Iterator<Item = SessionType> {
        backends::ALL.iter().map(|backend| SessionType { backend })
    }

    /// The `SESSION_TYPE` value of this type, lowercase as in Flask-Session
    /// (`"sqlalchemy"` for the SQL store).
    pub fn as_str(self) -> &'static str {
        self.backend.name()
    }

    /// The cargo feature(s) that compile this type's store.
    pub fn feature(self) -> &'static str {
        self.backend.feature
    }

    /// This type's configuration keys, with their types and defaults.
    pub fn keys(self) -> &'static [Key] {
        self.backend.keys
    }

    pub(crate) fn backend(self) -> &'static Backend {
        self.backend
    }

    /// What `SESSION_TYPE` accepts, for error messages:
    /// `expected one of filesystem, cachelib, ..., sqlalchemy (alias sql), ... (any case)`.
    pub(crate) fn allowed() -> String {
        let names: Vec<String> = backends::ALL
            .iter()
            .map(|backend| match backend.session_types {
                [name] => (*name).to_owned(),
                [name, aliases @ ..] => format!("{name} (alias {})", aliases.join(", ")),
                [] => String::new(),
            })
            .collect();
        format!("expected one of {} (any case)", names.join(", "))
    }
}

impl PartialEq for SessionType {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self.backend, other.backend)
    }
}

impl Eq for SessionType {}

impl fmt::Debug for SessionType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("SessionType").field(&self.as_str()).finish()
    }
}

impl fmt::Display for SessionType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SessionType {
    type Err = ConfigError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.trim().to_ascii_lowercase();
        SessionType::all()
            .find(|t| t.backend.session_types.contains(&lower.as_str()))
            .ok_or_else(|| ConfigError::Invalid {
                key: "SESSION_TYPE",
                value: format!("{s:?}"),
                allowed: SessionType::allowed(),
            })
    }
}
