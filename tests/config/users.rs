//! The keys of sessions per user and of the absolute lifetime: read, defaults, and bad
//! values refused at startup with the key, the value and what is allowed.

use std::time::Duration;

use actix_flask_session::ConfigError;
use actix_flask_session::config::SessionConfig;
use figment::Figment;
use figment::providers::{Format, Toml};

fn config(toml: &str) -> Result<SessionConfig, ConfigError> {
    SessionConfig::from_figment(&Figment::from(Toml::string(&format!(
        "SESSION_TYPE = \"filesystem\"\n{toml}"
    ))))
}

fn refused(toml: &str) -> (&'static str, String, String) {
    match config(toml) {
        Err(ConfigError::Invalid {
            key,
            value,
            allowed,
        }) => (key, value, allowed),
        other => panic!("{toml} was not refused as invalid: {other:?}"),
    }
}

#[test]
fn the_keys_are_read() {
    let c = config(
        "SESSION_USER_KEY = \"_user_id\"\nSESSION_MAX_PER_USER = 3\nSESSION_TRACK_CLIENT = true\n\
         SESSION_LAST_SEEN_INTERVAL = \"5m\"\nSESSION_ABSOLUTE_LIFETIME = \"12h\"",
    )
    .expect("valid");
    assert_eq!(c.user_key.as_deref(), Some("_user_id"));
    assert_eq!(c.max_per_user, Some(3));
    assert!(c.track_client);
    assert_eq!(c.last_seen_interval, Duration::from_secs(300));
    assert_eq!(c.absolute_lifetime, Some(Duration::from_secs(12 * 3600)));
    let d = config("").expect("valid");
    assert_eq!(
        (d.user_key, d.max_per_user, d.absolute_lifetime),
        (None, None, None)
    );
}

#[test]
fn bad_values_name_the_key_the_value_and_what_is_allowed() {
    let (key, value, allowed) = refused("SESSION_USER_KEY = \"u\"\nSESSION_MAX_PER_USER = 0");
    assert_eq!((key, value.as_str()), ("SESSION_MAX_PER_USER", "0"));
    assert!(allowed.contains("positive integer"), "{allowed}");
    let (key, _, allowed) = refused("SESSION_MAX_PER_USER = 2");
    assert_eq!(key, "SESSION_MAX_PER_USER");
    assert!(allowed.contains("SESSION_USER_KEY"), "{allowed}");
    let (key, value, allowed) = refused("SESSION_TRACK_CLIENT = true");
    assert_eq!((key, value.as_str()), ("SESSION_TRACK_CLIENT", "true"));
    assert!(allowed.contains("SESSION_USER_KEY"), "{allowed}");
    let (key, value, _) = refused("SESSION_USER_KEY = \"_permanent\"");
    assert_eq!(
        (key, value.as_str()),
        ("SESSION_USER_KEY", "\"_permanent\"")
    );
    let (key, value, allowed) = refused("SESSION_ABSOLUTE_LIFETIME = 0");
    assert_eq!((key, value.as_str()), ("SESSION_ABSOLUTE_LIFETIME", "0"));
    assert!(allowed.contains("at least 1 whole second"), "{allowed}");
    let (key, _, _) = refused("SESSION_LAST_SEEN_INTERVAL = \"soon\"");
    assert_eq!(key, "SESSION_LAST_SEEN_INTERVAL");
}
