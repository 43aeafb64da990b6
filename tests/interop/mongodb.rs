//! Live interop with the real Flask-Session 0.8.0 (pymongo) on one MongoDB-compatible
//! server: the Flask app (`tests/interop/flask_app.py`, venv of `scripts/interop-venv.sh`)
//! and the actix mirror share the server (`MONGODB_URL`, default mongodb://127.0.0.1:27017),
//! the database and collection, the `SECRET_KEY`, the key prefix and one cookie jar.
#![cfg(feature = "mongodb")]

use crate::support;

use actix_flask_session::backends::mongodb::MongoDBSessionInterface;
use mongodb::bson::spec::BinarySubtype;
use mongodb::bson::{Bson, DateTime, Document, doc};
use support::flows::{self, Stored, Writer};
use support::{FlaskApp, MirrorApp, Settings, random_prefix};

const LIFETIME: i64 = 3600;
const DB: &str = "afs_interop";

fn url() -> String {
    std::env::var("MONGODB_URL").unwrap_or_else(|_| "mongodb://127.0.0.1:27017".to_owned())
}

/// `{'_permanent': True, 'a': 1, 'b': 'x'}` as Flask-Session 0.8 encodes it.
fn ab() -> &'static str {
    crate::vectors::permanent_ab_msgpack_hex()
}

/// The test's own collection (a random name: runs side by side never share one).
async fn collection(name: &str) -> mongodb::Collection<Document> {
    let client = MongoDBSessionInterface::connect(&url())
        .await
        .expect("client");
    client.database(DB).collection::<Document>(name)
}

async fn stored(collection_name: &str, key: &str) -> Option<Document> {
    let coll = collection(collection_name).await;
    match coll.find_one(doc! { "id": key }).await {
        Ok(found) => found,
        Err(e) => panic!(
            "MongoDB is not reachable at {}: {e}; start the services with scripts/test.sh",
            url()
        ),
    }
}

/// The raw view: a Flask-shaped document, binary `val` with Flask's bytes, `expiration`
/// one lifetime ahead.
struct Mongo {
    prefix: String,
    collection: String,
}

impl Stored for Mongo {
    const SIGNED: bool = false;

    async fn check_stored(&self, sid: &str, _writer: Writer) {
        let d = stored(&self.collection, &format!("{}{sid}", self.prefix))
            .await
            .expect("a document");
        match d.get("val") {
            Some(Bson::Binary(b)) => {
                assert_eq!(b.subtype, BinarySubtype::Generic);
                assert_eq!(hex::encode(&b.bytes), ab());
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

    async fn check_gone(&self, sid: &str) {
        assert_eq!(
            stored(&self.collection, &format!("{}{sid}", self.prefix)).await,
            None
        );
    }
}

#[actix_rt::test]
async fn sessions_are_shared_both_ways() {
    let prefix = random_prefix("mongo");
    let coll = format!("sessions_{:08x}", rand::random::<u32>());
    let settings = Settings::default()
        .str("SESSION_TYPE", "mongodb")
        .str("SESSION_MONGODB", url())
        .str("SESSION_MONGODB_DB", DB)
        .str("SESSION_MONGODB_COLLECT", coll.clone())
        .str("SECRET_KEY", "interop-secret")
        .str("SESSION_KEY_PREFIX", prefix.clone())
        .int("PERMANENT_SESSION_LIFETIME", LIFETIME);
    let flask = FlaskApp::start(&settings);
    let actix = MirrorApp::start(settings.session().await);
    let stored = Mongo {
        prefix,
        collection: coll.clone(),
    };
    flows::sessions_are_shared_both_ways(&flask, &actix, &stored).await;
    collection(&coll)
        .await
        .drop()
        .await
        .expect("drop the collection");
}
