//! The memcached store against a real memcached (`scripts/services.sh` starts one on
//! 127.0.0.1:11211; `MEMCACHED_URL` overrides it). Every entry is checked with a raw
//! meta-protocol client on its own socket: exact bytes, client flags and TTL.
#![cfg(feature = "memcached")]

use crate::support;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::Duration;

use actix_flask_session::backends::memcached::MemcachedSessionInterface;
use actix_flask_session::{SessionStore, StoreError};
use support::raw::memcached::{assert_absolute_ttl, raw_get, server};

/// Flask-Session 0.8's bytes for `{'_permanent': True, 'a': 1, 'b': 'x'}`.
fn flask_bytes() -> Vec<u8> {
    crate::vectors::permanent_ab_msgpack()
}
const MINUTE: Duration = Duration::from_secs(60);

fn unique_key(name: &str) -> String {
    let tag = crate::support::random_token(12);
    format!("mcstore:{name}:{tag}")
}

async fn store() -> MemcachedSessionInterface {
    let store = MemcachedSessionInterface::new(&[server()], Some(4)).expect("valid address");
    if let Err(e) = store.ping().await {
        panic!(
            "memcached is not reachable at {}: {e}; start the services with scripts/test.sh (or scripts/services.sh)",
            server()
        );
    }
    store
}

/// A raw `ms <key> <len> T<exptime>` (what pymemcache's `set` amounts to, flags 0).
fn raw_set(key: &str, value: &[u8], exptime: i64) {
    let mut conn = BufReader::new(TcpStream::connect(server()).expect("raw connection"));
    let mut cmd = format!("ms {key} {} T{exptime}\r\n", value.len()).into_bytes();
    cmd.extend_from_slice(value);
    cmd.extend_from_slice(b"\r\n");
    conn.get_mut().write_all(&cmd).expect("write");
    let mut line = String::new();
    conn.read_line(&mut line).expect("read");
    assert_eq!(line, "HD\r\n");
}

#[actix_rt::test]
async fn create_writes_exact_bytes_with_flags_zero_and_ttl() {
    let store = store().await;
    let key = unique_key("create");
    assert!(
        store
            .create(&key, flask_bytes().as_slice(), MINUTE)
            .await
            .unwrap()
    );
    let (bytes, flags, ttl) = raw_get(&key).expect("stored");
    assert_eq!(bytes, flask_bytes().as_slice());
    assert_eq!(flags, 0);
    assert!((55..=60).contains(&ttl), "ttl {ttl}");
    store.delete(&key).await.unwrap();
}

#[actix_rt::test]
async fn ttl_over_30_days_is_sent_as_absolute_time() {
    // If 31 days were sent as a relative 2 678 400, memcached would read it as a Unix
    // time in 1970 and the entry would be gone at once.
    let store = store().await;
    let key = unique_key("long");
    let lifetime = Duration::from_secs(31 * 24 * 3600);
    assert!(
        store
            .create(&key, flask_bytes().as_slice(), lifetime)
            .await
            .unwrap()
    );
    let (bytes, _, ttl) = raw_get(&key).expect("stored, not expired");
    assert_eq!(bytes, flask_bytes().as_slice());
    assert_absolute_ttl(ttl, 2_678_400);
    // exactly 30 days is relative
    let key30 = unique_key("thirty");
    assert!(
        store
            .create(&key30, b"x", Duration::from_secs(2_592_000))
            .await
            .unwrap()
    );
    let (_, _, ttl) = raw_get(&key30).expect("stored");
    assert!((2_592_000 - 60..=2_592_000).contains(&ttl), "ttl {ttl}");
    store.delete(&key).await.unwrap();
    store.delete(&key30).await.unwrap();
}

#[actix_rt::test]
async fn create_only_if_absent() {
    let store = store().await;
    let key = unique_key("add");
    assert!(store.create(&key, b"first", MINUTE).await.unwrap());
    assert!(!store.create(&key, b"second", MINUTE).await.unwrap());
    assert_eq!(raw_get(&key).unwrap().0, b"first");
    store.delete(&key).await.unwrap();
}

#[actix_rt::test]
async fn update_only_if_present_and_never_resurrects() {
    let store = store().await;
    let key = unique_key("replace");
    assert!(!store.update(&key, b"ghost", MINUTE).await.unwrap());
    assert_eq!(raw_get(&key), None);

    assert!(store.create(&key, b"one", MINUTE).await.unwrap());
    assert!(
        store
            .update(&key, flask_bytes().as_slice(), Duration::from_secs(600))
            .await
            .unwrap()
    );
    let (bytes, flags, ttl) = raw_get(&key).unwrap();
    assert_eq!((bytes.as_slice(), flags), (flask_bytes().as_slice(), 0));
    assert!((595..=600).contains(&ttl), "update resets the ttl: {ttl}");

    // a concurrent logout deletes it; a late update must not bring it back
    store.delete(&key).await.unwrap();
    assert!(!store.update(&key, b"late", MINUTE).await.unwrap());
    assert_eq!(raw_get(&key), None);
}

#[actix_rt::test]
async fn load_reads_flask_written_bytes_and_refreshes_in_one_command() {
    let store = store().await;
    let key = unique_key("load");
    raw_set(&key, flask_bytes().as_slice(), 30);
    assert_eq!(
        store.load(&key, None).await.unwrap().as_deref(),
        Some(flask_bytes().as_slice())
    );
    assert!(raw_get(&key).unwrap().2 <= 30, "plain load leaves the ttl");

    let long = Duration::from_secs(31 * 24 * 3600);
    assert_eq!(
        store.load(&key, Some(long)).await.unwrap().as_deref(),
        Some(flask_bytes().as_slice())
    );
    let (bytes, _, ttl) = raw_get(&key).unwrap();
    assert_eq!(
        bytes,
        flask_bytes().as_slice(),
        "refresh never rewrites the value"
    );
    assert!(ttl > 2_678_400 - 60, "refresh moved the expiry: {ttl}");
    store.delete(&key).await.unwrap();
}

#[actix_rt::test]
async fn missing_and_expired_entries_are_none() {
    let store = store().await;
    let key = unique_key("expired");
    assert_eq!(store.load(&key, None).await.unwrap(), None);
    assert_eq!(store.load(&key, Some(MINUTE)).await.unwrap(), None);
    assert_eq!(
        raw_get(&key),
        None,
        "a refresh of a missing key creates nothing"
    );

    // negative exptime: stored already expired
    raw_set(&key, flask_bytes().as_slice(), -1);
    assert_eq!(store.load(&key, None).await.unwrap(), None);
    assert_eq!(store.load(&key, Some(MINUTE)).await.unwrap(), None);
    assert!(
        !store.update(&key, b"x", MINUTE).await.unwrap(),
        "an expired entry is absent"
    );
    assert!(
        store.create(&key, b"fresh", MINUTE).await.unwrap(),
        "an expired entry does not block create"
    );
    assert_eq!(raw_get(&key).unwrap().0, b"fresh");
    store.delete(&key).await.unwrap();
}

#[actix_rt::test]
async fn a_zero_ttl_never_makes_an_immortal_entry() {
    let store = store().await;
    let key = unique_key("zero");
    assert!(store.create(&key, b"x", Duration::ZERO).await.unwrap());
    assert_eq!(raw_get(&key), None);
}

#[actix_rt::test]
async fn delete_is_idempotent() {
    let store = store().await;
    let key = unique_key("delete");
    store.delete(&key).await.unwrap();
    raw_set(&key, b"v", 60);
    store.delete(&key).await.unwrap();
    assert_eq!(raw_get(&key), None);
    store.delete(&key).await.unwrap();
}

#[actix_rt::test]
async fn invalid_keys_are_refused_before_any_io() {
    // no server listens on port 1: any I/O would be `Unavailable`
    let store = MemcachedSessionInterface::new(&["127.0.0.1:1"], Some(1)).unwrap();
    let long = format!("session:{}", "k".repeat(243));
    for key in [
        long.as_str(),
        "session:a b",
        "session:a\nb",
        "session:a\r\nb",
        "session:\0",
        "session:\x7f",
        "",
    ] {
        for result in [
            store.load(key, None).await.map(|_| ()),
            store.load(key, Some(MINUTE)).await.map(|_| ()),
            store.create(key, b"x", MINUTE).await.map(|_| ()),
            store.update(key, b"x", MINUTE).await.map(|_| ()),
            store.delete(key).await,
        ] {
            assert!(
                matches!(
                    result,
                    Err(StoreError::InvalidInput {
                        backend: "memcached",
                        ..
                    })
                ),
                "{key:?}: {result:?}"
            );
        }
    }
    // 250 bytes is allowed: it reaches the (absent) server
    let ok = format!("session:{}", "k".repeat(242));
    assert!(matches!(
        store.load(&ok, None).await,
        Err(StoreError::Unavailable { .. })
    ));
}

#[test]
fn servers_are_chosen_like_pymemcache_hash_client() {
    // Expected nodes computed with pymemcache 4.0's RendezvousHash (HashClient's default).
    let store = MemcachedSessionInterface::new(
        &["127.0.0.1:11211", "127.0.0.1:11212", "127.0.0.1:11213"],
        Some(1),
    )
    .unwrap();
    for (key, node) in [
        ("session:a", "127.0.0.1:11211"),
        ("session:b", "127.0.0.1:11212"),
        ("session:c", "127.0.0.1:11212"),
        (
            "session:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",
            "127.0.0.1:11212",
        ),
        (crate::vectors::flask_store_key(), "127.0.0.1:11212"),
        ("x", "127.0.0.1:11211"),
        ("é-key", "127.0.0.1:11211"),
    ] {
        assert_eq!(store.node_for(key), node, "{key}");
    }
}

#[actix_rt::test]
async fn several_servers_each_key_on_its_node() {
    // Two node names for one real server: every key still round-trips through its node.
    let store = MemcachedSessionInterface::new(
        &[
            server(),
            format!("memcache://{}", server().replace("127.0.0.1", "localhost")),
        ],
        Some(2),
    )
    .unwrap();
    store.ping().await.unwrap();
    for i in 0..8 {
        let key = unique_key(&format!("multi{i}"));
        assert!(
            store
                .create(&key, flask_bytes().as_slice(), MINUTE)
                .await
                .unwrap()
        );
        assert_eq!(
            store.load(&key, Some(MINUTE)).await.unwrap().as_deref(),
            Some(flask_bytes().as_slice())
        );
        store.delete(&key).await.unwrap();
    }
}

/// A key prefix that, with ids of `SESSION_ID_LENGTH`, makes keys over memcached's 250
/// bytes is a startup error naming the key, not a 503 at every request. At the limit
/// (keys of exactly 250 bytes) the app starts and sessions work.
#[actix_rt::test]
async fn overlong_keys_are_refused_at_startup() {
    use actix_flask_session::Session;
    use figment::Figment;
    use figment::providers::{Format, Toml};

    let _ = store().await; // memcached must be up
    // SESSION_ID_LENGTH = 32 gives 43-character ids.
    let figment = |prefix_len: usize| {
        Figment::from(Toml::string(&format!(
            "SESSION_TYPE = \"memcached\"\nSESSION_MEMCACHED = \"{}\"\n\
             SESSION_KEY_PREFIX = \"{}\"\nSESSION_ID_LENGTH = 32\n",
            server(),
            "p".repeat(prefix_len)
        )))
    };
    let err = Session::from_figment(&figment(250 - 43 + 1))
        .await
        .expect_err("251-byte keys");
    assert_eq!(
        err.to_string(),
        format!(
            "invalid value for SESSION_KEY_PREFIX: \"{}\" (208 bytes) with SESSION_ID_LENGTH = 32 \
             (43-character ids); the memcached store cannot take its 251-byte keys: key is 251 \
             bytes long; memcached allows at most 250; shorten the prefix or the id length",
            "p".repeat(208)
        )
    );
    let session = Session::from_figment(&figment(250 - 43))
        .await
        .expect("250-byte keys");
    let key = format!("{}{}", "p".repeat(207), crate::support::random_token(32));
    assert_eq!(key.len(), 250);
    let store = session.interface().store();
    assert!(
        store
            .create(&key, flask_bytes().as_slice(), MINUTE)
            .await
            .unwrap()
    );
    assert_eq!(
        store.load(&key, None).await.unwrap().unwrap(),
        flask_bytes().as_slice()
    );
    store.delete(&key).await.unwrap();
}

/// An entry another client serialized its own way (client flags other than 0, e.g.
/// pymemcache's pickle flag 1) is not session data: the store says so, and the request
/// deletes it and starts a fresh session.
#[actix_rt::test]
async fn entries_with_other_client_flags_are_bad_data() {
    use actix_flask_session::{
        ServerSideSession, ServerSideSessionInterface, Session, SessionConfig,
    };
    use actix_web::{App, http::header, test, web};

    let store = store().await;
    let prefix = format!("{}:", unique_key("flags"));
    let sid = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";
    let key = format!("{prefix}{sid}");
    // A msgpack map, so only the flags make it foreign.
    let mut conn = BufReader::new(TcpStream::connect(server()).expect("raw connection"));
    let mut cmd = format!("ms {key} {} T60 F1\r\n", flask_bytes().as_slice().len()).into_bytes();
    cmd.extend_from_slice(flask_bytes().as_slice());
    cmd.extend_from_slice(b"\r\n");
    conn.get_mut().write_all(&cmd).expect("write");
    let mut line = String::new();
    conn.read_line(&mut line).expect("read");
    assert_eq!(line, "HD\r\n");
    assert_eq!(raw_get(&key).expect("stored").1, 1);
    for refresh in [None, Some(MINUTE)] {
        let err = store.load(&key, refresh).await.unwrap_err();
        assert!(matches!(err, StoreError::BadData { .. }), "{err:?}");
    }

    let mut config = SessionConfig::default();
    config.key_prefix = prefix;
    let interface = ServerSideSessionInterface::new(store, config).unwrap();
    let app = test::init_service(Session::new(interface).init_app(App::new().route(
        "/",
        web::get().to(|s: ServerSideSession| async move {
            actix_web::Result::<String>::Ok(format!("{:?}", s.get::<i64>("a")?))
        }),
    )))
    .await;
    let res = test::call_service(
        &app,
        test::TestRequest::get()
            .uri("/")
            .insert_header((header::COOKIE, format!("session={sid}")))
            .to_request(),
    )
    .await;
    assert_eq!(res.status(), 200);
    assert_eq!(test::read_body(res).await, "None");
    assert_eq!(raw_get(&key), None, "the foreign entry is deleted");
}
