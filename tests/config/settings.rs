//! The configuration: Flask-Session's keys and defaults, the default sources (Session.toml
//! and environment variables), validation and unknown keys.

// `figment::Jail` fixes its closure's error type to `figment::Error`.
#![allow(clippy::result_large_err)]

use std::time::Duration;

use actix_flask_session::ConfigError;
use actix_flask_session::config::{SameSite, SerializationFormat, SessionConfig, SessionType};

/// The environment variable naming the configuration file (documented in `config`).
const CONFIG_PATH_ENV: &str = "ACTIX_FLASK_SESSION_CONFIG";
use figment::providers::{Format, Serialized, Toml};
use figment::{Figment, Jail};

fn from_toml(toml: &str) -> Result<SessionConfig, ConfigError> {
    SessionConfig::from_figment(&Figment::from(Toml::string(toml)))
}

/// A configuration with `SESSION_TYPE` set plus the given lines.
fn with(lines: &str) -> Result<SessionConfig, ConfigError> {
    from_toml(&format!("SESSION_TYPE = \"redis\"\n{lines}"))
}

fn ok(lines: &str) -> SessionConfig {
    with(lines).unwrap_or_else(|e| panic!("{lines:?} should be accepted: {e}"))
}

/// Asserts an `Invalid` error for `key` whose value and allowed text contain the fragments,
/// and whose message names all three.
#[track_caller]
fn assert_invalid(
    result: Result<SessionConfig, ConfigError>,
    key: &str,
    value: &str,
    allowed: &str,
) {
    let err = result.expect_err("configuration should be rejected");
    let message = err.to_string();
    match &err {
        ConfigError::Invalid {
            key: k,
            value: v,
            allowed: a,
        } => {
            assert_eq!(*k, key, "{message}");
            assert!(v.contains(value), "value {v:?} should contain {value:?}");
            assert!(
                a.contains(allowed),
                "allowed {a:?} should contain {allowed:?}"
            );
        }
        other => panic!("expected Invalid for {key}, got {other:?}"),
    }
    assert!(message.contains(key), "{message}");
    assert!(message.contains(value), "{message}");
    assert!(message.contains(allowed), "{message}");
}

// --- defaults -----------------------------------------------------------------------------

#[test]
fn absent_keys_get_flask_session_defaults() {
    let c = from_toml(r#"SESSION_TYPE = "filesystem""#).expect("valid");
    assert_eq!(c.session_type.map(SessionType::as_str), Some("filesystem"));
    assert!(c.permanent);
    assert!(!c.use_signer);
    assert_eq!(c.key_prefix, "session:");
    assert_eq!(c.id_length, 32);
    assert_eq!(c.serialization_format, SerializationFormat::MsgPack);
    assert_eq!(c.cleanup_n_requests, None);
    assert_eq!(c.secret_key, None);
    assert!(c.secret_key_fallbacks.is_empty());
    assert_eq!(c.cookie_name, "session");
    assert_eq!(c.cookie_domain, None);
    assert_eq!(c.cookie_path, "/");
    assert!(c.cookie_httponly);
    assert!(!c.cookie_secure);
    assert_eq!(c.cookie_samesite, None);
    assert!(!c.cookie_partitioned);
    assert_eq!(c.lifetime, Duration::from_secs(31 * 24 * 3600));
    assert!(c.refresh_each_request);
}

#[test]
fn the_default_config_is_valid_when_built_in_code() {
    SessionConfig::default()
        .validate()
        .expect("defaults are valid");
}

#[test]
fn every_core_key_is_read() {
    let c = from_toml(
        r#"
        SESSION_TYPE = "memcached"
        SESSION_PERMANENT = false
        SESSION_USE_SIGNER = true
        SESSION_KEY_PREFIX = "app:"
        SESSION_ID_LENGTH = 48
        SESSION_SERIALIZATION_FORMAT = "json"
        SESSION_CLEANUP_N_REQUESTS = 100
        SECRET_KEY = "new"
        SECRET_KEY_FALLBACKS = ["old", "older"]
        SESSION_COOKIE_NAME = "sid"
        SESSION_COOKIE_DOMAIN = "example.com"
        SESSION_COOKIE_PATH = "/app"
        SESSION_COOKIE_HTTPONLY = false
        SESSION_COOKIE_SECURE = true
        SESSION_COOKIE_SAMESITE = "None"
        SESSION_COOKIE_PARTITIONED = true
        PERMANENT_SESSION_LIFETIME = 600
        SESSION_REFRESH_EACH_REQUEST = false
        APPLICATION_ROOT = "/ignored"
        "#,
    )
    .expect("valid");
    assert_eq!(c.session_type.map(SessionType::as_str), Some("memcached"));
    assert!(!c.permanent);
    assert!(c.use_signer);
    assert_eq!(c.key_prefix, "app:");
    assert_eq!(c.id_length, 48);
    assert_eq!(c.serialization_format, SerializationFormat::Json);
    assert_eq!(c.cleanup_n_requests, Some(100));
    assert_eq!(c.secret_key.as_deref(), Some("new"));
    assert_eq!(c.secret_key_fallbacks, ["old", "older"]);
    assert_eq!(c.cookie_name, "sid");
    assert_eq!(c.cookie_domain.as_deref(), Some("example.com"));
    assert_eq!(c.cookie_path, "/app");
    assert!(!c.cookie_httponly);
    assert!(c.cookie_secure);
    assert_eq!(c.cookie_samesite, Some(SameSite::None));
    assert!(c.cookie_partitioned);
    assert_eq!(c.lifetime, Duration::from_secs(600));
    assert!(!c.refresh_each_request);
}

// --- SESSION_TYPE -------------------------------------------------------------------------

#[test]
fn session_type_is_required_and_the_error_lists_the_values() {
    let err = from_toml("SESSION_PERMANENT = true").expect_err("SESSION_TYPE is required");
    assert!(
        matches!(
            err,
            ConfigError::Missing {
                key: "SESSION_TYPE",
                ..
            }
        ),
        "{err:?}"
    );
    let message = err.to_string();
    for name in [
        "redis",
        "memcached",
        "filesystem",
        "cachelib",
        "mongodb",
        "sqlalchemy",
        "dynamodb",
    ] {
        assert!(message.contains(name), "{message}");
    }
}

#[test]
fn session_type_is_case_insensitive_and_accepts_sql() {
    let parse = |v: &str| from_toml(&format!("SESSION_TYPE = {v:?}")).map(|c| c.session_type);
    let name = |v: &str| parse(v).ok().flatten().map(SessionType::as_str);
    assert_eq!(name("REDIS"), Some("redis"));
    assert_eq!(name("sql"), Some("sqlalchemy"));
    assert_eq!(name("SqlAlchemy"), Some("sqlalchemy"));
    for t in SessionType::all() {
        assert_eq!(parse(t.as_str()).ok(), Some(Some(t)));
    }
}

#[test]
fn unknown_session_type_is_rejected_with_the_valid_values() {
    assert_invalid(
        from_toml(r#"SESSION_TYPE = "null""#),
        "SESSION_TYPE",
        "\"null\"",
        "one of filesystem, cachelib, redis",
    );
    assert_invalid(
        from_toml("SESSION_TYPE = 3"),
        "SESSION_TYPE",
        "\"3\"",
        "dynamodb",
    );
    assert_invalid(
        from_toml("SESSION_TYPE = []"),
        "SESSION_TYPE",
        "[]",
        "a string",
    );
}

// --- serialization format -----------------------------------------------------------------

#[test]
fn serialization_format_is_msgpack_or_json_exactly() {
    assert_eq!(
        ok(r#"SESSION_SERIALIZATION_FORMAT = "json""#).serialization_format,
        SerializationFormat::Json
    );
    assert_eq!(
        ok(r#"SESSION_SERIALIZATION_FORMAT = "msgpack""#).serialization_format,
        SerializationFormat::MsgPack
    );
    assert_invalid(
        with(r#"SESSION_SERIALIZATION_FORMAT = "JSON""#),
        "SESSION_SERIALIZATION_FORMAT",
        "\"JSON\"",
        "\"msgpack\" or \"json\"",
    );
    assert_invalid(
        with(r#"SESSION_SERIALIZATION_FORMAT = "pickle""#),
        "SESSION_SERIALIZATION_FORMAT",
        "\"pickle\"",
        "\"msgpack\" or \"json\"",
    );
}

// --- PERMANENT_SESSION_LIFETIME -----------------------------------------------------------

#[test]
fn lifetime_accepts_seconds_and_duration_strings() {
    let lifetime = |v: &str| ok(&format!("PERMANENT_SESSION_LIFETIME = {v}")).lifetime;
    assert_eq!(lifetime("3600"), Duration::from_secs(3600));
    assert_eq!(lifetime("\"31d\""), Duration::from_secs(31 * 24 * 3600));
    assert_eq!(lifetime("\"1h 30m\""), Duration::from_secs(5400));
    assert_eq!(lifetime("\"45\""), Duration::from_secs(45));
    assert_eq!(lifetime("\"1500ms\""), Duration::from_secs(1));
}

#[test]
fn lifetime_fractions_are_truncated_like_flask() {
    let c = ok("PERMANENT_SESSION_LIFETIME = 1.9");
    assert_eq!(c.lifetime, Duration::from_secs(1));
}

#[test]
fn lifetime_must_be_at_least_one_second() {
    let allowed = "at least 1 whole second";
    assert_invalid(
        with("PERMANENT_SESSION_LIFETIME = 0"),
        "PERMANENT_SESSION_LIFETIME",
        "0",
        allowed,
    );
    assert_invalid(
        with("PERMANENT_SESSION_LIFETIME = -5"),
        "PERMANENT_SESSION_LIFETIME",
        "-5",
        allowed,
    );
    assert_invalid(
        with("PERMANENT_SESSION_LIFETIME = 0.5"),
        "PERMANENT_SESSION_LIFETIME",
        "0.5",
        allowed,
    );
    assert_invalid(
        with(r#"PERMANENT_SESSION_LIFETIME = "900ms""#),
        "PERMANENT_SESSION_LIFETIME",
        "\"900ms\"",
        allowed,
    );
    assert_invalid(
        with(r#"PERMANENT_SESSION_LIFETIME = "soon""#),
        "PERMANENT_SESSION_LIFETIME",
        "\"soon\"",
        "duration string",
    );
    assert_invalid(
        with("PERMANENT_SESSION_LIFETIME = 99999999999"),
        "PERMANENT_SESSION_LIFETIME",
        "99999999999",
        "at most 2147483647 seconds",
    );
}

#[test]
fn validate_rejects_a_sub_second_lifetime_built_in_code() {
    let mut c = SessionConfig::default();
    c.lifetime = Duration::from_millis(500);
    let err = c.validate().expect_err("0 whole seconds");
    assert!(
        err.to_string().contains("PERMANENT_SESSION_LIFETIME"),
        "{err}"
    );
    assert!(err.to_string().contains("500ms"), "{err}");
}

// --- SESSION_MAX_SIZE ---------------------------------------------------------------------

#[test]
fn max_size_is_a_number_of_bytes_of_at_least_1024() {
    assert_eq!(ok("").max_size, 1024 * 1024);
    assert_eq!(ok("SESSION_MAX_SIZE = 1024").max_size, 1024);
    assert_eq!(
        ok(r#"SESSION_MAX_SIZE = "4194304""#).max_size,
        4 * 1024 * 1024
    );
    let allowed = "a number of bytes, at least 1024";
    assert_invalid(
        with("SESSION_MAX_SIZE = 1023"),
        "SESSION_MAX_SIZE",
        "1023",
        allowed,
    );
    assert_invalid(
        with("SESSION_MAX_SIZE = -1"),
        "SESSION_MAX_SIZE",
        "-1",
        allowed,
    );
    assert_invalid(
        with(r#"SESSION_MAX_SIZE = "1MB""#),
        "SESSION_MAX_SIZE",
        "1MB",
        allowed,
    );
    let mut c = SessionConfig::default();
    c.max_size = 1023;
    let err = c.validate().expect_err("too small");
    assert!(err.to_string().contains("SESSION_MAX_SIZE"), "{err}");
    assert!(err.to_string().contains("1023"), "{err}");
}

// --- SESSION_ID_LENGTH --------------------------------------------------------------------

#[test]
fn id_length_is_16_to_256() {
    assert_eq!(ok("SESSION_ID_LENGTH = 16").id_length, 16);
    assert_eq!(ok("SESSION_ID_LENGTH = 256").id_length, 256);
    let allowed = "from 16 to 256";
    assert_invalid(
        with("SESSION_ID_LENGTH = 15"),
        "SESSION_ID_LENGTH",
        "15",
        allowed,
    );
    assert_invalid(
        with("SESSION_ID_LENGTH = 257"),
        "SESSION_ID_LENGTH",
        "257",
        allowed,
    );
    assert_invalid(
        with("SESSION_ID_LENGTH = 0"),
        "SESSION_ID_LENGTH",
        "0",
        allowed,
    );
    assert_invalid(
        with("SESSION_ID_LENGTH = -32"),
        "SESSION_ID_LENGTH",
        "-32",
        allowed,
    );
    assert_invalid(
        with(r#"SESSION_ID_LENGTH = "long""#),
        "SESSION_ID_LENGTH",
        "\"long\"",
        allowed,
    );
    assert_invalid(
        with("SESSION_ID_LENGTH = 32.5"),
        "SESSION_ID_LENGTH",
        "32.5",
        allowed,
    );

    let mut c = SessionConfig::default();
    c.id_length = 8;
    assert!(c.validate().is_err());
}

// --- signing ------------------------------------------------------------------------------

#[test]
fn use_signer_needs_a_secret_key() {
    for lines in [
        "SESSION_USE_SIGNER = true",
        "SESSION_USE_SIGNER = true\nSECRET_KEY = \"\"",
    ] {
        let err = with(lines).expect_err("no secret");
        assert!(
            matches!(
                err,
                ConfigError::Missing {
                    key: "SECRET_KEY",
                    ..
                }
            ),
            "{err:?}"
        );
        let message = err.to_string();
        assert!(
            message.contains("SECRET_KEY") && message.contains("SESSION_USE_SIGNER"),
            "{message}"
        );
    }
    let c = ok("SESSION_USE_SIGNER = true\nSECRET_KEY = \"s3cret\"");
    assert_eq!(c.secret_key.as_deref(), Some("s3cret"));
}

#[test]
fn secret_key_fallbacks_take_a_list_or_one_string() {
    assert_eq!(
        ok(r#"SECRET_KEY_FALLBACKS = ["a", "b"]"#).secret_key_fallbacks,
        ["a", "b"]
    );
    assert_eq!(
        ok(r#"SECRET_KEY_FALLBACKS = "old""#).secret_key_fallbacks,
        ["old"]
    );
    assert_eq!(
        ok(r#"SECRET_KEY_FALLBACKS = [1, "b"]"#).secret_key_fallbacks,
        ["1", "b"]
    );
    assert_invalid(
        with(r#"SECRET_KEY_FALLBACKS = ["a", ""]"#),
        "SECRET_KEY_FALLBACKS",
        "empty key",
        "non-empty keys",
    );
    assert_invalid(
        with(r#"SECRET_KEY_FALLBACKS = { key = "v" }"#),
        "SECRET_KEY_FALLBACKS",
        "<hidden",
        "a string or a list of strings",
    );
}

#[test]
fn secrets_never_appear_in_error_messages() {
    let err = with(r#"SECRET_KEY = ["hunter2"]"#).expect_err("a list is not a key");
    let message = err.to_string();
    assert!(
        message.contains("SECRET_KEY") && message.contains("expected a string"),
        "{message}"
    );
    assert!(!message.contains("hunter2"), "{message}");
}

#[test]
fn secret_key_given_as_a_number_is_its_text() {
    assert_eq!(
        ok("SECRET_KEY = 12345").secret_key.as_deref(),
        Some("12345")
    );
}

// --- cookie -------------------------------------------------------------------------------

#[test]
fn samesite_is_strict_lax_or_none_in_any_case() {
    assert_eq!(
        ok(r#"SESSION_COOKIE_SAMESITE = "lax""#).cookie_samesite,
        Some(SameSite::Lax)
    );
    assert_eq!(
        ok(r#"SESSION_COOKIE_SAMESITE = "STRICT""#).cookie_samesite,
        Some(SameSite::Strict)
    );
    assert_eq!(
        ok("SESSION_COOKIE_SAMESITE = \"none\"\nSESSION_COOKIE_SECURE = true").cookie_samesite,
        Some(SameSite::None)
    );
    assert_eq!(ok(r#"SESSION_COOKIE_SAMESITE = """#).cookie_samesite, None);
    assert_eq!(ok("SESSION_COOKIE_SAMESITE = false").cookie_samesite, None);
    assert_invalid(
        with(r#"SESSION_COOKIE_SAMESITE = "sometimes""#),
        "SESSION_COOKIE_SAMESITE",
        "\"sometimes\"",
        "\"Strict\", \"Lax\" or \"None\"",
    );
}

#[test]
fn samesite_none_needs_secure() {
    assert_invalid(
        with(r#"SESSION_COOKIE_SAMESITE = "None""#),
        "SESSION_COOKIE_SAMESITE",
        "\"None\"",
        "needs SESSION_COOKIE_SECURE = true",
    );
}

#[test]
fn partitioned_needs_secure() {
    assert_invalid(
        with("SESSION_COOKIE_PARTITIONED = true"),
        "SESSION_COOKIE_PARTITIONED",
        "true",
        "needs SESSION_COOKIE_SECURE = true",
    );
    assert!(
        ok("SESSION_COOKIE_PARTITIONED = true\nSESSION_COOKIE_SECURE = true").cookie_partitioned
    );
}

#[test]
fn cookie_path_falls_back_to_application_root() {
    assert_eq!(ok(r#"APPLICATION_ROOT = "/app""#).cookie_path, "/app");
    assert_eq!(
        ok("APPLICATION_ROOT = \"/app\"\nSESSION_COOKIE_PATH = \"/other\"").cookie_path,
        "/other"
    );
    assert_eq!(
        ok("APPLICATION_ROOT = \"/app\"\nSESSION_COOKIE_PATH = \"\"").cookie_path,
        "/app"
    );
    assert_invalid(
        with(r#"SESSION_COOKIE_PATH = "app""#),
        "SESSION_COOKIE_PATH",
        "\"app\"",
        "starting with '/'",
    );
    assert_invalid(
        with(r#"SESSION_COOKIE_PATH = "/; Domain=evil""#),
        "SESSION_COOKIE_PATH",
        "Domain=evil",
        "';'",
    );
}

#[test]
fn cookie_name_must_be_a_cookie_token() {
    assert_eq!(
        ok(r#"SESSION_COOKIE_NAME = "my-session_1""#).cookie_name,
        "my-session_1"
    );
    for bad in ["", "my session", "a;b", "a=b", "a,b"] {
        assert_invalid(
            with(&format!("SESSION_COOKIE_NAME = {bad:?}")),
            "SESSION_COOKIE_NAME",
            &format!("{bad:?}"),
            "cookie name",
        );
    }
}

#[test]
fn host_and_secure_prefixed_cookie_names_need_what_browsers_require() {
    assert_invalid(
        with(r#"SESSION_COOKIE_NAME = "__Host-session""#),
        "SESSION_COOKIE_NAME",
        "__Host-",
        "__Host-",
    );
    assert_invalid(
        with(r#"SESSION_COOKIE_NAME = "__Secure-session""#),
        "SESSION_COOKIE_NAME",
        "__Secure-",
        "SESSION_COOKIE_SECURE",
    );
    ok("SESSION_COOKIE_NAME = \"__Host-session\"\nSESSION_COOKIE_SECURE = true");
}

#[test]
fn cookie_domain_empty_means_host_only_and_cannot_inject_attributes() {
    assert_eq!(ok(r#"SESSION_COOKIE_DOMAIN = """#).cookie_domain, None);
    assert_invalid(
        with(r#"SESSION_COOKIE_DOMAIN = "a.com; Secure""#),
        "SESSION_COOKIE_DOMAIN",
        "a.com; Secure",
        "without whitespace",
    );
}

#[test]
fn key_prefix_cannot_contain_whitespace() {
    assert_eq!(ok(r#"SESSION_KEY_PREFIX = "app:""#).key_prefix, "app:");
    assert_eq!(ok(r#"SESSION_KEY_PREFIX = """#).key_prefix, "");
    assert_invalid(
        with(r#"SESSION_KEY_PREFIX = "my app:""#),
        "SESSION_KEY_PREFIX",
        "\"my app:\"",
        "without whitespace",
    );
}

// --- cleanup ------------------------------------------------------------------------------

#[test]
fn cleanup_n_requests_zero_means_none() {
    assert_eq!(
        ok("SESSION_CLEANUP_N_REQUESTS = 0").cleanup_n_requests,
        None
    );
    assert_eq!(
        ok("SESSION_CLEANUP_N_REQUESTS = 10").cleanup_n_requests,
        Some(10)
    );
    assert_invalid(
        with("SESSION_CLEANUP_N_REQUESTS = -1"),
        "SESSION_CLEANUP_N_REQUESTS",
        "-1",
        "a positive integer",
    );
    let mut c = SessionConfig::default();
    c.cleanup_n_requests = Some(0);
    assert!(c.validate().is_err());
}

// --- types --------------------------------------------------------------------------------

#[test]
fn booleans_accept_true_false_and_one_zero() {
    assert!(!ok("SESSION_PERMANENT = 0").permanent);
    assert!(!ok(r#"SESSION_PERMANENT = "False""#).permanent);
    assert!(ok(r#"SESSION_COOKIE_SECURE = "1""#).cookie_secure);
    assert_invalid(
        with(r#"SESSION_PERMANENT = "maybe""#),
        "SESSION_PERMANENT",
        "\"maybe\"",
        "true or false",
    );
    assert_invalid(
        with("SESSION_PERMANENT = 2"),
        "SESSION_PERMANENT",
        "2",
        "true or false",
    );
}

#[test]
fn type_errors_name_the_key() {
    assert_invalid(
        with("SESSION_KEY_PREFIX = [1, 2]"),
        "SESSION_KEY_PREFIX",
        "[1,2]",
        "expected a string",
    );
    assert_invalid(
        with("SESSION_COOKIE_NAME = { a = 1 }"),
        "SESSION_COOKIE_NAME",
        "{\"a\":1}",
        "expected a string",
    );
}

#[test]
fn a_toml_syntax_error_is_a_figment_error() {
    let err = from_toml("SESSION_TYPE = ").expect_err("syntax error");
    assert!(matches!(err, ConfigError::Figment(_)), "{err:?}");
}

// --- unknown keys -------------------------------------------------------------------------

#[test]
fn unknown_key_in_a_file_is_an_error_with_a_suggestion() {
    Jail::expect_with(|jail| {
        jail.clear_env();
        jail.create_file(
            "Session.toml",
            "SESSION_TYPE = \"redis\"\nSESSION_TPYE = \"redis\"\n",
        )?;
        let err = SessionConfig::from_figment(&SessionConfig::figment()).expect_err("typo");
        match &err {
            ConfigError::UnknownKey {
                key,
                source_name,
                suggestion,
            } => {
                assert_eq!(key, "SESSION_TPYE");
                assert!(source_name.contains("Session.toml"), "{source_name}");
                assert_eq!(*suggestion, Some("SESSION_TYPE"));
            }
            other => panic!("expected UnknownKey, got {other:?}"),
        }
        let message = err.to_string();
        assert!(
            message.contains("SESSION_TPYE") && message.contains("did you mean SESSION_TYPE?"),
            "{message}"
        );
        Ok(())
    });
}

#[test]
fn unknown_key_is_reported_before_the_missing_session_type() {
    let err = from_toml(r#"SESSION_TPYE = "redis""#).expect_err("typo");
    assert!(
        err.to_string().contains("did you mean SESSION_TYPE?"),
        "{err}"
    );
}

#[test]
fn lowercase_key_in_a_file_suggests_the_uppercase_one() {
    let err = with("session_cookie_secure = true").expect_err("keys are case-sensitive");
    assert!(
        err.to_string()
            .contains("did you mean SESSION_COOKIE_SECURE?"),
        "{err}"
    );
}

#[test]
fn unknown_key_far_from_any_has_no_suggestion() {
    let err = with("SESSION_MANAGER = true").expect_err("unknown");
    assert!(
        matches!(&err, ConfigError::UnknownKey { key, suggestion: None, .. } if key == "SESSION_MANAGER"),
        "{err}"
    );
    assert!(!err.to_string().contains("did you mean"), "{err}");
}

#[test]
fn unknown_key_from_code_is_an_error() {
    let figment = Figment::from(Serialized::defaults(serde_json::json!({
        "SESSION_TYPE": "redis",
        "SESSION_REDIS_URL": "redis://localhost",
    })));
    let err = SessionConfig::from_figment(&figment).expect_err("unknown");
    assert!(
        matches!(&err, ConfigError::UnknownKey { key, .. } if key == "SESSION_REDIS_URL"),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("did you mean SESSION_REDIS?"),
        "{err}"
    );
}

// --- default sources: Session.toml + environment --------------------------------------------

#[test]
fn environment_overrides_the_file() {
    Jail::expect_with(|jail| {
        jail.clear_env();
        jail.create_file(
            "Session.toml",
            r#"
            SESSION_TYPE = "filesystem"
            SESSION_KEY_PREFIX = "file:"
            SESSION_PERMANENT = true
            "#,
        )?;
        jail.set_env("SESSION_TYPE", "REDIS");
        jail.set_env("SESSION_PERMANENT", "false");
        let c = SessionConfig::from_figment(&SessionConfig::figment()).expect("valid");
        assert_eq!(c.session_type.map(SessionType::as_str), Some("redis"));
        assert!(!c.permanent);
        assert_eq!(c.key_prefix, "file:");
        Ok(())
    });
}

#[test]
fn environment_alone_is_enough_without_a_file() {
    Jail::expect_with(|jail| {
        jail.clear_env();
        jail.set_env("SESSION_TYPE", "sql");
        jail.set_env("PERMANENT_SESSION_LIFETIME", "45");
        jail.set_env("SESSION_COOKIE_SECURE", "1");
        let c = SessionConfig::from_figment(&SessionConfig::figment()).expect("valid");
        assert_eq!(c.session_type.map(SessionType::as_str), Some("sqlalchemy"));
        assert_eq!(c.lifetime, Duration::from_secs(45));
        assert!(c.cookie_secure);
        Ok(())
    });
}

#[test]
fn lifetime_from_the_environment_as_seconds_or_duration() {
    Jail::expect_with(|jail| {
        jail.clear_env();
        jail.set_env("SESSION_TYPE", "redis");
        for (raw, secs) in [("3600", 3600), ("31d", 31 * 24 * 3600), ("1h 30m", 5400)] {
            jail.set_env("PERMANENT_SESSION_LIFETIME", raw);
            let c = SessionConfig::from_figment(&SessionConfig::figment()).expect("valid");
            assert_eq!(c.lifetime, Duration::from_secs(secs), "{raw}");
        }
        Ok(())
    });
}

#[test]
fn secret_key_from_the_environment_keeps_its_exact_text() {
    Jail::expect_with(|jail| {
        jail.clear_env();
        jail.set_env("SESSION_TYPE", "redis");
        jail.set_env("SESSION_USE_SIGNER", "true");
        for raw in ["12345", "007", "1.50", "true", "\"quoted\""] {
            jail.set_env("SECRET_KEY", raw);
            let c = SessionConfig::from_figment(&SessionConfig::figment()).expect("valid");
            assert_eq!(c.secret_key.as_deref(), Some(raw));
        }
        Ok(())
    });
}

#[test]
fn secret_key_fallbacks_from_the_environment() {
    Jail::expect_with(|jail| {
        jail.clear_env();
        jail.set_env("SESSION_TYPE", "redis");
        jail.set_env("SECRET_KEY_FALLBACKS", "0123");
        let c = SessionConfig::from_figment(&SessionConfig::figment()).expect("valid");
        assert_eq!(c.secret_key_fallbacks, ["0123"]);
        jail.set_env("SECRET_KEY_FALLBACKS", r#"["old", "older"]"#);
        let c = SessionConfig::from_figment(&SessionConfig::figment()).expect("valid");
        assert_eq!(c.secret_key_fallbacks, ["old", "older"]);
        Ok(())
    });
}

#[test]
fn unknown_session_variables_in_the_environment_are_ignored() {
    Jail::expect_with(|jail| {
        jail.clear_env();
        jail.set_env("SESSION_TYPE", "redis");
        jail.set_env("SESSION_MANAGER", "local/host:@/tmp/.ICE-unix/1234");
        jail.set_env("SESSION_TPYE", "memcached");
        let figment = SessionConfig::figment();
        assert!(!figment.contains("SESSION_MANAGER"));
        assert!(!figment.contains("SESSION_TPYE"));
        let c = SessionConfig::from_figment(&figment).expect("only a warning");
        assert_eq!(c.session_type.map(SessionType::as_str), Some("redis"));
        Ok(())
    });
}

#[test]
fn unknown_keys_from_a_generic_env_provider_only_warn() {
    Jail::expect_with(|jail| {
        jail.clear_env();
        jail.set_env("SESSION_TYPE", "redis");
        jail.set_env("SESSION_MANAGER", "x");
        let figment = Figment::new().merge(figment::providers::Env::raw().lowercase(false));
        let c = SessionConfig::from_figment(&figment).expect("env keys only warn");
        assert_eq!(c.session_type.map(SessionType::as_str), Some("redis"));
        Ok(())
    });
}

#[test]
fn environment_names_are_case_sensitive() {
    Jail::expect_with(|jail| {
        jail.clear_env();
        jail.set_env("session_type", "redis");
        let err = SessionConfig::from_figment(&SessionConfig::figment()).expect_err("not read");
        assert!(
            matches!(
                err,
                ConfigError::Missing {
                    key: "SESSION_TYPE",
                    ..
                }
            ),
            "{err:?}"
        );
        Ok(())
    });
}

#[test]
fn config_path_variable_selects_the_file() {
    Jail::expect_with(|jail| {
        jail.clear_env();
        jail.create_file("Session.toml", r#"SESSION_TYPE = "filesystem""#)?;
        jail.create_dir("conf")?;
        jail.create_file("conf/prod.toml", r#"SESSION_TYPE = "mongodb""#)?;
        jail.set_env(CONFIG_PATH_ENV, "conf/prod.toml");
        let c = SessionConfig::from_figment(&SessionConfig::figment()).expect("valid");
        assert_eq!(c.session_type.map(SessionType::as_str), Some("mongodb"));

        jail.set_env(CONFIG_PATH_ENV, "conf/missing.toml");
        let err = SessionConfig::from_figment(&SessionConfig::figment()).expect_err("missing file");
        assert!(matches!(err, ConfigError::Figment(_)), "{err:?}");
        Ok(())
    });
}
