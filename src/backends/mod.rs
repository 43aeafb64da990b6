//! One module per store, each behind its cargo feature.
//!
//! Every backend exposes a type named as in Flask-Session (`RedisSessionInterface`, ...)
//! that implements [`SessionStore`](crate::SessionStore), plus a
//! `from_figment(&SessionConfig, &Figment)` constructor used by
//! [`Session::from_figment`](crate::Session::from_figment).

#[cfg(feature = "cachelib")]
pub mod cachelib;
#[cfg(feature = "dynamodb")]
pub mod dynamodb;
#[cfg(any(feature = "filesystem", feature = "cachelib"))]
pub mod file_cache;
#[cfg(feature = "filesystem")]
pub mod filesystem;
#[cfg(feature = "memcached")]
pub mod memcached;
#[cfg(feature = "mongodb")]
pub mod mongodb;
#[cfg(feature = "redis")]
pub mod redis;
#[cfg(any(feature = "redis", feature = "memcached"))]
pub mod server_version;
#[cfg(any(feature = "postgres", feature = "mysql", feature = "sqlite"))]
pub mod sql;
