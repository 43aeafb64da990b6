//! Server-side sessions for actix-web, configured like Flask-Session and able to share
//! live sessions with a running Flask-Session app.
//!
//! TODO: crate guide.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod backends;
pub mod base;
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




pub use base::{ServerSideSession, ServerSideSessionInterface, SessionMiddleware};
pub use config::{SameSite, SerializationFormat, SessionConfig, SessionType};
pub use error::{ConfigError, SerializationError, SessionError, SessionUnavailable, StoreError};
pub use rmpv::Value;

pub use session::Session;
pub use store::SessionStore;
