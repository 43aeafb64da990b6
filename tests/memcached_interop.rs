//! Live interop with the real Flask-Session 0.8.0 (pymemcache client) on one memcached:
//! the Flask app (`tests/interop/flask_app.py`, venv of `scripts/interop-venv.sh`) and the
//! actix mirror share the server (`MEMCACHED_URL`, default 127.0.0.1:11211), the
//! `SECRET_KEY`, the key prefix and one cookie jar. The lifetime is 31 days, so both apps
//! must send memcached an absolute expiry time.
#![cfg(feature = "memcached")]

mod support;

use support::flows::{self, Stored, Writer};
use support::raw::memcached::{assert_absolute_ttl, raw_get, server};
use support::{FlaskApp, MirrorApp, Settings, random_prefix};

const LIFETIME: i64 = 31 * 24 * 3600;

/// `{'_permanent': True, 'a': 1, 'b': 'x'}` as Flask-Session 0.8 encodes it (spec §5.4).
const AB: &str = "83aa5f7065726d616e656e74c3a16101a162a178";

/// The raw view: Flask's bytes, flags 0 and an absolute expiry ~31 days ahead.
struct Memcached {
    prefix: String,
}

impl Stored for Memcached {
    const SIGNED: bool = true;

    async fn check_stored(&self, sid: &str, _writer: Writer) {
        let (bytes, flags, ttl) = raw_get(&format!("{}{sid}", self.prefix)).expect("stored");
        assert_eq!(hex::encode(bytes), AB);
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
