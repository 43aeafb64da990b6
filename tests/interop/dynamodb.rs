//! Live interop with the real Flask-Session 0.8.0 (boto3) on one DynamoDB-compatible
//! server (moto, `DYNAMODB_ENDPOINT`, default http://127.0.0.1:8000): the Flask app
//! (`tests/interop/flask_app.py`, venv of `scripts/interop-venv.sh`) and the actix mirror
//! share the table, the `SECRET_KEY`, the key prefix and one cookie jar. The mirror gets
//! its credentials from the AWS environment that `scripts/test.sh` exports.
#![cfg(feature = "dynamodb")]

use crate::support;

use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

use actix_flask_session::Session;
use aws_sdk_dynamodb::types::AttributeValue;
use figment::providers::{Format, Toml};
use support::flows::{self, Stored, Writer};
use support::raw::dynamodb::{endpoint, raw};
use support::{FlaskApp, MirrorApp, Settings, random_prefix};

const LIFETIME: i64 = 3600;

/// `{'_permanent': True, 'a': 1, 'b': 'x'}` as Flask-Session 0.8 encodes it.
fn ab() -> &'static str {
    crate::vectors::permanent_ab_msgpack_hex()
}

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

/// The raw view: a Flask-shaped item, binary `val` with Flask's bytes, `expiration` (N) one
/// lifetime ahead, in whole seconds when actix wrote it (Flask writes fractions).
struct Dynamo {
    table: String,
    prefix: String,
}

impl Stored for Dynamo {
    const SIGNED: bool = false;

    async fn check_stored(&self, sid: &str, writer: Writer) {
        let item = stored(&self.table, &format!("{}{sid}", self.prefix))
            .await
            .expect("an item");
        match item.get("val") {
            Some(AttributeValue::B(b)) => assert_eq!(hex::encode(b.as_ref()), ab()),
            other => panic!("val {other:?}"),
        }
        let Some(AttributeValue::N(n)) = item.get("expiration") else {
            panic!("expiration {item:?}")
        };
        assert_eq!(!n.contains('.'), writer == Writer::Actix, "{n}");
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

    async fn check_gone(&self, sid: &str) {
        assert_eq!(
            stored(&self.table, &format!("{}{sid}", self.prefix)).await,
            None
        );
    }
}

#[actix_rt::test]
async fn sessions_are_shared_both_ways() {
    assert!(
        std::env::var_os("AWS_ACCESS_KEY_ID").is_some(),
        "the mirror app takes its credentials from the AWS environment: run scripts/test.sh (or eval \"$(bash scripts/services.sh env)\")"
    );
    let prefix = random_prefix("ddb");
    let tag = crate::support::random_token(9);
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
    flows::sessions_are_shared_both_ways(
        &flask,
        &actix,
        &Dynamo {
            table: table.clone(),
            prefix,
        },
    )
    .await;
    let _ = raw().delete_table().table_name(&table).send().await;
}
