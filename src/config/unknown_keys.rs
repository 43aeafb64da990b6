//! Unknown-key detection: a key that looks like a session key must be known; the
//! application's own keys are left alone.

use figment::value::Dict;
use figment::{Figment, Metadata, Source};

use super::env::warn_unknown_env;
use super::{keys, sources};
use crate::error::ConfigError;

/// The known key closest to `unknown`, if one is close: compared in upper case by
/// Damerau-Levenshtein distance, within 2 edits or a quarter of the name's length,
/// whichever is more.
pub fn suggest_key(unknown: &str) -> Option<&'static str> {
    let upper = unknown.to_ascii_uppercase();
    let max_distance = (upper.len() / 4).max(2);
    keys::all_keys()
        .map(|key| (strsim::damerau_levenshtein(&upper, key), key))
        .filter(|(distance, _)| *distance <= max_distance)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, key)| key)
}

pub(super) fn is_env_metadata(metadata: &Metadata) -> bool {
    metadata.source.is_none() && metadata.name.contains("environment variable")
}

pub(super) fn describe_source(metadata: &Metadata) -> String {
    match &metadata.source {
        Some(Source::File(path)) => format!("{} {}", metadata.name, path.display()),
        Some(Source::Code(location)) => format!("{} at {location}", metadata.name),
        Some(Source::Custom(custom)) => format!("{} {custom}", metadata.name),
        // `Source` is non-exhaustive.
        Some(other) => format!("{} {other}", metadata.name),
        None => metadata.name.to_string(),
    }
}

pub(super) fn check_unknown_keys(figment: &Figment) -> Result<(), ConfigError> {
    let dict: Dict = figment.extract()?;
    for key in dict.keys() {
        if sources::is_known(key) {
            continue;
        }
        let suggestion = suggest_key(key);
        let metadata = figment.find_metadata(key);
        if metadata.is_some_and(is_env_metadata) {
            if sources::looks_like_session_key(key) {
                warn_unknown_env(key);
            }
            continue;
        }
        // The application's own keys (`DATABASE_URL`, `DEBUG`, ...) are its business,
        // except in the session's own file.
        if !sources::looks_like_session_key(key) && !metadata.is_some_and(sources::is_session_file)
        {
            tracing::trace!(
                key,
                "not a session configuration key; left to the application"
            );
            continue;
        }
        return Err(ConfigError::UnknownKey {
            key: key.clone(),
            source_name: metadata
                .map(describe_source)
                .unwrap_or_else(|| "the session configuration".to_owned()),
            suggestion,
        });
    }
    Ok(())
}

/// The examples of this module's items, as unit tests (the items are crate-private).
#[cfg(test)]
mod doc_examples {
    #[test]
    fn suggest_key_example() {
        use crate::config::suggest_key;

        assert_eq!(suggest_key("SESSION_TPYE"), Some("SESSION_TYPE"));
        assert_eq!(
            suggest_key("session_cookie_samesite"),
            Some("SESSION_COOKIE_SAMESITE")
        );
        assert_eq!(suggest_key("SESSION_MANAGER"), None);
    }
}
