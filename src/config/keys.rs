//! Every configuration key this crate reads, whatever features are enabled.
//!
//! A key in the configuration file that is not listed here is a startup error with a
//! did-you-mean suggestion. Each backend keeps its own block; edit only your block.

/// Keys of the core (lifecycle, cookie, signing, serialization).
pub const CORE_KEYS: &[&str] = &[
    "SESSION_TYPE",
    "SESSION_PERMANENT",
    "SESSION_USE_SIGNER",
    "SESSION_KEY_PREFIX",
    "SESSION_ID_LENGTH",
    "SESSION_SERIALIZATION_FORMAT",
    "SESSION_CLEANUP_N_REQUESTS",
    "SESSION_MAX_SIZE",
    "SECRET_KEY",
    "SECRET_KEY_FALLBACKS",
    "SESSION_COOKIE_NAME",
    "SESSION_COOKIE_DOMAIN",
    "SESSION_COOKIE_PATH",
    "SESSION_COOKIE_HTTPONLY",
    "SESSION_COOKIE_SECURE",
    "SESSION_COOKIE_SAMESITE",
    "SESSION_COOKIE_PARTITIONED",
    "PERMANENT_SESSION_LIFETIME",
    "SESSION_REFRESH_EACH_REQUEST",
    "APPLICATION_ROOT",
];

/// Keys of the filesystem and cachelib stores.
pub const EMBEDDED_KEYS: &[&str] = &[
    "SESSION_FILE_DIR",
    "SESSION_FILE_THRESHOLD",
    "SESSION_FILE_MODE",
    "SESSION_CACHELIB",
];

/// Keys of the Redis store (issue 5).
pub const REDIS_KEYS: &[&str] = &[
    "SESSION_REDIS",
    "SESSION_REDIS_CLUSTER",
    "SESSION_REDIS_POOL_SIZE",
    "SESSION_REDIS_CONNECT_TIMEOUT",
    "SESSION_REDIS_RESPONSE_TIMEOUT",
];

/// Keys of the SQL store (issue 3).
pub const SQL_KEYS: &[&str] = &[
    "SESSION_SQLALCHEMY",
    "SQLALCHEMY_DATABASE_URI",
    "SQLALCHEMY_BINDS",
    "SESSION_SQLALCHEMY_BIND_KEY",
    "SESSION_SQLALCHEMY_TABLE",
    "SESSION_SQLALCHEMY_SCHEMA",
    "SESSION_SQLALCHEMY_SEQUENCE",
    "SESSION_SQLALCHEMY_POOL_SIZE",
    "SESSION_SQLALCHEMY_POOL_TIMEOUT",
];

/// Keys of the memcached, MongoDB and DynamoDB stores (issue 4).
pub const OTHER_BACKEND_KEYS: &[&str] = &[
    "SESSION_MEMCACHED",
    "SESSION_MEMCACHED_POOL_SIZE",
    "SESSION_MONGODB",
    "SESSION_MONGODB_DB",
    "SESSION_MONGODB_COLLECT",
    "SESSION_DYNAMODB",
    "SESSION_DYNAMODB_TABLE",
    "SESSION_DYNAMODB_TABLE_EXISTS",
];

/// All known keys.
pub fn all_keys() -> impl Iterator<Item = &'static str> {
    CORE_KEYS
        .iter()
        .chain(EMBEDDED_KEYS)
        .chain(REDIS_KEYS)
        .chain(SQL_KEYS)
        .chain(OTHER_BACKEND_KEYS)
        .copied()
}
