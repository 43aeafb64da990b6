//! Flask-style configuration: the `SESSION_*` keys, their defaults and their validation.
//!
//! # Where the configuration comes from
//!
//! [`SessionConfig::figment`] builds the default sources, lowest precedence first:
//!
//! 1. Flask-Session's defaults (the [`Default`] impl of [`SessionConfig`]; backends keep
//!    their own defaults);
//! 2. a TOML file: the path in the environment variable [`CONFIG_PATH_ENV`]
//!    (`ACTIX_FLASK_SESSION_CONFIG`), else `Session.toml` in the current directory. A missing
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
//! assert_eq!(config.session_type, Some(SessionType::Redis));
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
//! [`ENV_STRING_KEYS`]), which are taken verbatim so that `SECRET_KEY=007` stays `"007"`.
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
//!
//! # Helpers for backends
//!
//! Backend modules read their own keys with [`extract_key`] and its typed siblings
//! ([`extract_string_key`], [`extract_bool_key`], [`extract_duration_key`],
//! [`extract_string_list_key`]): absent keys are `None`, type errors name the key.

pub mod keys;
pub(crate) mod sources;

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use figment::error::Kind;
use figment::value::{Dict, Map, Num, Value};
use figment::{Figment, Metadata, Profile, Provider, Source};
use serde::de::DeserializeOwned;

use crate::error::ConfigError;

/// The environment variable that names the TOML configuration file read by
/// [`SessionConfig::figment`] (default: [`DEFAULT_CONFIG_FILE`] in the current directory).
pub const CONFIG_PATH_ENV: &str = "ACTIX_FLASK_SESSION_CONFIG";

/// The configuration file read by [`SessionConfig::figment`] when [`CONFIG_PATH_ENV`] is
/// not set, relative to the current directory.
pub const DEFAULT_CONFIG_FILE: &str = "Session.toml";

/// The smallest accepted `SESSION_ID_LENGTH` (random bytes): 128 bits of entropy.
pub const MIN_ID_LENGTH: usize = 16;

/// The largest accepted `SESSION_ID_LENGTH` (random bytes; ids stay below memcached's
/// 250-byte key limit only for small prefixes, see the memcached backend).
pub const MAX_ID_LENGTH: usize = 256;

/// The default `SESSION_MAX_SIZE`: 1 MiB of encoded session. That is thousands of times a
/// typical login session (200–400 bytes) and the largest item memcached stores by default,
/// while decoding one costs at most about 64 MiB of memory (a decoded value takes 32 bytes
/// and arrays grow by doubling, so the worst shape, an array of nils, takes up to 64 bytes
/// per stored byte; a 4 MiB cap would allow 256 MiB per request).
pub const DEFAULT_MAX_SIZE: usize = 1024 * 1024;

/// The smallest accepted `SESSION_MAX_SIZE`, in bytes.
pub const MIN_MAX_SIZE: usize = 1024;

/// The longest accepted `PERMANENT_SESSION_LIFETIME`: `i32::MAX` seconds (about 68 years),
/// so that every store and cookie date can represent the expiry.
pub const MAX_LIFETIME: Duration = Duration::from_secs(i32::MAX as u64);

/// Keys whose environment-variable value is always taken verbatim as a string, never
/// parsed (so `SECRET_KEY=007` is `"007"`, not the number 7).
pub const ENV_STRING_KEYS: &[&str] = &[
    "SESSION_TYPE",
    "SESSION_KEY_PREFIX",
    "SESSION_SERIALIZATION_FORMAT",
    "SECRET_KEY",
    "SESSION_COOKIE_NAME",
    "SESSION_COOKIE_DOMAIN",
    "SESSION_COOKIE_PATH",
    "SESSION_COOKIE_SAMESITE",
    "APPLICATION_ROOT",
    "SESSION_FILE_DIR",
    "SESSION_REDIS",
    "SESSION_SQLALCHEMY",
    "SQLALCHEMY_DATABASE_URI",
    "SESSION_SQLALCHEMY_BIND_KEY",
    "SESSION_SQLALCHEMY_TABLE",
    "SESSION_SQLALCHEMY_SCHEMA",
    "SESSION_SQLALCHEMY_SEQUENCE",
    "SESSION_MONGODB",
    "SESSION_MONGODB_DB",
    "SESSION_MONGODB_COLLECT",
    "SESSION_DYNAMODB_TABLE",
];

/// Keys that hold a string or a list of strings: from the environment, a value starting
/// with `[` is parsed as a list, anything else is taken verbatim as one string.
pub const ENV_LIST_KEYS: &[&str] = &[
    "SECRET_KEY_FALLBACKS",
    "SESSION_MEMCACHED",
    "SESSION_REDIS_CLUSTER",
];

/// The metadata name of environment providers, the same as figment's own `Env`.
const ENV_SOURCE_NAME: &str = "environment variable(s)";

const SESSION_TYPE_ALLOWED: &str = "expected one of redis, memcached, filesystem, cachelib, \
                                    mongodb, sqlalchemy (alias sql), dynamodb (any case)";

/// Which backend `SESSION_TYPE` selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SessionType {
    /// `redis`
    Redis,
    /// `memcached`
    Memcached,
    /// `filesystem`
    FileSystem,
    /// `cachelib`
    CacheLib,
    /// `mongodb`
    MongoDb,
    /// `sqlalchemy` (also `sql`)
    SqlAlchemy,
    /// `dynamodb`
    DynamoDb,
}

impl SessionType {
    /// Every session type, in Flask-Session's documentation order.
    pub const ALL: [SessionType; 7] = [
        SessionType::Redis,
        SessionType::Memcached,
        SessionType::FileSystem,
        SessionType::CacheLib,
        SessionType::MongoDb,
        SessionType::SqlAlchemy,
        SessionType::DynamoDb,
    ];

    /// The `SESSION_TYPE` value of this type, lowercase as in Flask-Session
    /// (`"sqlalchemy"` for [`SessionType::SqlAlchemy`]).
    pub fn as_str(self) -> &'static str {
        match self {
            SessionType::Redis => "redis",
            SessionType::Memcached => "memcached",
            SessionType::FileSystem => "filesystem",
            SessionType::CacheLib => "cachelib",
            SessionType::MongoDb => "mongodb",
            SessionType::SqlAlchemy => "sqlalchemy",
            SessionType::DynamoDb => "dynamodb",
        }
    }
}

impl fmt::Display for SessionType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Parses a `SESSION_TYPE` value: case-insensitive, surrounding whitespace ignored, `sql`
/// accepted for `sqlalchemy`.
///
/// ```
/// use actix_flask_session::config::SessionType;
///
/// assert_eq!("REDIS".parse::<SessionType>()?, SessionType::Redis);
/// assert_eq!("sql".parse::<SessionType>()?, SessionType::SqlAlchemy);
/// assert!("null".parse::<SessionType>().is_err());
/// # Ok::<(), actix_flask_session::ConfigError>(())
/// ```
impl FromStr for SessionType {
    type Err = ConfigError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.trim().to_ascii_lowercase();
        if lower == "sql" {
            return Ok(SessionType::SqlAlchemy);
        }
        SessionType::ALL
            .into_iter()
            .find(|t| t.as_str() == lower)
            .ok_or_else(|| ConfigError::Invalid {
                key: "SESSION_TYPE",
                value: format!("{s:?}"),
                allowed: SESSION_TYPE_ALLOWED.to_owned(),
            })
    }
}

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
    /// [`DEFAULT_MAX_SIZE`], 1 MiB). An insert that would make the session larger fails at
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
        }
    }
}

impl SessionConfig {
    /// The default configuration sources: the TOML file named by [`CONFIG_PATH_ENV`] (or
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

    /// Reads and validates the core keys ([`keys::CORE_KEYS`]) of `figment`, with
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
                    hint: sources::session_type_missing_hint(figment, SESSION_TYPE_ALLOWED),
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
        };
        config.validate()?;
        Ok(config)
    }

    /// Checks the rules [`SessionConfig::from_figment`] applies, for configurations built
    /// in code (the session builder calls it). `session_type` may be `None` here.
    ///
    /// Rules: `id_length` in 16..=256; `lifetime` at least 1 whole second and at most
    /// [`MAX_LIFETIME`]; `use_signer` needs a non-empty `secret_key`; fallback keys are
    /// non-empty; `cleanup_n_requests` is not `Some(0)`; `max_size` is at least 1024; `key_prefix` has no whitespace or
    /// control characters; `cookie_name` is a cookie token (and `__Host-`/`__Secure-`
    /// names get what browsers require of them); `cookie_domain` and `cookie_path` cannot
    /// inject cookie attributes and the path starts with `/`; `SameSite=None` and
    /// `Partitioned` need `cookie_secure`.
    ///
    /// ```
    /// use actix_flask_session::config::{SameSite, SessionConfig};
    ///
    /// let mut config = SessionConfig::default();
    /// config.cookie_samesite = Some(SameSite::None);
    /// assert!(config.validate().is_err()); // SameSite=None needs Secure
    /// config.cookie_secure = true;
    /// assert!(config.validate().is_ok());
    /// ```
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !(MIN_ID_LENGTH..=MAX_ID_LENGTH).contains(&self.id_length) {
            return Err(invalid(
                "SESSION_ID_LENGTH",
                self.id_length,
                ID_LENGTH_ALLOWED,
            ));
        }
        if self.lifetime.as_secs() == 0 || self.lifetime > MAX_LIFETIME {
            return Err(invalid(
                "PERMANENT_SESSION_LIFETIME",
                humantime::format_duration(self.lifetime),
                LIFETIME_ALLOWED,
            ));
        }
        if self.use_signer && self.secret_key.as_deref().is_none_or(str::is_empty) {
            return Err(ConfigError::Missing {
                key: "SECRET_KEY",
                hint: "SESSION_USE_SIGNER = true signs the session cookie with SECRET_KEY; set a \
                       long random SECRET_KEY or turn SESSION_USE_SIGNER off"
                    .to_owned(),
            });
        }
        if self.secret_key_fallbacks.iter().any(String::is_empty) {
            return Err(invalid(
                "SECRET_KEY_FALLBACKS",
                "a list with an empty key",
                "expected non-empty keys (an empty key signs nothing)",
            ));
        }
        if self.cleanup_n_requests == Some(0) {
            return Err(invalid("SESSION_CLEANUP_N_REQUESTS", 0, CLEANUP_ALLOWED));
        }
        if self.max_size < MIN_MAX_SIZE {
            return Err(invalid("SESSION_MAX_SIZE", self.max_size, MAX_SIZE_ALLOWED));
        }
        if self
            .key_prefix
            .chars()
            .any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(invalid(
                "SESSION_KEY_PREFIX",
                format!("{:?}", self.key_prefix),
                "expected a prefix without whitespace or control characters (memcached and \
                 other stores reject such keys)",
            ));
        }
        self.validate_cookie()
    }

    fn validate_cookie(&self) -> Result<(), ConfigError> {
        let name = &self.cookie_name;
        if name.is_empty() || !name.bytes().all(is_cookie_name_byte) {
            return Err(invalid(
                "SESSION_COOKIE_NAME",
                format!("{name:?}"),
                "expected a non-empty cookie name of visible ASCII characters without \
                 whitespace or any of ()<>@,;:\\\"/[]?={}",
            ));
        }
        if name.starts_with("__Secure-") && !self.cookie_secure {
            return Err(invalid(
                "SESSION_COOKIE_NAME",
                format!("{name:?}"),
                "a __Secure- cookie needs SESSION_COOKIE_SECURE = true (browsers drop it otherwise)",
            ));
        }
        if name.starts_with("__Host-")
            && (!self.cookie_secure || self.cookie_domain.is_some() || self.cookie_path != "/")
        {
            return Err(invalid(
                "SESSION_COOKIE_NAME",
                format!("{name:?}"),
                "a __Host- cookie needs SESSION_COOKIE_SECURE = true, no SESSION_COOKIE_DOMAIN \
                 and the path \"/\" (browsers drop it otherwise)",
            ));
        }
        if let Some(domain) = &self.cookie_domain
            && (domain.is_empty() || !domain.bytes().all(is_cookie_attribute_byte))
        {
            return Err(invalid(
                "SESSION_COOKIE_DOMAIN",
                format!("{domain:?}"),
                "expected a domain name without whitespace, control characters or ';' \
                 (leave the key out for a host-only cookie)",
            ));
        }
        let path = &self.cookie_path;
        if !path.starts_with('/') || !path.bytes().all(is_cookie_attribute_byte) {
            let key = "SESSION_COOKIE_PATH";
            return Err(invalid(
                key,
                format!("{path:?}"),
                "expected a path starting with '/' without whitespace, control characters or \
                 ';' (SESSION_COOKIE_PATH falls back to APPLICATION_ROOT, then \"/\")",
            ));
        }
        if self.cookie_samesite == Some(SameSite::None) && !self.cookie_secure {
            return Err(invalid(
                "SESSION_COOKIE_SAMESITE",
                "\"None\"",
                "SameSite=None needs SESSION_COOKIE_SECURE = true (browsers reject the cookie \
                 otherwise); use \"Lax\" or \"Strict\", or turn Secure on",
            ));
        }
        if self.cookie_partitioned && !self.cookie_secure {
            return Err(invalid(
                "SESSION_COOKIE_PARTITIONED",
                true,
                "Partitioned needs SESSION_COOKIE_SECURE = true (browsers reject the cookie \
                 otherwise)",
            ));
        }
        Ok(())
    }
}

const ID_LENGTH_ALLOWED: &str =
    "expected an integer from 16 to 256 (random bytes; 32 gives 43-character ids)";
const CLEANUP_ALLOWED: &str = "expected a positive integer (0 or no key: no cleanup on requests)";
const MAX_SIZE_ALLOWED: &str = "expected a number of bytes, at least 1024 (default 1048576)";
const LIFETIME_ALLOWED: &str = "expected a number of seconds (e.g. 2678400) or a duration \
                                string (e.g. \"31d\", \"1h 30m\"), at least 1 whole second and \
                                at most 2147483647 seconds";

/// RFC 6265 cookie-name characters (an RFC 7230 token).
fn is_cookie_name_byte(b: u8) -> bool {
    b.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?={}".contains(&b)
}

/// Characters that cannot break out of a cookie attribute value.
fn is_cookie_attribute_byte(b: u8) -> bool {
    b.is_ascii_graphic() && b != b';' && b != b','
}

fn invalid(key: &'static str, value: impl fmt::Display, allowed: &str) -> ConfigError {
    ConfigError::Invalid {
        key,
        value: value.to_string(),
        allowed: allowed.to_owned(),
    }
}

// ---------------------------------------------------------------------------------------
// Environment provider
// ---------------------------------------------------------------------------------------

/// The environment-variable provider of [`SessionConfig::figment`]: every variable named
/// exactly like a key of [`keys::all_keys`] (case-sensitive: `SESSION_TYPE`, not
/// `session_type`).
///
/// Values are parsed like figment's `Env` (`true` is a boolean, `45` an integer, `[a, b]`
/// a list, `{ k = "v" }` a table), except the keys of [`ENV_STRING_KEYS`], taken verbatim,
/// and those of [`ENV_LIST_KEYS`], taken verbatim unless they start with `[`. Other
/// variables starting with `SESSION_` are not merged; each is logged once per read with a
/// `tracing` warning and the closest key. A known key with a value that is not UTF-8 is an
/// error.
///
/// ```
/// use actix_flask_session::config::SessionEnv;
/// use figment::{Figment, providers::{Format, Toml}};
///
/// // The application's own file, overridden by the environment.
/// let figment = Figment::from(Toml::file("config/session.toml")).merge(SessionEnv::new());
/// # let _ = figment;
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct SessionEnv {
    _private: (),
}

impl SessionEnv {
    /// The provider; it reads the environment each time figment asks for its data.
    pub fn new() -> Self {
        SessionEnv::default()
    }
}

impl Provider for SessionEnv {
    fn metadata(&self) -> Metadata {
        Metadata::named(ENV_SOURCE_NAME).interpolater(|_: &Profile, path: &[&str]| path.join("."))
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        let mut dict = Dict::new();
        for (name, raw) in std::env::vars_os() {
            let Some(name) = name.to_str() else { continue };
            if let Some(key) = keys::all_keys().find(|k| *k == name) {
                let raw = raw.to_str().ok_or_else(|| {
                    figment::Error::from(format!("environment variable {key} is not valid UTF-8"))
                })?;
                dict.insert(key.to_owned(), env_value(key, raw));
            } else if name.to_ascii_uppercase().starts_with("SESSION_")
                || keys::all_keys().any(|k| k.eq_ignore_ascii_case(name))
            {
                warn_unknown_env(name);
            }
        }
        Ok(Profile::Default.collect(dict))
    }
}

fn env_value(key: &str, raw: &str) -> Value {
    let verbatim = ENV_STRING_KEYS.contains(&key)
        || (ENV_LIST_KEYS.contains(&key) && !raw.trim_start().starts_with('['));
    if verbatim {
        return Value::from(raw.to_owned());
    }
    match raw.parse::<Value>() {
        Ok(value) => value,
        Err(never) => match never {},
    }
}

fn warn_unknown_env(name: &str) {
    match suggest_key(name) {
        Some(key) => tracing::warn!(
            "ignoring environment variable {name}: not a session configuration key; did you mean {key}?"
        ),
        None => {
            tracing::warn!("ignoring environment variable {name}: not a session configuration key")
        }
    }
}

// ---------------------------------------------------------------------------------------
// Unknown keys
// ---------------------------------------------------------------------------------------

/// The known key closest to `unknown`, if one is close: compared in upper case by
/// Damerau-Levenshtein distance, within 2 edits or a quarter of the name's length,
/// whichever is more.
///
/// ```
/// use actix_flask_session::config::suggest_key;
///
/// assert_eq!(suggest_key("SESSION_TPYE"), Some("SESSION_TYPE"));
/// assert_eq!(suggest_key("session_cookie_samesite"), Some("SESSION_COOKIE_SAMESITE"));
/// assert_eq!(suggest_key("SESSION_MANAGER"), None);
/// ```
pub fn suggest_key(unknown: &str) -> Option<&'static str> {
    let upper = unknown.to_ascii_uppercase();
    let max_distance = (upper.len() / 4).max(2);
    keys::all_keys()
        .map(|key| (strsim::damerau_levenshtein(&upper, key), key))
        .filter(|(distance, _)| *distance <= max_distance)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, key)| key)
}

fn is_env_metadata(metadata: &Metadata) -> bool {
    metadata.source.is_none() && metadata.name.contains("environment variable")
}

fn describe_source(metadata: &Metadata) -> String {
    match &metadata.source {
        Some(Source::File(path)) => format!("{} {}", metadata.name, path.display()),
        Some(Source::Code(location)) => format!("{} at {location}", metadata.name),
        Some(Source::Custom(custom)) => format!("{} {custom}", metadata.name),
        // `Source` is non-exhaustive.
        Some(other) => format!("{} {other}", metadata.name),
        None => metadata.name.to_string(),
    }
}

fn check_unknown_keys(figment: &Figment) -> Result<(), ConfigError> {
    let dict: Dict = figment.extract()?;
    for key in dict.keys() {
        if sources::is_known(key) {
            continue;
        }
        let suggestion = suggest_key(key);
        let metadata = figment.find_metadata(key);
        if metadata.is_some_and(is_env_metadata) {
            if sources::looks_like_session_key(key) {
                warn_unknown_env(key);
            }
            continue;
        }
        // The application's own keys (`DATABASE_URL`, `DEBUG`, ...) are its business,
        // except in the session's own file.
        if !sources::looks_like_session_key(key) && !metadata.is_some_and(sources::is_session_file)
        {
            tracing::trace!(
                key,
                "not a session configuration key; left to the application"
            );
            continue;
        }
        return Err(ConfigError::UnknownKey {
            key: key.clone(),
            source_name: metadata
                .map(describe_source)
                .unwrap_or_else(|| "the session configuration".to_owned()),
            suggestion,
        });
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Extraction helpers
// ---------------------------------------------------------------------------------------

/// The value of `key`, `None` when absent (or explicitly empty, as a serialized `None`).
fn find_key(figment: &Figment, key: &str) -> Result<Option<Value>, ConfigError> {
    match figment.find_value(key) {
        Ok(Value::Empty(..)) => Ok(None),
        Ok(value) => Ok(Some(value)),
        Err(e) if matches!(e.kind, Kind::MissingField(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Secrets never appear in error messages.
fn is_secret(key: &str) -> bool {
    key.contains("SECRET")
}

/// The value as the user wrote it, for error messages (strings quoted).
fn render(key: &str, value: &Value) -> String {
    if is_secret(key) {
        let kind = match value {
            Value::String(..) | Value::Char(..) => "string",
            Value::Bool(..) => "boolean",
            Value::Num(..) => "number",
            Value::Empty(..) => "empty value",
            Value::Dict(..) => "table",
            Value::Array(..) => "list",
        };
        return format!("<hidden {kind}>");
    }
    match value {
        Value::String(_, s) => format!("{s:?}"),
        Value::Char(_, c) => format!("{:?}", c.to_string()),
        Value::Bool(_, b) => b.to_string(),
        Value::Num(_, n) => num_to_string(n),
        Value::Empty(..) => "nothing".to_owned(),
        Value::Dict(..) | Value::Array(..) => {
            serde_json::to_string(value).unwrap_or_else(|_| value.to_actual().to_string())
        }
    }
}

fn num_int(n: &Num) -> Option<i128> {
    n.to_i128()
        .or_else(|| n.to_u128().and_then(|u| i128::try_from(u).ok()))
}

fn num_to_string(n: &Num) -> String {
    if let Some(u) = n.to_u128() {
        u.to_string()
    } else if let Some(i) = n.to_i128() {
        i.to_string()
    } else {
        n.to_f64().map(|f| f.to_string()).unwrap_or_default()
    }
}

fn invalid_value(key: &'static str, value: &Value, allowed: &str) -> ConfigError {
    ConfigError::Invalid {
        key,
        value: render(key, value),
        allowed: allowed.to_owned(),
    }
}

/// What a failed deserialization expected, from figment's error kind.
fn expected(error: &figment::Error) -> String {
    let what = match &error.kind {
        Kind::InvalidType(_, exp) | Kind::InvalidValue(_, exp) | Kind::InvalidLength(_, exp) => {
            format!("expected {exp}")
        }
        Kind::UnknownVariant(_, exp) | Kind::UnknownField(_, exp) => {
            format!("{}; expected one of {}", error.kind, exp.join(", "))
        }
        other => other.to_string(),
    };
    if error.path.is_empty() {
        what
    } else {
        format!("at {}: {what}", error.path.join("."))
    }
}

/// Reads `key` as any deserializable type: `None` when the key is absent, a
/// [`ConfigError::Invalid`] naming the key, its value and the expected type when it does
/// not fit. Other figment failures (a TOML syntax error, an unreadable file) are
/// [`ConfigError::Figment`].
///
/// For backend modules reading their own keys; tables work too (`SESSION_CACHELIB`,
/// `SESSION_DYNAMODB`). Environment values arrive parsed (`SESSION_REDIS_POOL_SIZE=8` is
/// an integer), except the keys of [`ENV_STRING_KEYS`]. For strings prefer
/// [`extract_string_key`], which also accepts numbers and booleans.
///
/// ```
/// use actix_flask_session::config::extract_key;
/// use figment::{Figment, providers::{Format, Toml}};
///
/// let figment = Figment::from(Toml::string("SESSION_REDIS_POOL_SIZE = 8"));
/// assert_eq!(extract_key::<u32>(&figment, "SESSION_REDIS_POOL_SIZE")?, Some(8));
/// assert_eq!(extract_key::<u32>(&figment, "SESSION_MEMCACHED_POOL_SIZE")?, None);
///
/// let figment = Figment::from(Toml::string(r#"SESSION_REDIS_POOL_SIZE = "many""#));
/// let err = extract_key::<u32>(&figment, "SESSION_REDIS_POOL_SIZE").unwrap_err();
/// assert!(err.to_string().contains("SESSION_REDIS_POOL_SIZE"));
/// # Ok::<(), actix_flask_session::ConfigError>(())
/// ```
pub fn extract_key<T: DeserializeOwned>(
    figment: &Figment,
    key: &'static str,
) -> Result<Option<T>, ConfigError> {
    let Some(value) = find_key(figment, key)? else {
        return Ok(None);
    };
    match figment.extract_inner::<T>(key) {
        Ok(v) => Ok(Some(v)),
        Err(e) => Err(invalid_value(key, &value, &expected(&e))),
    }
}

fn value_to_string(key: &'static str, value: &Value) -> Result<String, ConfigError> {
    match value {
        Value::String(_, s) => Ok(s.clone()),
        Value::Char(_, c) => Ok(c.to_string()),
        Value::Bool(_, b) => Ok(b.to_string()),
        Value::Num(_, n) => Ok(num_to_string(n)),
        _ => Err(invalid_value(key, value, "expected a string")),
    }
}

/// Reads `key` as a string, accepting numbers and booleans as their text (figment parses
/// environment values and TOML has bare integers, so `SECRET_KEY = 12345` is `"12345"`).
/// `None` when absent; a [`ConfigError::Invalid`] naming the key for a list or table.
///
/// ```
/// use actix_flask_session::config::extract_string_key;
/// use figment::{Figment, providers::{Format, Toml}};
///
/// let figment = Figment::from(Toml::string("SESSION_SQLALCHEMY_TABLE = 2024"));
/// assert_eq!(
///     extract_string_key(&figment, "SESSION_SQLALCHEMY_TABLE")?.as_deref(),
///     Some("2024"),
/// );
/// # Ok::<(), actix_flask_session::ConfigError>(())
/// ```
pub fn extract_string_key(
    figment: &Figment,
    key: &'static str,
) -> Result<Option<String>, ConfigError> {
    find_key(figment, key)?
        .map(|value| value_to_string(key, &value))
        .transpose()
}

/// Reads `key` as a list of strings; one string (or number) is a list of one. `None` when
/// absent; a [`ConfigError::Invalid`] naming the key for a table or nested list.
///
/// ```
/// use actix_flask_session::config::extract_string_list_key;
/// use figment::{Figment, providers::{Format, Toml}};
///
/// let figment = Figment::from(Toml::string(r#"SESSION_MEMCACHED = "10.0.0.1:11211""#));
/// assert_eq!(
///     extract_string_list_key(&figment, "SESSION_MEMCACHED")?,
///     Some(vec!["10.0.0.1:11211".to_owned()]),
/// );
/// # Ok::<(), actix_flask_session::ConfigError>(())
/// ```
pub fn extract_string_list_key(
    figment: &Figment,
    key: &'static str,
) -> Result<Option<Vec<String>>, ConfigError> {
    const ALLOWED: &str = "expected a string or a list of strings";
    let Some(value) = find_key(figment, key)? else {
        return Ok(None);
    };
    let list = match &value {
        Value::Array(_, items) => items
            .iter()
            .map(|item| match item {
                Value::Array(..) | Value::Dict(..) | Value::Empty(..) => {
                    Err(invalid_value(key, &value, ALLOWED))
                }
                scalar => value_to_string(key, scalar),
            })
            .collect::<Result<Vec<_>, _>>()?,
        Value::Dict(..) => return Err(invalid_value(key, &value, ALLOWED)),
        scalar => vec![value_to_string(key, scalar)?],
    };
    Ok(Some(list))
}

/// Reads `key` as a boolean: `true`/`false`, the strings `"true"`/`"false"` in any case,
/// and `1`/`0` (as numbers or strings). `None` when absent; anything else is a
/// [`ConfigError::Invalid`] naming the key.
///
/// ```
/// use actix_flask_session::config::extract_bool_key;
/// use figment::{Figment, providers::{Format, Toml}};
///
/// let figment = Figment::from(Toml::string("SESSION_DYNAMODB_TABLE_EXISTS = 1"));
/// assert_eq!(extract_bool_key(&figment, "SESSION_DYNAMODB_TABLE_EXISTS")?, Some(true));
/// # Ok::<(), actix_flask_session::ConfigError>(())
/// ```
pub fn extract_bool_key(figment: &Figment, key: &'static str) -> Result<Option<bool>, ConfigError> {
    const ALLOWED: &str = "expected true or false (also 1 or 0)";
    let Some(value) = find_key(figment, key)? else {
        return Ok(None);
    };
    let parsed = match &value {
        Value::Bool(_, b) => Some(*b),
        Value::Num(_, n) => match num_int(n) {
            Some(1) => Some(true),
            Some(0) => Some(false),
            _ => None,
        },
        Value::String(_, s) => {
            let s = s.trim();
            if s.eq_ignore_ascii_case("true") || s == "1" {
                Some(true)
            } else if s.eq_ignore_ascii_case("false") || s == "0" {
                Some(false)
            } else {
                None
            }
        }
        _ => None,
    };
    parsed
        .map(Some)
        .ok_or_else(|| invalid_value(key, &value, ALLOWED))
}

/// A number of seconds (integer or float) or a duration string, as a [`Duration`].
enum DurationValue {
    Exact(Duration),
    Negative,
    Unparsable,
}

fn parse_duration_value(value: &Value) -> DurationValue {
    fn from_f64(f: f64) -> DurationValue {
        if f < 0.0 {
            DurationValue::Negative
        } else {
            Duration::try_from_secs_f64(f).map_or(DurationValue::Unparsable, DurationValue::Exact)
        }
    }
    fn from_i128(i: i128) -> DurationValue {
        match u64::try_from(i) {
            Ok(secs) => DurationValue::Exact(Duration::from_secs(secs)),
            Err(_) if i < 0 => DurationValue::Negative,
            Err(_) => DurationValue::Unparsable,
        }
    }
    match value {
        Value::Num(_, n) => match (num_int(n), n.to_f64()) {
            (Some(i), _) => from_i128(i),
            (None, Some(f)) => from_f64(f),
            (None, None) => DurationValue::Unparsable,
        },
        Value::String(_, s) => {
            let s = s.trim();
            if let Ok(i) = s.parse::<i128>() {
                from_i128(i)
            } else if let Ok(f) = s.parse::<f64>() {
                from_f64(f)
            } else if s.starts_with('-') {
                DurationValue::Negative
            } else {
                humantime::parse_duration(s).map_or(DurationValue::Unparsable, DurationValue::Exact)
            }
        }
        _ => DurationValue::Unparsable,
    }
}

/// Reads `key` as a duration: a number of seconds (integer or float, also as a string) or
/// a [`humantime`] duration string such as `"500ms"`, `"30s"` or `"1h 30m"`. Fractions are
/// kept. `None` when absent; a negative or unparsable value is a [`ConfigError::Invalid`]
/// naming the key. Zero is returned as is: the caller decides whether it is allowed.
///
/// For keys such as `SESSION_REDIS_CONNECT_TIMEOUT`.
///
/// ```
/// use std::time::Duration;
/// use actix_flask_session::config::extract_duration_key;
/// use figment::{Figment, providers::{Format, Toml}};
///
/// let figment = Figment::from(Toml::string(r#"SESSION_REDIS_CONNECT_TIMEOUT = "1s 500ms""#));
/// assert_eq!(
///     extract_duration_key(&figment, "SESSION_REDIS_CONNECT_TIMEOUT")?,
///     Some(Duration::from_millis(1500)),
/// );
/// # Ok::<(), actix_flask_session::ConfigError>(())
/// ```
pub fn extract_duration_key(
    figment: &Figment,
    key: &'static str,
) -> Result<Option<Duration>, ConfigError> {
    const ALLOWED: &str = "expected a non-negative number of seconds (e.g. 5 or 0.5) or a \
                           duration string (e.g. \"500ms\", \"1h 30m\")";
    let Some(value) = find_key(figment, key)? else {
        return Ok(None);
    };
    match parse_duration_value(&value) {
        DurationValue::Exact(d) => Ok(Some(d)),
        DurationValue::Negative | DurationValue::Unparsable => {
            Err(invalid_value(key, &value, ALLOWED))
        }
    }
}

/// Reads a timeout: like [`extract_duration_key`], but zero is refused too.
pub fn extract_timeout_key(
    figment: &Figment,
    key: &'static str,
) -> Result<Option<Duration>, ConfigError> {
    match extract_duration_key(figment, key)? {
        Some(timeout) if timeout.is_zero() => Err(ConfigError::Invalid {
            key,
            value: "0".to_owned(),
            allowed: "expected a positive number of seconds or a duration such as \"500ms\""
                .to_owned(),
        }),
        other => Ok(other),
    }
}

/// Reads a pool size: a whole number of connections, at least 1.
pub fn extract_pool_size_key(
    figment: &Figment,
    key: &'static str,
) -> Result<Option<usize>, ConfigError> {
    match extract_key::<usize>(figment, key)? {
        Some(0) => Err(ConfigError::Invalid {
            key,
            value: "0".to_owned(),
            allowed: "expected a whole number of connections, at least 1".to_owned(),
        }),
        other => Ok(other),
    }
}

/// `PERMANENT_SESSION_LIFETIME`, truncated to whole seconds as Flask does for the store.
fn read_lifetime(figment: &Figment) -> Result<Option<Duration>, ConfigError> {
    const KEY: &str = "PERMANENT_SESSION_LIFETIME";
    let Some(value) = find_key(figment, KEY)? else {
        return Ok(None);
    };
    match parse_duration_value(&value) {
        DurationValue::Exact(d) if d.as_secs() >= 1 && d <= MAX_LIFETIME => {
            Ok(Some(Duration::from_secs(d.as_secs())))
        }
        _ => Err(invalid_value(KEY, &value, LIFETIME_ALLOWED)),
    }
}

/// An integer key (numbers or numeric strings), with the value kept for error messages.
fn read_integer(
    figment: &Figment,
    key: &'static str,
    allowed: &str,
) -> Result<Option<(i128, String)>, ConfigError> {
    let Some(value) = find_key(figment, key)? else {
        return Ok(None);
    };
    let n = match &value {
        Value::Num(_, n) => num_int(n),
        Value::String(_, s) => s.trim().parse::<i128>().ok(),
        _ => None,
    };
    n.map(|n| Some((n, render(key, &value))))
        .ok_or_else(|| invalid_value(key, &value, allowed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_values_of_string_keys_are_verbatim() {
        assert_eq!(env_value("SECRET_KEY", "007").as_str(), Some("007"));
        assert_eq!(
            env_value("SESSION_KEY_PREFIX", "true").as_str(),
            Some("true")
        );
        assert_eq!(
            env_value("SECRET_KEY_FALLBACKS", "1.50").as_str(),
            Some("1.50")
        );
        assert!(matches!(
            env_value("SECRET_KEY_FALLBACKS", "[a, b]"),
            Value::Array(..)
        ));
        assert_eq!(
            env_value("SESSION_PERMANENT", "false").to_bool(),
            Some(false)
        );
        assert!(matches!(
            env_value("SESSION_ID_LENGTH", "32"),
            Value::Num(..)
        ));
    }

    #[test]
    fn secret_values_are_hidden_when_rendered() {
        let rendered = render("SECRET_KEY", &Value::from("hunter2"));
        assert!(!rendered.contains("hunter2"), "{rendered}");
        assert_eq!(render("SESSION_TYPE", &Value::from("x")), "\"x\"");
    }

    #[test]
    fn durations_parse_seconds_floats_and_humantime() {
        let secs = |v: Value| match parse_duration_value(&v) {
            DurationValue::Exact(d) => Some(d),
            _ => None,
        };
        assert_eq!(secs(Value::from(5u8)), Some(Duration::from_secs(5)));
        assert_eq!(secs(Value::from(0.25f64)), Some(Duration::from_millis(250)));
        assert_eq!(secs(Value::from(" 90 ")), Some(Duration::from_secs(90)));
        assert_eq!(secs(Value::from("2m")), Some(Duration::from_secs(120)));
        assert!(matches!(
            parse_duration_value(&Value::from(-1i8)),
            DurationValue::Negative
        ));
        assert!(matches!(
            parse_duration_value(&Value::from("-1h")),
            DurationValue::Negative
        ));
        assert!(secs(Value::from(f64::NAN)).is_none());
    }

    #[test]
    fn cookie_name_bytes_are_rfc_6265_tokens() {
        assert!(
            b"__Host-session_1.x"
                .iter()
                .all(|b| is_cookie_name_byte(*b))
        );
        for b in b" ;=,\"()\t\x7f" {
            assert!(!is_cookie_name_byte(*b), "{b}");
        }
    }
}
