//! `SESSION_REDIS_SENTINEL`: the store built from the key against the `redis-sentinel`
//! service of `scripts/services.sh` (`REDIS_SENTINEL_URLS`, `REDIS_SENTINEL_MASTER`), and
//! every bad value refused at startup with the key, the value and what is allowed.
#![cfg(feature = "redis-sentinel")]

use actix_flask_session::backends::redis::RedisSessionInterface;
use actix_flask_session::{ConfigError, SessionConfig, SessionStore};
use figment::{
    Figment,
    providers::{Format, Toml},
};

fn sentinel_urls() -> Vec<String> {
    match std::env::var("REDIS_SENTINEL_URLS") {
        Ok(list) => list.split(',').map(str::to_owned).collect(),
        Err(_) => (26379..=26381)
            .map(|p| format!("redis://127.0.0.1:{p}"))
            .collect(),
    }
}

fn master() -> String {
    std::env::var("REDIS_SENTINEL_MASTER").unwrap_or_else(|_| "mymaster".to_owned())
}

fn toml_list(urls: &[String]) -> String {
    urls.iter()
        .map(|u| format!("\"{u}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

async fn build(toml: &str) -> Result<RedisSessionInterface, ConfigError> {
    RedisSessionInterface::from_figment(
        &SessionConfig::default(),
        &Figment::from(Toml::string(toml)),
    )
    .await
}

#[actix_rt::test]
async fn from_figment_builds_a_sentinel_store() {
    let toml = format!(
        "SESSION_REDIS_SENTINEL = {{ master = \"{}\", nodes = [{}] }}\nSESSION_REDIS_POOL_SIZE = 2",
        master(),
        toml_list(&sentinel_urls())
    );
    let store = build(&toml).await.unwrap_or_else(|e| {
        panic!("Redis Sentinel is not reachable: {e}; start the services with scripts/test.sh")
    });
    assert_eq!(store.name(), "redis-sentinel");
    assert!(!store.is_cluster());
    assert_eq!(store.connections(), 2);
    let key = format!("ha-sentinel-cfg-{}", std::process::id());
    assert!(
        store
            .create(&key, b"v1", std::time::Duration::from_secs(60))
            .await
            .expect("create on the master")
    );
    assert_eq!(
        store.load(&key, None).await.expect("load"),
        Some(b"v1".to_vec())
    );
    assert!(store.remove(&key).await.expect("remove"));
}

fn invalid(err: &ConfigError) -> (&'static str, String, String) {
    match err {
        ConfigError::Invalid {
            key,
            value,
            allowed,
        } => (key, value.clone(), allowed.clone()),
        other => panic!("expected ConfigError::Invalid, got {other:?}"),
    }
}

#[actix_rt::test]
async fn bad_sentinel_values_fail_at_startup() {
    let nodes = toml_list(&sentinel_urls());

    let err = build(&format!(
        "SESSION_REDIS_SENTINEL = {{ master = \"\", nodes = [{nodes}] }}"
    ))
    .await
    .unwrap_err();
    let (key, value, allowed) = invalid(&err);
    assert_eq!(key, "SESSION_REDIS_SENTINEL");
    assert_eq!(value, "master = \"\"");
    assert!(allowed.contains("master group's name"), "{allowed}");

    let err = build("SESSION_REDIS_SENTINEL = { master = \"mymaster\", nodes = [] }")
        .await
        .unwrap_err();
    assert_eq!(invalid(&err).0, "SESSION_REDIS_SENTINEL");
    assert_eq!(invalid(&err).1, "nodes = []");

    let err = build(
        "SESSION_REDIS_SENTINEL = { master = \"mymaster\", nodes = [\"http://127.0.0.1:26379\"] }",
    )
    .await
    .unwrap_err();
    let (key, value, allowed) = invalid(&err);
    assert_eq!(key, "SESSION_REDIS_SENTINEL");
    assert_eq!(value, "http://127.0.0.1:26379");
    assert!(allowed.contains("redis://"), "{allowed}");

    let err = build(&format!(
        "SESSION_REDIS_SENTINEL = {{ master = \"mymaster\", nodes = [{nodes}], db = -1 }}"
    ))
    .await
    .unwrap_err();
    assert_eq!(invalid(&err).1, "db = -1");

    // An unknown field names the key and what is accepted.
    let err = build(&format!(
        "SESSION_REDIS_SENTINEL = {{ master = \"mymaster\", nodes = [{nodes}], quorum = 2 }}"
    ))
    .await
    .unwrap_err();
    let text = err.to_string();
    assert!(text.contains("SESSION_REDIS_SENTINEL"), "{text}");
    assert!(text.contains("quorum"), "{text}");

    // A string where a table belongs.
    let err = build("SESSION_REDIS_SENTINEL = \"redis://127.0.0.1:26379\"")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("SESSION_REDIS_SENTINEL"), "{err}");

    // Together with SESSION_REDIS or SESSION_REDIS_CLUSTER.
    for other in [
        "SESSION_REDIS = \"redis://127.0.0.1:6379\"",
        "SESSION_REDIS_CLUSTER = [\"redis://127.0.0.1:7000\"]",
    ] {
        let err = build(&format!(
            "{other}\nSESSION_REDIS_SENTINEL = {{ master = \"mymaster\", nodes = [{nodes}] }}"
        ))
        .await
        .unwrap_err();
        let (key, _, allowed) = invalid(&err);
        assert_eq!(key, "SESSION_REDIS_SENTINEL");
        assert!(allowed.contains("exactly one of"), "{allowed}");
    }

    // A master group the sentinels do not know: a startup error, not a store that fails
    // later.
    let err = build(&format!(
        "SESSION_REDIS_SENTINEL = {{ master = \"no-such-group\", nodes = [{nodes}] }}"
    ))
    .await
    .unwrap_err();
    let text = err.to_string();
    assert!(text.contains("\"no-such-group\""), "{text}");
    assert!(text.contains("SESSION_REDIS_SENTINEL"), "{text}");
}
