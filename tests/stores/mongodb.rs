//! The MongoDB store against a real MongoDB wire-protocol server (SecantusDB, started by
//! `scripts/services.sh` on 127.0.0.1:27017; `MONGODB_URL` overrides it). Every document is
//! checked with the raw driver: field types, exact bytes, expiration bounds, indexes.
#![cfg(feature = "mongodb")]

use std::time::Duration;

use actix_flask_session::backends::mongodb::MongoDBSessionInterface;
use actix_flask_session::{ConfigError, SessionStore};
use mongodb::bson::spec::BinarySubtype;
use mongodb::bson::{Binary, Bson, DateTime, Document, doc};
use mongodb::options::IndexOptions;
use mongodb::{Collection, IndexModel};

/// Flask-Session 0.8's bytes for `{'_permanent': True, 'a': 1, 'b': 'x'}`.
fn flask_bytes() -> Vec<u8> {
    crate::vectors::permanent_ab_msgpack()
}
const MINUTE: Duration = Duration::from_secs(60);
const DB: &str = "afs_store_tests";

fn url() -> String {
    std::env::var("MONGODB_URL").unwrap_or_else(|_| "mongodb://127.0.0.1:27017".to_owned())
}

fn unique(name: &str) -> String {
    let tag = crate::support::random_token(9).replace(['-', '_'], "x");
    format!("{name}_{tag}")
}

/// A raw collection (the driver, no store) named `name`.
async fn raw(name: &str) -> Collection<Document> {
    let client = MongoDBSessionInterface::connect(&url())
        .await
        .expect("client");
    if let Err(e) = client
        .database("admin")
        .run_command(doc! { "ping": 1 })
        .await
    {
        panic!(
            "MongoDB is not reachable at {}: {e}; start the services with scripts/test.sh",
            url()
        );
    }
    client.database(DB).collection(name)
}

async fn store(name: &str) -> MongoDBSessionInterface {
    let client = MongoDBSessionInterface::connect(&url())
        .await
        .expect("client");
    match MongoDBSessionInterface::new(client, DB, name).await {
        Ok(store) => store,
        Err(e) => panic!(
            "MongoDB store setup failed at {}: {e}; start the services with scripts/test.sh",
            url()
        ),
    }
}

fn bin(bytes: &[u8]) -> Binary {
    Binary {
        subtype: BinarySubtype::Generic,
        bytes: bytes.to_vec(),
    }
}

fn at(offset_secs: i64) -> DateTime {
    DateTime::from_millis(DateTime::now().timestamp_millis() + offset_secs * 1000)
}

/// What Flask-Session 0.8 writes (`update_one(..., {"$set": {id, val, expiration}}, upsert=True)`).
async fn flask_write(coll: &Collection<Document>, key: &str, val: &[u8], expiration: DateTime) {
    coll.update_one(
        doc! { "id": key },
        doc! { "$set": { "id": key, "val": bin(val), "expiration": expiration } },
    )
    .upsert(true)
    .await
    .expect("raw write");
}

async fn docs(coll: &Collection<Document>, key: &str) -> Vec<Document> {
    use futures_util::TryStreamExt;
    coll.find(doc! { "id": key })
        .await
        .expect("find")
        .try_collect()
        .await
        .expect("cursor")
}

#[actix_rt::test]
async fn startup_creates_unique_id_and_ttl_indexes() {
    use futures_util::TryStreamExt;
    let name = unique("indexes");
    let _store = store(&name).await;
    let indexes: Vec<IndexModel> = raw(&name)
        .await
        .list_indexes()
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    let ttl = indexes
        .iter()
        .find(|i| i.keys == doc! { "expiration": 1 })
        .expect("ttl index");
    assert_eq!(
        ttl.options.as_ref().and_then(|o| o.expire_after),
        Some(Duration::ZERO)
    );
    assert_eq!(
        ttl.options.as_ref().and_then(|o| o.name.clone()).as_deref(),
        Some("expiration_1")
    );
    let id = indexes
        .iter()
        .find(|i| i.keys == doc! { "id": 1 })
        .expect("id index");
    assert_eq!(id.options.as_ref().and_then(|o| o.unique), Some(true));
    // a second start over the same collection is fine
    let _again = store(&name).await;
    raw(&name).await.drop().await.unwrap();
}

#[actix_rt::test]
async fn startup_tolerates_flask_index_and_rejects_a_non_unique_id_index() {
    // Flask-Session's own TTL index (pymongo create_index("expiration", expireAfterSeconds=0))
    let name = unique("flaskidx");
    let coll = raw(&name).await;
    coll.create_index(
        IndexModel::builder()
            .keys(doc! { "expiration": 1 })
            .options(IndexOptions::builder().expire_after(Duration::ZERO).build())
            .build(),
    )
    .await
    .unwrap();
    let _store = store(&name).await;
    coll.drop().await.unwrap();

    // an operator's non-unique id index: create-if-absent cannot be guaranteed → startup error
    let name = unique("nonunique");
    let coll = raw(&name).await;
    coll.create_index(IndexModel::builder().keys(doc! { "id": 1 }).build())
        .await
        .unwrap();
    let client = MongoDBSessionInterface::connect(&url()).await.unwrap();
    match MongoDBSessionInterface::new(client, DB, &name).await {
        Err(ConfigError::Backend {
            backend: "mongodb",
            message,
            ..
        }) => {
            assert!(message.contains("not unique"), "{message}")
        }
        other => panic!("expected a setup error, got {other:?}"),
    }
    coll.drop().await.unwrap();
}

#[actix_rt::test]
async fn create_writes_flask_shaped_document() {
    let name = unique("create");
    let (store, coll) = (store(&name).await, raw(&name).await);
    let before = DateTime::now().timestamp_millis();
    assert!(
        store
            .create(
                "session:abc",
                flask_bytes().as_slice(),
                Duration::from_secs(2_678_400)
            )
            .await
            .unwrap()
    );
    let after = DateTime::now().timestamp_millis();
    let found = docs(&coll, "session:abc").await;
    assert_eq!(found.len(), 1);
    let d = &found[0];
    // field order is the server's business ($set adds new fields in name order on
    // MongoDB >= 5), the same for documents Flask-Session writes
    let mut keys: Vec<&str> = d.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["_id", "expiration", "id", "val"]);
    assert!(matches!(d.get("_id"), Some(Bson::ObjectId(_))));
    assert_eq!(d.get_str("id").unwrap(), "session:abc");
    assert_eq!(
        d.get("val"),
        Some(&Bson::Binary(bin(flask_bytes().as_slice())))
    );
    let exp = d.get_datetime("expiration").unwrap().timestamp_millis();
    assert!(
        (before + 2_678_400_000..=after + 2_678_400_000).contains(&exp),
        "{exp}"
    );
    coll.drop().await.unwrap();
}

#[actix_rt::test]
async fn create_only_if_absent_but_takes_over_an_expired_document() {
    let name = unique("add");
    let (store, coll) = (store(&name).await, raw(&name).await);
    assert!(store.create("k", b"first", MINUTE).await.unwrap());
    assert!(!store.create("k", b"second", MINUTE).await.unwrap());
    let found = docs(&coll, "k").await;
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].get("val"), Some(&Bson::Binary(bin(b"first"))));

    // expired but not yet swept by the TTL monitor: it must not block a new session
    flask_write(&coll, "old", flask_bytes().as_slice(), at(-3600)).await;
    assert!(store.create("old", b"new", MINUTE).await.unwrap());
    let found = docs(&coll, "old").await;
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].get("val"), Some(&Bson::Binary(bin(b"new"))));
    assert!(
        found[0]
            .get_datetime("expiration")
            .unwrap()
            .timestamp_millis()
            > DateTime::now().timestamp_millis()
    );
    coll.drop().await.unwrap();
}

#[actix_rt::test]
async fn update_only_if_present_and_live() {
    let name = unique("update");
    let (store, coll) = (store(&name).await, raw(&name).await);
    assert!(!store.update("k", b"ghost", MINUTE).await.unwrap());
    assert!(docs(&coll, "k").await.is_empty(), "no upsert");

    flask_write(&coll, "k", flask_bytes().as_slice(), at(60)).await;
    let before = DateTime::now().timestamp_millis();
    assert!(
        store
            .update("k", b"\x81\xa1a\x02", Duration::from_secs(600))
            .await
            .unwrap()
    );
    let after = DateTime::now().timestamp_millis();
    let d = &docs(&coll, "k").await[0];
    assert_eq!(d.get("val"), Some(&Bson::Binary(bin(b"\x81\xa1a\x02"))));
    let exp = d.get_datetime("expiration").unwrap().timestamp_millis();
    assert!((before + 600_000..=after + 600_000).contains(&exp));

    // deleted by a concurrent logout: not brought back
    store.delete("k").await.unwrap();
    assert!(!store.update("k", b"late", MINUTE).await.unwrap());
    assert!(docs(&coll, "k").await.is_empty());

    // expired: not extended
    flask_write(&coll, "e", flask_bytes().as_slice(), at(-10)).await;
    assert!(!store.update("e", b"late", MINUTE).await.unwrap());
    assert_eq!(
        docs(&coll, "e").await[0].get("val"),
        Some(&Bson::Binary(bin(flask_bytes().as_slice())))
    );
    coll.drop().await.unwrap();
}

#[actix_rt::test]
async fn load_reads_flask_documents_and_refreshes_in_one_request() {
    let name = unique("load");
    let (store, coll) = (store(&name).await, raw(&name).await);
    let expires = at(30);
    flask_write(&coll, "k", flask_bytes().as_slice(), expires).await;
    assert_eq!(
        store.load("k", None).await.unwrap().as_deref(),
        Some(flask_bytes().as_slice())
    );
    assert_eq!(
        docs(&coll, "k").await[0]
            .get_datetime("expiration")
            .unwrap(),
        &expires,
        "plain load writes nothing"
    );

    let before = DateTime::now().timestamp_millis();
    assert_eq!(
        store
            .load("k", Some(Duration::from_secs(3600)))
            .await
            .unwrap()
            .as_deref(),
        Some(flask_bytes().as_slice())
    );
    let after = DateTime::now().timestamp_millis();
    let d = &docs(&coll, "k").await[0];
    assert_eq!(
        d.get("val"),
        Some(&Bson::Binary(bin(flask_bytes().as_slice()))),
        "refresh never rewrites the value"
    );
    let exp = d.get_datetime("expiration").unwrap().timestamp_millis();
    assert!((before + 3_600_000..=after + 3_600_000).contains(&exp));
    coll.drop().await.unwrap();
}

#[actix_rt::test]
async fn expired_documents_are_never_returned_nor_refreshed() {
    let name = unique("expired");
    let (store, coll) = (store(&name).await, raw(&name).await);
    assert_eq!(store.load("none", None).await.unwrap(), None);
    assert_eq!(store.load("none", Some(MINUTE)).await.unwrap(), None);
    assert!(
        docs(&coll, "none").await.is_empty(),
        "refresh of a missing id inserts nothing"
    );

    let past = at(-3600);
    flask_write(&coll, "old", flask_bytes().as_slice(), past).await;
    assert_eq!(store.load("old", None).await.unwrap(), None);
    assert_eq!(store.load("old", Some(MINUTE)).await.unwrap(), None);
    // untouched (or already removed by the TTL monitor, which sweeps every second here)
    let left: Vec<DateTime> = docs(&coll, "old")
        .await
        .iter()
        .map(|d| *d.get_datetime("expiration").unwrap())
        .collect();
    assert!(left.is_empty() || left == [past], "{left:?}");
    coll.drop().await.unwrap();
}

#[actix_rt::test]
async fn delete_is_idempotent_and_non_binary_values_are_corrupt() {
    let name = unique("delete");
    let (store, coll) = (store(&name).await, raw(&name).await);
    store.delete("k").await.unwrap();
    flask_write(&coll, "k", b"x", at(60)).await;
    store.delete("k").await.unwrap();
    assert!(docs(&coll, "k").await.is_empty());
    store.delete("k").await.unwrap();

    coll.insert_one(doc! { "id": "s", "val": "not binary", "expiration": at(60) })
        .await
        .unwrap();
    for refresh in [None, Some(MINUTE)] {
        let err = store.load("s", refresh).await.unwrap_err();
        assert!(
            matches!(err, actix_flask_session::StoreError::BadData { .. }),
            "{err:?}"
        );
    }
    coll.drop().await.unwrap();
}
