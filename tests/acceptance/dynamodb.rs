//! The store-agnostic acceptance suite on the DynamoDB store (moto from
//! `scripts/services.sh`; `DYNAMODB_ENDPOINT` overrides http://127.0.0.1:8000).
#![cfg(all(feature = "dynamodb", feature = "testing"))]

use actix_flask_session::backends::dynamodb::DynamoDBSessionInterface;
use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};

actix_flask_session::acceptance_suite!(|| async {
    let endpoint =
        std::env::var("DYNAMODB_ENDPOINT").unwrap_or_else(|_| "http://127.0.0.1:8000".to_owned());
    let conf = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "static"))
        .endpoint_url(&endpoint)
        .build();
    let client = aws_sdk_dynamodb::Client::from_conf(conf);
    // One table per run (cases are told apart by their random key prefixes).
    static TABLE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let table = TABLE.get_or_init(|| format!("afs_acceptance_{:08x}", rand::random::<u32>()));
    let store = match DynamoDBSessionInterface::new(client, table.as_str(), false).await {
        Ok(store) => store.with_user_index(false).await,
        Err(e) => Err(e),
    };
    match store {
        Ok(store) => store,
        Err(e) => panic!(
            "DynamoDB (moto) is not reachable at {endpoint}: {e}; start the services with scripts/test.sh"
        ),
    }
});
