//! Live interop with the real Flask-Session 0.8.0 (pymemcache client) on one memcached:
//! the Flask app (`tests/interop/flask_app.py`, venv of `scripts/interop-venv.sh`) and the
//! actix mirror share the server (`MEMCACHED_URL`, default 127.0.0.1:11211), the
//! `SECRET_KEY`, the key prefix and one cookie jar. The lifetime is 31 days, so both apps
//! must send memcached an absolute expiry time.
#![cfg(feature = "memcached")]

use crate::support;

use serde_json::json;
use support::flows::{self, Stored, Writer};
use support::proxy::Proxy;
use support::raw::memcached::{assert_absolute_ttl, raw_get, server};
use support::{Browser, FlaskApp, MirrorApp, Settings, random_prefix};

const LIFETIME: i64 = 31 * 24 * 3600;

/// `{'_permanent': True, 'a': 1, 'b': 'x'}` as Flask-Session 0.8 encodes it.
fn ab() -> &'static str {
    crate::vectors::permanent_ab_msgpack_hex()
}

/// The raw view: Flask's bytes, flags 0 and an absolute expiry ~31 days ahead.
struct Memcached {
    prefix: String,
}

impl Stored for Memcached {
    const SIGNED: bool = true;

    async fn check_stored(&self, sid: &str, _writer: Writer) {
        let (bytes, flags, ttl) = raw_get(&format!("{}{sid}", self.prefix)).expect("stored");
        assert_eq!(hex::encode(bytes), ab());
        assert_eq!(flags, 0);
        assert_absolute_ttl(ttl, LIFETIME);
    }

    async fn check_gone(&self, sid: &str) {
        assert_eq!(raw_get(&format!("{}{sid}", self.prefix)), None);
    }
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
    flows::sessions_are_shared_both_ways(&flask, &actix, &Memcached { prefix }).await;
}

/// Flask configured as the README says (pymemcache with `default_noreply=False`): a login
/// on Flask that redirects to a Rust route finds the session there, because Flask's
/// response waits for memcached's `STORED`. The proxy between Flask and memcached shows
/// the order: the reply had passed before the redirect reached the browser.
#[actix_rt::test]
async fn login_on_flask_then_redirect_to_rust_finds_the_session() {
    let prefix = random_prefix("mc-redirect");
    let proxy = Proxy::start(&server());
    let settings = Settings::default()
        .str("SESSION_TYPE", "memcached")
        .str("SESSION_MEMCACHED", server())
        .str("SECRET_KEY", "interop-secret")
        .bool("SESSION_USE_SIGNER", true)
        .str("SESSION_KEY_PREFIX", prefix.clone());
    let flask = FlaskApp::start(&settings.clone().str("SESSION_MEMCACHED", proxy.address()));
    let actix = MirrorApp::start(settings.session().await);
    let browser = Browser::new();
    for round in 0..20 {
        let next = format!("{}/get/user", actix.url());
        let reply = browser
            .post_json(
                &format!("{}/set/user?next={next}", flask.url()),
                &json!(format!("alice-{round}")),
            )
            .await;
        assert_eq!(reply.status, 200, "{reply:?}");
        assert_eq!(
            reply.json(),
            json!({"value": format!("alice-{round}")}),
            "round {round}"
        );
        let stored = proxy.replies().matches("STORED\r\n").count();
        assert_eq!(
            stored,
            round + 1,
            "memcached acknowledged every write first"
        );
    }
    assert!(
        !proxy.requests().contains("noreply"),
        "{}",
        proxy.requests()
    );
}

/// The trap itself, made deterministic by holding Flask's bytes in the proxy: with
/// pymemcache's default `noreply`, Flask answers the login (and the browser follows the
/// redirect to the Rust route) while its `set` has not reached memcached, so the Rust app
/// finds no session; the write lands only later.
#[actix_rt::test]
async fn flask_with_noreply_answers_before_memcached_stored_the_session() {
    let prefix = random_prefix("mc-noreply");
    let proxy = Proxy::start(&server());
    let settings = Settings::default()
        .str("SESSION_TYPE", "memcached")
        .str("SESSION_MEMCACHED", server())
        .str("SECRET_KEY", "interop-secret")
        .bool("SESSION_USE_SIGNER", true)
        .str("SESSION_KEY_PREFIX", prefix.clone());
    let flask = FlaskApp::start_with_env(
        &settings.clone().str("SESSION_MEMCACHED", proxy.address()),
        &[("FLASK_MEMCACHED_NOREPLY", "1")],
    );
    let actix = MirrorApp::start(settings.session().await);
    let browser = Browser::new();
    proxy.hold();
    let next = format!("{}/get/user", actix.url());
    // Bounded only so that a Flask that waits for memcached fails this test instead of
    // hanging it: with noreply it answers without memcached.
    let reply = actix_rt::time::timeout(
        std::time::Duration::from_secs(60),
        browser.post_json(
            &format!("{}/set/user?next={next}", flask.url()),
            &json!("alice"),
        ),
    )
    .await
    .expect("Flask answered the login while its write was held in the proxy");
    assert_eq!(reply.json(), json!({"missing": true}));
    let held = proxy.requests();
    assert!(
        held.starts_with(&format!("set {prefix}")) && held.contains(" noreply\r\n"),
        "{held}"
    );
    proxy.release();
    // The write was only late: once through, the session is there.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let reply = browser.get(&next).await;
        if reply.json() == json!({"value": "alice"}) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the released write never arrived: {reply:?}"
        );
        actix_rt::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}
