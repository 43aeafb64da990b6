//! One module per store. Each module declares its backend once (a `BACKEND` constant: its
//! `SESSION_TYPE` names, its cargo feature, its configuration keys with their types and
//! defaults, and how it builds itself from the configuration); the list below registers
//! it. Everything else is derived from these declarations: the values `SESSION_TYPE`
//! accepts and the error that lists them, the known keys (did-you-mean, the environment
//! provider, the README's key table checked by a test) and the store factory behind
//! [`Session::from_figment`](crate::Session::from_figment).
//!
//! A store module is compiled whatever the features; only its store (the `store`
//! submodule) is behind its feature, so that its keys are known and a configuration naming
//! it without the feature says which feature to enable. `CONTRIBUTING.md` shows how to add
//! one.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use figment::Figment;

use crate::config::SessionConfig;
use crate::config::keys::Key;
use crate::error::ConfigError;
use crate::store::SessionStore;

/// What building a store yields.
pub(crate) type Built<'a> =
    Pin<Box<dyn Future<Output = Result<Arc<dyn SessionStore>, ConfigError>> + Send + 'a>>;

/// How a backend builds its store from the validated configuration and the Figment it came
/// from (for the backend's own keys).
pub(crate) type Build = for<'a> fn(&'a SessionConfig, &'a Figment) -> Built<'a>;

/// One backend's declaration.
#[derive(Debug)]
pub(crate) struct Backend {
    /// The `SESSION_TYPE` values that select it (any case), the canonical one first.
    pub(crate) session_types: &'static [&'static str],
    /// The cargo feature(s) that compile its store, as the error for a disabled one says.
    pub(crate) feature: &'static str,
    /// Its configuration keys with their types and defaults, in the documentation's order.
    pub(crate) keys: &'static [Key],
    /// Builds the store, or says which feature is missing.
    pub(crate) build: Build,
}

impl Backend {
    /// The canonical `SESSION_TYPE` value.
    pub(crate) fn name(&self) -> &'static str {
        self.session_types[0]
    }
}

/// The `build` of a backend's declaration: the store type's
/// `from_figment(&SessionConfig, &Figment)` when `cfg` holds, else an error naming the
/// feature to enable.
macro_rules! build_store {
    ($cfg:meta, $store:ty) => {{
        #[cfg($cfg)]
        {
            |config: &$crate::config::SessionConfig,
             figment: &::figment::Figment|
             -> $crate::backends::Built<'_> {
                Box::pin(async move {
                    let store = <$store>::from_figment(config, figment).await?;
                    Ok(::std::sync::Arc::new(store)
                        as ::std::sync::Arc<dyn $crate::store::SessionStore>)
                })
            }
        }
        #[cfg(not($cfg))]
        {
            |config: &$crate::config::SessionConfig,
             _figment: &::figment::Figment|
             -> $crate::backends::Built<'_> {
                Box::pin(async move { Err($crate::backends::disabled(config)) })
            }
        }
    }};
}

/// The error of a backend whose feature is off.
#[allow(dead_code)] // unused when every feature is on
pub(crate) fn disabled(config: &SessionConfig) -> ConfigError {
    match config.session_type {
        Some(session_type) => ConfigError::FeatureDisabled {
            session_type: session_type.as_str(),
            feature: session_type.backend().feature,
        },
        None => ConfigError::Missing {
            key: "SESSION_TYPE",
            hint: crate::config::SessionType::allowed(),
        },
    }
}

/// Declares the backend modules and registers them, in the order the docs list them.
macro_rules! register {
    ($($name:ident),* $(,)?) => {
        $(pub mod $name;)*

        /// Every backend, in the order the docs list them.
        pub(crate) const ALL: &[&Backend] = &[$(&$name::BACKEND),*];
    };
}

register! {
    filesystem,
    cachelib,
    redis,
    sql,
    memcached,
    mongodb,
    dynamodb,
}

#[cfg(any(feature = "filesystem", feature = "cachelib"))]
pub mod file_engine;
#[cfg(any(feature = "redis", feature = "memcached"))]
pub mod server_version;
