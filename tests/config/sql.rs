//! `SESSION_TYPE = "sqlalchemy"` from configuration: URL sources, names, errors.
#![cfg(feature = "sqlite")]

use actix_flask_session::backends::sql::{
    Dialect, PoolOptions, SqlPool, SqlSettings, SqlTable, migrate,
};
use actix_flask_session::{ConfigError, Session};
use figment::Figment;
use figment::providers::{Format, Toml};

fn figment(toml: &str) -> Figment {
    Figment::from(Toml::string(toml))
}

#[actix_rt::test]
async fn session_type_sqlalchemy_builds_the_sql_store() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:///{}", dir.path().join("app.db").display());
    let pool = SqlPool::connect(&url, &PoolOptions::default())
        .await
        .unwrap();
    migrate::migrate(&pool, &SqlTable::new("flask_sessions").unwrap())
        .await
        .unwrap();
    for session_type in ["sqlalchemy", "sql", "SQLAlchemy"] {
        let session = Session::from_figment(&figment(&format!(
            r#"
            SESSION_TYPE = "{session_type}"
            SQLALCHEMY_DATABASE_URI = "{url}"
            SESSION_SQLALCHEMY_TABLE = "flask_sessions"
            SESSION_SQLALCHEMY_POOL_SIZE = 2
            SESSION_CLEANUP_N_REQUESTS = 100
            "#
        )))
        .await
        .unwrap_or_else(|e| panic!("{session_type}: {e}"));
        let store = session.interface().store();
        assert_eq!(store.name(), "sqlite");
        assert!(!store.has_native_ttl());
        assert!(
            store
                .create("session:cfg", b"\x80", std::time::Duration::from_secs(60))
                .await
                .unwrap()
        );
        assert_eq!(session.interface().cleanup().await.unwrap(), 0);
        store.delete("session:cfg").await.unwrap();
    }
}

#[test]
fn url_sources_in_flask_order() {
    let s = SqlSettings::from_figment(&figment(
        r#"
        SESSION_SQLALCHEMY = "postgresql://a@h/explicit"
        SQLALCHEMY_DATABASE_URI = "postgresql://a@h/default"
        "#,
    ))
    .unwrap();
    assert_eq!(
        (s.url.as_str(), s.url_key),
        ("postgresql://a@h/explicit", "SESSION_SQLALCHEMY")
    );
    let s = SqlSettings::from_figment(&figment(
        r#"
        SQLALCHEMY_DATABASE_URI = "postgresql://a@h/default"
        SQLALCHEMY_BINDS = { sessions = { url = "mysql://a@h/sessions", pool_recycle = 3600 } }
        SESSION_SQLALCHEMY_BIND_KEY = "sessions"
        "#,
    ))
    .unwrap();
    assert_eq!(
        (s.url.as_str(), s.url_key),
        ("mysql://a@h/sessions", "SQLALCHEMY_BINDS")
    );
    let s =
        SqlSettings::from_figment(&figment(r#"SQLALCHEMY_DATABASE_URI = "sqlite://""#)).unwrap();
    assert_eq!(s.table, SqlTable::default());
    assert_eq!(s.pool, PoolOptions::for_dialect(Dialect::Sqlite));
}

fn error(toml: &str) -> String {
    SqlSettings::from_figment(&figment(toml))
        .unwrap_err()
        .to_string()
}

#[test]
fn bad_values_are_startup_errors_naming_the_key() {
    let base = r#"SESSION_SQLALCHEMY = "postgresql://u:secret@h/db""#;
    let e = error("");
    assert!(e.contains("SESSION_SQLALCHEMY"), "{e}");
    let e = error(&format!(
        "{base}\nSESSION_SQLALCHEMY_TABLE = 'x\"; DROP TABLE users; --'"
    ));
    assert!(
        e.contains("SESSION_SQLALCHEMY_TABLE") && !e.contains("secret"),
        "{e}"
    );
    let e = error(&format!("{base}\nSESSION_SQLALCHEMY_SCHEMA = \"a.b\""));
    assert!(e.contains("SESSION_SQLALCHEMY_SCHEMA"), "{e}");
    let e = error(&format!("{base}\nSESSION_SQLALCHEMY_SEQUENCE = \"s'q\""));
    assert!(e.contains("SESSION_SQLALCHEMY_SEQUENCE"), "{e}");
    let e = error(&format!("{base}\nSESSION_SQLALCHEMY_POOL_SIZE = 0"));
    assert!(e.contains("SESSION_SQLALCHEMY_POOL_SIZE"), "{e}");
    let e = error(r#"SESSION_SQLALCHEMY = "oracle://scott:tiger@h/db""#);
    assert!(
        e.contains("SESSION_SQLALCHEMY") && !e.contains("tiger"),
        "{e}"
    );
    let e = error(
        r#"
        SQLALCHEMY_BINDS = { other = "sqlite://" }
        SESSION_SQLALCHEMY_BIND_KEY = "sessions"
        "#,
    );
    assert!(
        e.contains("SESSION_SQLALCHEMY_BIND_KEY") && e.contains("other"),
        "{e}"
    );
    let debug = format!("{:?}", SqlSettings::from_figment(&figment(base)).unwrap());
    assert!(!debug.contains("secret"), "{debug}");
}

#[actix_rt::test]
async fn missing_database_file_directory_is_a_startup_error() {
    let err = Session::from_figment(&figment(
        r#"
        SESSION_TYPE = "sqlalchemy"
        SESSION_SQLALCHEMY = "sqlite:////nonexistent-dir/afs/app.db"
        "#,
    ))
    .await
    .unwrap_err();
    assert!(matches!(err, ConfigError::Backend { .. }), "{err:?}");
}

/// Flask-Session's `session_id` column is `VARCHAR(255)`: a key prefix that, with the
/// configured id length, makes longer keys is a startup error naming the key (PostgreSQL
/// would refuse every new session, non-strict MySQL would cut the keys short).
#[actix_rt::test]
async fn keys_longer_than_the_session_id_column_are_refused_at_startup() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:///{}", dir.path().join("app.db").display());
    let pool = SqlPool::connect(&url, &PoolOptions::default())
        .await
        .unwrap();
    migrate::migrate(&pool, &SqlTable::default()).await.unwrap();
    // SESSION_ID_LENGTH = 32 gives 43-character ids.
    let config = |prefix_len: usize| {
        figment(&format!(
            "SESSION_TYPE = \"sqlalchemy\"\nSESSION_SQLALCHEMY = \"{url}\"\n\
             SESSION_KEY_PREFIX = \"{}\"\n",
            "k".repeat(prefix_len)
        ))
    };
    let err = Session::from_figment(&config(255 - 43 + 1))
        .await
        .expect_err("256-character keys");
    let message = err.to_string();
    assert!(
        message.starts_with("invalid value for SESSION_KEY_PREFIX: \"kkk")
            && message.contains(
                "the sqlite store cannot take its 256-byte keys: keys are 256 characters long; \
                 the session_id column is VARCHAR(255)"
            ),
        "{message}"
    );
    let session = Session::from_figment(&config(255 - 43))
        .await
        .expect("255-character keys");
    let key = format!("{}{}", "k".repeat(212), "A".repeat(43));
    let store = session.interface().store();
    assert!(
        store
            .create(&key, b"\x80", std::time::Duration::from_secs(60))
            .await
            .unwrap()
    );
    assert_eq!(store.load(&key, None).await.unwrap().unwrap(), b"\x80");
}

/// SQLite takes one writer at a time: its pool defaults to one connection, the server
/// databases' to ten; the key overrides either.
#[test]
fn pool_size_defaults_per_database() {
    let size = |toml: &str| {
        SqlSettings::from_figment(&figment(toml))
            .unwrap()
            .pool
            .max_size
    };
    assert_eq!(size(r#"SESSION_SQLALCHEMY = "sqlite:///sessions.db""#), 1);
    assert_eq!(size(r#"SESSION_SQLALCHEMY = "sqlite://""#), 1);
    assert_eq!(size(r#"SESSION_SQLALCHEMY = "postgresql://a@h/db""#), 10);
    assert_eq!(size(r#"SESSION_SQLALCHEMY = "mysql://a@h/db""#), 10);
    assert_eq!(
        size(
            r#"
            SESSION_SQLALCHEMY = "sqlite:///sessions.db"
            SESSION_SQLALCHEMY_POOL_SIZE = 4
            "#
        ),
        4
    );
    assert_eq!(
        SqlSettings::from_figment(&figment(r#"SESSION_SQLALCHEMY = "sqlite://""#))
            .unwrap()
            .pool,
        PoolOptions::for_dialect(Dialect::Sqlite)
    );
}
