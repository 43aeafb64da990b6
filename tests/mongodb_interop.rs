//! Live interop with the real Flask-Session 0.8.0 (pymongo) on one MongoDB-compatible
//! server: the Flask app (`tests/interop/flask_app.py`, venv of `scripts/interop-venv.sh`)
//! and the actix mirror share the server (`MONGODB_URL`, default mongodb://127.0.0.1:27017),
//! the database and collection, the `SECRET_KEY`, the key prefix and one cookie jar.
#![cfg(feature = "mongodb")]

mod support;

use actix_flask_session::backends::mongodb::MongoDBSessionInterface;
use mongodb::bson::spec::BinarySubtype;
use mongodb::bson::{Bson, DateTime, Document, doc};
use serde_json::json;
use support::{Browser, FlaskApp, MirrorApp, Settings, random_prefix};

const LIFETIME: i64 = 3600;
const DB: &str = "afs_interop";
const COLLECTION: &str = "sessions";

fn url() -> String {
    std::env::var("MONGODB_URL").unwrap_or_else(|_| "mongodb://127.0.0.1:27017".to_owned())
}

/// `{'_permanent': True, 'a': 1, 'b': 'x'}` as Flask-Session 0.8 encodes it (spec §5.4).
const AB: &str = "83aa5f7065726d616e656e74c3a16101a162a178";

async fn stored(key: &str) -> Option<Document> {
    let client = MongoDBSessionInterface::connect(&url())
        .await
        .expect("client");
    let coll = client.database(DB).collection::<Document>(COLLECTION);
    match coll.find_one(doc! { "id": key }).await {
        Ok(found) => found,
        Err(e) => panic!(
            "MongoDB is not reachable at {}: {e}; start the services with scripts/test.sh",
            url()
        ),
    }
}

/// The document is Flask-shaped: binary `val` with Flask's bytes, `expiration` one
/// lifetime ahead.
async fn check_stored(key: &str) {
    let d = stored(key).await.expect("a document");
    match d.get("val") {
        Some(Bson::Binary(b)) => {
            assert_eq!(b.subtype, BinarySubtype::Generic);
            assert_eq!(hex::encode(&b.bytes), AB);
        }
        other => panic!("val {other:?}"),
    }
    let left = d
        .get_datetime("expiration")
        .expect("a date")
        .timestamp_millis()
        - DateTime::now().timestamp_millis();
    assert!(
        (LIFETIME * 1000 - 60_000..=LIFETIME * 1000).contains(&left),
        "{left} ms left"
    );
}

fn sid_of(reply: &support::Reply) -> String {
    let value = reply
        .cookie("session")
        .unwrap_or_else(|| panic!("no session cookie: {reply:?}"));
    assert_eq!(value.len(), 43, "{value}");
    value
}

#[actix_rt::test]
async fn sessions_are_shared_both_ways() {
    let prefix = random_prefix("mongo");
    let settings = Settings::default()
        .str("SESSION_TYPE", "mongodb")
        .str("SESSION_MONGODB", url())
        .str("SESSION_MONGODB_DB", DB)
        .str("SESSION_MONGODB_COLLECT", COLLECTION)
        .str("SECRET_KEY", "interop-secret")
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
    check_stored(&format!("{prefix}{sid}")).await;
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
    check_stored(&format!("{prefix}{sid}")).await;

    // Logout in Flask is a logout in actix.
    b.post(&f("/clear")).await;
    assert_eq!(stored(&format!("{prefix}{sid}")).await, None);
    assert_eq!(b.get(&a("/get/a")).await.json(), json!({ "missing": true }));

    // actix creates a Flask-shaped document; Flask reads and modifies it.
    let sid2 = sid_of(&b.post_json(&a("/set/a"), &json!(1)).await);
    assert_ne!(sid2, sid);
    b.post_json(&a("/set/b"), &json!("x")).await;
    check_stored(&format!("{prefix}{sid2}")).await;
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
    assert_eq!(stored(&format!("{prefix}{sid2}")).await, None);
    assert_eq!(b.get(&f("/get/a")).await.json(), json!({ "missing": true }));
}
