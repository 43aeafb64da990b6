//! Every configuration key this crate reads, whatever features are enabled, with its
//! documented default.
//!
//! This table is the single source of the key names and defaults that the README's key
//! table and `Session.toml.example` show; a test (`tests/config/docs.rs`) compares all
//! three and checks each default against the code that applies it. A key in the
//! configuration that looks like a session key but is not listed here is a startup error
//! with a did-you-mean suggestion. Each backend keeps its own block; to add a key, add a
//! row to its block, a line to `Session.toml.example` and a row to the README's table.

use KeyDefault::{Described, Required, Unset, Value};

/// What a key holds when the configuration does not set it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyDefault {
    /// The key must be set (`SESSION_TYPE`).
    Required,
    /// Unset means "none": no attribute, no option, no fallback.
    Unset,
    /// One fixed value, written as in TOML: `true`, `32`, `"session:"`, `"31d"`.
    Value(&'static str),
    /// A default that is not one fixed value (another key, the machine, a client library),
    /// in words, as the README shows it.
    Described(&'static str),
}

/// One configuration key and its default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Key {
    /// The key, spelled as in Flask-Session (`SESSION_TYPE`).
    pub name: &'static str,
    /// What it holds when unset.
    pub default: KeyDefault,
}

const fn key(name: &'static str, default: KeyDefault) -> Key {
    Key { name, default }
}

/// Keys of the core (lifecycle, cookie, signing, serialization).
pub const CORE_KEYS: &[Key] = &[
    key("SESSION_TYPE", Required),
    key("SESSION_PERMANENT", Value("true")),
    key("SESSION_USE_SIGNER", Value("false")),
    key("SESSION_KEY_PREFIX", Value("\"session:\"")),
    key("SESSION_ID_LENGTH", Value("32")),
    key("SESSION_SERIALIZATION_FORMAT", Value("\"msgpack\"")),
    key("SESSION_MAX_SIZE", Value("1048576")),
    key("SESSION_CLEANUP_N_REQUESTS", Unset),
    key("SECRET_KEY", Unset),
    key("SECRET_KEY_FALLBACKS", Value("[]")),
    key("SESSION_COOKIE_NAME", Value("\"session\"")),
    key("SESSION_COOKIE_DOMAIN", Unset),
    key("SESSION_COOKIE_PATH", Described("APPLICATION_ROOT")),
    key("SESSION_COOKIE_HTTPONLY", Value("true")),
    key("SESSION_COOKIE_SECURE", Value("false")),
    key("SESSION_COOKIE_SAMESITE", Unset),
    key("SESSION_COOKIE_PARTITIONED", Value("false")),
    key("PERMANENT_SESSION_LIFETIME", Value("\"31d\"")),
    key("SESSION_REFRESH_EACH_REQUEST", Value("true")),
    key("APPLICATION_ROOT", Value("\"/\"")),
];

/// Keys of the filesystem and cachelib stores.
pub const EMBEDDED_KEYS: &[Key] = &[
    key("SESSION_FILE_DIR", Value("\"flask_session\"")),
    key("SESSION_FILE_THRESHOLD", Value("500")),
    key("SESSION_FILE_MODE", Value("0o600")),
    key(
        "SESSION_CACHELIB",
        Value("{ type = \"filesystem\", dir = \"flask_session\", threshold = 500, mode = 0o600 }"),
    ),
];

/// Keys of the Redis store (issue 5).
pub const REDIS_KEYS: &[Key] = &[
    key("SESSION_REDIS", Value("\"redis://127.0.0.1:6379/0\"")),
    key("SESSION_REDIS_CLUSTER", Unset),
    key("SESSION_REDIS_POOL_SIZE", Described("the number of CPUs")),
    key("SESSION_REDIS_CONNECT_TIMEOUT", Value("\"5s\"")),
    key("SESSION_REDIS_RESPONSE_TIMEOUT", Value("\"5s\"")),
];

/// Keys of the SQL store (issue 3).
pub const SQL_KEYS: &[Key] = &[
    key(
        "SESSION_SQLALCHEMY",
        Described("SQLALCHEMY_BINDS[SESSION_SQLALCHEMY_BIND_KEY], else SQLALCHEMY_DATABASE_URI"),
    ),
    key("SQLALCHEMY_DATABASE_URI", Unset),
    key("SQLALCHEMY_BINDS", Unset),
    key("SESSION_SQLALCHEMY_BIND_KEY", Unset),
    key("SESSION_SQLALCHEMY_TABLE", Value("\"sessions\"")),
    key("SESSION_SQLALCHEMY_SCHEMA", Unset),
    key("SESSION_SQLALCHEMY_SEQUENCE", Unset),
    key("SESSION_SQLALCHEMY_POOL_SIZE", Value("10")),
    key("SESSION_SQLALCHEMY_POOL_TIMEOUT", Value("\"5s\"")),
];

/// Keys of the memcached, MongoDB and DynamoDB stores (issue 4).
pub const OTHER_BACKEND_KEYS: &[Key] = &[
    key("SESSION_MEMCACHED", Value("\"127.0.0.1:11211\"")),
    key(
        "SESSION_MEMCACHED_POOL_SIZE",
        Described("2 × the number of CPUs, per server"),
    ),
    key("SESSION_MONGODB", Value("\"mongodb://127.0.0.1:27017\"")),
    key("SESSION_MONGODB_DB", Value("\"flask_session\"")),
    key("SESSION_MONGODB_COLLECT", Value("\"sessions\"")),
    key(
        "SESSION_DYNAMODB",
        Described("the AWS SDK's endpoint and region (environment, profile)"),
    ),
    key("SESSION_DYNAMODB_TABLE", Value("\"Sessions\"")),
    key("SESSION_DYNAMODB_TABLE_EXISTS", Value("false")),
];

/// Every known key with its default, core keys first.
pub fn all() -> impl Iterator<Item = &'static Key> {
    CORE_KEYS
        .iter()
        .chain(EMBEDDED_KEYS)
        .chain(REDIS_KEYS)
        .chain(SQL_KEYS)
        .chain(OTHER_BACKEND_KEYS)
}

/// All known key names.
pub fn all_keys() -> impl Iterator<Item = &'static str> {
    all().map(|key| key.name)
}

/// The entry of `name`, if it is a known key.
pub fn find(name: &str) -> Option<&'static Key> {
    all().find(|key| key.name == name)
}
