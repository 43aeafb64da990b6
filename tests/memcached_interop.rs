//! Live interop with the real Flask-Session 0.8.0 (pymemcache client) on one memcached:
//! the Flask app (`tests/interop/flask_app.py`, venv of `scripts/interop-venv.sh`) and the
//! actix mirror share the server (`MEMCACHED_URL`, default 127.0.0.1:11211), the
//! `SECRET_KEY`, the key prefix and one cookie jar. The lifetime is 31 days, so both apps
//! must send memcached an absolute expiry time.
#![cfg(feature = "memcached")]

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;

use serde_json::json;
use support::{Browser, FlaskApp, MirrorApp, Settings, random_prefix};

const LIFETIME: i64 = 31 * 24 * 3600;

fn server() -> String {
    let url = std::env::var("MEMCACHED_URL").unwrap_or_else(|_| "127.0.0.1:11211".to_owned());
    url.trim_start_matches("memcache://")
        .trim_end_matches('/')
        .to_owned()
}

/// A raw `mg <key> v f t`: (value, client flags, remaining TTL).
fn raw_get(key: &str) -> Option<(Vec<u8>, u32, i64)> {
    let stream = TcpStream::connect(server()).unwrap_or_else(|e| {
        panic!(
            "memcached is not reachable at {}: {e}; start the services with scripts/test.sh",
            server()
        )
    });
    let mut conn = BufReader::new(stream);
    write!(conn.get_mut(), "mg {key} v f t\r\n").expect("write");
    let mut line = String::new();
    conn.read_line(&mut line).expect("read");
    if line == "EN\r\n" {
        return None;
    }
    let mut parts = line.trim_end().split(' ');
    assert_eq!(parts.next(), Some("VA"), "{line:?}");
    let len: usize = parts.next().and_then(|n| n.parse().ok()).expect("length");
    let (mut flags, mut ttl) = (0, 0);
    for p in parts {
        match p.split_at(1) {
            ("f", v) => flags = v.parse().expect("flags"),
            ("t", v) => ttl = v.parse().expect("ttl"),
            _ => {}
        }
    }
    let mut data = vec![0; len + 2];
    conn.read_exact(&mut data).expect("value");
    data.truncate(len);
    Some((data, flags, ttl))
}

/// `{'_permanent': True, 'a': 1, 'b': 'x'}` as Flask-Session 0.8 encodes it (spec §5.4).
const AB: &str = "83aa5f7065726d616e656e74c3a16101a162a178";

fn check_stored(prefix: &str, sid: &str) {
    let (bytes, flags, ttl) = raw_get(&format!("{prefix}{sid}")).expect("stored");
    assert_eq!(hex::encode(bytes), AB);
    assert_eq!(flags, 0);
    assert!(
        (LIFETIME - 60..=LIFETIME + 1).contains(&ttl),
        // memcached's clock ticks once a second, so an absolute time may read 1 s long
        "absolute expiry ~31 days ahead: {ttl}"
    );
}

fn sid_of(reply: &support::Reply) -> String {
    let value = reply
        .cookie("session")
        .unwrap_or_else(|| panic!("no session cookie: {reply:?}"));
    assert_eq!(value.len(), 71, "signed cookie {value}");
    value[..43].to_owned()
}

#[actix_rt::test]
async fn sessions_are_shared_both_ways() {
    let prefix = random_prefix("mc");
    let settings = Settings::default()
        .str("SESSION_TYPE", "memcached")
        .str("SESSION_MEMCACHED", server())
        .str("SECRET_KEY", "interop-secret")
        .bool("SESSION_USE_SIGNER", true)
        .str("SESSION_KEY_PREFIX", prefix.clone())
        .int("PERMANENT_SESSION_LIFETIME", LIFETIME);
    let flask = FlaskApp::start(&settings);
    let actix = MirrorApp::start(settings.session().await);
    let (f, a) = (
        |p: &str| format!("{}{p}", flask.url()),
        |p: &str| format!("{}{p}", actix.url()),
    );
    let b = Browser::new();

    // Flask creates; actix reads and modifies; Flask sees it.
    let sid = sid_of(&b.post_json(&f("/set/a"), &json!(1)).await);
    b.post_json(&f("/set/b"), &json!("x")).await;
    check_stored(&prefix, &sid);
    let actix_dump = b.get(&a("/dump")).await.json();
    assert_eq!(actix_dump, b.get(&f("/dump")).await.json());
    assert_eq!(actix_dump["sid"], json!(sid));
    let r = b.post_json(&a("/set/c"), &json!([1, {"d": 2.5}])).await;
    assert_eq!(sid_of(&r), sid);
    assert_eq!(
        b.get(&f("/get/c")).await.json(),
        json!({ "value": [1, { "$dict": [["d", 2.5]] }] })
    );
    b.post(&a("/delete/c")).await;
    assert_eq!(b.get(&f("/get/c")).await.json(), json!({ "missing": true }));
    check_stored(&prefix, &sid);

    // Logout in Flask is a logout in actix.
    b.post(&f("/clear")).await;
    assert_eq!(raw_get(&format!("{prefix}{sid}")), None);
    assert_eq!(b.get(&a("/get/a")).await.json(), json!({ "missing": true }));

    // actix creates: Flask's bytes, flags and expiry; Flask reads and modifies.
    let sid2 = sid_of(&b.post_json(&a("/set/a"), &json!(1)).await);
    assert_ne!(sid2, sid);
    b.post_json(&a("/set/b"), &json!("x")).await;
    check_stored(&prefix, &sid2);
    assert_eq!(
        b.get(&f("/dump")).await.json(),
        b.get(&a("/dump")).await.json()
    );
    b.post_json(&f("/set/b"), &json!({"nested": [true, null]}))
        .await;
    assert_eq!(
        b.get(&a("/get/b")).await.json(),
        json!({ "value": { "$dict": [["nested", [true, null]]] } })
    );

    // Logout in actix is a logout in Flask.
    b.post(&a("/clear")).await;
    assert_eq!(raw_get(&format!("{prefix}{sid2}")), None);
    assert_eq!(b.get(&f("/get/a")).await.json(), json!({ "missing": true }));
}
