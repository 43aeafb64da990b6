//! Live interop with the real Flask-Session 0.8.0 on one Redis: the Flask app
//! (`tests/interop/flask_app.py`, in the venv of `scripts/interop-venv.sh`) and the actix
//! mirror app share the Redis (`REDIS_URL`, default `redis://127.0.0.1:6379`), the
//! `SECRET_KEY`, the key prefix and one cookie jar.
#![cfg(feature = "redis")]

use crate::support;

use actix_flask_session::Session;
use actix_flask_session::backends::redis::deadpool_redis::redis;
use serde_json::{Value as Json, json};
use support::{Browser, FlaskApp, MirrorApp, Settings, random_prefix};

const SECRET: &str = "interop-secret";
const LIFETIME: i64 = 3600;

fn redis_url() -> String {
    std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

#[derive(Clone, Copy, Debug)]
struct Variant {
    signer: bool,
    json: bool,
    permanent: bool,
}

fn settings(v: Variant, tag: &str) -> Settings {
    Settings::default()
        .str("SESSION_TYPE", "redis")
        .str("SESSION_REDIS", redis_url())
        .str("SECRET_KEY", SECRET)
        .bool("SESSION_USE_SIGNER", v.signer)
        .str(
            "SESSION_SERIALIZATION_FORMAT",
            if v.json { "json" } else { "msgpack" },
        )
        .bool("SESSION_PERMANENT", v.permanent)
        .str("SESSION_KEY_PREFIX", random_prefix(tag))
        .int("PERMANENT_SESSION_LIFETIME", LIFETIME)
}

/// Both apps, one browser, and a raw Redis connection to look at the store.
struct Pair {
    flask: FlaskApp,
    actix: MirrorApp,
    /// The actix app's session setup, for the cookie value it computes for a given id.
    session: Session,
    browser: Browser,
    redis: redis::aio::MultiplexedConnection,
    prefix: String,
    variant: Variant,
}

impl Pair {
    async fn start(variant: Variant, tag: &str) -> Self {
        let settings = settings(variant, tag);
        let prefix = settings
            .get_str("SESSION_KEY_PREFIX")
            .expect("a prefix")
            .to_owned();
        let flask = FlaskApp::start(&settings);
        let session = settings.session().await;
        let actix = MirrorApp::start(session.clone());
        let client = redis::Client::open(redis_url()).expect("valid url");
        let redis = client
            .get_multiplexed_async_connection()
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "Redis is not reachable at {}: {e}; start the services with scripts/test.sh",
                    redis_url()
                )
            });
        Pair {
            flask,
            actix,
            session,
            browser: Browser::new(),
            redis,
            prefix,
            variant,
        }
    }

    fn flask(&self, path: &str) -> String {
        format!("{}{path}", self.flask.url())
    }

    fn actix(&self, path: &str) -> String {
        format!("{}{path}", self.actix.url())
    }

    async fn stored(&mut self, sid: &str) -> Option<Vec<u8>> {
        let key = format!("{}{sid}", self.prefix);
        redis::cmd("GET")
            .arg(&key)
            .query_async(&mut self.redis)
            .await
            .expect("GET")
    }

    async fn ttl(&mut self, sid: &str) -> i64 {
        let key = format!("{}{sid}", self.prefix);
        redis::cmd("TTL")
            .arg(&key)
            .query_async(&mut self.redis)
            .await
            .expect("TTL")
    }

    /// The bytes Flask-Session writes for `{'a': 1, 'b': 'x'}` in this variant.
    fn ab_bytes(&self) -> Vec<u8> {
        match (self.variant.json, self.variant.permanent) {
            (false, true) => crate::vectors::serialized("msgpack", "permanent_session"),
            (false, false) => crate::vectors::serialized("msgpack", "non_permanent_session"),
            (true, true) => crate::vectors::serialized("json", "permanent_session"),
            (true, false) => crate::vectors::serialized("json", "non_permanent_session"),
        }
    }

    /// Checks the cookie a write sent: signed or not, with `Expires` only when permanent.
    fn check_cookie(&self, reply: &support::Reply) -> String {
        let header = reply
            .set_cookies
            .iter()
            .find(|c| c.starts_with("session="))
            .unwrap_or_else(|| panic!("no session cookie in {reply:?}"));
        assert_eq!(
            header.contains("; Expires="),
            self.variant.permanent,
            "{header}"
        );
        assert!(header.contains("; HttpOnly; Path=/"), "{header}");
        let value = reply.cookie("session").expect("a session cookie");
        if self.variant.signer {
            assert_eq!(value.len(), 71, "{value}");
            value[..43].to_owned()
        } else {
            assert_eq!(value.len(), 43, "{value}");
            value
        }
    }

    async fn dump(&self, url: String) -> Json {
        let reply = self.browser.get(&url).await;
        assert_eq!(reply.status, 200, "{reply:?}");
        reply.json()
    }
}

/// Flask creates, actix reads and modifies, Flask sees the change; then the reverse, on a
/// second session; then a logout in each app is a logout in the other.
async fn round_trip(variant: Variant, tag: &str) {
    let mut p = Pair::start(variant, tag).await;

    // Flask creates.
    let r = p.browser.post_json(&p.flask("/set/a"), &json!(1)).await;
    assert_eq!(r.status, 200);
    let sid = p.check_cookie(&r);
    let r = p.browser.post_json(&p.flask("/set/b"), &json!("x")).await;
    assert_eq!(r.status, 200);
    assert_eq!(p.stored(&sid).await, Some(p.ab_bytes()), "Flask's bytes");
    assert_eq!(p.ttl(&sid).await, LIFETIME);

    // actix reads what Flask wrote, with the same sid.
    let flask_dump = p.dump(p.flask("/dump")).await;
    let actix_dump = p.dump(p.actix("/dump")).await;
    assert_eq!(actix_dump, flask_dump);
    assert_eq!(actix_dump["sid"], json!(sid));
    assert_eq!(actix_dump["permanent"], json!(variant.permanent));
    assert_eq!(
        p.browser.get(&p.actix("/get/a")).await.json(),
        json!({ "value": 1 })
    );

    // actix modifies; Flask sees it.
    let r = p
        .browser
        .post_json(&p.actix("/set/c"), &json!([1, {"d": 2.5}]))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(p.check_cookie(&r), sid, "the same session");
    assert_eq!(
        p.browser.get(&p.flask("/get/c")).await.json(),
        json!({ "value": [1, { "$dict": [["d", 2.5]] }] })
    );
    let r = p.browser.post(&p.actix("/delete/b")).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        p.browser.get(&p.flask("/get/b")).await.json(),
        json!({ "missing": true })
    );
    assert_eq!(p.ttl(&sid).await, LIFETIME);

    // Logout in Flask is a logout in actix, also for a replayed old cookie.
    let old_cookie = format!(
        "session={}",
        if variant.signer {
            signed(&p, &sid).await
        } else {
            sid.clone()
        }
    );
    let r = p.browser.post(&p.flask("/clear")).await;
    assert_eq!(r.status, 200);
    assert!(r.set_cookies.iter().any(|c| is_deletion_cookie(c)), "{r:?}");
    assert_eq!(p.stored(&sid).await, None);
    assert_eq!(
        p.browser.get(&p.actix("/get/a")).await.json(),
        json!({ "missing": true })
    );
    let replay = Browser::send_with_cookie("GET", &p.actix("/get/a"), &old_cookie).await;
    assert_eq!(replay.json(), json!({ "missing": true }));

    // The reverse: actix creates with the same data; the bytes are Flask's bytes.
    let r = p.browser.post_json(&p.actix("/set/a"), &json!(1)).await;
    assert_eq!(r.status, 200);
    let sid2 = p.check_cookie(&r);
    assert_ne!(sid2, sid);
    p.browser.post_json(&p.actix("/set/b"), &json!("x")).await;
    assert_eq!(
        p.stored(&sid2).await,
        Some(p.ab_bytes()),
        "actix writes Flask's bytes"
    );
    assert_eq!(p.ttl(&sid2).await, LIFETIME);
    assert_eq!(
        p.dump(p.flask("/dump")).await,
        p.dump(p.actix("/dump")).await
    );

    // Flask modifies; actix sees it.
    p.browser
        .post_json(&p.flask("/set/b"), &json!({"nested": [true, null]}))
        .await;
    assert_eq!(
        p.browser.get(&p.actix("/get/b")).await.json(),
        json!({ "value": { "$dict": [["nested", [true, null]]] } })
    );

    // Logout in actix is a logout in Flask.
    let old_cookie = format!(
        "session={}",
        if variant.signer {
            signed(&p, &sid2).await
        } else {
            sid2.clone()
        }
    );
    let r = p.browser.post(&p.actix("/clear")).await;
    assert_eq!(r.status, 200);
    assert!(r.set_cookies.iter().any(|c| is_deletion_cookie(c)), "{r:?}");
    assert_eq!(p.stored(&sid2).await, None);
    assert_eq!(
        p.browser.get(&p.flask("/get/a")).await.json(),
        json!({ "missing": true })
    );
    let replay = Browser::send_with_cookie("GET", &p.flask("/get/a"), &old_cookie).await;
    assert_eq!(replay.json(), json!({ "missing": true }));
}

/// A deletion cookie (Werkzeug writes `session=; Expires=Thu, 01 Jan 1970 00:00:00 GMT;
/// Max-Age=0; Path=/`; the attribute order does not matter to browsers).
fn is_deletion_cookie(header: &str) -> bool {
    header.starts_with("session=;")
        && header.contains("Expires=Thu, 01 Jan 1970 00:00:00 GMT")
        && header.contains("Max-Age=0")
        && header.contains("Path=/")
}

/// The signed cookie value of `sid`, as both apps compute it.
async fn signed(p: &Pair, sid: &str) -> String {
    p.session.interface().cookie_value(sid)
}

#[actix_rt::test]
async fn msgpack_unsigned_permanent() {
    round_trip(
        Variant {
            signer: false,
            json: false,
            permanent: true,
        },
        "mup",
    )
    .await;
}

#[actix_rt::test]
async fn msgpack_signed_permanent() {
    round_trip(
        Variant {
            signer: true,
            json: false,
            permanent: true,
        },
        "msp",
    )
    .await;
}

#[actix_rt::test]
async fn msgpack_unsigned_non_permanent() {
    round_trip(
        Variant {
            signer: false,
            json: false,
            permanent: false,
        },
        "mun",
    )
    .await;
}

#[actix_rt::test]
async fn json_unsigned_permanent() {
    round_trip(
        Variant {
            signer: false,
            json: true,
            permanent: true,
        },
        "jup",
    )
    .await;
}

#[actix_rt::test]
async fn json_signed_non_permanent() {
    round_trip(
        Variant {
            signer: true,
            json: true,
            permanent: false,
        },
        "jsn",
    )
    .await;
}

/// `session.permanent = False` in one app: the other app sees a non-permanent session
/// and neither sends `Expires` any more; regenerate in one app moves the session for both.
#[actix_rt::test]
async fn permanent_flag_and_regenerate_are_shared() {
    let variant = Variant {
        signer: true,
        json: false,
        permanent: true,
    };
    let mut p = Pair::start(variant, "perm").await;
    let r = p
        .browser
        .post_json(&p.flask("/set/user"), &json!("alice"))
        .await;
    let sid = p.check_cookie(&r);

    let r = p.browser.post(&p.flask("/permanent/0")).await;
    let header = r
        .set_cookies
        .iter()
        .find(|c| c.starts_with("session="))
        .expect("cookie");
    assert!(!header.contains("Expires"), "{header}");
    let dump = p.dump(p.actix("/dump")).await;
    assert_eq!(dump["permanent"], json!(false));
    assert_eq!(dump["data"]["_permanent"], json!(false));
    let r = p.browser.post(&p.actix("/permanent/1")).await;
    assert!(
        r.set_cookies
            .iter()
            .any(|c| c.starts_with("session=") && c.contains("; Expires=")),
        "{r:?}"
    );
    assert_eq!(p.dump(p.flask("/dump")).await["permanent"], json!(true));

    // Regenerate in actix: a new id for both apps, the old key gone, the data kept.
    let r = p.browser.post(&p.actix("/regenerate")).await;
    assert_eq!(r.status, 200);
    let new_sid = p.check_cookie(&r);
    assert_ne!(new_sid, sid);
    assert_eq!(p.stored(&sid).await, None);
    let flask_dump = p.dump(p.flask("/dump")).await;
    assert_eq!(flask_dump["sid"], json!(new_sid));
    assert_eq!(flask_dump["data"]["user"], json!("alice"));

    // Regenerate in Flask: actix follows.
    let r = p.browser.post(&p.flask("/regenerate")).await;
    let newest = p.check_cookie(&r);
    assert_ne!(newest, new_sid);
    assert_eq!(p.stored(&new_sid).await, None);
    let actix_dump = p.dump(p.actix("/dump")).await;
    assert_eq!(actix_dump["sid"], json!(newest));
    assert_eq!(actix_dump["data"]["user"], json!("alice"));
}

/// The round-trip table of Python values (msgpack column).
fn typed_msgpack() -> Json {
    json!({
        "tuple": [1, "a"],
        "set": [7],
        "bytes": { "$bytes": "AP8=" },
        "aware": { "$datetime": "2024-01-02T03:04:05+00:00" },
        "naive": "2024-01-02T03:04:05",
        "decimal": "1.10",
        "uuid": "12345678-1234-5678-1234-567812345678",
        "int_keys": { "$dict": [[1, "a"], [2, "b"]] },
        "float": 1.5,
        "none": null,
        "nested": { "$dict": [["list", [1, [2, 3]]], ["map", { "$dict": [["k", "v"]] }], ["t", true]] },
    })
}

/// The round-trip table of Python values (JSON column).
fn typed_json() -> Json {
    let mut expected = typed_msgpack();
    expected["bytes"] = json!("AP8=");
    expected["aware"] = json!("2024-01-02T03:04:05Z");
    expected["int_keys"] = json!({ "$dict": [["1", "a"], ["2", "b"]] });
    expected
}

async fn typed_round_trip(json_format: bool, tag: &str) {
    let variant = Variant {
        signer: false,
        json: json_format,
        permanent: true,
    };
    let p = Pair::start(variant, tag).await;
    let mut expected = if json_format {
        typed_json()
    } else {
        typed_msgpack()
    };
    expected["_permanent"] = json!(true);

    for writer in ["flask", "actix"] {
        let browser = Browser::new();
        let url = |app: &str, path: &str| {
            if app == "flask" {
                p.flask(path)
            } else {
                p.actix(path)
            }
        };
        let r = browser.post(&url(writer, "/set_typed")).await;
        assert_eq!(r.status, 200, "{writer}: {r:?}");
        for reader in ["flask", "actix"] {
            let dump = browser.get(&url(reader, "/dump")).await.json();
            assert_eq!(
                dump["data"], expected,
                "written by {writer}, read by {reader}"
            );
        }
    }
}

#[actix_rt::test]
async fn round_trip_table_msgpack() {
    typed_round_trip(false, "tym").await;
}

#[actix_rt::test]
async fn round_trip_table_json() {
    typed_round_trip(true, "tyj").await;
}

/// A route that does not touch the session answers the same in both apps and sets no
/// cookie, even with a session cookie present.
#[actix_rt::test]
async fn hello_leaves_the_session_alone() {
    let variant = Variant {
        signer: false,
        json: false,
        permanent: true,
    };
    let mut p = Pair::start(variant, "hello").await;
    let r = p.browser.post_json(&p.flask("/set/a"), &json!(1)).await;
    let sid = p.check_cookie(&r);
    let r = p.browser.get(&p.actix("/hello")).await;
    assert_eq!((r.status, r.body.as_str()), (200, "hello"));
    assert!(r.set_cookies.is_empty(), "{r:?}");
    assert_eq!(
        p.stored(&sid).await,
        Some(hex::decode("82aa5f7065726d616e656e74c3a16101").expect("hex"))
    );
}

/// A Flask-Login-style `_user_id` set by the Flask app is indexed when the actix app next
/// saves that session (`SESSION_USER_KEY = "_user_id"`, a setting Flask ignores); the
/// stored bytes stay Flask's, and a logout in Flask leaves no session in the listing.
#[actix_rt::test]
async fn flask_login_user_is_indexed_by_the_next_save() {
    let variant = Variant {
        signer: true,
        json: false,
        permanent: true,
    };
    let settings = settings(variant, "users").str("SESSION_USER_KEY", "_user_id");
    let prefix = settings
        .get_str("SESSION_KEY_PREFIX")
        .expect("a prefix")
        .to_owned();
    let flask = FlaskApp::start(&settings);
    let session = settings.session().await;
    let users = session.users();
    let actix = MirrorApp::start(session);
    let browser = Browser::new();
    let mut redis = redis::Client::open(redis_url())
        .expect("valid url")
        .get_multiplexed_async_connection()
        .await
        .unwrap_or_else(|e| panic!("Redis is not reachable at {}: {e}", redis_url()));

    let r = browser
        .post_json(&format!("{}/set/_user_id", flask.url()), &json!("42"))
        .await;
    assert_eq!(r.status, 200);
    let sid = r.cookie("session").expect("a session cookie")[..43].to_owned();
    assert_eq!(users.list("42").await.expect("listing").len(), 0);

    let r = browser
        .post_json(&format!("{}/set/a", actix.url()), &json!(1))
        .await;
    assert_eq!(r.status, 200);
    let listed = users.list("42").await.expect("listing");
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert!(!listed[0].handle.contains(&sid), "a handle is not the id");
    let stored: Vec<u8> = redis::cmd("GET")
        .arg(format!("{prefix}{sid}"))
        .query_async(&mut redis)
        .await
        .expect("GET");
    // {'_permanent': True, '_user_id': '42', 'a': 1}: nothing of the index inside.
    assert_eq!(
        stored,
        hex::decode("83aa5f7065726d616e656e74c3a85f757365725f6964a23432a16101").expect("hex")
    );

    let r = browser.post(&format!("{}/clear", flask.url())).await;
    assert_eq!(r.status, 200);
    assert_eq!(users.list("42").await.expect("listing").len(), 0);
}
