//! Live interop with the real Flask-Session 0.8.0 (boto3) on one DynamoDB-compatible
//! server (moto, `DYNAMODB_ENDPOINT`, default http://127.0.0.1:8000): the Flask app
//! (`tests/interop/flask_app.py`, venv of `scripts/interop-venv.sh`) and the actix mirror
//! share the table, the `SECRET_KEY`, the key prefix and one cookie jar. The mirror gets
//! its credentials from the AWS environment that `scripts/test.sh` exports.
#![cfg(feature = "dynamodb")]

mod support;

use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

use actix_flask_session::Session;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_dynamodb::types::AttributeValue;
use figment::providers::{Format, Toml};
use serde_json::json;
use support::{Browser, FlaskApp, MirrorApp, Settings, random_prefix};

const LIFETIME: i64 = 3600;

fn endpoint() -> String {
    std::env::var("DYNAMODB_ENDPOINT").unwrap_or_else(|_| "http://127.0.0.1:8000".to_owned())
}

fn raw() -> Client {
    let conf = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "static"))
        .endpoint_url(endpoint())
        .build();
    Client::from_conf(conf)
}

/// `{'_permanent': True, 'a': 1, 'b': 'x'}` as Flask-Session 0.8 encodes it (spec §5.4).
const AB: &str = "83aa5f7065726d616e656e74c3a16101a162a178";

async fn stored(table: &str, key: &str) -> Option<HashMap<String, AttributeValue>> {
    let out = raw()
        .get_item()
        .table_name(table)
        .key("id", AttributeValue::S(key.to_owned()))
        .consistent_read(true)
        .send()
        .await
        .unwrap_or_else(|e| {
            panic!(
                "DynamoDB (moto) failed at {}: {e:?}; start the services with scripts/test.sh",
                endpoint()
            )
        });
    out.item
}

/// Flask-shaped: binary `val` with Flask's bytes, `expiration` (N) one lifetime ahead.
/// `whole` says whether the expiration must be whole seconds (ours; Flask writes fractions).
async fn check_stored(table: &str, key: &str, whole: bool) {
    let item = stored(table, key).await.expect("an item");
    match item.get("val") {
        Some(AttributeValue::B(b)) => assert_eq!(hex::encode(b.as_ref()), AB),
        other => panic!("val {other:?}"),
    }
    let Some(AttributeValue::N(n)) = item.get("expiration") else {
        panic!("expiration {item:?}")
    };
    assert_eq!(!n.contains('.'), whole, "{n}");
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let left = n.parse::<f64>().unwrap() - now;
    assert!(
        (LIFETIME as f64 - 60.0..=LIFETIME as f64).contains(&left),
        "{left} s left"
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
    assert!(
        std::env::var_os("AWS_ACCESS_KEY_ID").is_some(),
        "the mirror app takes its credentials from the AWS environment: run scripts/test.sh (or eval \"$(bash scripts/services.sh env)\")"
    );
    let prefix = random_prefix("ddb");
    let tag = actix_flask_session::sid::generate(9).expect("random");
    let table = format!("afs_interop_{tag}");
    let common = Settings::default()
        .str("SESSION_TYPE", "dynamodb")
        .str("SESSION_DYNAMODB_TABLE", table.clone())
        .str("SECRET_KEY", "interop-secret")
        .str("SESSION_KEY_PREFIX", prefix.clone())
        .int("PERMANENT_SESSION_LIFETIME", LIFETIME);
    // Flask: a boto3 resource from these (see make_backend); TZ=UTC because Flask-Session
    // 0.8 computes `expiration` from a naive UTC datetime read as local time.
    let flask_settings = common
        .clone()
        .str("SESSION_DYNAMODB_ENDPOINT", endpoint())
        .str("SESSION_DYNAMODB_REGION", "us-east-1")
        .str("TZ", "UTC");
    let flask = FlaskApp::start(&flask_settings);
    let figment = common.figment().merge(Toml::string(&format!(
        "SESSION_DYNAMODB = {{ endpoint_url = \"{}\", region = \"us-east-1\" }}",
        endpoint()
    )));
    let session = Session::from_figment(&figment)
        .await
        .unwrap_or_else(|e| panic!("mirror config: {e}"));
    let actix = MirrorApp::start(session);
    let (f, a) = (
        |p: &str| format!("{}{p}", flask.url()),
        |p: &str| format!("{}{p}", actix.url()),
    );
    let b = Browser::new();

    // Flask creates; actix reads and modifies; Flask sees it.
    let sid = sid_of(&b.post_json(&f("/set/a"), &json!(1)).await);
    b.post_json(&f("/set/b"), &json!("x")).await;
    check_stored(&table, &format!("{prefix}{sid}"), false).await;
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

    // Logout in Flask is a logout in actix.
    b.post(&f("/clear")).await;
    assert_eq!(stored(&table, &format!("{prefix}{sid}")).await, None);
    assert_eq!(b.get(&a("/get/a")).await.json(), json!({ "missing": true }));

    // actix creates a Flask-shaped item; Flask reads and modifies it.
    let sid2 = sid_of(&b.post_json(&a("/set/a"), &json!(1)).await);
    assert_ne!(sid2, sid);
    b.post_json(&a("/set/b"), &json!("x")).await;
    check_stored(&table, &format!("{prefix}{sid2}"), true).await;
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
    assert_eq!(stored(&table, &format!("{prefix}{sid2}")).await, None);
    assert_eq!(b.get(&f("/get/a")).await.json(), json!({ "missing": true }));
    let _ = raw().delete_table().table_name(&table).send().await;
}
