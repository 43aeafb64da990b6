//! Typed errors, one enum per concern. Sources are kept; HTTP answers stay opaque.

use std::error::Error as StdError;
use std::fmt;

use actix_web::{HttpResponse, ResponseError, http::StatusCode};

/// A boxed error from a store client or another library.
pub type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// A configuration problem found at startup. The message always names the key, the bad
/// value and what is allowed, or the file, the line and the reason.
///
/// `Debug` prints the same message followed by its causes (not the variant's fields), so
/// that `fn main() -> Result<(), Box<dyn std::error::Error>>` shows a readable error:
///
/// ```
/// use actix_flask_session::config::SessionConfig;
/// use figment::{Figment, providers::{Format, Toml}};
///
/// let figment = Figment::from(Toml::string(r#"SESSION_TPYE = "redis""#));
/// let err = SessionConfig::from_figment(&figment).unwrap_err();
/// assert!(format!("{err:?}").starts_with("unknown key SESSION_TPYE in TOML source string"));
/// assert!(format!("{err:?}").ends_with("; did you mean SESSION_TYPE?"));
/// ```
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A key holds a value that is not allowed.
    #[error("invalid value for {key}: {value}; {allowed}")]
    Invalid {
        /// The configuration key, e.g. `SESSION_TYPE`.
        key: &'static str,
        /// The offending value, as written by the user (or a description of it).
        value: String,
        /// What would have been accepted.
        allowed: String,
    },
    /// A required key is missing.
    #[error("missing {key}: {hint}")]
    Missing {
        /// The configuration key.
        key: &'static str,
        /// How to fix it.
        hint: String,
    },
    /// The configuration file contains a key that no part of this crate reads.
    #[error("unknown key {key} in {source_name}{}", crate::config::sources::unknown_key_advice(key, *suggestion))]
    UnknownKey {
        /// The unknown key.
        key: String,
        /// Where it came from (a file path).
        source_name: String,
        /// The closest known key, if one is close.
        suggestion: Option<&'static str>,
    },
    /// `SESSION_TYPE` names a backend whose cargo feature is not enabled.
    #[error(
        "SESSION_TYPE = \"{session_type}\" needs the crate feature `{feature}` of actix-flask-session"
    )]
    FeatureDisabled {
        /// The configured session type.
        session_type: &'static str,
        /// The cargo feature to enable.
        feature: &'static str,
    },
    /// Figment could not read or extract the configuration (syntax error, unreadable or
    /// missing file, ...). The message names the file, the line and the reason.
    #[error("{}", crate::config::sources::describe_figment_error(.0))]
    Figment(Box<figment::Error>),
    /// The backend could not be set up at startup (server unreachable, table missing, ...).
    #[error("cannot set up the {backend} session store: {message}")]
    Backend {
        /// The backend name.
        backend: &'static str,
        /// What went wrong and how to fix it.
        message: String,
        /// The underlying error, if any.
        #[source]
        source: Option<BoxError>,
    },
}

impl fmt::Debug for ConfigError {
    /// The message and its causes, one per line (as `anyhow` prints an error chain).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_with_causes(self, f)
    }
}

/// Writes `err`'s message, then its causes, one per line under `Caused by:`.
fn write_with_causes(err: &(dyn StdError + 'static), f: &mut fmt::Formatter<'_>) -> fmt::Result {
    write!(f, "{err}")?;
    let mut source = err.source();
    if source.is_some() {
        f.write_str("\n\nCaused by:")?;
    }
    let mut previous = String::new();
    while let Some(cause) = source {
        // Some clients repeat their source in their own message: print it once.
        let text = cause.to_string();
        if text != previous {
            write!(f, "\n    {text}")?;
        }
        previous = text;
        source = cause.source();
    }
    Ok(())
}

impl From<figment::Error> for ConfigError {
    fn from(e: figment::Error) -> Self {
        ConfigError::Figment(Box::new(e))
    }
}

/// A failure of the session store. `Debug` prints the message and its causes, as for
/// [`ConfigError`].
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The store could not be reached or did not answer in time. Requests that need the
    /// session answer `503 Service Unavailable`.
    #[error("the {backend} session store is unavailable")]
    Unavailable {
        /// The backend name.
        backend: &'static str,
        /// The client's error.
        #[source]
        source: BoxError,
    },
    /// The store answered with an error that is neither an outage nor bad data. Requests
    /// that need the session answer `500 Internal Server Error`.
    #[error("the {backend} session store failed")]
    Backend {
        /// The backend name.
        backend: &'static str,
        /// The client's error.
        #[source]
        source: BoxError,
    },
    /// The entry under a session key is not session data (a value of another type, a
    /// record without its data field, ...), typically written by something else. The
    /// lifecycle treats it like corrupt session bytes: logged, deleted, and the request
    /// starts a fresh session.
    #[error("the {backend} session store holds something that is not session data: {message}")]
    BadData {
        /// The backend name.
        backend: &'static str,
        /// What was found instead.
        message: String,
    },
    /// A key or value the store cannot accept (too long, forbidden characters, ...).
    #[error("the {backend} session store cannot take this input: {message}")]
    InvalidInput {
        /// The backend name.
        backend: &'static str,
        /// What is wrong.
        message: String,
    },
    /// The store does not implement an optional operation (the trait's default answer).
    #[error("the {backend} session store does not support {operation}")]
    Unsupported {
        /// The backend name.
        backend: &'static str,
        /// The operation, e.g. `"compare_and_swap"`.
        operation: &'static str,
    },
}

impl fmt::Debug for StoreError {
    /// The message and its causes, one per line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_with_causes(self, f)
    }
}

impl StoreError {
    /// Shorthand for [`StoreError::Unavailable`].
    pub fn unavailable(backend: &'static str, source: impl Into<BoxError>) -> Self {
        StoreError::Unavailable {
            backend,
            source: source.into(),
        }
    }

    /// Shorthand for [`StoreError::Backend`].
    pub fn backend(backend: &'static str, source: impl Into<BoxError>) -> Self {
        StoreError::Backend {
            backend,
            source: source.into(),
        }
    }
}

/// A value could not be encoded into, or decoded from, the session's wire format.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SerializationError {
    /// The value cannot be represented in the configured format.
    #[error("cannot encode session value: {0}")]
    Encode(String),
    /// A Rust value could not be serialized with serde.
    #[error("cannot serialize session value")]
    Serialize(#[source] rmp_serde::encode::Error),
    /// A stored value does not have the shape of the requested Rust type.
    #[error("cannot deserialize session value")]
    Deserialize(#[source] rmp_serde::decode::Error),
    /// Stored bytes are neither a msgpack map nor a JSON object.
    #[error("stored session data is not a msgpack map or a JSON object: {0}")]
    Decode(String),
    /// The encoded session would be larger than `SESSION_MAX_SIZE`.
    #[error("the session would take {size} bytes encoded, over SESSION_MAX_SIZE = {max} bytes")]
    TooLarge {
        /// The encoded size of the session with the change, in bytes.
        size: usize,
        /// The configured `SESSION_MAX_SIZE`.
        max: usize,
    },
}

/// An error from a [`ServerSideSession`](crate::ServerSideSession) method, returned to the
/// handler at the call. As an actix error it answers `500` with an opaque body.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// The value could not be serialized (or deserialized) for this key.
    #[error("session key {key:?}: {source}")]
    Value {
        /// The session key.
        key: String,
        /// The serialization error.
        #[source]
        source: SerializationError,
    },
    /// No fresh session id could be made.
    #[error("cannot make a session id")]
    Randomness(#[source] crate::sid::RandomnessError),
}

impl ResponseError for SessionError {
    fn status_code(&self) -> StatusCode {
        StatusCode::INTERNAL_SERVER_ERROR
    }

    fn error_response(&self) -> HttpResponse {
        log_error(self);
        HttpResponse::InternalServerError()
            .content_type("text/plain; charset=utf-8")
            .body("Internal Server Error")
    }
}

/// The error a request gets when the session cannot be loaded or saved.
///
/// Store outages ([`StoreError::Unavailable`]) answer `503 Service Unavailable`,
/// everything else `500`; the body never
/// says why (the cause is logged with `tracing` at error level).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SessionUnavailable {
    /// The store failed.
    #[error("session store failure")]
    Store(#[from] StoreError),
    /// No fresh session id could be made.
    #[error("cannot make a session id")]
    Randomness(#[from] crate::sid::RandomnessError),
    /// Session data (typically written by another app) cannot be encoded in the
    /// configured format.
    #[error("cannot encode the session for the store")]
    Encode(#[from] SerializationError),
    /// The blocking pool did not run the decoding or encoding of a large session (the
    /// runtime is shutting down, or the codec panicked).
    #[error("the session codec did not finish on the blocking pool")]
    Blocking(#[source] tokio::task::JoinError),
    /// With `SESSION_CONCURRENCY = "merge"`, other requests of the same session kept
    /// changing it: every one of the save's attempts to merge onto the current entry met
    /// a newer one. Nothing of this request was stored; it answers `503`.
    #[error("the session kept changing: not saved after {attempts} merge attempts")]
    Conflict {
        /// How many compare-and-swap attempts were made.
        attempts: usize,
    },
    /// A closure given to [`ServerSideSession::update_with`](crate::ServerSideSession::update_with)
    /// could not be applied again to the current value when the save merged onto a newer
    /// entry (another writer stored a value of another shape under the key).
    #[error("cannot re-apply the update of session key {key:?} to its current value")]
    Replay {
        /// The session key.
        key: String,
        /// Why.
        #[source]
        source: SerializationError,
    },
    /// The session middleware is not installed for this route.
    #[error(
        "ServerSideSession used on a route without the session middleware; call Session::init_app or wrap the scope with Session::middleware"
    )]
    NoMiddleware,
}

impl ResponseError for SessionUnavailable {
    fn status_code(&self) -> StatusCode {
        match self {
            SessionUnavailable::Store(StoreError::Unavailable { .. })
            | SessionUnavailable::Conflict { .. } => StatusCode::SERVICE_UNAVAILABLE,
            SessionUnavailable::Store(_)
            | SessionUnavailable::Replay { .. }
            | SessionUnavailable::Randomness(_)
            | SessionUnavailable::Encode(_)
            | SessionUnavailable::Blocking(_)
            | SessionUnavailable::NoMiddleware => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        log_error(self);
        let status = self.status_code();
        HttpResponse::build(status)
            .content_type("text/plain; charset=utf-8")
            .body(status.canonical_reason().unwrap_or("Error"))
    }
}

/// Logs an error with its whole source chain.
pub(crate) fn log_error(err: &(dyn StdError + 'static)) {
    let mut chain = String::new();
    let mut source = err.source();
    while let Some(s) = source {
        chain.push_str(": ");
        chain.push_str(&s.to_string());
        source = s.source();
    }
    tracing::error!(error = %err, cause = %chain, "session error");
}
