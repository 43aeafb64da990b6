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
//! # async fn run() -> std::io::Result<()> {
//! let session = Session::from_config().await.map_err(std::io::Error::other)?;
//! HttpServer::new(move || session.init_app(App::new().route("/", web::get().to(index))))
//!     .bind(("127.0.0.1", 8080))?
//!     .run()
//!     .await
//! # }
//! ```
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
//! write each other's sessions: ids are `token_urlsafe(SESSION_ID_LENGTH)`
//! ([`sid`]), signed cookies are itsdangerous' format ([`signer`]), stored bytes are
//! msgspec's MessagePack or JSON ([`serialization`]), and each backend keeps
//! Flask-Session's layout. The filesystem and cachelib stores are the exception: Flask
//! pickles, we never do.
//!
//! # Stores
//!
//! One cargo feature per backend (see [`backends`]); `filesystem` and `cachelib` are on by
//! default. Any type implementing [`SessionStore`] can be used with
//! [`ServerSideSessionInterface::new`], and the `testing` feature publishes the
//! acceptance suite every built-in store passes.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod backends;
pub mod base;
mod clock;
pub mod config;
pub mod cookie;
pub mod error;
pub mod serialization;
pub mod session;
pub mod sid;
pub mod signer;
pub mod store;
#[cfg(feature = "testing")]
pub mod testing;

#[cfg(feature = "cachelib")]
pub use backends::cachelib::{Cache, CacheLibSessionInterface, FileSystemCache, SimpleCache};
#[cfg(feature = "filesystem")]
pub use backends::filesystem::FileSystemSessionInterface;
pub use base::{ServerSideSession, ServerSideSessionInterface, SessionMiddleware};
pub use config::{SameSite, SerializationFormat, SessionConfig, SessionType};
pub use error::{ConfigError, SerializationError, SessionError, SessionUnavailable, StoreError};
pub use rmpv::Value;

pub use session::Session;
pub use store::{RenameOutcome, SessionStore};
