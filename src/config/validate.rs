//! The rules a configuration obeys, whether it was read or built in code.

use std::fmt;

use super::{MAX_ID_LENGTH, MAX_LIFETIME, MIN_ID_LENGTH, MIN_MAX_SIZE, SameSite, SessionConfig};
use crate::error::ConfigError;

impl SessionConfig {
    /// Checks the rules [`SessionConfig::from_figment`] applies, for configurations built
    /// in code ([`ServerSideSessionInterface::new`](crate::ServerSideSessionInterface::new)
    /// calls it). `session_type` may be `None` here.
    ///
    /// Rules: `id_length` in 16..=256; `lifetime` at least 1 whole second and at most
    /// `i32::MAX` seconds, and so is `absolute_lifetime` when set; `use_signer` needs a non-empty `secret_key`; fallback keys are
    /// non-empty; `cleanup_n_requests` is not `Some(0)`; `max_size` is at least 1024;
    /// `key_prefix` has no whitespace or
    /// control characters; `cookie_name` is a cookie token (and `__Host-`/`__Secure-`
    /// names get what browsers require of them); `cookie_domain` and `cookie_path` cannot
    /// inject cookie attributes and the path starts with `/`; `SameSite=None` and
    /// `Partitioned` need `cookie_secure`.
    ///
    /// ```
    /// use actix_flask_session::config::{SameSite, SessionConfig};
    ///
    /// let mut config = SessionConfig::default();
    /// config.cookie_samesite = Some(SameSite::None);
    /// assert!(config.validate().is_err()); // SameSite=None needs Secure
    /// config.cookie_secure = true;
    /// assert!(config.validate().is_ok());
    /// ```
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !(MIN_ID_LENGTH..=MAX_ID_LENGTH).contains(&self.id_length) {
            return Err(invalid(
                "SESSION_ID_LENGTH",
                self.id_length,
                ID_LENGTH_ALLOWED,
            ));
        }
        if self.lifetime.as_secs() == 0 || self.lifetime > MAX_LIFETIME {
            return Err(invalid(
                "PERMANENT_SESSION_LIFETIME",
                humantime::format_duration(self.lifetime),
                LIFETIME_ALLOWED,
            ));
        }
        if let Some(absolute) = self.absolute_lifetime
            && (absolute.as_secs() == 0 || absolute > MAX_LIFETIME)
        {
            return Err(invalid(
                "SESSION_ABSOLUTE_LIFETIME",
                humantime::format_duration(absolute),
                LIFETIME_ALLOWED,
            ));
        }
        self.validate_users()?;
        if self.use_signer && self.secret_key.as_deref().is_none_or(str::is_empty) {
            return Err(ConfigError::Missing {
                key: "SECRET_KEY",
                hint: "SESSION_USE_SIGNER = true signs the session cookie with SECRET_KEY; set a \
                       long random SECRET_KEY or turn SESSION_USE_SIGNER off"
                    .to_owned(),
            });
        }
        if self.secret_key_fallbacks.iter().any(String::is_empty) {
            return Err(invalid(
                "SECRET_KEY_FALLBACKS",
                "a list with an empty key",
                "expected non-empty keys (an empty key signs nothing)",
            ));
        }
        if self.cleanup_n_requests == Some(0) {
            return Err(invalid("SESSION_CLEANUP_N_REQUESTS", 0, CLEANUP_ALLOWED));
        }
        if self.max_size < MIN_MAX_SIZE {
            return Err(invalid("SESSION_MAX_SIZE", self.max_size, MAX_SIZE_ALLOWED));
        }
        if self
            .key_prefix
            .chars()
            .any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(invalid(
                "SESSION_KEY_PREFIX",
                format!("{:?}", self.key_prefix),
                "expected a prefix without whitespace or control characters (memcached and \
                 other stores reject such keys)",
            ));
        }
        self.validate_cookie()
    }

    fn validate_users(&self) -> Result<(), ConfigError> {
        if let Some(max) = self.max_per_user {
            if max == 0 {
                return Err(invalid("SESSION_MAX_PER_USER", 0, MAX_PER_USER_ALLOWED));
            }
            if self.user_key.is_none() {
                return Err(invalid("SESSION_MAX_PER_USER", max, MAX_PER_USER_ALLOWED));
            }
        }
        if self.track_client && self.user_key.is_none() {
            return Err(invalid(
                "SESSION_TRACK_CLIENT",
                true,
                "client details are kept in the per-user index: set SESSION_USER_KEY too, or \
                 leave SESSION_TRACK_CLIENT false",
            ));
        }
        if let Some(key) = &self.user_key
            && (key.is_empty() || key == "_permanent" || key == "_session_created")
        {
            return Err(invalid(
                "SESSION_USER_KEY",
                format!("{key:?}"),
                "expected the name of the session key that holds the user id (Flask-Login: \
                 \"_user_id\"), not a key the session keeps for itself",
            ));
        }
        if self.last_seen_interval.as_secs() == 0 || self.last_seen_interval > MAX_LIFETIME {
            return Err(invalid(
                "SESSION_LAST_SEEN_INTERVAL",
                humantime::format_duration(self.last_seen_interval),
                LIFETIME_ALLOWED,
            ));
        }
        Ok(())
    }

    fn validate_cookie(&self) -> Result<(), ConfigError> {
        let name = &self.cookie_name;
        if name.is_empty() || !name.bytes().all(is_cookie_name_byte) {
            return Err(invalid(
                "SESSION_COOKIE_NAME",
                format!("{name:?}"),
                "expected a non-empty cookie name of visible ASCII characters without \
                 whitespace or any of ()<>@,;:\\\"/[]?={}",
            ));
        }
        if name.starts_with("__Secure-") && !self.cookie_secure {
            return Err(invalid(
                "SESSION_COOKIE_NAME",
                format!("{name:?}"),
                "a __Secure- cookie needs SESSION_COOKIE_SECURE = true (browsers drop it otherwise)",
            ));
        }
        if name.starts_with("__Host-")
            && (!self.cookie_secure || self.cookie_domain.is_some() || self.cookie_path != "/")
        {
            return Err(invalid(
                "SESSION_COOKIE_NAME",
                format!("{name:?}"),
                "a __Host- cookie needs SESSION_COOKIE_SECURE = true, no SESSION_COOKIE_DOMAIN \
                 and the path \"/\" (browsers drop it otherwise)",
            ));
        }
        if let Some(domain) = &self.cookie_domain
            && (domain.is_empty() || !domain.bytes().all(is_cookie_attribute_byte))
        {
            return Err(invalid(
                "SESSION_COOKIE_DOMAIN",
                format!("{domain:?}"),
                "expected a domain name without whitespace, control characters or ';' \
                 (leave the key out for a host-only cookie)",
            ));
        }
        let path = &self.cookie_path;
        if !path.starts_with('/') || !path.bytes().all(is_cookie_attribute_byte) {
            let key = "SESSION_COOKIE_PATH";
            return Err(invalid(
                key,
                format!("{path:?}"),
                "expected a path starting with '/' without whitespace, control characters or \
                 ';' (SESSION_COOKIE_PATH falls back to APPLICATION_ROOT, then \"/\")",
            ));
        }
        if self.cookie_samesite == Some(SameSite::None) && !self.cookie_secure {
            return Err(invalid(
                "SESSION_COOKIE_SAMESITE",
                "\"None\"",
                "SameSite=None needs SESSION_COOKIE_SECURE = true (browsers reject the cookie \
                 otherwise); use \"Lax\" or \"Strict\", or turn Secure on",
            ));
        }
        if self.cookie_partitioned && !self.cookie_secure {
            return Err(invalid(
                "SESSION_COOKIE_PARTITIONED",
                true,
                "Partitioned needs SESSION_COOKIE_SECURE = true (browsers reject the cookie \
                 otherwise)",
            ));
        }
        Ok(())
    }
}

pub(super) const ID_LENGTH_ALLOWED: &str =
    "expected an integer from 16 to 256 (random bytes; 32 gives 43-character ids)";
pub(super) const MAX_SIZE_ALLOWED: &str =
    "expected a number of bytes, at least 1024 (default 1048576)";
pub(super) const MAX_PER_USER_ALLOWED: &str =
    "expected a positive integer (leave the key out for no limit); it needs SESSION_USER_KEY";
pub(super) const CLEANUP_ALLOWED: &str =
    "expected a positive integer (0 or no key: no cleanup on requests)";
pub(super) const LIFETIME_ALLOWED: &str = "expected a number of seconds (e.g. 2678400) or a duration \
                                string (e.g. \"31d\", \"1h 30m\"), at least 1 whole second and \
                                at most 2147483647 seconds";

/// RFC 6265 cookie-name characters (an RFC 7230 token).
pub(super) fn is_cookie_name_byte(b: u8) -> bool {
    b.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?={}".contains(&b)
}

/// Characters that cannot break out of a cookie attribute value.
pub(super) fn is_cookie_attribute_byte(b: u8) -> bool {
    b.is_ascii_graphic() && b != b';' && b != b','
}

pub(super) fn invalid(key: &'static str, value: impl fmt::Display, allowed: &str) -> ConfigError {
    ConfigError::Invalid {
        key,
        value: value.to_string(),
        allowed: allowed.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookie_name_bytes_are_rfc_6265_tokens() {
        assert!(
            b"__Host-session_1.x"
                .iter()
                .all(|b| is_cookie_name_byte(*b))
        );
        for b in b" ;=,\"()\t\x7f" {
            assert!(!is_cookie_name_byte(*b), "{b}");
        }
    }
}
