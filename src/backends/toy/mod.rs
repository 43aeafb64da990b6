//! A toy backend: sessions in this process's memory, in a [`SimpleCache`] of
//! `SESSION_TOY_THRESHOLD` entries.

use figment::Figment;

use crate::backends::Backend;
#[cfg(feature = "cachelib")]
use crate::backends::cachelib::{CacheLibStore, SimpleCache};
use crate::config::keys::KeyDefault::Value;
use crate::config::keys::KeyType::Integer;
use crate::config::keys::key;
use crate::config::{SessionConfig, extract_key};
use crate::error::ConfigError;

/// This backend's declaration (see [`backends`](crate::backends)).
pub(crate) const BACKEND: Backend = Backend {
    session_types: &["toy"],
    feature: "cachelib",
    keys: &[key("SESSION_TOY_THRESHOLD", Integer, Value("500"))],
    build: build_store!(feature = "cachelib", ToyStore),
};

/// Builds the toy store.
#[derive(Debug)]
pub struct ToyStore;

impl ToyStore {
    /// The store `SESSION_TYPE = "toy"` selects.
    #[cfg(feature = "cachelib")]
    pub async fn from_figment(
        _config: &SessionConfig,
        figment: &Figment,
    ) -> Result<CacheLibStore<SimpleCache>, ConfigError> {
        let threshold = extract_key(figment, "SESSION_TOY_THRESHOLD")?.unwrap_or(500);
        Ok(CacheLibStore::new(SimpleCache::new(threshold)))
    }
}
