//! Server-side sessions for actix-web, configured like Flask-Session and able to share
//! live sessions with a running Flask-Session 0.8 app.
//!
//! The browser keeps only a session id in a cookie (optionally HMAC-signed); the data
//! lives in a store. Configuration uses Flask-Session's `SESSION_*` keys, read through
//! [Figment](figment) from `Session.toml` and the environment:
//!
//! ```toml
//! SESSION_TYPE = "redis"
//! SESSION_REDIS = "redis://127.0.0.1:6379/0"
//! ```
//!
//! ```no_run
//! use actix_flask_session::{ServerSideSession, Session};
//! use actix_web::{App, HttpServer, web};
//!
//! async fn index(session: ServerSideSession) -> actix_web::Result<String> {
//!     let visits: u64 = session.get("visits")?.unwrap_or(0);
//!     session.insert("visits", visits + 1)?;
//!     Ok(format!("visit {}", visits + 1))
//! }
//!
//! #[actix_web::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     // A bad configuration ends here with a readable message: `ConfigError`'s `Debug`
//!     // is its message and causes.
//!     let session = Session::from_config().await?;
//!     HttpServer::new(move || session.init_app(App::new().route("/", web::get().to(index))))
//!         .bind(("127.0.0.1", 8080))?
//!         .run()
//!         .await?;
//!     Ok(())
//! }
//! ```
//!
//! [`Session::from_config`] reads `Session.toml` from the current directory (or the file
//! named by `ACTIX_FLASK_SESSION_CONFIG`) and environment variables named like the keys;
//! [`Session::from_figment`] takes the application's own Figment instead, flat or with a
//! `[session]` table (see [`config`]).
//!
//! # How a request goes
//!
//! - The middleware ([`Session::init_app`] or [`Session::middleware`]) does nothing until
//!   a handler takes [`ServerSideSession`]. The first extraction validates the cookie
//!   (length, alphabet, signature) and loads the session in one store round trip that
//!   also moves its expiry when `SESSION_REFRESH_EACH_REQUEST` is on.
//! - After the handler, a modified session is written (created only if its id is free,
//!   updated only if it still exists, so a concurrent logout is never undone); an emptied
//!   session is deleted and the cookie removed; an unmodified one is never written back.
//!   Any access adds `Vary: Cookie`.
//! - A store outage answers `503` with an opaque body and logs the cause; any other store
//!   error answers `500` (logged); corrupt stored data, or a stored value that is not a
//!   session at all, is deleted and the request gets a fresh session; a bad cookie is a
//!   fresh session.
//!
//! # Compatibility with Flask-Session
//!
//! With the same `SECRET_KEY`, key prefix and serialization format, both apps read and
//! write each other's sessions: ids are `token_urlsafe(SESSION_ID_LENGTH)`, signed
//! cookies are itsdangerous' format, stored bytes are msgspec's MessagePack or JSON
//! ([`SerializationFormat`]), and each backend keeps
//! Flask-Session's layout. The filesystem and cachelib stores are the exception: Flask
//! pickles, we never do.
//!
//! # Stores and cargo features
//!
//! One cargo feature per backend (see [`backends`]); `filesystem` and `cachelib` are on by
//! default. Items behind a feature say which in these docs.
//!
//! | Feature | Default | Adds | Server |
//! |---------|---------|------|--------|
//! | `filesystem` | yes | `SESSION_TYPE = "filesystem"`: `FileSystemStore` | none |
//! | `cachelib` | yes | `SESSION_TYPE = "cachelib"`: `CacheLibStore`, `SimpleCache`, `FileSystemCache` | none |
//! | `redis` | | `SESSION_TYPE = "redis"`: `RedisStore` | Redis ≥ 6.2 |
//! | `redis-cluster` | | `SESSION_REDIS_CLUSTER` (implies `redis`) | Redis Cluster ≥ 6.2 |
//! | `redis-tls` | | `rediss://` URLs, rustls with the webpki roots (implies `redis`) | |
//! | `memcached` | | `SESSION_TYPE = "memcached"`: `MemcachedStore` | memcached ≥ 1.6 |
//! | `mongodb` | | `SESSION_TYPE = "mongodb"`: `MongoDbStore` | MongoDB |
//! | `dynamodb` | | `SESSION_TYPE = "dynamodb"`: `DynamoDbStore` | DynamoDB |
//! | `postgres`, `mysql`, `sqlite` | | `SESSION_TYPE = "sqlalchemy"` with that driver: `SqlStore` | the database |
//! | `testing` | | the store-agnostic acceptance suite (`testing` module, `acceptance_suite!`) | |
//! | `cli` | | the `actix-flask-session` command-line tool (`migrate`, `cleanup`) | |
//! | `metrics` | | counters and store-call latency histograms through the `metrics` facade (the README's metrics table) | |
//! | `full` | | all of the above | |
//!
//! Any type implementing [`SessionStore`] can be used with
//! [`ServerSideSessionInterface::new`]; the [`SessionStore`] page shows a complete one.
//! Each store's module in [`backends`] holds its options and its own client types (a
//! deadpool pool for Redis, a Diesel pool for SQL: the dependency types that appear in
//! this API are those through which an application hands over a client it built itself).
//!
//! # Flask-Session's names
//!
//! | Flask-Session | here |
//! |---------------|------|
//! | `Session(app)`, `Session.init_app(app)` | [`Session`], [`Session::init_app`] |
//! | `flask.session` | [`ServerSideSession`] (an extractor; [`SessionExt`] in middleware) |
//! | `ServerSideSessionInterface` | [`ServerSideSessionInterface`] (the lifecycle over any store) |
//! | `RedisSessionInterface`, `MemcachedSessionInterface`, `FileSystemSessionInterface`, `CacheLibSessionInterface`, `MongoDBSessionInterface`, `SqlAlchemySessionInterface`, `DynamoDBSessionInterface` | type aliases of the stores (`RedisStore`, ...), with their feature |
//! | `session_interface.regenerate(session)` | [`ServerSideSession::regenerate`] |
//!
//! # Observability
//!
//! Every store call runs in a `session_store` span at `debug` level (backend, operation,
//! outcome, duration), so a `tracing-opentelemetry` setup shows the session layer in each
//! request's trace. The `metrics` feature adds counters of load and save outcomes, store
//! errors and cleanups, and store-call latency histograms, through the
//! [`metrics`](https://docs.rs/metrics) facade (the application installs the exporter; the
//! README lists every metric). [`Session::health`] pings the store for a readiness probe.
//!
//! # Command-line tool
//!
//! The `cli` feature builds `actix-flask-session`, which reads the application's
//! configuration and creates the SQL table (`migrate`, or `migrate --emit DIR` for a
//! Diesel migration; see [`backends`]`::sql::migrate` with a SQL feature) and deletes
//! expired sessions from cron (`cleanup`): `cargo install actix-flask-session --features
//! cli,postgres`.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(missing_docs)]

/// `needs!`, shared with the integration tests: what a unit test module leaves out for a
/// missing cargo feature, as an ignored test that says so.
#[cfg(test)]
#[macro_use]
#[path = "../tests/support/needs.rs"]
mod needs;

pub mod backends;
mod clock;
pub mod config;
mod cookie;
mod error;
mod extension;
mod lifecycle;
mod observability;
mod serialization;
mod sid;
mod signer;
mod store;
#[cfg(feature = "testing")]
pub mod testing;
mod users;

#[cfg(feature = "cachelib")]
#[doc(inline)]
pub use backends::cachelib::{
    Cache, CacheLibSessionInterface, CacheLibStore, FileSystemCache, SimpleCache,
};
#[cfg(feature = "dynamodb")]
#[doc(inline)]
pub use backends::dynamodb::{DynamoDBSessionInterface, DynamoDbStore};
#[cfg(feature = "filesystem")]
#[doc(inline)]
pub use backends::filesystem::{FileSystemSessionInterface, FileSystemStore};
#[cfg(feature = "memcached")]
#[doc(inline)]
pub use backends::memcached::{MemcachedSessionInterface, MemcachedStore};
#[cfg(feature = "mongodb")]
#[doc(inline)]
pub use backends::mongodb::{MongoDBSessionInterface, MongoDbStore};
#[cfg(feature = "redis")]
#[doc(inline)]
pub use backends::redis::{RedisSessionInterface, RedisStore};
#[cfg(any(feature = "postgres", feature = "mysql", feature = "sqlite"))]
#[doc(inline)]
pub use backends::sql::{SqlAlchemySessionInterface, SqlStore};
#[doc(inline)]
pub use config::{SameSite, SerializationFormat, SessionConfig, SessionType};
#[doc(inline)]
pub use error::{ConfigError, SerializationError, SessionError, SessionUnavailable, StoreError};
#[doc(inline)]
pub use lifecycle::{ServerSideSession, ServerSideSessionInterface, SessionExt, SessionMiddleware};
pub use rmpv::Value;
#[doc(inline)]
pub use serialization::{timestamp_value, value_as_timestamp};
#[doc(inline)]
pub use sid::RandomnessError;

/// The attribute macro [`SessionStore`] implementations need (`async-trait`'s), so that
/// implementing a store needs no extra dependency: `#[actix_flask_session::async_trait]`.
pub use async_trait::async_trait;
#[doc(inline)]
pub use extension::Session;
#[doc(inline)]
pub use observability::StoreHealth;
#[doc(inline)]
pub use store::{RenameOutcome, SessionStore, SwapOutcome, Versioned};
#[doc(inline)]
pub use users::{IndexEntry, UserSession, UserSessions};

/// The recorded Flask-Session 0.8 vectors (`tests/data/vectors.json`), shared with the
/// integration tests.
#[cfg(test)]
#[path = "../tests/support/vectors.rs"]
mod vectors;

/// The README's Rust code compiles (`cargo test --doc`).
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
