//! Values of the file engine's keys (`SESSION_FILE_DIR`, `SESSION_FILE_THRESHOLD`,
//! `SESSION_FILE_MODE` and the same fields of `SESSION_CACHELIB`).

use std::path::PathBuf;

use figment::value::Value;

use crate::error::ConfigError;

/// Checks a file mode: at most `0o777`, with the owner's read and write bits.
pub(crate) fn check_mode(mode: u32, key: &'static str) -> Result<(), ConfigError> {
    if mode > 0o777 {
        return Err(ConfigError::Invalid {
            key,
            value: format!("{mode} (= {mode:#o})"),
            allowed: format!(
                "permission bits between 0o600 and 0o777 that include the owner's read and write bits; \
                 this looks like the octal digits written as a decimal number (Flask-Session issue #83): \
                 TOML accepts octal literals, write {key} = 0o{mode} (or the decimal value, e.g. 384 for 0o600)"
            ),
        });
    }
    if mode & 0o600 != 0o600 {
        return Err(ConfigError::Invalid {
            key,
            value: format!("{mode} (= {mode:#o})"),
            allowed: format!(
                "permission bits that include the owner's read and write bits (0o600), or the sessions \
                 cannot be read back; TOML accepts octal literals, e.g. {key} = 0o600"
            ),
        });
    }
    Ok(())
}

/// A figment value as an integer, accepting numbers and numeric strings (environment).
pub(crate) fn value_to_i128(value: &Value) -> Option<i128> {
    if let Some(num) = value.to_num() {
        return num
            .to_i128()
            .or_else(|| num.to_u128().and_then(|n| i128::try_from(n).ok()));
    }
    value.as_str().and_then(|s| s.trim().parse().ok())
}

/// Parses a threshold (a non-negative integer).
pub(crate) fn parse_threshold(value: &Value, key: &'static str) -> Result<usize, ConfigError> {
    value_to_i128(value)
        .and_then(|n| usize::try_from(n).ok())
        .ok_or_else(|| ConfigError::Invalid {
            key,
            value: describe(value),
            allowed: "a non-negative integer number of files (0 = no limit)".to_owned(),
        })
}

/// Parses a mode: an integer (TOML `0o600` or decimal `384`) or a string with an explicit
/// octal prefix (`"0o600"`, `"0600"`, as environment variables are written).
pub(crate) fn parse_mode(value: &Value, key: &'static str) -> Result<u32, ConfigError> {
    let invalid = || ConfigError::Invalid {
        key,
        value: describe(value),
        allowed: format!(
            "file permission bits as an integer; TOML accepts octal literals: {key} = 0o600 \
             (a string needs an octal prefix, e.g. \"0o600\" or \"0600\")"
        ),
    };
    let mode = if let Some(s) = value.as_str() {
        let s = s.trim();
        let digits = s.strip_prefix("0o").or_else(|| s.strip_prefix("0O"));
        match digits {
            Some(d) => u32::from_str_radix(d, 8).map_err(|_| invalid())?,
            None if s.len() > 1 && s.starts_with('0') => {
                u32::from_str_radix(&s[1..], 8).map_err(|_| invalid())?
            }
            None => s.parse::<u32>().map_err(|_| invalid())?,
        }
    } else {
        value_to_i128(value)
            .and_then(|n| u32::try_from(n).ok())
            .ok_or_else(invalid)?
    };
    check_mode(mode, key)?;
    Ok(mode)
}

/// Parses a directory path (a non-empty string).
pub(crate) fn parse_dir(value: &Value, key: &'static str) -> Result<PathBuf, ConfigError> {
    match value.as_str() {
        Some(s) if !s.trim().is_empty() => Ok(PathBuf::from(s)),
        _ => Err(ConfigError::Invalid {
            key,
            value: describe(value),
            allowed: "a directory path as a non-empty string".to_owned(),
        }),
    }
}

/// A short rendering of a configuration value for error messages.
pub(crate) fn describe(value: &Value) -> String {
    if let Some(s) = value.as_str() {
        return format!("{s:?}");
    }
    if let Some(n) = value_to_i128(value) {
        return n.to_string();
    }
    format!("{value:?}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_are_checked() {
        assert!(check_mode(0o600, "SESSION_FILE_MODE").is_ok());
        assert!(check_mode(0o640, "SESSION_FILE_MODE").is_ok());
        let err = check_mode(700, "SESSION_FILE_MODE")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("SESSION_FILE_MODE") && err.contains("0o"),
            "{err}"
        );
        assert!(check_mode(0o400, "SESSION_FILE_MODE").is_err());
        assert_eq!(parse_mode(&Value::from("0o640"), "K").unwrap(), 0o640);
        assert_eq!(parse_mode(&Value::from("0600"), "K").unwrap(), 0o600);
        assert_eq!(parse_mode(&Value::from(384u32), "K").unwrap(), 0o600);
        assert!(parse_mode(&Value::from(700u32), "K").is_err());
    }
}
