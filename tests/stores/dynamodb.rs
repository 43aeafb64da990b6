//! The DynamoDB store against a DynamoDB-compatible server (moto, started by
//! `scripts/services.sh` on 127.0.0.1:8000; `DYNAMODB_ENDPOINT` overrides it). Items are
//! checked with a raw SDK client: attribute types, exact bytes, expiration values, table
//! and TTL settings. moto never evicts expired items, which is what lets these tests prove
//! that expiry is enforced on read.
#![cfg(feature = "dynamodb")]

use crate::support;

use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use actix_flask_session::SessionStore;
use actix_flask_session::backends::dynamodb::DynamoDBSessionInterface;
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::{
    AttributeValue, BillingMode, KeyType, ScalarAttributeType, TimeToLiveStatus,
};
use support::raw::dynamodb::{endpoint, raw};

/// Flask-Session 0.8's bytes for `{'_permanent': True, 'a': 1, 'b': 'x'}`.
fn flask_bytes() -> Vec<u8> {
    crate::vectors::permanent_ab_msgpack()
}
const MINUTE: Duration = Duration::from_secs(60);

fn unique_table(name: &str) -> String {
    let tag = crate::support::random_token(9);
    format!("afs_{name}_{tag}")
}

async fn store(table: &str) -> DynamoDBSessionInterface {
    match DynamoDBSessionInterface::new(raw(), table, false).await {
        Ok(store) => store,
        Err(e) => panic!(
            "DynamoDB (moto) is not reachable at {}: {e}; start the services with scripts/test.sh",
            endpoint()
        ),
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

type Item = HashMap<String, AttributeValue>;

async fn get(table: &str, key: &str) -> Option<Item> {
    raw()
        .get_item()
        .table_name(table)
        .key("id", AttributeValue::S(key.to_owned()))
        .consistent_read(true)
        .send()
        .await
        .expect("raw get")
        .item
}

/// What Flask-Session 0.8 writes: `UpdateItem SET val = :value, expiration = :exp` with a
/// fractional expiration.
async fn flask_write(table: &str, key: &str, val: &[u8], expiration: &str) {
    raw()
        .update_item()
        .table_name(table)
        .key("id", AttributeValue::S(key.to_owned()))
        .update_expression("SET val = :value, expiration = :exp")
        .expression_attribute_values(":value", AttributeValue::B(Blob::new(val)))
        .expression_attribute_values(":exp", AttributeValue::N(expiration.to_owned()))
        .send()
        .await
        .expect("raw write");
}

fn val(item: &Item) -> &[u8] {
    match item.get("val") {
        Some(AttributeValue::B(b)) => b.as_ref(),
        other => panic!("val is not binary: {other:?}"),
    }
}

fn expiration(item: &Item) -> String {
    match item.get("expiration") {
        Some(AttributeValue::N(n)) => n.clone(),
        other => panic!("expiration is not a number: {other:?}"),
    }
}

async fn drop_table(table: &str) {
    let _ = raw().delete_table().table_name(table).send().await;
}

#[actix_rt::test]
async fn startup_creates_on_demand_table_with_ttl_and_is_idempotent() {
    let table = unique_table("setup");
    let _store = store(&table).await;
    let desc = raw()
        .describe_table()
        .table_name(&table)
        .send()
        .await
        .unwrap();
    let t = desc.table().unwrap();
    let key = &t.key_schema()[0];
    assert_eq!(
        (key.attribute_name(), key.key_type()),
        ("id", &KeyType::Hash)
    );
    assert_eq!(t.key_schema().len(), 1);
    let attr = &t.attribute_definitions()[0];
    assert_eq!(
        (attr.attribute_name(), attr.attribute_type()),
        ("id", &ScalarAttributeType::S)
    );
    assert_eq!(
        t.billing_mode_summary().and_then(|b| b.billing_mode()),
        Some(&BillingMode::PayPerRequest)
    );
    let ttl = raw()
        .describe_time_to_live()
        .table_name(&table)
        .send()
        .await
        .unwrap();
    let ttl = ttl.time_to_live_description().unwrap();
    assert_eq!(ttl.time_to_live_status(), Some(&TimeToLiveStatus::Enabled));
    assert_eq!(ttl.attribute_name(), Some("expiration"));
    // a second start: table exists, TTL already enabled
    let _again = store(&table).await;
    drop_table(&table).await;
}

/// With `TABLE_EXISTS = true` nothing is created; a missing table fails at startup,
/// naming the key, instead of failing every request.
#[actix_rt::test]
async fn table_exists_touches_nothing_at_startup() {
    let table = unique_table("exists");
    let Err(err) = DynamoDBSessionInterface::new(raw(), &table, true).await else {
        panic!("a missing table with TABLE_EXISTS = true must fail at startup");
    };
    let message = err.to_string();
    assert!(
        message.starts_with(&format!(
            "invalid value for SESSION_DYNAMODB_TABLE: \"{table}\"; an existing table"
        )),
        "{message}"
    );
    let err = raw()
        .describe_table()
        .table_name(&table)
        .send()
        .await
        .unwrap_err();
    assert!(
        err.as_service_error()
            .is_some_and(|e| e.is_resource_not_found_exception()),
        "{err:?}"
    );
    // An existing table is accepted.
    let _created = store(&table).await;
    DynamoDBSessionInterface::new(raw(), &table, true)
        .await
        .unwrap();
    drop_table(&table).await;
}

#[actix_rt::test]
async fn create_writes_flask_shaped_item() {
    let table = unique_table("create");
    let store = store(&table).await;
    let before = now();
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
    let after = now();
    let item = get(&table, "session:abc").await.expect("written");
    let mut names: Vec<&str> = item.keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(names, ["expiration", "id", "val"]);
    assert_eq!(
        item.get("id"),
        Some(&AttributeValue::S("session:abc".to_owned()))
    );
    assert_eq!(val(&item), flask_bytes().as_slice());
    let exp: u64 = expiration(&item).parse().expect("whole seconds");
    assert!(
        (before + 2_678_400..=after + 2_678_400).contains(&exp),
        "{exp}"
    );
    drop_table(&table).await;
}

#[actix_rt::test]
async fn create_only_if_absent_but_takes_over_an_expired_item() {
    let table = unique_table("add");
    let store = store(&table).await;
    assert!(store.create("k", b"first", MINUTE).await.unwrap());
    assert!(!store.create("k", b"second", MINUTE).await.unwrap());
    assert_eq!(val(&get(&table, "k").await.unwrap()), b"first");

    flask_write(
        &table,
        "old",
        flask_bytes().as_slice(),
        &format!("{}.25", now() - 3600),
    )
    .await;
    assert!(store.create("old", b"new", MINUTE).await.unwrap());
    let item = get(&table, "old").await.unwrap();
    assert_eq!(val(&item), b"new");
    assert!(expiration(&item).parse::<u64>().unwrap() >= now() + 59);
    drop_table(&table).await;
}

#[actix_rt::test]
async fn update_only_if_present_and_live() {
    let table = unique_table("update");
    let store = store(&table).await;
    assert!(!store.update("k", b"ghost", MINUTE).await.unwrap());
    assert_eq!(get(&table, "k").await, None, "no upsert");

    flask_write(
        &table,
        "k",
        flask_bytes().as_slice(),
        &format!("{}.5", now() + 60),
    )
    .await;
    let before = now();
    assert!(
        store
            .update("k", b"\x81\xa1a\x02", Duration::from_secs(600))
            .await
            .unwrap()
    );
    let after = now();
    let item = get(&table, "k").await.unwrap();
    assert_eq!(val(&item), b"\x81\xa1a\x02");
    let exp: u64 = expiration(&item).parse().unwrap();
    assert!((before + 600..=after + 600).contains(&exp));

    // deleted by a concurrent logout: not brought back
    store.delete("k").await.unwrap();
    assert!(!store.update("k", b"late", MINUTE).await.unwrap());
    assert_eq!(get(&table, "k").await, None);

    // expired (moto keeps it): not extended, not rewritten
    let past = format!("{}.5", now() - 10);
    flask_write(&table, "e", flask_bytes().as_slice(), &past).await;
    assert!(!store.update("e", b"late", MINUTE).await.unwrap());
    let item = get(&table, "e").await.unwrap();
    assert_eq!(
        (val(&item), expiration(&item)),
        (flask_bytes().as_slice(), past)
    );
    drop_table(&table).await;
}

#[actix_rt::test]
async fn load_reads_flask_items_and_refreshes_in_one_request() {
    let table = unique_table("load");
    let store = store(&table).await;
    let exp = format!("{}.123456", now() + 30);
    flask_write(&table, "k", flask_bytes().as_slice(), &exp).await;
    assert_eq!(
        store.load("k", None).await.unwrap().as_deref(),
        Some(flask_bytes().as_slice())
    );
    assert_eq!(
        expiration(&get(&table, "k").await.unwrap()),
        exp,
        "plain load writes nothing"
    );

    let before = now();
    assert_eq!(
        store
            .load("k", Some(Duration::from_secs(3600)))
            .await
            .unwrap()
            .as_deref(),
        Some(flask_bytes().as_slice())
    );
    let after = now();
    let item = get(&table, "k").await.unwrap();
    assert_eq!(
        val(&item),
        flask_bytes().as_slice(),
        "refresh never rewrites the value"
    );
    let moved: u64 = expiration(&item).parse().unwrap();
    assert!((before + 3600..=after + 3600).contains(&moved));
    drop_table(&table).await;
}

#[actix_rt::test]
async fn expired_items_are_never_returned_nor_refreshed() {
    let table = unique_table("expired");
    let store = store(&table).await;
    assert_eq!(store.load("none", None).await.unwrap(), None);
    assert_eq!(store.load("none", Some(MINUTE)).await.unwrap(), None);
    assert_eq!(
        get(&table, "none").await,
        None,
        "refresh of a missing id creates nothing"
    );

    let past = format!("{}.9", now() - 3600);
    flask_write(&table, "old", flask_bytes().as_slice(), &past).await;
    assert_eq!(store.load("old", None).await.unwrap(), None);
    assert_eq!(store.load("old", Some(MINUTE)).await.unwrap(), None);
    let item = get(&table, "old").await.expect("moto never evicts");
    assert_eq!(expiration(&item), past, "an expired item is not refreshed");
    drop_table(&table).await;
}

/// DynamoDB takes partition keys of at most 2,048 bytes: a longer prefix + id is a
/// startup error naming the key, not a failure of every request.
#[actix_rt::test]
async fn keys_over_2048_bytes_are_refused_at_startup() {
    use actix_flask_session::{ServerSideSessionInterface, SessionConfig};
    let table = unique_table("keylen");
    let store = store(&table).await;
    let config = |prefix_len: usize| {
        let mut config = SessionConfig::default();
        config.key_prefix = "k".repeat(prefix_len);
        config
    };
    let err = ServerSideSessionInterface::new(store.clone(), config(2048 - 43 + 1))
        .expect_err("2049-byte keys");
    assert!(
        err.to_string().contains(
            "the dynamodb store cannot take its 2049-byte keys: a DynamoDB partition key \
             holds at most 2048 bytes"
        ),
        "{err}"
    );
    let interface = ServerSideSessionInterface::new(store.clone(), config(2048 - 43)).unwrap();
    let key = format!("{}{}", "k".repeat(2005), "A".repeat(43));
    assert_eq!(key.len(), 2048);
    assert!(
        interface
            .store()
            .create(&key, flask_bytes().as_slice(), MINUTE)
            .await
            .unwrap()
    );
    assert_eq!(
        interface.store().load(&key, None).await.unwrap().unwrap(),
        flask_bytes().as_slice()
    );
    drop_table(&table).await;
}

/// An item whose `val` is not binary (not written by either app) is not a session.
#[actix_rt::test]
async fn non_binary_val_is_bad_data() {
    let table = unique_table("baddata");
    let store = store(&table).await;
    raw()
        .put_item()
        .table_name(&table)
        .item("id", AttributeValue::S("k".to_owned()))
        .item("val", AttributeValue::S("not binary".to_owned()))
        .item("expiration", AttributeValue::N(format!("{}", now() + 60)))
        .send()
        .await
        .expect("raw put");
    for refresh in [None, Some(MINUTE)] {
        let err = store.load("k", refresh).await.unwrap_err();
        assert!(
            matches!(err, actix_flask_session::StoreError::BadData { .. }),
            "{err:?}"
        );
    }
    drop_table(&table).await;
}

#[actix_rt::test]
async fn delete_is_idempotent() {
    let table = unique_table("delete");
    let store = store(&table).await;
    store.delete("k").await.unwrap();
    flask_write(&table, "k", b"x", &format!("{}", now() + 60)).await;
    store.delete("k").await.unwrap();
    assert_eq!(get(&table, "k").await, None);
    store.delete("k").await.unwrap();
    drop_table(&table).await;
}
