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
//!
//! # Other crates' types in this API
//!
//! Only where an application hands over a client it built itself: a `deadpool_redis` pool
//! for `RedisStore::new` (the crate is re-exported as
//! `backends::redis::deadpool_redis`, so that the versions match), a Diesel r2d2 pool
//! turned into a `SqlPool`, the AWS SDK's DynamoDB `Client` and the MongoDB driver's
//! `Client`. Everything else (memcached's connections, the file engine, the SQL statements)
//! stays inside its store. Each of these types is behind its store's feature.

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
pub(crate) mod file_engine;
#[cfg(any(feature = "redis", feature = "memcached"))]
pub(crate) mod server_version;

#[cfg(test)]
mod tests {
    use super::ALL;

    const README: &str = include_str!("../../README.md");

    /// The README's "Backends" table: `SESSION_TYPE` cell -> cargo-feature cell.
    fn readme_backends() -> Vec<(String, String)> {
        let start = README
            .find("\n## Backends\n")
            .expect("README has a Backends section");
        let section = &README[start + 1..];
        let end = section[3..].find("\n## ").map_or(section.len(), |i| i + 3);
        section[..end]
            .lines()
            .take_while(|line| !line.starts_with("### "))
            .filter(|line| line.starts_with("| `") && !line.starts_with("| `SESSION_TYPE`"))
            .map(|line| {
                let cells: Vec<&str> = line.split(" | ").collect();
                (
                    cells[0]
                        .trim_start_matches("| ")
                        .trim_matches('`')
                        .to_owned(),
                    cells[1].to_owned(),
                )
            })
            .collect()
    }

    #[test]
    fn every_declared_backend_is_documented_and_every_documented_one_declared() {
        let rows = readme_backends();
        let documented: Vec<&str> = rows.iter().map(|(name, _)| name.as_str()).collect();
        let declared: Vec<&str> = ALL.iter().map(|backend| backend.name()).collect();
        assert_eq!(
            documented, declared,
            "README's Backends table, in the declared order"
        );
        for (backend, (_, features)) in ALL.iter().zip(&rows) {
            for feature in backend
                .feature
                .split([',', ' '])
                .filter(|f| !f.is_empty() && *f != "or")
            {
                assert!(
                    features.contains(&format!("`{feature}`")),
                    "{}: the README's feature cell {features:?} does not name `{feature}`",
                    backend.name()
                );
            }
        }
    }

    #[test]
    fn session_type_names_are_unique_lowercase_and_keys_declared_once() {
        let mut names: Vec<&str> = ALL
            .iter()
            .flat_map(|b| b.session_types.iter().copied())
            .collect();
        assert!(
            names.iter().all(|n| *n == n.to_ascii_lowercase()),
            "{names:?}"
        );
        let count = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(
            names.len(),
            count,
            "a SESSION_TYPE value selects one backend"
        );
        let mut keys: Vec<&str> = crate::config::keys::all_keys().collect();
        let count = keys.len();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), count, "a key is declared once");
    }
}
