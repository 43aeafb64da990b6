//! The interop flows every backend shares: Flask creates a session, actix reads and
//! modifies it, Flask sees the change; a logout in Flask is a logout in actix; then the
//! reverse on a second session. A backend's test implements [`Stored`] for its own look at
//! the store (raw bytes, flags, expiry) and calls [`sessions_are_shared_both_ways`].

use std::future::Future;

use serde_json::json;

use super::{Browser, FlaskApp, MirrorApp, Reply};

/// Which app wrote a stored session last.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Writer {
    /// The Flask app.
    Flask,
    /// The actix mirror.
    Actix,
}

/// A backend's raw view of the shared store.
pub trait Stored {
    /// Whether the apps sign the cookie (`SESSION_USE_SIGNER`).
    const SIGNED: bool;

    /// Checks that the session `sid`, last written by `writer`, is stored as Flask-Session
    /// stores `{'_permanent': True, 'a': 1, 'b': 'x'}` (bytes, expiry, ...).
    fn check_stored(&self, sid: &str, writer: Writer) -> impl Future<Output = ()>;

    /// Checks that nothing is stored for `sid` any more.
    fn check_gone(&self, sid: &str) -> impl Future<Output = ()>;
}

/// The sid in the `session` cookie of `reply` (signed: `<sid>.<signature>`, 71 characters).
pub fn sid_of(reply: &Reply, signed: bool) -> String {
    let value = reply
        .cookie("session")
        .unwrap_or_else(|| panic!("no session cookie: {reply:?}"));
    if signed {
        assert_eq!(value.len(), 71, "signed cookie {value}");
        value[..43].to_owned()
    } else {
        assert_eq!(value.len(), 43, "{value}");
        value
    }
}

/// Flask creates, actix reads and modifies, Flask sees it; a logout in Flask is a logout in
/// actix; actix creates (Flask's stored form), Flask reads and modifies, actix sees it; a
/// logout in actix is a logout in Flask. `store` checks the stored form along the way.
pub async fn sessions_are_shared_both_ways<S: Stored>(
    flask: &FlaskApp,
    actix: &MirrorApp,
    store: &S,
) {
    let (f, a) = (
        |p: &str| format!("{}{p}", flask.url()),
        |p: &str| format!("{}{p}", actix.url()),
    );
    let b = Browser::new();
    let sid_of = |reply: &Reply| sid_of(reply, S::SIGNED);

    // Flask creates; actix reads and modifies; Flask sees it.
    let sid = sid_of(&b.post_json(&f("/set/a"), &json!(1)).await);
    b.post_json(&f("/set/b"), &json!("x")).await;
    store.check_stored(&sid, Writer::Flask).await;
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
    // Flask's `GET /get/c` saved the session last (Flask refreshes it on each request).
    store.check_stored(&sid, Writer::Flask).await;

    // Logout in Flask is a logout in actix.
    b.post(&f("/clear")).await;
    store.check_gone(&sid).await;
    assert_eq!(b.get(&a("/get/a")).await.json(), json!({ "missing": true }));

    // actix creates Flask's stored form; Flask reads and modifies it.
    let sid2 = sid_of(&b.post_json(&a("/set/a"), &json!(1)).await);
    assert_ne!(sid2, sid);
    b.post_json(&a("/set/b"), &json!("x")).await;
    store.check_stored(&sid2, Writer::Actix).await;
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
    store.check_gone(&sid2).await;
    assert_eq!(b.get(&f("/get/a")).await.json(), json!({ "missing": true }));
}
