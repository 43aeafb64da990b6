//! Extraction helpers: one key's value, typed, with errors that name the key, the value as
//! written (secrets hidden) and what is allowed.

use std::time::Duration;

use figment::Figment;
use figment::error::Kind;
use figment::value::{Num, Value};
use serde::de::DeserializeOwned;

use super::MAX_LIFETIME;
use super::validate::LIFETIME_ALLOWED;
use crate::error::ConfigError;

/// The value of `key`, `None` when absent (or explicitly empty, as a serialized `None`).
pub(crate) fn find_key(figment: &Figment, key: &str) -> Result<Option<Value>, ConfigError> {
    match figment.find_value(key) {
        Ok(Value::Empty(..)) => Ok(None),
        Ok(value) => Ok(Some(value)),
        Err(e) if matches!(e.kind, Kind::MissingField(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Secrets never appear in error messages.
pub(super) fn is_secret(key: &str) -> bool {
    key.contains("SECRET")
}

/// The value as the user wrote it, for error messages (strings quoted).
pub(super) fn render(key: &str, value: &Value) -> String {
    if is_secret(key) {
        let kind = match value {
            Value::String(..) | Value::Char(..) => "string",
            Value::Bool(..) => "boolean",
            Value::Num(..) => "number",
            Value::Empty(..) => "empty value",
            Value::Dict(..) => "table",
            Value::Array(..) => "list",
        };
        return format!("<hidden {kind}>");
    }
    match value {
        Value::String(_, s) => format!("{s:?}"),
        Value::Char(_, c) => format!("{:?}", c.to_string()),
        Value::Bool(_, b) => b.to_string(),
        Value::Num(_, n) => num_to_string(n),
        Value::Empty(..) => "nothing".to_owned(),
        Value::Dict(..) | Value::Array(..) => {
            serde_json::to_string(value).unwrap_or_else(|_| value.to_actual().to_string())
        }
    }
}

pub(super) fn num_int(n: &Num) -> Option<i128> {
    n.to_i128()
        .or_else(|| n.to_u128().and_then(|u| i128::try_from(u).ok()))
}

pub(super) fn num_to_string(n: &Num) -> String {
    if let Some(u) = n.to_u128() {
        u.to_string()
    } else if let Some(i) = n.to_i128() {
        i.to_string()
    } else {
        n.to_f64().map(|f| f.to_string()).unwrap_or_default()
    }
}

pub(super) fn invalid_value(key: &'static str, value: &Value, allowed: &str) -> ConfigError {
    ConfigError::Invalid {
        key,
        value: render(key, value),
        allowed: allowed.to_owned(),
    }
}

/// What a failed deserialization expected, from figment's error kind.
pub(super) fn expected(error: &figment::Error) -> String {
    let what = match &error.kind {
        Kind::InvalidType(_, exp) | Kind::InvalidValue(_, exp) | Kind::InvalidLength(_, exp) => {
            format!("expected {exp}")
        }
        Kind::UnknownVariant(_, exp) | Kind::UnknownField(_, exp) => {
            format!("{}; expected one of {}", error.kind, exp.join(", "))
        }
        other => other.to_string(),
    };
    if error.path.is_empty() {
        what
    } else {
        format!("at {}: {what}", error.path.join("."))
    }
}

/// Reads `key` as any deserializable type: `None` when the key is absent, a
/// [`ConfigError::Invalid`] naming the key, its value and the expected type when it does
/// not fit. Other figment failures (a TOML syntax error, an unreadable file) are
/// [`ConfigError::Figment`].
///
/// For backend modules reading their own keys; tables work too (`SESSION_CACHELIB`,
/// `SESSION_DYNAMODB`). Environment values arrive parsed (`SESSION_REDIS_POOL_SIZE=8` is
/// an integer), except the keys of type [`KeyType::Text`](super::keys::KeyType::Text). For strings prefer
/// [`extract_string_key`], which also accepts numbers and booleans.
pub fn extract_key<T: DeserializeOwned>(
    figment: &Figment,
    key: &'static str,
) -> Result<Option<T>, ConfigError> {
    let Some(value) = find_key(figment, key)? else {
        return Ok(None);
    };
    match figment.extract_inner::<T>(key) {
        Ok(v) => Ok(Some(v)),
        Err(e) => Err(invalid_value(key, &value, &expected(&e))),
    }
}

pub(super) fn value_to_string(key: &'static str, value: &Value) -> Result<String, ConfigError> {
    match value {
        Value::String(_, s) => Ok(s.clone()),
        Value::Char(_, c) => Ok(c.to_string()),
        Value::Bool(_, b) => Ok(b.to_string()),
        Value::Num(_, n) => Ok(num_to_string(n)),
        _ => Err(invalid_value(key, value, "expected a string")),
    }
}

/// Reads `key` as a string, accepting numbers and booleans as their text (figment parses
/// environment values and TOML has bare integers, so `SECRET_KEY = 12345` is `"12345"`).
/// `None` when absent; a [`ConfigError::Invalid`] naming the key for a list or table.
pub fn extract_string_key(
    figment: &Figment,
    key: &'static str,
) -> Result<Option<String>, ConfigError> {
    find_key(figment, key)?
        .map(|value| value_to_string(key, &value))
        .transpose()
}

/// Reads `key` as a list of strings; one string (or number) is a list of one. `None` when
/// absent; a [`ConfigError::Invalid`] naming the key for a table or nested list.
pub fn extract_string_list_key(
    figment: &Figment,
    key: &'static str,
) -> Result<Option<Vec<String>>, ConfigError> {
    const ALLOWED: &str = "expected a string or a list of strings";
    let Some(value) = find_key(figment, key)? else {
        return Ok(None);
    };
    let list = match &value {
        Value::Array(_, items) => items
            .iter()
            .map(|item| match item {
                Value::Array(..) | Value::Dict(..) | Value::Empty(..) => {
                    Err(invalid_value(key, &value, ALLOWED))
                }
                scalar => value_to_string(key, scalar),
            })
            .collect::<Result<Vec<_>, _>>()?,
        Value::Dict(..) => return Err(invalid_value(key, &value, ALLOWED)),
        scalar => vec![value_to_string(key, scalar)?],
    };
    Ok(Some(list))
}

/// Reads `key` as a boolean: `true`/`false`, the strings `"true"`/`"false"` in any case,
/// and `1`/`0` (as numbers or strings). `None` when absent; anything else is a
/// [`ConfigError::Invalid`] naming the key.
pub fn extract_bool_key(figment: &Figment, key: &'static str) -> Result<Option<bool>, ConfigError> {
    const ALLOWED: &str = "expected true or false (also 1 or 0)";
    let Some(value) = find_key(figment, key)? else {
        return Ok(None);
    };
    let parsed = match &value {
        Value::Bool(_, b) => Some(*b),
        Value::Num(_, n) => match num_int(n) {
            Some(1) => Some(true),
            Some(0) => Some(false),
            _ => None,
        },
        Value::String(_, s) => {
            let s = s.trim();
            if s.eq_ignore_ascii_case("true") || s == "1" {
                Some(true)
            } else if s.eq_ignore_ascii_case("false") || s == "0" {
                Some(false)
            } else {
                None
            }
        }
        _ => None,
    };
    parsed
        .map(Some)
        .ok_or_else(|| invalid_value(key, &value, ALLOWED))
}

/// A number of seconds (integer or float) or a duration string, as a [`Duration`].
pub(super) enum DurationValue {
    Exact(Duration),
    Negative,
    Unparsable,
}

pub(super) fn parse_duration_value(value: &Value) -> DurationValue {
    fn from_f64(f: f64) -> DurationValue {
        if f < 0.0 {
            DurationValue::Negative
        } else {
            Duration::try_from_secs_f64(f).map_or(DurationValue::Unparsable, DurationValue::Exact)
        }
    }
    fn from_i128(i: i128) -> DurationValue {
        match u64::try_from(i) {
            Ok(secs) => DurationValue::Exact(Duration::from_secs(secs)),
            Err(_) if i < 0 => DurationValue::Negative,
            Err(_) => DurationValue::Unparsable,
        }
    }
    match value {
        Value::Num(_, n) => match (num_int(n), n.to_f64()) {
            (Some(i), _) => from_i128(i),
            (None, Some(f)) => from_f64(f),
            (None, None) => DurationValue::Unparsable,
        },
        Value::String(_, s) => {
            let s = s.trim();
            if let Ok(i) = s.parse::<i128>() {
                from_i128(i)
            } else if let Ok(f) = s.parse::<f64>() {
                from_f64(f)
            } else if s.starts_with('-') {
                DurationValue::Negative
            } else {
                humantime::parse_duration(s).map_or(DurationValue::Unparsable, DurationValue::Exact)
            }
        }
        _ => DurationValue::Unparsable,
    }
}

/// Reads `key` as a duration: a number of seconds (integer or float, also as a string) or
/// a [`humantime`] duration string such as `"500ms"`, `"30s"` or `"1h 30m"`. Fractions are
/// kept. `None` when absent; a negative or unparsable value is a [`ConfigError::Invalid`]
/// naming the key. Zero is returned as is: the caller decides whether it is allowed.
///
/// For keys such as `SESSION_REDIS_CONNECT_TIMEOUT`.
pub fn extract_duration_key(
    figment: &Figment,
    key: &'static str,
) -> Result<Option<Duration>, ConfigError> {
    const ALLOWED: &str = "expected a non-negative number of seconds (e.g. 5 or 0.5) or a \
                           duration string (e.g. \"500ms\", \"1h 30m\")";
    let Some(value) = find_key(figment, key)? else {
        return Ok(None);
    };
    match parse_duration_value(&value) {
        DurationValue::Exact(d) => Ok(Some(d)),
        DurationValue::Negative | DurationValue::Unparsable => {
            Err(invalid_value(key, &value, ALLOWED))
        }
    }
}

/// Reads a timeout: like [`extract_duration_key`], but zero is refused too.
pub fn extract_timeout_key(
    figment: &Figment,
    key: &'static str,
) -> Result<Option<Duration>, ConfigError> {
    match extract_duration_key(figment, key)? {
        Some(timeout) if timeout.is_zero() => Err(ConfigError::Invalid {
            key,
            value: "0".to_owned(),
            allowed: "expected a positive number of seconds or a duration such as \"500ms\""
                .to_owned(),
        }),
        other => Ok(other),
    }
}

/// Reads a pool size: a whole number of connections, at least 1.
pub fn extract_pool_size_key(
    figment: &Figment,
    key: &'static str,
) -> Result<Option<usize>, ConfigError> {
    match extract_key::<usize>(figment, key)? {
        Some(0) => Err(ConfigError::Invalid {
            key,
            value: "0".to_owned(),
            allowed: "expected a whole number of connections, at least 1".to_owned(),
        }),
        other => Ok(other),
    }
}

/// `PERMANENT_SESSION_LIFETIME`, truncated to whole seconds as Flask does for the store.
pub(super) fn read_lifetime(figment: &Figment) -> Result<Option<Duration>, ConfigError> {
    read_lifetime_key(figment, "PERMANENT_SESSION_LIFETIME")
}

/// A lifetime key (`PERMANENT_SESSION_LIFETIME`, `SESSION_ABSOLUTE_LIFETIME`): seconds or a
/// duration string, truncated to whole seconds, from 1 second to `i32::MAX` seconds.
pub(super) fn read_lifetime_key(
    figment: &Figment,
    key: &'static str,
) -> Result<Option<Duration>, ConfigError> {
    let Some(value) = find_key(figment, key)? else {
        return Ok(None);
    };
    match parse_duration_value(&value) {
        DurationValue::Exact(d) if d.as_secs() >= 1 && d <= MAX_LIFETIME => {
            Ok(Some(Duration::from_secs(d.as_secs())))
        }
        _ => Err(invalid_value(key, &value, LIFETIME_ALLOWED)),
    }
}

/// An integer key (numbers or numeric strings), with the value kept for error messages.
pub(super) fn read_integer(
    figment: &Figment,
    key: &'static str,
    allowed: &str,
) -> Result<Option<(i128, String)>, ConfigError> {
    let Some(value) = find_key(figment, key)? else {
        return Ok(None);
    };
    let n = match &value {
        Value::Num(_, n) => num_int(n),
        Value::String(_, s) => s.trim().parse::<i128>().ok(),
        _ => None,
    };
    n.map(|n| Some((n, render(key, &value))))
        .ok_or_else(|| invalid_value(key, &value, allowed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_values_are_hidden_when_rendered() {
        let rendered = render("SECRET_KEY", &Value::from("hunter2"));
        assert!(!rendered.contains("hunter2"), "{rendered}");
        assert_eq!(render("SESSION_TYPE", &Value::from("x")), "\"x\"");
    }

    #[test]
    fn durations_parse_seconds_floats_and_humantime() {
        let secs = |v: Value| match parse_duration_value(&v) {
            DurationValue::Exact(d) => Some(d),
            _ => None,
        };
        assert_eq!(secs(Value::from(5u8)), Some(Duration::from_secs(5)));
        assert_eq!(secs(Value::from(0.25f64)), Some(Duration::from_millis(250)));
        assert_eq!(secs(Value::from(" 90 ")), Some(Duration::from_secs(90)));
        assert_eq!(secs(Value::from("2m")), Some(Duration::from_secs(120)));
        assert!(matches!(
            parse_duration_value(&Value::from(-1i8)),
            DurationValue::Negative
        ));
        assert!(matches!(
            parse_duration_value(&Value::from("-1h")),
            DurationValue::Negative
        ));
        assert!(secs(Value::from(f64::NAN)).is_none());
    }
}

/// The examples of this module's items, as unit tests (the items are crate-private).
#[cfg(test)]
mod doc_examples {
    #[test]
    fn extract_key_example() -> Result<(), crate::ConfigError> {
        use crate::config::extract_key;
        use figment::{
            Figment,
            providers::{Format, Toml},
        };

        let figment = Figment::from(Toml::string("SESSION_REDIS_POOL_SIZE = 8"));
        assert_eq!(
            extract_key::<u32>(&figment, "SESSION_REDIS_POOL_SIZE")?,
            Some(8)
        );
        assert_eq!(
            extract_key::<u32>(&figment, "SESSION_MEMCACHED_POOL_SIZE")?,
            None
        );

        let figment = Figment::from(Toml::string(r#"SESSION_REDIS_POOL_SIZE = "many""#));
        let err = extract_key::<u32>(&figment, "SESSION_REDIS_POOL_SIZE").unwrap_err();
        assert!(err.to_string().contains("SESSION_REDIS_POOL_SIZE"));
        Ok(())
    }

    #[test]
    fn extract_string_key_example() -> Result<(), crate::ConfigError> {
        use crate::config::extract_string_key;
        use figment::{
            Figment,
            providers::{Format, Toml},
        };

        let figment = Figment::from(Toml::string("SESSION_SQLALCHEMY_TABLE = 2024"));
        assert_eq!(
            extract_string_key(&figment, "SESSION_SQLALCHEMY_TABLE")?.as_deref(),
            Some("2024"),
        );
        Ok(())
    }

    #[test]
    fn extract_string_list_key_example() -> Result<(), crate::ConfigError> {
        use crate::config::extract_string_list_key;
        use figment::{
            Figment,
            providers::{Format, Toml},
        };

        let figment = Figment::from(Toml::string(r#"SESSION_MEMCACHED = "10.0.0.1:11211""#));
        assert_eq!(
            extract_string_list_key(&figment, "SESSION_MEMCACHED")?,
            Some(vec!["10.0.0.1:11211".to_owned()]),
        );
        Ok(())
    }

    #[test]
    fn extract_bool_key_example() -> Result<(), crate::ConfigError> {
        use crate::config::extract_bool_key;
        use figment::{
            Figment,
            providers::{Format, Toml},
        };

        let figment = Figment::from(Toml::string("SESSION_DYNAMODB_TABLE_EXISTS = 1"));
        assert_eq!(
            extract_bool_key(&figment, "SESSION_DYNAMODB_TABLE_EXISTS")?,
            Some(true)
        );
        Ok(())
    }

    #[test]
    fn extract_duration_key_example() -> Result<(), crate::ConfigError> {
        use crate::config::extract::extract_duration_key;
        use figment::{
            Figment,
            providers::{Format, Toml},
        };
        use std::time::Duration;

        let figment = Figment::from(Toml::string(
            r#"SESSION_REDIS_CONNECT_TIMEOUT = "1s 500ms""#,
        ));
        assert_eq!(
            extract_duration_key(&figment, "SESSION_REDIS_CONNECT_TIMEOUT")?,
            Some(Duration::from_millis(1500)),
        );
        Ok(())
    }
}
