//! Where the configuration comes from, and what the errors say about it: the session's own
//! file (strict), the application's configuration (its keys are its business), a
//! `[session]` table, and readable errors (`Debug` is the message; the file, the line and
//! the reason of a syntax error; where `Session.toml` was looked for).

// `figment::Jail` fixes its closure's error type to `figment::Error`.
#![allow(clippy::result_large_err)]

use std::error::Error as _;

use actix_flask_session::config::{SessionConfig, SessionEnv, SessionType};

/// The environment variable naming the configuration file (documented in `config`).
const CONFIG_PATH_ENV: &str = "ACTIX_FLASK_SESSION_CONFIG";
use actix_flask_session::{ConfigError, Session};
use figment::providers::{Format, Serialized, Toml};
use figment::{Figment, Jail};

const APP_TOML: &str = r#"
DATABASE_URL = "postgres://app@db/app"
DEBUG = true
WORKERS = 4
SESSION_TYPE = "filesystem"
SESSION_FILE_DIR = "sessions"
"#;

#[test]
fn the_app_s_own_keys_are_left_to_the_app() {
    Jail::expect_with(|jail| {
        jail.clear_env();
        jail.create_file("App.toml", APP_TOML)?;
        let figment = Figment::from(Toml::file("App.toml")).merge(SessionEnv::new());
        let config = SessionConfig::from_figment(&figment).expect("app keys are accepted");
        assert_eq!(
            config.session_type.map(SessionType::as_str),
            Some("filesystem")
        );
        // Keys from code too.
        let code = Figment::from(Serialized::defaults(serde_json::json!({
            "SESSION_TYPE": "redis",
            "secret_sauce": 42,
        })));
        SessionConfig::from_figment(&code).expect("app keys from code are accepted");
        Ok(())
    });
}

#[test]
fn session_like_keys_in_the_app_config_must_be_known() {
    for (line, key, suggestion) in [
        (
            "SESSION_COOKIE_SAMSITE = \"Lax\"",
            "SESSION_COOKIE_SAMSITE",
            Some("SESSION_COOKIE_SAMESITE"),
        ),
        (
            "PERMANENT_SESSION_LIFETME = 60",
            "PERMANENT_SESSION_LIFETME",
            Some("PERMANENT_SESSION_LIFETIME"),
        ),
        (
            "session_type = \"redis\"",
            "session_type",
            Some("SESSION_TYPE"),
        ),
        ("SESSION_MANAGER = \"x\"", "SESSION_MANAGER", None),
    ] {
        let figment = Figment::from(Toml::string(&format!("{APP_TOML}{line}\n")));
        let err = SessionConfig::from_figment(&figment).expect_err(line);
        match &err {
            ConfigError::UnknownKey {
                key: k,
                suggestion: s,
                ..
            } => {
                assert_eq!(k, key);
                assert_eq!(*s, suggestion);
            }
            other => panic!("{line}: expected UnknownKey, got {other}"),
        }
        assert!(
            !err.to_string().contains("holds only session keys"),
            "{err}"
        );
    }
}

#[test]
fn session_toml_holds_session_keys_only() {
    Jail::expect_with(|jail| {
        jail.clear_env();
        jail.create_file("Session.toml", APP_TOML)?;
        let err = SessionConfig::from_figment(&SessionConfig::figment()).expect_err("DATABASE_URL");
        let path = jail.directory().join("Session.toml");
        assert_eq!(
            err.to_string(),
            format!(
                "unknown key DATABASE_URL in session configuration file {}; the session \
                 configuration file holds only session keys (keep DATABASE_URL in the \
                 application's own configuration and pass that to Session::from_figment)",
                std::path::absolute(&path).expect("absolute").display()
            )
        );
        Ok(())
    });
}

#[test]
fn a_session_table_is_read_with_focus_and_the_environment_overrides_it() {
    Jail::expect_with(|jail| {
        jail.clear_env();
        jail.create_file(
            "App.toml",
            r#"
            database_url = "postgres://app@db/app"

            [session]
            SESSION_TYPE = "filesystem"
            SESSION_KEY_PREFIX = "app:"
            "#,
        )?;
        let figment = Figment::from(Toml::file("App.toml"));
        let config =
            SessionConfig::from_figment(&figment.focus("session").merge(SessionEnv::new()))
                .expect("valid");
        assert_eq!(
            config.session_type.map(SessionType::as_str),
            Some("filesystem")
        );
        assert_eq!(config.key_prefix, "app:");

        jail.set_env("SESSION_KEY_PREFIX", "env:");
        let config =
            SessionConfig::from_figment(&figment.focus("session").merge(SessionEnv::new()))
                .expect("valid");
        assert_eq!(config.key_prefix, "env:");

        // Forgetting `focus` says what to do.
        let err = SessionConfig::from_figment(&figment).expect_err("no top-level SESSION_TYPE");
        assert!(
            err.to_string().ends_with(
                "The configuration has a [session] table: pass figment.focus(\"session\") to \
                 read the keys inside it"
            ),
            "{err}"
        );
        Ok(())
    });
}

#[test]
fn a_session_table_builds_the_store_end_to_end() {
    Jail::expect_with(|jail| {
        jail.clear_env();
        jail.create_file(
            "App.toml",
            "workers = 2\n[session]\nSESSION_TYPE = \"filesystem\"\nSESSION_FILE_DIR = \"s\"\n",
        )?;
        let figment = Figment::from(Toml::file("App.toml")).focus("session");
        let session = actix_web::rt::System::new()
            .block_on(Session::from_figment(&figment))
            .expect("store from the [session] table");
        assert_eq!(session.interface().store().name(), "filesystem");
        assert!(jail.directory().join("s").is_dir());
        Ok(())
    });
}

#[test]
fn missing_session_type_says_where_session_toml_was_looked_for() {
    Jail::expect_with(|jail| {
        jail.clear_env();
        let err = SessionConfig::from_figment(&SessionConfig::figment()).expect_err("nothing set");
        let cwd = std::env::current_dir().expect("cwd");
        assert!(
            matches!(
                err,
                ConfigError::Missing {
                    key: "SESSION_TYPE",
                    ..
                }
            ),
            "{err}"
        );
        assert!(
            err.to_string().ends_with(&format!(
                "Read: the environment. No configuration file was read: Session.toml is looked \
                 for in the current directory ({}); create it there, set \
                 ACTIX_FLASK_SESSION_CONFIG to its path, or set the environment variable \
                 SESSION_TYPE",
                cwd.display()
            )),
            "{err}"
        );

        // With a file that lacks it, the file is named.
        jail.create_file("Session.toml", "SESSION_PERMANENT = false\n")?;
        let err = SessionConfig::from_figment(&SessionConfig::figment()).expect_err("not set");
        let path = std::path::absolute(jail.directory().join("Session.toml")).expect("absolute");
        assert!(
            err.to_string()
                .ends_with(&format!("Read: {}, the environment", path.display())),
            "{err}"
        );
        Ok(())
    });
}

#[test]
fn a_toml_syntax_error_names_the_file_the_line_and_the_reason() {
    Jail::expect_with(|jail| {
        jail.clear_env();
        jail.create_file(
            "Session.toml",
            "SESSION_TYPE = \"redis\"\nSESSION_KEY_PREFIX = app\n",
        )?;
        let err = SessionConfig::from_figment(&SessionConfig::figment()).expect_err("syntax");
        assert!(matches!(err, ConfigError::Figment(_)), "{err}");
        let path = std::path::absolute(jail.directory().join("Session.toml")).expect("absolute");
        let message = err.to_string();
        assert!(
            message.starts_with(&format!(
                "cannot read the session configuration from {}: TOML parse error at line 2, \
                 column 22\n",
                path.display()
            )),
            "{message}"
        );
        assert!(message.contains("SESSION_KEY_PREFIX = app"), "{message}");
        // Debug is the same readable text, not figment's structure.
        assert_eq!(format!("{err:?}"), message);
        Ok(())
    });
}

#[test]
fn a_missing_named_file_names_the_path_and_the_variable() {
    Jail::expect_with(|jail| {
        jail.clear_env();
        jail.set_env(CONFIG_PATH_ENV, "conf/prod.toml");
        let err = SessionConfig::from_figment(&SessionConfig::figment()).expect_err("missing");
        let path = std::path::absolute(jail.directory().join("conf/prod.toml")).expect("absolute");
        assert_eq!(
            err.to_string(),
            format!(
                "cannot read the session configuration from {}: \
                 ACTIX_FLASK_SESSION_CONFIG=conf/prod.toml names this file, which does not exist",
                path.display()
            )
        );
        // A directory is not a file.
        jail.create_dir("conf")?;
        jail.set_env(CONFIG_PATH_ENV, "conf");
        let err = SessionConfig::from_figment(&SessionConfig::figment()).expect_err("a directory");
        assert!(
            err.to_string()
                .ends_with("names this file, which is not a file"),
            "{err}"
        );
        Ok(())
    });
}

#[test]
fn debug_is_the_message_followed_by_its_causes() {
    let err = ConfigError::Backend {
        backend: "redis",
        message: "cannot reach Redis at redis://127.0.0.1:1/0 (SESSION_REDIS)".to_owned(),
        source: Some(Box::new(std::io::Error::new(
            std::io::ErrorKind::ConnectionRefused,
            "connection refused",
        ))),
    };
    assert!(err.source().is_some());
    assert_eq!(
        format!("{err:?}"),
        "cannot set up the redis session store: cannot reach Redis at redis://127.0.0.1:1/0 \
         (SESSION_REDIS)\n\nCaused by:\n    connection refused"
    );
    let invalid =
        SessionConfig::from_figment(&Figment::from(Toml::string("SESSION_TYPE = \"rediss\"")))
            .expect_err("invalid");
    assert_eq!(format!("{invalid:?}"), invalid.to_string());
    assert!(!format!("{invalid:?}").contains("Invalid {"), "{invalid:?}");
}

#[test]
fn a_selected_figment_profile_overrides_the_default_one() {
    let figment = Figment::from(
        Toml::string(
            r#"
            [default]
            SESSION_TYPE = "filesystem"
            SESSION_KEY_PREFIX = "dev:"

            [release]
            SESSION_KEY_PREFIX = "prod:"
            "#,
        )
        .nested(),
    );
    let dev = SessionConfig::from_figment(&figment).expect("default profile");
    assert_eq!(dev.key_prefix, "dev:");
    let release = SessionConfig::from_figment(&figment.select("release")).expect("release");
    assert_eq!(
        release.session_type.map(SessionType::as_str),
        Some("filesystem")
    );
    assert_eq!(release.key_prefix, "prod:");
}

#[test]
fn store_errors_debug_as_their_message_and_causes_too() {
    let err = actix_flask_session::StoreError::unavailable(
        "memcached",
        std::io::Error::new(std::io::ErrorKind::TimedOut, "timed out"),
    );
    assert_eq!(
        format!("{err:?}"),
        "the memcached session store is unavailable\n\nCaused by:\n    timed out"
    );
}

/// An error whose message repeats its source's, as some clients' errors do.
#[derive(Debug)]
struct Repeats(std::io::Error);

impl std::fmt::Display for Repeats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for Repeats {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

#[test]
fn a_cause_repeated_by_its_wrapper_is_printed_once() {
    let err = actix_flask_session::StoreError::unavailable(
        "redis",
        Repeats(std::io::Error::other("Connection refused (os error 111)")),
    );
    assert_eq!(
        format!("{err:?}"),
        "the redis session store is unavailable\n\nCaused by:\n    Connection refused (os error 111)"
    );
}
