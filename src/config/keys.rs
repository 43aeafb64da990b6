//! Every configuration key this crate reads, whatever features are enabled, with its type
//! and documented default.
//!
//! The core's keys are listed here; each backend declares its own in its module (see
//! [`backends`](crate::backends)), and [`all`] joins them. This table is the single source
//! of the key names and defaults that the README's key table and `Session.toml.example`
//! show; a test (`src/config/tests/docs.rs`) compares all three and checks each default against
//! the code that applies it. A key in the configuration that looks like a session key but
//! is not known is a startup error with a did-you-mean suggestion.

use KeyDefault::{Described, Required, Unset, Value};
use KeyType::{Bool, Duration, Integer, Text, TextOrList};

/// What a key holds when the configuration does not set it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyDefault {
    /// The key must be set (`SESSION_TYPE`).
    Required,
    /// Unset means "none": no attribute, no option, no fallback.
    Unset,
    /// One fixed value, written as in TOML: `true`, `32`, `"session:"`, `"31d"`.
    Value(&'static str),
    /// A default that is not one fixed value (another key, the machine, a client library),
    /// in words, as the README shows it.
    Described(&'static str),
}

/// What a key's value is; it decides how an environment variable's text is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyType {
    /// A string, taken verbatim from the environment (`SECRET_KEY=007` is `"007"`).
    Text,
    /// One string or a list of strings: from the environment, a value starting with `[`
    /// is a list, anything else one string, verbatim.
    TextOrList,
    /// `true` or `false`.
    Bool,
    /// A whole number.
    Integer,
    /// Seconds (a number) or a humantime string (`"31d"`).
    Duration,
    /// A table of options (`{ region = "..." }`).
    Table,
}

/// One configuration key, its type and its default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Key {
    /// The key, spelled as in Flask-Session (`SESSION_TYPE`).
    pub name: &'static str,
    /// What its value is.
    pub ty: KeyType,
    /// What it holds when unset.
    pub default: KeyDefault,
}

/// A key declaration, for the core's table and each backend's.
pub(crate) const fn key(name: &'static str, ty: KeyType, default: KeyDefault) -> Key {
    Key { name, ty, default }
}

/// Keys of the core (lifecycle, cookie, signing, serialization).
pub const CORE_KEYS: &[Key] = &[
    key("SESSION_TYPE", Text, Required),
    key("SESSION_PERMANENT", Bool, Value("true")),
    key("SESSION_USE_SIGNER", Bool, Value("false")),
    key("SESSION_KEY_PREFIX", Text, Value("\"session:\"")),
    key("SESSION_ID_LENGTH", Integer, Value("32")),
    key("SESSION_SERIALIZATION_FORMAT", Text, Value("\"msgpack\"")),
    key("SESSION_MAX_SIZE", Integer, Value("1048576")),
    key("SESSION_CLEANUP_N_REQUESTS", Integer, Unset),
    key("SECRET_KEY", Text, Unset),
    key("SECRET_KEY_FALLBACKS", TextOrList, Value("[]")),
    key("SESSION_COOKIE_NAME", Text, Value("\"session\"")),
    key("SESSION_COOKIE_DOMAIN", Text, Unset),
    key("SESSION_COOKIE_PATH", Text, Described("APPLICATION_ROOT")),
    key("SESSION_COOKIE_HTTPONLY", Bool, Value("true")),
    key("SESSION_COOKIE_SECURE", Bool, Value("false")),
    key("SESSION_COOKIE_SAMESITE", Text, Unset),
    key("SESSION_COOKIE_PARTITIONED", Bool, Value("false")),
    key("PERMANENT_SESSION_LIFETIME", Duration, Value("\"31d\"")),
    key("SESSION_REFRESH_EACH_REQUEST", Bool, Value("true")),
    key("APPLICATION_ROOT", Text, Value("\"/\"")),
    key("SESSION_ABSOLUTE_LIFETIME", Duration, Unset),
    key("SESSION_USER_KEY", Text, Unset),
    key("SESSION_MAX_PER_USER", Integer, Unset),
    key("SESSION_TRACK_CLIENT", Bool, Value("false")),
    key("SESSION_LAST_SEEN_INTERVAL", Duration, Value("\"1m\"")),
    key("SESSION_CONCURRENCY", Text, Value("\"last-write-wins\"")),
];

/// Every known key with its type and default: the core's, then each backend's in the order
/// the docs list the backends (a key two backends share is listed once).
pub fn all() -> impl Iterator<Item = &'static Key> {
    let backends = crate::backends::ALL
        .iter()
        .enumerate()
        .flat_map(|(i, backend)| {
            backend.keys.iter().filter(move |key| {
                !crate::backends::ALL[..i]
                    .iter()
                    .any(|earlier| earlier.keys.iter().any(|k| k.name == key.name))
            })
        });
    CORE_KEYS.iter().chain(backends)
}

/// All known key names.
pub fn all_keys() -> impl Iterator<Item = &'static str> {
    all().map(|key| key.name)
}

/// The entry of `name`, if it is a known key.
pub fn find(name: &str) -> Option<&'static Key> {
    all().find(|key| key.name == name)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    /// Every string literal in `src/` that names a configuration key (outside comments).
    fn keys_named_in_source(dir: &Path, found: &mut Vec<(String, String)>) {
        for entry in std::fs::read_dir(dir).expect("src is readable") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                keys_named_in_source(&path, found);
                continue;
            }
            if path.extension().is_none_or(|ext| ext != "rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("source is UTF-8");
            for line in text.lines().filter(|l| !l.trim_start().starts_with("//")) {
                for (i, _) in line.match_indices('"') {
                    let rest = &line[i + 1..];
                    let Some(end) = rest.find('"') else { continue };
                    let literal = &rest[..end];
                    let is_key_shaped = ["SESSION_", "SQLALCHEMY_", "SECRET_KEY"]
                        .iter()
                        .any(|p| literal.starts_with(p))
                        || ["PERMANENT_SESSION_LIFETIME", "APPLICATION_ROOT"].contains(&literal);
                    if is_key_shaped
                        && literal.len() > "SESSION_".len()
                        && literal
                            .bytes()
                            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
                        && !literal.ends_with('_')
                    {
                        found.push((literal.to_owned(), path.display().to_string()));
                    }
                }
            }
        }
    }

    #[test]
    fn every_key_the_code_names_is_declared() {
        let mut found = Vec::new();
        keys_named_in_source(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
            &mut found,
        );
        assert!(
            found.iter().any(|(k, _)| k == "SESSION_REDIS_POOL_SIZE"),
            "the scan finds keys"
        );
        // Misspellings the did-you-mean tests use on purpose.
        let examples = ["SESSION_TPYE", "SESSION_MANAGER", "SESSION_COOKIE_SAMSITE"];
        for (key, file) in found {
            assert!(
                super::find(&key).is_some() || examples.contains(&key.as_str()),
                "{file} names {key}, which no declaration lists (src/config/keys.rs or its backend's module)"
            );
        }
    }
}
