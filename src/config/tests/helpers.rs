//! The configuration's internal helpers on real input: every declared key is known to the
//! unknown-key check and shown in `Session.toml.example`, did-you-mean suggestions, and the
//! extraction helpers the backends read their keys with.

use std::time::Duration;

use figment::Figment;
use figment::providers::{Format, Toml};

use crate::config::extract::extract_duration_key;
use crate::config::{
    SessionConfig, extract_bool_key, extract_key, extract_string_key, extract_string_list_key,
    keys, suggest_key,
};
use crate::error::ConfigError;

fn from_toml(toml: &str) -> Result<SessionConfig, ConfigError> {
    SessionConfig::from_figment(&Figment::from(Toml::string(toml)))
}

#[test]
fn every_key_of_the_registry_is_known() {
    // A file with every key passes the unknown-key check (values are the backends' business,
    // so give each the string "x", except the core keys, which must be valid).
    let mut toml = String::from("SESSION_TYPE = \"redis\"\n");
    for key in keys::all_keys().filter(|k| !keys::CORE_KEYS.iter().any(|c| c.name == *k)) {
        toml.push_str(&format!("{key} = \"x\"\n"));
    }
    from_toml(&toml).expect("every backend key is known");
}

#[test]
fn suggestions_are_for_close_names_only() {
    assert_eq!(suggest_key("SESSION_TPYE"), Some("SESSION_TYPE"));
    assert_eq!(
        suggest_key("SESSION_COOKIE_SAMSITE"),
        Some("SESSION_COOKIE_SAMESITE")
    );
    assert_eq!(
        suggest_key("PERMANENT_SESSION_LIFETME"),
        Some("PERMANENT_SESSION_LIFETIME")
    );
    assert_eq!(suggest_key("SESSION_MANAGER"), None);
    assert_eq!(suggest_key("HOME"), None);
}

#[test]
fn extract_helpers_return_none_when_absent_and_name_the_key_on_errors() {
    let figment = Figment::from(Toml::string(
        r#"
        SESSION_REDIS_POOL_SIZE = "eight"
        SESSION_REDIS_CONNECT_TIMEOUT = "250ms"
        SESSION_REDIS_RESPONSE_TIMEOUT = -1
        SESSION_MEMCACHED = ["a:11211", "b:11211"]
        SESSION_DYNAMODB_TABLE_EXISTS = "yes"
        SESSION_MONGODB_DB = 42
        "#,
    ));
    assert_eq!(
        extract_key::<u32>(&figment, "SESSION_MEMCACHED_POOL_SIZE").expect("absent"),
        None
    );
    let err = extract_key::<u32>(&figment, "SESSION_REDIS_POOL_SIZE").expect_err("not a number");
    let message = err.to_string();
    assert!(
        message.contains("SESSION_REDIS_POOL_SIZE")
            && message.contains("\"eight\"")
            && message.contains("u32"),
        "{message}"
    );
    assert_eq!(
        extract_duration_key(&figment, "SESSION_REDIS_CONNECT_TIMEOUT").expect("valid"),
        Some(Duration::from_millis(250))
    );
    let err =
        extract_duration_key(&figment, "SESSION_REDIS_RESPONSE_TIMEOUT").expect_err("negative");
    assert!(
        err.to_string().contains("SESSION_REDIS_RESPONSE_TIMEOUT"),
        "{err}"
    );
    assert_eq!(
        extract_string_list_key(&figment, "SESSION_MEMCACHED").expect("valid"),
        Some(vec!["a:11211".to_owned(), "b:11211".to_owned()])
    );
    let err = extract_bool_key(&figment, "SESSION_DYNAMODB_TABLE_EXISTS").expect_err("not a bool");
    assert!(
        err.to_string().contains("SESSION_DYNAMODB_TABLE_EXISTS"),
        "{err}"
    );
    assert_eq!(
        extract_string_key(&figment, "SESSION_MONGODB_DB")
            .expect("valid")
            .as_deref(),
        Some("42")
    );
}

#[test]
fn extract_key_reads_tables_and_names_the_nested_field() {
    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct CacheLib {
        r#type: String,
        threshold: Option<u32>,
    }
    let figment = Figment::from(Toml::string(
        r#"SESSION_CACHELIB = { type = "simple", threshold = 10 }"#,
    ));
    let cache = extract_key::<CacheLib>(&figment, "SESSION_CACHELIB")
        .expect("valid")
        .expect("present");
    assert_eq!(cache.r#type, "simple");

    let figment = Figment::from(Toml::string(
        r#"SESSION_CACHELIB = { type = "simple", threshold = "x" }"#,
    ));
    let err = extract_key::<CacheLib>(&figment, "SESSION_CACHELIB").expect_err("bad threshold");
    let message = err.to_string();
    assert!(
        message.contains("SESSION_CACHELIB") && message.contains("threshold"),
        "{message}"
    );
}

#[test]
fn the_example_file_documents_every_key_and_is_valid_when_uncommented() {
    let example = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/Session.toml.example"));
    let uncommented: String = example
        .lines()
        .filter_map(|line| line.strip_prefix("# "))
        .filter(|line| {
            line.split_once(" = ").is_some_and(|(key, _)| {
                !key.is_empty() && key.bytes().all(|b| b.is_ascii_uppercase() || b == b'_')
            })
        })
        .map(|line| format!("{line}\n"))
        .collect();
    for key in keys::all_keys() {
        assert!(
            uncommented
                .lines()
                .any(|line| line.starts_with(&format!("{key} = "))),
            "{key} is missing from Session.toml.example"
        );
    }
    from_toml(&uncommented).expect("the example is a valid configuration");
}
