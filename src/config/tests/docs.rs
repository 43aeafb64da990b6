//! The key declarations (the core's in `src/config/keys.rs`, each backend's in its module,
//! joined by `keys::all`) are the one source of the configuration keys and their defaults:
//! the README's key table and `Session.toml.example` must show exactly those keys and
//! defaults, and each documented default must be what the code applies.

// `figment::Jail` fixes its closure's error type to `figment::Error`.
#![allow(clippy::result_large_err)]

use std::collections::BTreeMap;

use crate::ConfigError;
use crate::config::keys::{self, Key, KeyDefault};
use crate::config::{SessionConfig, SessionType};
use figment::Figment;
use figment::providers::{Format, Toml};

const README: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"));
const EXAMPLE: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/Session.toml.example"));

/// The rows of the README's "Configuration keys" table: key -> default cell.
fn readme_table() -> Vec<(String, String)> {
    let start = README
        .find("## Configuration keys")
        .expect("README has a \"Configuration keys\" section");
    let section = &README[start..];
    let end = section[3..].find("\n## ").map_or(section.len(), |i| i + 3);
    section[..end]
        .lines()
        .filter(|line| line.starts_with("| `"))
        .map(|line| {
            let cells: Vec<&str> = line.split(" | ").collect();
            assert!(cells.len() >= 3, "README row without 3 cells: {line}");
            let key = cells[0].trim_start_matches("| ");
            assert!(
                key.starts_with('`') && key.ends_with('`') && key.matches('`').count() == 2,
                "README rows name one key each: {line}"
            );
            (key.trim_matches('`').to_owned(), cells[1].to_owned())
        })
        .collect()
}

/// What the README's Default cell must say for this default.
fn readme_cell(default: KeyDefault) -> String {
    match default {
        KeyDefault::Required => "— (required)".to_owned(),
        KeyDefault::Unset => "—".to_owned(),
        KeyDefault::Value(toml) => format!("`{toml}`"),
        KeyDefault::Described(words) => words.to_owned(),
    }
}

#[test]
fn the_readme_key_table_lists_every_key_once_in_order_with_its_default() {
    let rows = readme_table();
    let names: Vec<&str> = rows.iter().map(|(k, _)| k.as_str()).collect();
    let expected: Vec<&str> = keys::all_keys().collect();
    assert_eq!(names, expected, "README key table vs src/config/keys.rs");
    for ((name, cell), key) in rows.iter().zip(keys::all()) {
        // Words may be formatted as code in the README.
        let shown = match key.default {
            KeyDefault::Described(_) => cell.replace('`', ""),
            _ => cell.clone(),
        };
        assert_eq!(
            shown,
            readme_cell(key.default),
            "README default of {name} differs from src/config/keys.rs"
        );
    }
}

/// `Session.toml.example`: key -> (the commented-out value, the comment paragraph above).
fn example_entries() -> BTreeMap<String, (String, String)> {
    let mut entries = BTreeMap::new();
    let mut paragraph = String::new();
    for line in EXAMPLE.lines() {
        let Some(text) = line.strip_prefix('#') else {
            paragraph.clear();
            continue;
        };
        let text = text.strip_prefix(' ').unwrap_or(text);
        let assignment = text.split_once(" = ").filter(|(key, _)| {
            !key.is_empty() && key.bytes().all(|b| b.is_ascii_uppercase() || b == b'_')
        });
        match assignment {
            Some((key, value)) => {
                // A trailing comment (`# = 2678400`) is not part of the value.
                let value = value.split("   #").next().unwrap_or(value).trim_end();
                let previous = entries.insert(
                    key.to_owned(),
                    (value.to_owned(), paragraph.trim().to_owned()),
                );
                assert!(
                    previous.is_none(),
                    "{key} appears twice in Session.toml.example"
                );
                paragraph.clear();
            }
            None => {
                paragraph.push(' ');
                paragraph.push_str(text);
            }
        }
    }
    entries
}

#[test]
fn the_example_file_shows_every_key_with_its_default() {
    let entries = example_entries();
    let documented: Vec<&str> = entries.keys().map(String::as_str).collect();
    let mut expected: Vec<&str> = keys::all_keys().collect();
    expected.sort_unstable();
    assert_eq!(
        documented, expected,
        "Session.toml.example vs src/config/keys.rs"
    );
    for key in keys::all() {
        let (value, comment) = &entries[key.name];
        match key.default {
            KeyDefault::Value(toml) => assert_eq!(
                value, toml,
                "Session.toml.example must show {} = its default",
                key.name
            ),
            KeyDefault::Required => assert!(
                comment.contains("Required: there is no default."),
                "Session.toml.example must say that {} is required: {comment:?}",
                key.name
            ),
            KeyDefault::Unset => assert!(
                comment.contains("Default: none"),
                "Session.toml.example must say \"Default: none\" above {}: {comment:?}",
                key.name
            ),
            KeyDefault::Described(words) => assert!(
                comment.contains(&format!("Default: {words}.")),
                "Session.toml.example must say \"Default: {words}.\" above {}: {comment:?}",
                key.name
            ),
        }
    }
}

// --- the code applies the documented defaults ------------------------------------------

fn key(name: &str) -> &'static Key {
    keys::find(name).unwrap_or_else(|| panic!("{name} is not in src/config/keys.rs"))
}

/// The documented TOML value of a key with a fixed default.
fn documented(name: &str) -> &'static str {
    match key(name).default {
        KeyDefault::Value(toml) => toml,
        other => panic!("{name} has no fixed default: {other:?}"),
    }
}

/// The documented default of `name`, read as TOML into `T`.
fn documented_as<T: serde::de::DeserializeOwned>(name: &str) -> T {
    Figment::from(Toml::string(&format!("{name} = {}", documented(name))))
        .extract_inner(name)
        .unwrap_or_else(|e| panic!("the documented default of {name} is not valid TOML: {e}"))
}

#[cfg(feature = "redis")]
fn humantime(name: &str) -> std::time::Duration {
    humantime::parse_duration(&documented_as::<String>(name)).expect("a duration")
}

fn config(toml: &str) -> Result<SessionConfig, ConfigError> {
    SessionConfig::from_figment(&Figment::from(Toml::string(toml)))
}

#[test]
fn core_defaults_are_what_an_absent_key_gives() {
    let base = "SESSION_TYPE = \"filesystem\"\n";
    let absent = format!("{:?}", config(base).expect("valid"));
    for key in keys::CORE_KEYS {
        match key.default {
            KeyDefault::Value(toml) => {
                let explicit = config(&format!("{base}{} = {toml}\n", key.name))
                    .unwrap_or_else(|e| panic!("{} = {toml}: {e}", key.name));
                assert_eq!(
                    format!("{explicit:?}"),
                    absent,
                    "{} = {toml} (its documented default) changes the configuration",
                    key.name
                );
            }
            KeyDefault::Required => {
                let err = config("").expect_err("a required key is missing");
                assert!(
                    matches!(err, ConfigError::Missing { key: k, .. } if k == key.name),
                    "{err}"
                );
            }
            KeyDefault::Unset | KeyDefault::Described(_) => {}
        }
    }
    // The keys without a fixed default.
    let c = config(base).expect("valid");
    assert_eq!(c.session_type.map(SessionType::as_str), Some("filesystem"));
    assert_eq!(c.cleanup_n_requests, None, "SESSION_CLEANUP_N_REQUESTS");
    assert_eq!(c.secret_key, None, "SECRET_KEY");
    assert_eq!(c.cookie_domain, None, "SESSION_COOKIE_DOMAIN");
    assert_eq!(c.cookie_samesite, None, "SESSION_COOKIE_SAMESITE");
    assert_eq!(
        key("SESSION_COOKIE_PATH").default,
        KeyDefault::Described("APPLICATION_ROOT")
    );
    let c = config(&format!("{base}APPLICATION_ROOT = \"/app\"\n")).expect("valid");
    assert_eq!(
        c.cookie_path, "/app",
        "SESSION_COOKIE_PATH falls back to APPLICATION_ROOT"
    );
}

#[cfg(feature = "filesystem")]
#[test]
fn filesystem_defaults_are_the_code_s() {
    use crate::backends::filesystem;
    assert_eq!(
        documented_as::<String>("SESSION_FILE_DIR"),
        filesystem::DEFAULT_DIR
    );
    assert_eq!(
        documented_as::<usize>("SESSION_FILE_THRESHOLD"),
        filesystem::DEFAULT_THRESHOLD
    );
    assert_eq!(
        documented_as::<u32>("SESSION_FILE_MODE"),
        filesystem::DEFAULT_MODE
    );
}

#[cfg(feature = "cachelib")]
#[test]
fn cachelib_default_is_the_code_s() {
    use crate::backends::cachelib;

    #[derive(serde::Deserialize)]
    struct Table {
        r#type: String,
        dir: String,
        threshold: usize,
        mode: u32,
    }
    let table: Table = documented_as("SESSION_CACHELIB");
    assert_eq!(table.r#type, "filesystem");
    assert_eq!(table.dir, cachelib::DEFAULT_DIR);
    assert_eq!(table.threshold, cachelib::DEFAULT_THRESHOLD);
    assert_eq!(table.mode, cachelib::DEFAULT_MODE);
}

#[cfg(feature = "redis")]
#[test]
fn redis_defaults_are_the_code_s() {
    use crate::backends::redis::{self, RedisOptions};
    assert_eq!(documented_as::<String>("SESSION_REDIS"), redis::DEFAULT_URL);
    assert_eq!(key("SESSION_REDIS_CLUSTER").default, KeyDefault::Unset);
    let defaults = RedisOptions::default();
    assert_eq!(
        defaults.connect_timeout,
        humantime("SESSION_REDIS_CONNECT_TIMEOUT")
    );
    assert_eq!(
        defaults.response_timeout,
        humantime("SESSION_REDIS_RESPONSE_TIMEOUT")
    );
    assert_eq!(
        key("SESSION_REDIS_POOL_SIZE").default,
        KeyDefault::Described("the number of CPUs")
    );
    assert_eq!(
        defaults.pool_size,
        std::thread::available_parallelism().map_or(1, usize::from)
    );
    // And an absent key is the default.
    assert_eq!(
        RedisOptions::from_figment(&Figment::new()).expect("valid"),
        defaults
    );
}

#[cfg(any(feature = "postgres", feature = "mysql", feature = "sqlite"))]
#[test]
fn sql_defaults_are_what_an_absent_key_gives() {
    use crate::backends::sql::SqlSettings;
    let base = "SQLALCHEMY_DATABASE_URI = \"postgresql://app@db/app\"\n";
    let absent = SqlSettings::from_figment(&Figment::from(Toml::string(base))).expect("valid");
    assert_eq!(
        absent.url, "postgresql://app@db/app",
        "SESSION_SQLALCHEMY falls back"
    );
    for key in sql_keys() {
        if let KeyDefault::Value(toml) = key.default {
            let explicit = SqlSettings::from_figment(&Figment::from(Toml::string(&format!(
                "{base}{} = {toml}\n",
                key.name
            ))))
            .unwrap_or_else(|e| panic!("{} = {toml}: {e}", key.name));
            assert_eq!(
                explicit, absent,
                "{} = {toml} changes the settings",
                key.name
            );
        }
    }
}

#[cfg(feature = "memcached")]
#[test]
fn memcached_default_is_the_code_s() {
    use crate::backends::memcached;
    assert_eq!(
        documented_as::<String>("SESSION_MEMCACHED"),
        memcached::DEFAULT_SERVER
    );
}

#[cfg(feature = "mongodb")]
#[test]
fn mongodb_defaults_are_the_code_s() {
    use crate::backends::mongodb;
    assert_eq!(
        documented_as::<String>("SESSION_MONGODB"),
        mongodb::DEFAULT_URL
    );
    assert_eq!(
        documented_as::<String>("SESSION_MONGODB_DB"),
        mongodb::DEFAULT_DB
    );
    assert_eq!(
        documented_as::<String>("SESSION_MONGODB_COLLECT"),
        mongodb::DEFAULT_COLLECTION
    );
}

#[cfg(feature = "dynamodb")]
#[test]
fn dynamodb_defaults_are_the_code_s() {
    use crate::backends::dynamodb;
    assert_eq!(
        documented_as::<String>("SESSION_DYNAMODB_TABLE"),
        dynamodb::DEFAULT_TABLE
    );
    assert!(!documented_as::<bool>("SESSION_DYNAMODB_TABLE_EXISTS"));
}

/// Every key with a fixed default is checked by one of the tests above (for the backends
/// whose feature is on), so that a new key cannot be added without its check.
#[test]
fn every_fixed_default_has_a_check() {
    let checked_outside_core: &[&str] = &[
        "SESSION_FILE_DIR",
        "SESSION_FILE_THRESHOLD",
        "SESSION_FILE_MODE",
        "SESSION_CACHELIB",
        "SESSION_REDIS",
        "SESSION_REDIS_CONNECT_TIMEOUT",
        "SESSION_REDIS_RESPONSE_TIMEOUT",
        "SESSION_MEMCACHED",
        "SESSION_MONGODB",
        "SESSION_MONGODB_DB",
        "SESSION_MONGODB_COLLECT",
        "SESSION_DYNAMODB_TABLE",
        "SESSION_DYNAMODB_TABLE_EXISTS",
    ];
    for key in keys::all() {
        let core = keys::CORE_KEYS.contains(key);
        let sql = sql_keys().contains(key);
        if matches!(key.default, KeyDefault::Value(_)) && !core && !sql {
            assert!(
                checked_outside_core.contains(&key.name),
                "{}: add a test that its documented default is the code's",
                key.name
            );
        }
    }
}

/// The SQL store's keys, as its declaration lists them.
fn sql_keys() -> &'static [Key] {
    "sqlalchemy"
        .parse::<SessionType>()
        .expect("sqlalchemy is a session type")
        .keys()
}
