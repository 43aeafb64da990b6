//! The environment provider: variables named like the keys.

use figment::value::{Dict, Map, Value};
use figment::{Metadata, Profile, Provider};

use super::keys::{self, KeyType};
use super::unknown_keys::suggest_key;

/// The metadata name of environment providers, the same as figment's own `Env`.
pub(super) const ENV_SOURCE_NAME: &str = "environment variable(s)";

/// The environment-variable provider of [`SessionConfig::figment`](super::SessionConfig::figment): every variable named
/// exactly like a key (case-sensitive: `SESSION_TYPE`, not
/// `session_type`).
///
/// Values are parsed like figment's `Env` (`true` is a boolean, `45` an integer, `[a, b]`
/// a list, `{ k = "v" }` a table), except the keys whose value is text (`SECRET_KEY`, URLs, names), taken verbatim,
/// and those that are text or a list, taken verbatim unless they start with `[`. Other
/// variables starting with `SESSION_` are not merged; each is logged once per read with a
/// `tracing` warning and the closest key. A known key with a value that is not UTF-8 is an
/// error.
///
/// ```
/// use actix_flask_session::config::SessionEnv;
/// use figment::{Figment, providers::{Format, Toml}};
///
/// // The application's own file, overridden by the environment.
/// let figment = Figment::from(Toml::file("config/session.toml")).merge(SessionEnv::new());
/// # let _ = figment;
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct SessionEnv {
    _private: (),
}

impl SessionEnv {
    /// The provider; it reads the environment each time figment asks for its data.
    pub fn new() -> Self {
        SessionEnv::default()
    }
}

impl Provider for SessionEnv {
    fn metadata(&self) -> Metadata {
        Metadata::named(ENV_SOURCE_NAME).interpolater(|_: &Profile, path: &[&str]| path.join("."))
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        let mut dict = Dict::new();
        for (name, raw) in std::env::vars_os() {
            let Some(name) = name.to_str() else { continue };
            if let Some(key) = keys::all_keys().find(|k| *k == name) {
                let raw = raw.to_str().ok_or_else(|| {
                    figment::Error::from(format!("environment variable {key} is not valid UTF-8"))
                })?;
                dict.insert(key.to_owned(), env_value(key, raw));
            } else if name.to_ascii_uppercase().starts_with("SESSION_")
                || keys::all_keys().any(|k| k.eq_ignore_ascii_case(name))
            {
                warn_unknown_env(name);
            }
        }
        Ok(Profile::Default.collect(dict))
    }
}

pub(super) fn env_value(key: &str, raw: &str) -> Value {
    let verbatim = match keys::find(key).map(|key| key.ty) {
        Some(KeyType::Text) => true,
        Some(KeyType::TextOrList) => !raw.trim_start().starts_with('['),
        _ => false,
    };
    if verbatim {
        return Value::from(raw.to_owned());
    }
    match raw.parse::<Value>() {
        Ok(value) => value,
        Err(never) => match never {},
    }
}

pub(super) fn warn_unknown_env(name: &str) {
    match suggest_key(name) {
        Some(key) => tracing::warn!(
            "ignoring environment variable {name}: not a session configuration key; did you mean {key}?"
        ),
        None => {
            tracing::warn!("ignoring environment variable {name}: not a session configuration key")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_values_of_string_keys_are_verbatim() {
        assert_eq!(env_value("SECRET_KEY", "007").as_str(), Some("007"));
        assert_eq!(
            env_value("SESSION_KEY_PREFIX", "true").as_str(),
            Some("true")
        );
        assert_eq!(
            env_value("SECRET_KEY_FALLBACKS", "1.50").as_str(),
            Some("1.50")
        );
        assert!(matches!(
            env_value("SECRET_KEY_FALLBACKS", "[a, b]"),
            Value::Array(..)
        ));
        assert_eq!(
            env_value("SESSION_PERMANENT", "false").to_bool(),
            Some(false)
        );
        assert!(matches!(
            env_value("SESSION_ID_LENGTH", "32"),
            Value::Num(..)
        ));
    }
}
