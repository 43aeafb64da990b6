//! Flask-style configuration: the `SESSION_*` keys, their defaults and their validation.
//!
//! # Where the configuration comes from
//!
//! [`SessionConfig::figment`] builds the default sources, lowest precedence first:
//!
//! 1. Flask-Session's defaults (the [`Default`] impl of [`SessionConfig`]; backends keep
//!    their own defaults);
//! 2. a TOML file: the path in the environment variable `ACTIX_FLASK_SESSION_CONFIG`,
//!    else `Session.toml` in the current directory. A missing
//!    `Session.toml` is fine; a missing file named by `ACTIX_FLASK_SESSION_CONFIG` is an
//!    error;
//! 3. environment variables spelled exactly like the keys (`SESSION_TYPE=redis`,
//!    `SECRET_KEY=...`), case-sensitive; see [`SessionEnv`].
//!
//! Any other [`Figment`] works as well: [`SessionConfig::from_figment`] reads the top-level
//! keys of whatever it is given, so an application can hand it its own configuration (the
//! application's own keys are left alone; see below), or a `[session]` table of it with
//! `figment.focus("session")`.
//!
//! ```
//! use actix_flask_session::config::{SessionConfig, SessionType};
//! use figment::{Figment, providers::{Format, Toml}};
//!
//! let figment = Figment::from(Toml::string(r#"
//!     SESSION_TYPE = "redis"
//!     SESSION_KEY_PREFIX = "myapp:"
//!     PERMANENT_SESSION_LIFETIME = "12h"
//! "#));
//! let config = SessionConfig::from_figment(&figment)?;
//! assert_eq!(config.session_type.map(SessionType::as_str), Some("redis"));
//! assert_eq!(config.key_prefix, "myapp:");
//! assert_eq!(config.lifetime.as_secs(), 12 * 3600);
//! assert!(config.permanent); // Flask-Session's default
//! # Ok::<(), actix_flask_session::ConfigError>(())
//! ```
//!
//! # Environment variables
//!
//! Values of environment variables are parsed like figment does (`true` is a boolean, `45`
//! an integer, `[a, b]` a list, `{ k = "v" }` a table), except for the keys whose value is
//! always a string (`SECRET_KEY`, `SESSION_KEY_PREFIX`, URLs, names, ...; see
//! the text keys of the README's key table), which are taken verbatim so that `SECRET_KEY=007` stays `"007"`.
//! Variables that start with `SESSION_` but are not keys (desktops set `SESSION_MANAGER`)
//! are ignored with a warning that suggests the closest key.
//!
//! # Unknown keys and validation
//!
//! The session's own file (`Session.toml`, or the file named by `ACTIX_FLASK_SESSION_CONFIG`)
//! holds session keys only: any other key in it is a startup error
//! ([`ConfigError::UnknownKey`], with a did-you-mean suggestion when a known key is close).
//! Other sources (the application's own files, providers from code) may hold the
//! application's keys too: there, only keys that look like session keys (starting with
//! `SESSION_`, or close to a known key) must be known. From the environment an unknown
//! `SESSION_*` variable is only a warning.
//!
//! ```
//! use actix_flask_session::config::SessionConfig;
//! use figment::{Figment, providers::{Format, Toml}};
//!
//! let app = Figment::from(Toml::string(r#"
//!     DATABASE_URL = "postgres://app@db/app"
//!     SESSION_TYPE = "redis"
//! "#));
//! assert!(SessionConfig::from_figment(&app).is_ok()); // DATABASE_URL is the app's
//!
//! let typo = app.merge(Toml::string("PERMANENT_SESSION_LIFETME = 60"));
//! let err = SessionConfig::from_figment(&typo).unwrap_err();
//! assert!(err.to_string().ends_with("did you mean PERMANENT_SESSION_LIFETIME?"));
//! ```
//!
//! Every value is validated at startup and every error names the key, the bad value and
//! what is allowed; [`SessionConfig::validate`]
//! applies the same rules to configurations built in code. Where Flask-Session fails only
//! at request time (or never), this crate fails at startup: lifetime `0`,
//! `SESSION_USE_SIGNER` without `SECRET_KEY`, `SameSite=None` or `Partitioned` without
//! `Secure`, a malformed cookie name.

mod concurrency;
mod env;
#[cfg_attr(not(feature = "full"), allow(dead_code))]
mod extract;
#[cfg(any(feature = "filesystem", feature = "cachelib"))]
pub(crate) mod file_values;
pub(crate) mod keys;
#[cfg_attr(not(feature = "full"), allow(dead_code))]
mod redact;
mod session_type;
pub(crate) mod sources;
mod unknown_keys;
mod validate;

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use figment::Figment;
use figment::value::Value;

use crate::error::ConfigError;
pub(crate) use extract::find_key;
use extract::{read_integer, read_lifetime, read_lifetime_key, value_to_string};
use unknown_keys::check_unknown_keys;
use validate::{
    CLEANUP_ALLOWED, ID_LENGTH_ALLOWED, MAX_PER_USER_ALLOWED, MAX_SIZE_ALLOWED, invalid,
};

pub use concurrency::Concurrency;
pub use env::SessionEnv;
// The helpers the backends read their keys with; each feature set uses some of them.
#[allow(unused_imports)]
pub(crate) use extract::{
    extract_bool_key, extract_key, extract_pool_size_key, extract_string_key,
    extract_string_list_key, extract_timeout_key,
};
#[allow(unused_imports)]
pub(crate) use redact::redact_url;
pub use session_type::SessionType;
pub(crate) use unknown_keys::suggest_key;

/// The environment variable that names the TOML configuration file read by
/// [`SessionConfig::figment`] (default: `Session.toml` in the current directory).
pub(crate) const CONFIG_PATH_ENV: &str = "ACTIX_FLASK_SESSION_CONFIG";

/// The configuration file read by [`SessionConfig::figment`] when [`CONFIG_PATH_ENV`] is
/// not set, relative to the current directory.
pub(crate) const DEFAULT_CONFIG_FILE: &str = "Session.toml";

/// The smallest accepted `SESSION_ID_LENGTH` (random bytes): 128 bits of entropy.
pub(crate) const MIN_ID_LENGTH: usize = 16;

/// The largest accepted `SESSION_ID_LENGTH` (random bytes; ids stay below memcached's
/// 250-byte key limit only for small prefixes, see the memcached backend).
pub(crate) const MAX_ID_LENGTH: usize = 256;

/// The default `SESSION_MAX_SIZE`: 1 MiB of encoded session. That is thousands of times a
/// typical login session (200–400 bytes) and the largest item memcached stores by default,
/// while decoding one costs at most about 64 MiB of memory (a decoded value takes 32 bytes
/// and arrays grow by doubling, so the worst shape, an array of nils, takes up to 64 bytes
/// per stored byte; a 4 MiB cap would allow 256 MiB per request).
pub(crate) const DEFAULT_MAX_SIZE: usize = 1024 * 1024;

/// The smallest accepted `SESSION_MAX_SIZE`, in bytes.
pub(crate) const MIN_MAX_SIZE: usize = 1024;

/// The longest accepted `PERMANENT_SESSION_LIFETIME`: `i32::MAX` seconds (about 68 years),
/// so that every store and cookie date can represent the expiry.
pub(crate) const MAX_LIFETIME: Duration = Duration::from_secs(i32::MAX as u64);

/// The stored format of session data (`SESSION_SERIALIZATION_FORMAT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SerializationFormat {
    /// msgspec-compatible MessagePack (the default).
    #[default]
    MsgPack,
    /// msgspec-compatible compact JSON.
    Json,
}

impl SerializationFormat {
    /// The `SESSION_SERIALIZATION_FORMAT` value: `"msgpack"` or `"json"`.
    pub fn as_str(self) -> &'static str {
        match self {
            SerializationFormat::MsgPack => "msgpack",
            SerializationFormat::Json => "json",
        }
    }
}

impl fmt::Display for SerializationFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Parses a `SESSION_SERIALIZATION_FORMAT` value: exactly `msgpack` or `json`, lowercase,
/// as Flask-Session.
impl FromStr for SerializationFormat {
    type Err = ConfigError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "msgpack" => Ok(SerializationFormat::MsgPack),
            "json" => Ok(SerializationFormat::Json),
            _ => Err(ConfigError::Invalid {
                key: "SESSION_SERIALIZATION_FORMAT",
                value: format!("{s:?}"),
                allowed: "expected \"msgpack\" or \"json\" (lowercase)".to_owned(),
            }),
        }
    }
}

/// The `SameSite` cookie attribute (`SESSION_COOKIE_SAMESITE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SameSite {
    /// `SameSite=Strict`
    Strict,
    /// `SameSite=Lax`
    Lax,
    /// `SameSite=None` (requires `SESSION_COOKIE_SECURE`)
    None,
}

impl SameSite {
    /// The attribute value as sent: `"Strict"`, `"Lax"` or `"None"`.
    pub fn as_str(self) -> &'static str {
        match self {
            SameSite::Strict => "Strict",
            SameSite::Lax => "Lax",
            SameSite::None => "None",
        }
    }
}

impl fmt::Display for SameSite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Parses a `SESSION_COOKIE_SAMESITE` value: `Strict`, `Lax` or `None` in any case, as
/// Werkzeug.
impl FromStr for SameSite {
    type Err = ConfigError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "strict" => Ok(SameSite::Strict),
            "lax" => Ok(SameSite::Lax),
            "none" => Ok(SameSite::None),
            _ => Err(ConfigError::Invalid {
                key: "SESSION_COOKIE_SAMESITE",
                value: format!("{s:?}"),
                allowed: "expected \"Strict\", \"Lax\" or \"None\" (any case); leave the key \
                          out for no SameSite attribute"
                    .to_owned(),
            }),
        }
    }
}

/// The validated session configuration, with Flask-Session's defaults.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SessionConfig {
    /// `SESSION_TYPE`; `None` only for configurations built in code.
    pub session_type: Option<SessionType>,
    /// `SESSION_PERMANENT` (default `true`).
    pub permanent: bool,
    /// `SESSION_USE_SIGNER` (default `false`).
    pub use_signer: bool,
    /// `SESSION_KEY_PREFIX` (default `"session:"`).
    pub key_prefix: String,
    /// `SESSION_ID_LENGTH` in random bytes (default 32, giving 43-character ids).
    pub id_length: usize,
    /// `SESSION_SERIALIZATION_FORMAT` (default msgpack).
    pub serialization_format: SerializationFormat,
    /// `SESSION_CLEANUP_N_REQUESTS` (default none).
    pub cleanup_n_requests: Option<u64>,
    /// `SESSION_MAX_SIZE`: the largest encoded session, in bytes (default
    /// 1 MiB, 1 048 576). An insert that would make the session larger fails at
    /// the call; a larger stored entry is not decoded: it is deleted, logged and the request
    /// gets a new session.
    pub max_size: usize,
    /// `SECRET_KEY` (default none).
    pub secret_key: Option<String>,
    /// `SECRET_KEY_FALLBACKS`: older keys still accepted when verifying (default empty).
    pub secret_key_fallbacks: Vec<String>,
    /// `SESSION_COOKIE_NAME` (default `"session"`).
    pub cookie_name: String,
    /// `SESSION_COOKIE_DOMAIN` (default none).
    pub cookie_domain: Option<String>,
    /// `SESSION_COOKIE_PATH`, falling back to `APPLICATION_ROOT` (default `"/"`).
    pub cookie_path: String,
    /// `SESSION_COOKIE_HTTPONLY` (default `true`).
    pub cookie_httponly: bool,
    /// `SESSION_COOKIE_SECURE` (default `false`).
    pub cookie_secure: bool,
    /// `SESSION_COOKIE_SAMESITE` (default none).
    pub cookie_samesite: Option<SameSite>,
    /// `SESSION_COOKIE_PARTITIONED` (default `false`).
    pub cookie_partitioned: bool,
    /// `PERMANENT_SESSION_LIFETIME` (default 31 days).
    pub lifetime: Duration,
    /// `SESSION_REFRESH_EACH_REQUEST` (default `true`).
    pub refresh_each_request: bool,
    /// `SESSION_ABSOLUTE_LIFETIME` (default none): a session ends this long after it was
    /// created, however active it is. The creation time is kept in the session data under
    /// `_session_created` (see the README's "Absolute lifetime").
    pub absolute_lifetime: Option<Duration>,
    /// `SESSION_USER_KEY` (default none): the session key holding the user id (Flask-Login's
    /// `_user_id`); when set, each user's sessions are indexed beside the session data.
    pub user_key: Option<String>,
    /// `SESSION_MAX_PER_USER` (default none): at most this many live sessions per user;
    /// a save that indexes one more revokes the oldest.
    pub max_per_user: Option<usize>,
    /// `SESSION_TRACK_CLIENT` (default `false`): keep the client address and user agent
    /// seen at login in the index.
    pub track_client: bool,
    /// `SESSION_LAST_SEEN_INTERVAL` (default 60 s): the last-seen time of an indexed session
    /// is written at most once per this interval (per process).
    pub last_seen_interval: Duration,
    /// `SESSION_CONCURRENCY` (default [`Concurrency::LastWriteWins`]).
    pub concurrency: Concurrency,
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            session_type: None,
            permanent: true,
            use_signer: false,
            key_prefix: "session:".to_owned(),
            id_length: 32,
            serialization_format: SerializationFormat::MsgPack,
            cleanup_n_requests: None,
            max_size: DEFAULT_MAX_SIZE,
            secret_key: None,
            secret_key_fallbacks: Vec::new(),
            cookie_name: "session".to_owned(),
            cookie_domain: None,
            cookie_path: "/".to_owned(),
            cookie_httponly: true,
            cookie_secure: false,
            cookie_samesite: None,
            cookie_partitioned: false,
            lifetime: Duration::from_secs(31 * 24 * 3600),
            refresh_each_request: true,
            absolute_lifetime: None,
            user_key: None,
            max_per_user: None,
            track_client: false,
            last_seen_interval: Duration::from_secs(60),
            concurrency: Concurrency::LastWriteWins,
        }
    }
}

impl SessionConfig {
    /// The default configuration sources: the TOML file named by the environment variable
    /// `ACTIX_FLASK_SESSION_CONFIG` (or
    /// `Session.toml` in the current directory, if it exists) merged with the environment
    /// variables named like the keys ([`SessionEnv`]), the environment winning.
    ///
    /// Nothing is validated here; pass the result to [`SessionConfig::from_figment`] (and
    /// to the backend) or merge more providers first. A file named by
    /// `ACTIX_FLASK_SESSION_CONFIG` that does not exist is reported when the figment is
    /// read.
    ///
    /// ```no_run
    /// use actix_flask_session::config::SessionConfig;
    ///
    /// let config = SessionConfig::from_figment(&SessionConfig::figment())?;
    /// # Ok::<(), actix_flask_session::ConfigError>(())
    /// ```
    pub fn figment() -> Figment {
        sources::session_file().merge(SessionEnv::new())
    }

    /// Reads and validates the core keys (those not of a backend) of `figment`, with
    /// Flask-Session's defaults for absent keys.
    ///
    /// Also rejects unknown keys (with a did-you-mean suggestion): every key of the
    /// session's own file, and keys that look like session keys from any other source
    /// except the environment, where they are only logged (see the
    /// [module documentation](self#unknown-keys-and-validation)). Backend keys are checked
    /// here only for their names; the backend reads their values.
    ///
    /// Accepted values beyond the plain types:
    /// - `SESSION_TYPE`: any case, `sql` for `sqlalchemy`; required.
    /// - `PERMANENT_SESSION_LIFETIME`: seconds (integer, float or numeric string,
    ///   truncated to whole seconds as Flask does) or a [`humantime`] duration such as
    ///   `"31d"` or `"1h 30m"`; at least 1 second after truncation.
    /// - booleans: `true`/`false` (any case as strings) and `1`/`0`.
    /// - string keys: numbers and booleans are turned back into strings (figment parses
    ///   environment values).
    /// - `SECRET_KEY_FALLBACKS`: a list of strings or one string.
    /// - `SESSION_COOKIE_SAMESITE`, `SESSION_COOKIE_DOMAIN`: an empty string (or `false`
    ///   for SameSite) means no attribute.
    /// - `SESSION_CLEANUP_N_REQUESTS`: `0` means none, as Flask's falsy value.
    ///
    /// ```
    /// use actix_flask_session::config::SessionConfig;
    /// use figment::{Figment, providers::{Format, Toml}};
    ///
    /// let figment = Figment::from(Toml::string(r#"SESSION_TPYE = "redis""#));
    /// let err = SessionConfig::from_figment(&figment).unwrap_err();
    /// assert!(err.to_string().contains("did you mean SESSION_TYPE?"));
    /// ```
    pub fn from_figment(figment: &Figment) -> Result<SessionConfig, ConfigError> {
        check_unknown_keys(figment)?;
        let defaults = SessionConfig::default();

        let session_type = match extract_string_key(figment, "SESSION_TYPE")? {
            Some(value) => value.parse::<SessionType>()?,
            None => {
                return Err(ConfigError::Missing {
                    key: "SESSION_TYPE",
                    hint: sources::session_type_missing_hint(figment, &SessionType::allowed()),
                });
            }
        };
        let serialization_format =
            match extract_string_key(figment, "SESSION_SERIALIZATION_FORMAT")? {
                Some(value) => value.parse()?,
                None => defaults.serialization_format,
            };
        let id_length = match read_integer(figment, "SESSION_ID_LENGTH", ID_LENGTH_ALLOWED)? {
            Some((n, value)) => usize::try_from(n)
                .ok()
                .filter(|n| (MIN_ID_LENGTH..=MAX_ID_LENGTH).contains(n))
                .ok_or_else(|| invalid("SESSION_ID_LENGTH", &value, ID_LENGTH_ALLOWED))?,
            None => defaults.id_length,
        };
        let cleanup_n_requests =
            match read_integer(figment, "SESSION_CLEANUP_N_REQUESTS", CLEANUP_ALLOWED)? {
                Some((0, _)) | None => None,
                Some((n, value)) => {
                    Some(u64::try_from(n).map_err(|_| {
                        invalid("SESSION_CLEANUP_N_REQUESTS", &value, CLEANUP_ALLOWED)
                    })?)
                }
            };
        let max_size = match read_integer(figment, "SESSION_MAX_SIZE", MAX_SIZE_ALLOWED)? {
            Some((n, value)) => usize::try_from(n)
                .ok()
                .filter(|n| *n >= MIN_MAX_SIZE)
                .ok_or_else(|| invalid("SESSION_MAX_SIZE", &value, MAX_SIZE_ALLOWED))?,
            None => defaults.max_size,
        };
        let max_per_user =
            match read_integer(figment, "SESSION_MAX_PER_USER", MAX_PER_USER_ALLOWED)? {
                Some((n, value)) => {
                    Some(usize::try_from(n).ok().filter(|n| *n >= 1).ok_or_else(|| {
                        invalid("SESSION_MAX_PER_USER", &value, MAX_PER_USER_ALLOWED)
                    })?)
                }
                None => None,
            };
        let cookie_path = extract_string_key(figment, "SESSION_COOKIE_PATH")?
            .filter(|p| !p.is_empty())
            .or(extract_string_key(figment, "APPLICATION_ROOT")?.filter(|p| !p.is_empty()))
            .unwrap_or(defaults.cookie_path);
        let cookie_samesite = match find_key(figment, "SESSION_COOKIE_SAMESITE")? {
            None | Some(Value::Bool(_, false)) => None,
            Some(value) => {
                let text = value_to_string("SESSION_COOKIE_SAMESITE", &value)?;
                if text.trim().is_empty() {
                    None
                } else {
                    Some(text.parse()?)
                }
            }
        };

        let config = SessionConfig {
            session_type: Some(session_type),
            permanent: extract_bool_key(figment, "SESSION_PERMANENT")?
                .unwrap_or(defaults.permanent),
            use_signer: extract_bool_key(figment, "SESSION_USE_SIGNER")?
                .unwrap_or(defaults.use_signer),
            key_prefix: extract_string_key(figment, "SESSION_KEY_PREFIX")?
                .unwrap_or(defaults.key_prefix),
            id_length,
            serialization_format,
            cleanup_n_requests,
            max_size,
            secret_key: extract_string_key(figment, "SECRET_KEY")?.filter(|k| !k.is_empty()),
            secret_key_fallbacks: extract_string_list_key(figment, "SECRET_KEY_FALLBACKS")?
                .unwrap_or_default(),
            cookie_name: extract_string_key(figment, "SESSION_COOKIE_NAME")?
                .unwrap_or(defaults.cookie_name),
            cookie_domain: extract_string_key(figment, "SESSION_COOKIE_DOMAIN")?
                .filter(|d| !d.is_empty()),
            cookie_path,
            cookie_httponly: extract_bool_key(figment, "SESSION_COOKIE_HTTPONLY")?
                .unwrap_or(defaults.cookie_httponly),
            cookie_secure: extract_bool_key(figment, "SESSION_COOKIE_SECURE")?
                .unwrap_or(defaults.cookie_secure),
            cookie_samesite,
            cookie_partitioned: extract_bool_key(figment, "SESSION_COOKIE_PARTITIONED")?
                .unwrap_or(defaults.cookie_partitioned),
            lifetime: read_lifetime(figment)?.unwrap_or(defaults.lifetime),
            refresh_each_request: extract_bool_key(figment, "SESSION_REFRESH_EACH_REQUEST")?
                .unwrap_or(defaults.refresh_each_request),
            absolute_lifetime: read_lifetime_key(figment, "SESSION_ABSOLUTE_LIFETIME")?,
            user_key: extract_string_key(figment, "SESSION_USER_KEY")?.filter(|k| !k.is_empty()),
            max_per_user,
            track_client: extract_bool_key(figment, "SESSION_TRACK_CLIENT")?
                .unwrap_or(defaults.track_client),
            last_seen_interval: read_lifetime_key(figment, "SESSION_LAST_SEEN_INTERVAL")?
                .unwrap_or(defaults.last_seen_interval),
            concurrency: match extract_string_key(figment, "SESSION_CONCURRENCY")? {
                Some(value) => value.parse()?,
                None => defaults.concurrency,
            },
        };
        config.validate()?;
        Ok(config)
    }
}

#[cfg(test)]
mod tests;
