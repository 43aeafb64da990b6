//! The Redis store on its own, checked against what is really in Redis (read back over a
//! separate raw connection): exact bytes, TTLs, `NX`/`XX` semantics, rename, errors.
//! Every check runs on a single Redis (`REDIS_URL`, default `redis://127.0.0.1:6379`) and
//! on the Redis Cluster (`REDIS_CLUSTER_URLS`, default 127.0.0.1:7000-7005), each test
//! under its own random key prefix.
#![cfg(feature = "redis")]

use std::time::Duration;

use actix_flask_session::backends::redis::deadpool_redis::redis::{
    self, Value, aio::ConnectionLike,
};
use actix_flask_session::backends::redis::{RedisOptions, RedisSessionInterface};
use actix_flask_session::{RenameOutcome, SessionStore, StoreError};

/// Flask's default lifetime, 31 days, in seconds: the TTL Flask-Session writes.
const DEFAULT_TTL: u64 = 2_678_400;

fn flask_bytes() -> Vec<u8> {
    // Flask-Session 0.8's bytes for the permanent session `{'a': 1, 'b': 'x'}`.
    crate::vectors::permanent_ab_msgpack()
}

fn single_url() -> String {
    std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

#[cfg(feature = "redis-cluster")]
fn cluster_urls() -> Vec<String> {
    match std::env::var("REDIS_CLUSTER_URLS") {
        Ok(list) => list.split(',').map(str::to_owned).collect(),
        Err(_) => (7000..=7005)
            .map(|p| format!("redis://127.0.0.1:{p}"))
            .collect(),
    }
}

fn options() -> RedisOptions {
    let mut options = RedisOptions::default();
    options.pool_size = 2;
    options
}

/// A raw connection to the same Redis, to look at what the store really wrote.
enum Raw {
    Single(redis::aio::MultiplexedConnection),
    #[cfg(feature = "redis-cluster")]
    Cluster(redis::cluster_async::ClusterConnection),
}

impl Raw {
    async fn query(&mut self, cmd: &redis::Cmd) -> Value {
        let result = match self {
            Raw::Single(c) => c.req_packed_command(cmd).await,
            #[cfg(feature = "redis-cluster")]
            Raw::Cluster(c) => c.req_packed_command(cmd).await,
        };
        result.unwrap_or_else(|e| panic!("raw redis command failed: {e}"))
    }

    async fn get(&mut self, key: &str) -> Option<Vec<u8>> {
        match self.query(redis::cmd("GET").arg(key)).await {
            Value::Nil => None,
            Value::BulkString(b) => Some(b),
            other => panic!("GET {key}: {other:?}"),
        }
    }

    async fn int(&mut self, cmd: &redis::Cmd) -> i64 {
        match self.query(cmd).await {
            Value::Int(i) => i,
            other => panic!("expected an integer, got {other:?}"),
        }
    }

    async fn ttl(&mut self, key: &str) -> i64 {
        self.int(redis::cmd("TTL").arg(key)).await
    }

    async fn pttl(&mut self, key: &str) -> i64 {
        self.int(redis::cmd("PTTL").arg(key)).await
    }

    async fn exists(&mut self, key: &str) -> bool {
        self.int(redis::cmd("EXISTS").arg(key)).await == 1
    }
}

/// One backend under test: the store, a raw connection, a fresh key prefix.
struct Fixture {
    store: RedisSessionInterface,
    raw: Raw,
    prefix: String,
}

impl Fixture {
    fn key(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }
}

fn prefix() -> String {
    format!("redis-store-test:{:016x}:", rand::random::<u64>())
}

async fn single() -> Fixture {
    let url = single_url();
    let store = match RedisSessionInterface::connect(&url, &options()).await {
        Ok(store) => store,
        Err(e) => {
            panic!("Redis is not reachable at {url}: {e}; start the services with scripts/test.sh")
        }
    };
    let client = redis::Client::open(url.as_str()).expect("valid url");
    let raw = client
        .get_multiplexed_async_connection()
        .await
        .expect("raw connection");
    assert!(!store.is_cluster());
    Fixture {
        store,
        raw: Raw::Single(raw),
        prefix: prefix(),
    }
}

#[cfg(feature = "redis-cluster")]
async fn cluster() -> Fixture {
    let urls = cluster_urls();
    let store = match RedisSessionInterface::connect_cluster(&urls, &options()).await {
        Ok(store) => store,
        Err(e) => panic!(
            "the Redis Cluster is not reachable at {urls:?}: {e}; start the services with scripts/test.sh"
        ),
    };
    let client = redis::cluster::ClusterClient::new(urls).expect("valid urls");
    let raw = client
        .get_async_connection()
        .await
        .expect("raw cluster connection");
    assert!(store.is_cluster());
    // Spread the test keys over the hash slots: a prefix per test, random suffixes.
    Fixture {
        store,
        raw: Raw::Cluster(raw),
        prefix: prefix(),
    }
}

/// Declares one `#[actix_rt::test]` per backend for a check `async fn(Fixture)`.
macro_rules! on_both {
    ($($check:ident),* $(,)?) => {
        mod single_redis {
            $(
                #[actix_rt::test]
                async fn $check() {
                    super::$check(super::single().await).await;
                }
            )*
        }
        #[cfg(feature = "redis-cluster")]
        mod redis_cluster {
            $(
                #[actix_rt::test]
                async fn $check() {
                    super::$check(super::cluster().await).await;
                }
            )*
        }
    };
}

on_both!(
    create_writes_flask_bytes_and_ttl,
    ttl_is_whole_seconds_of_the_lifetime,
    create_only_if_absent,
    update_only_if_present,
    load_with_refresh_moves_the_ttl,
    load_without_refresh_leaves_the_ttl,
    load_reads_what_flask_writes,
    empty_value_is_a_miss,
    delete_is_idempotent,
    rename_moves_the_session,
    rename_never_overwrites,
    keys_are_used_verbatim,
    sub_second_ttl_is_invalid_input,
    wrong_type_is_bad_data,
    wrong_type_under_a_session_key_is_a_fresh_session,
);

async fn create_writes_flask_bytes_and_ttl(mut f: Fixture) {
    let key = f.key("sid-create");
    assert!(
        f.store
            .create(&key, &flask_bytes(), Duration::from_secs(DEFAULT_TTL))
            .await
            .unwrap()
    );
    assert_eq!(f.raw.get(&key).await, Some(flask_bytes()));
    assert_eq!(f.raw.ttl(&key).await, DEFAULT_TTL as i64);
}

async fn ttl_is_whole_seconds_of_the_lifetime(mut f: Fixture) {
    // Flask-Session truncates: a lifetime of 1.9 s is `EX 1`.
    let key = f.key("sid-fraction");
    assert!(
        f.store
            .create(&key, b"x", Duration::from_millis(1900))
            .await
            .unwrap()
    );
    let pttl = f.raw.pttl(&key).await;
    assert!((1..=1000).contains(&pttl), "PTTL {pttl} is not within EX 1");
    let key = f.key("sid-hour");
    assert!(
        f.store
            .create(&key, b"x", Duration::from_millis(3_600_999))
            .await
            .unwrap()
    );
    assert_eq!(f.raw.ttl(&key).await, 3600);
}

async fn create_only_if_absent(mut f: Fixture) {
    let key = f.key("sid-nx");
    assert!(
        f.store
            .create(&key, b"first", Duration::from_secs(100))
            .await
            .unwrap()
    );
    assert!(
        !f.store
            .create(&key, b"second", Duration::from_secs(200))
            .await
            .unwrap()
    );
    assert_eq!(f.raw.get(&key).await.as_deref(), Some(&b"first"[..]));
    assert_eq!(f.raw.ttl(&key).await, 100);
}

async fn update_only_if_present(mut f: Fixture) {
    let key = f.key("sid-xx");
    // Absent (e.g. deleted by a concurrent logout): nothing is written.
    assert!(
        !f.store
            .update(&key, b"resurrected", Duration::from_secs(100))
            .await
            .unwrap()
    );
    assert!(!f.raw.exists(&key).await);
    assert!(
        f.store
            .create(&key, b"v1", Duration::from_secs(100))
            .await
            .unwrap()
    );
    assert!(
        f.store
            .update(&key, b"v2", Duration::from_secs(300))
            .await
            .unwrap()
    );
    assert_eq!(f.raw.get(&key).await.as_deref(), Some(&b"v2"[..]));
    assert_eq!(f.raw.ttl(&key).await, 300);
    f.store.delete(&key).await.unwrap();
    assert!(
        !f.store
            .update(&key, b"v3", Duration::from_secs(100))
            .await
            .unwrap()
    );
    assert!(!f.raw.exists(&key).await);
}

async fn load_with_refresh_moves_the_ttl(mut f: Fixture) {
    let key = f.key("sid-getex");
    assert!(
        f.store
            .create(&key, &flask_bytes(), Duration::from_secs(100))
            .await
            .unwrap()
    );
    let loaded = f
        .store
        .load(&key, Some(Duration::from_secs(DEFAULT_TTL)))
        .await
        .unwrap();
    assert_eq!(loaded, Some(flask_bytes()));
    assert_eq!(f.raw.ttl(&key).await, DEFAULT_TTL as i64);
    assert_eq!(
        f.raw.get(&key).await,
        Some(flask_bytes()),
        "GETEX must not change the bytes"
    );
    assert_eq!(
        f.store
            .load(&f.key("absent"), Some(Duration::from_secs(10)))
            .await
            .unwrap(),
        None
    );
    assert!(!f.raw.exists(&f.key("absent")).await);
}

async fn load_without_refresh_leaves_the_ttl(mut f: Fixture) {
    let key = f.key("sid-get");
    // No expiry at all, so any change would show as a TTL other than -1.
    f.raw
        .query(redis::cmd("SET").arg(&key).arg(flask_bytes()))
        .await;
    assert_eq!(f.store.load(&key, None).await.unwrap(), Some(flask_bytes()));
    assert_eq!(f.raw.ttl(&key).await, -1);
    f.raw.query(redis::cmd("DEL").arg(&key)).await;
}

async fn load_reads_what_flask_writes(mut f: Fixture) {
    // Flask-Session writes with redis-py `set(name, value, ex=ttl)`: `SET key bytes EX ttl`.
    let key = f.key("sid-flask");
    f.raw
        .query(
            redis::cmd("SET")
                .arg(&key)
                .arg(flask_bytes())
                .arg("EX")
                .arg(DEFAULT_TTL),
        )
        .await;
    assert_eq!(f.store.load(&key, None).await.unwrap(), Some(flask_bytes()));
    assert!(
        f.store
            .update(&key, b"changed", Duration::from_secs(DEFAULT_TTL))
            .await
            .unwrap()
    );
    assert_eq!(f.raw.get(&key).await.as_deref(), Some(&b"changed"[..]));
}

async fn empty_value_is_a_miss(mut f: Fixture) {
    let key = f.key("sid-empty");
    f.raw
        .query(redis::cmd("SET").arg(&key).arg("").arg("EX").arg(100))
        .await;
    assert_eq!(
        f.store
            .load(&key, Some(Duration::from_secs(100)))
            .await
            .unwrap(),
        None
    );
    assert_eq!(f.store.load(&key, None).await.unwrap(), None);
}

async fn delete_is_idempotent(mut f: Fixture) {
    let key = f.key("sid-del");
    assert!(
        f.store
            .create(&key, b"x", Duration::from_secs(100))
            .await
            .unwrap()
    );
    f.store.delete(&key).await.unwrap();
    assert!(!f.raw.exists(&key).await);
    f.store.delete(&key).await.unwrap();
    assert_eq!(f.store.load(&key, None).await.unwrap(), None);
}

async fn rename_moves_the_session(mut f: Fixture) {
    let (old, new) = (f.key("sid-old"), f.key("sid-new"));
    assert!(
        f.store
            .create(&old, b"before", Duration::from_secs(100))
            .await
            .unwrap()
    );
    let moved = f
        .store
        .rename(&old, &new, &flask_bytes(), Duration::from_secs(DEFAULT_TTL))
        .await;
    assert_eq!(moved.unwrap(), RenameOutcome::Moved);
    assert!(!f.raw.exists(&old).await);
    assert_eq!(f.raw.get(&new).await, Some(flask_bytes()));
    assert_eq!(f.raw.ttl(&new).await, DEFAULT_TTL as i64);
    // Not when the old entry is already gone (deleted by a concurrent logout, or moved
    // by another regenerate): nothing is written under the new id.
    let newer = f.key("sid-newer");
    assert_eq!(
        f.store
            .rename(&old, &newer, b"x", Duration::from_secs(100))
            .await
            .unwrap(),
        RenameOutcome::SourceGone
    );
    assert!(!f.raw.exists(&newer).await);
    assert_eq!(f.raw.get(&new).await, Some(flask_bytes()));
}

async fn rename_never_overwrites(mut f: Fixture) {
    let (old, taken) = (f.key("sid-old"), f.key("sid-taken"));
    assert!(
        f.store
            .create(&old, b"mine", Duration::from_secs(100))
            .await
            .unwrap()
    );
    assert!(
        f.store
            .create(&taken, b"theirs", Duration::from_secs(200))
            .await
            .unwrap()
    );
    assert_eq!(
        f.store
            .rename(&old, &taken, b"mine", Duration::from_secs(100))
            .await
            .unwrap(),
        RenameOutcome::TargetExists
    );
    assert_eq!(f.raw.get(&old).await.as_deref(), Some(&b"mine"[..]));
    assert_eq!(f.raw.get(&taken).await.as_deref(), Some(&b"theirs"[..]));
    assert_eq!(f.raw.ttl(&taken).await, 200);
}

async fn keys_are_used_verbatim(mut f: Fixture) {
    // The store never adds or changes anything: `SESSION_KEY_PREFIX + sid` is the key.
    let key = format!(
        "{}myapp:sess:{}",
        f.prefix, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"
    );
    assert!(
        f.store
            .create(&key, b"v", Duration::from_secs(100))
            .await
            .unwrap()
    );
    assert_eq!(f.raw.get(&key).await.as_deref(), Some(&b"v"[..]));
}

async fn sub_second_ttl_is_invalid_input(mut f: Fixture) {
    let key = f.key("sid-zero");
    let err = f
        .store
        .create(&key, b"x", Duration::from_millis(999))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::InvalidInput { .. }), "{err:?}");
    assert!(!f.raw.exists(&key).await);
}

async fn wrong_type_is_bad_data(mut f: Fixture) {
    let key = f.key("sid-list");
    f.raw.query(redis::cmd("RPUSH").arg(&key).arg("x")).await;
    for refresh in [None, Some(Duration::from_secs(10))] {
        let err = f.store.load(&key, refresh).await.unwrap_err();
        assert!(matches!(err, StoreError::BadData { .. }), "{err:?}");
    }
    f.raw.query(redis::cmd("DEL").arg(&key)).await;
}

/// A list written by something else under a session key: the request gets a fresh
/// session (not a 503 forever), and the foreign key is removed.
async fn wrong_type_under_a_session_key_is_a_fresh_session(f: Fixture) {
    use actix_flask_session::{ServerSideSession, ServerSideSessionInterface, Session};
    use actix_web::{App, http::header, test, web};

    let sid = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";
    let key = f.key(sid);
    let Fixture { store, raw, prefix } = f;
    let mut f = RawOnly { raw, prefix };
    f.raw.query(redis::cmd("RPUSH").arg(&key).arg("x")).await;
    let mut config = actix_flask_session::SessionConfig::default();
    config.key_prefix = f.prefix.clone();
    let interface = ServerSideSessionInterface::new(store, config).unwrap();
    let app = test::init_service(Session::new(interface).init_app(App::new().route(
        "/",
        web::get().to(|s: ServerSideSession| async move {
            s.insert("v", 1)?;
            actix_web::Result::<&str>::Ok("ok")
        }),
    )))
    .await;
    for _ in 0..2 {
        let res = test::call_service(
            &app,
            test::TestRequest::get()
                .uri("/")
                .insert_header((header::COOKIE, format!("session={sid}")))
                .to_request(),
        )
        .await;
        assert_eq!(res.status(), 200);
        let cookie = res
            .headers()
            .get(header::SET_COOKIE)
            .unwrap()
            .to_str()
            .unwrap();
        let new_sid = cookie["session=".len()..cookie.find(';').unwrap()].to_owned();
        assert_ne!(new_sid, sid);
        assert!(!f.raw.exists(&key).await, "the foreign value is removed");
        let new_key = f.key(&new_sid);
        assert_eq!(
            f.raw.get(&new_key).await.unwrap(),
            b"\x82\xaa_permanent\xc3\xa1v\x01"
        );
        f.raw.query(redis::cmd("DEL").arg(&new_key)).await;
        f.raw.query(redis::cmd("RPUSH").arg(&key).arg("x")).await;
    }
    f.raw.query(redis::cmd("DEL").arg(&key)).await;
}

/// The raw half of a [`Fixture`] whose store went into an app.
struct RawOnly {
    raw: Raw,
    prefix: String,
}

impl RawOnly {
    fn key(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }
}

/// On a single Redis, a regenerate is one `EVALSHA` of the store's script (which the
/// test reads through the `testing` feature's hidden internals).
#[cfg(feature = "testing")]
#[actix_rt::test]
async fn rename_script_is_published_and_cached() {
    use actix_flask_session::testing::internals::redis::RENAME_SCRIPT;

    let mut f = single().await;
    let (old, new) = (f.key("sid-a"), f.key("sid-b"));
    assert!(
        f.store
            .create(&old, b"x", Duration::from_secs(100))
            .await
            .unwrap()
    );
    assert_eq!(
        f.store
            .rename(&old, &new, b"x", Duration::from_secs(100))
            .await
            .unwrap(),
        RenameOutcome::Moved
    );
    let sha = redis::Script::new(RENAME_SCRIPT).get_hash().to_owned();
    match f
        .raw
        .query(redis::cmd("SCRIPT").arg("EXISTS").arg(&sha))
        .await
    {
        Value::Array(items) => assert_eq!(items, vec![Value::Int(1)]),
        other => panic!("SCRIPT EXISTS: {other:?}"),
    }
}

/// Configuration through Figment, as `Session::from_figment` does it.
#[actix_rt::test]
async fn from_figment_builds_single_and_rejects_bad_values() {
    use actix_flask_session::SessionConfig;
    use figment::{
        Figment,
        providers::{Format, Toml},
    };

    let config = SessionConfig::default();
    let toml = format!(
        "SESSION_REDIS = \"{}\"\nSESSION_REDIS_POOL_SIZE = 3\nSESSION_REDIS_RESPONSE_TIMEOUT = \"2s\"",
        single_url()
    );
    let store = RedisSessionInterface::from_figment(&config, &Figment::from(Toml::string(&toml)))
        .await
        .expect("store from SESSION_REDIS");
    assert_eq!(store.connections(), 3);
    assert!(!store.is_cluster());

    // Neither SESSION_REDIS nor SESSION_REDIS_CLUSTER: a local Redis, as in Flask-Session
    // (the test Redis listens on the default port, `redis://127.0.0.1:6379/0`).
    let local = RedisSessionInterface::from_figment(&config, &Figment::new())
        .await
        .expect("store on the default SESSION_REDIS");
    assert!(!local.is_cluster());

    let bad = Figment::from(Toml::string("SESSION_REDIS = \"http://127.0.0.1:6379\""));
    let err = RedisSessionInterface::from_figment(&config, &bad)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("SESSION_REDIS"), "{err}");

    let zero = Figment::from(Toml::string(&format!(
        "SESSION_REDIS = \"{}\"\nSESSION_REDIS_POOL_SIZE = 0",
        single_url()
    )));
    let err = RedisSessionInterface::from_figment(&config, &zero)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("SESSION_REDIS_POOL_SIZE"), "{err}");

    let both = Figment::from(Toml::string(&format!(
        "SESSION_REDIS = \"{}\"\nSESSION_REDIS_CLUSTER = [\"redis://127.0.0.1:7000\"]",
        single_url()
    )));
    let err = RedisSessionInterface::from_figment(&config, &both)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("SESSION_REDIS_CLUSTER"), "{err}");

    // Nothing listens on port 1: a startup error, not a store that fails later.
    let down = Figment::from(Toml::string(
        "SESSION_REDIS = \"redis://:hunter2@127.0.0.1:1/0\"",
    ));
    let err = RedisSessionInterface::from_figment(&config, &down)
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(text.contains("redis://:***@127.0.0.1:1/0"), "{text}");
    assert!(!text.contains("hunter2"), "the password leaked: {text}");
}

#[cfg(feature = "redis-cluster")]
#[actix_rt::test]
async fn from_figment_builds_cluster() {
    use actix_flask_session::SessionConfig;
    use figment::{
        Figment,
        providers::{Format, Toml},
    };

    let list = cluster_urls()
        .iter()
        .map(|u| format!("\"{u}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let toml = format!("SESSION_REDIS_CLUSTER = [{list}]");
    let store = RedisSessionInterface::from_figment(
        &SessionConfig::default(),
        &Figment::from(Toml::string(&toml)),
    )
    .await
    .expect("store from SESSION_REDIS_CLUSTER");
    assert!(store.is_cluster());
    // The environment form: one comma-separated string.
    let env = Figment::from(Toml::string(&format!(
        "SESSION_REDIS_CLUSTER = \"{}\"",
        cluster_urls().join(",")
    )));
    let store = RedisSessionInterface::from_figment(&SessionConfig::default(), &env)
        .await
        .expect("list as a string");
    assert!(store.is_cluster());
}
