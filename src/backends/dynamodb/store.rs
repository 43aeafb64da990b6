use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_config::BehaviorVersion;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::Region;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, Delete, KeySchemaElement, KeyType, Put,
    ReturnValue, ScalarAttributeType, TableStatus, TimeToLiveSpecification, TimeToLiveStatus,
    TransactWriteItem,
};
use figment::Figment;
use serde::Deserialize;

use crate::clock::since_epoch;
use crate::config::{SessionConfig, extract_bool_key, extract_key, extract_string_key};
use crate::error::{BoxError, ConfigError, StoreError};
use crate::store::{RenameOutcome, SessionStore, SwapOutcome, Versioned};

#[path = "cas.rs"]
mod cas;

pub(super) const BACKEND: &str = "dynamodb";

/// `SESSION_DYNAMODB_TABLE` default (Flask-Session's).
pub(crate) const DEFAULT_TABLE: &str = "Sessions";

/// How often a rename is sent again when DynamoDB cancels it for a concurrent
/// transaction on the same items.
const RENAME_CONFLICT_ATTEMPTS: usize = 3;

/// A transaction item's cancellation reason when its condition failed.
const CONDITION_FAILED: &str = "ConditionalCheckFailed";

/// How long startup waits for a new table to become `ACTIVE`.
const TABLE_ACTIVE_WAIT: Duration = Duration::from_secs(60);

/// The `SESSION_DYNAMODB` table.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct DynamoDBConnection {
    /// Endpoint URL, e.g. `http://127.0.0.1:8000` for a local server; `None` = real AWS.
    pub endpoint_url: Option<String>,
    /// AWS region; `None` = from the AWS chain (`AWS_REGION`, profile, ...).
    pub region: Option<String>,
}

impl DynamoDBConnection {
    /// Loads the AWS configuration (credentials from the default chain) with this endpoint
    /// and region, and 5 s per attempt / 10 s per operation timeouts.
    pub(crate) async fn sdk_config(&self) -> aws_config::SdkConfig {
        let mut loader = aws_config::defaults(BehaviorVersion::latest()).timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(3))
                .operation_attempt_timeout(Duration::from_secs(5))
                .operation_timeout(Duration::from_secs(10))
                .build(),
        );
        if let Some(region) = &self.region {
            loader = loader.region(Region::new(region.clone()));
        }
        if let Some(url) = &self.endpoint_url {
            loader = loader.endpoint_url(url.clone());
        }
        loader.load().await
    }
}

/// DynamoDB session store: Flask-Session's item layout, conditional writes, expiry
/// checked on read, refresh in one `UpdateItem`.
///
/// See the [module documentation](super) for every request it sends.
#[derive(Debug, Clone)]
pub struct DynamoDbStore {
    pub(super) client: Client,
    pub(super) table: String,
    /// The per-user index table, once [`with_user_index`](Self::with_user_index) prepared it.
    pub(super) users_table: Option<String>,
}

impl DynamoDbStore {
    /// Uses `client` (the AWS SDK's: the dependency type through which an application
    /// hands over a client it configured itself) and `table`. Unless `table_exists`, creates the table when it is
    /// absent, waits for it to be active and enables TTL on `expiration` (see the module
    /// documentation). Any failure there is a [`ConfigError::Backend`]. With
    /// `table_exists`, nothing is created, but a table that is not there is a
    /// [`ConfigError::Invalid`] naming `SESSION_DYNAMODB_TABLE`.
    pub async fn new(
        client: Client,
        table: impl Into<String>,
        table_exists: bool,
    ) -> Result<Self, ConfigError> {
        let store = DynamoDbStore {
            client,
            table: table.into(),
            users_table: None,
        };
        if table_exists {
            store.check_table().await?;
        } else {
            store.ensure_table().await?;
        }
        Ok(store)
    }

    /// With `SESSION_DYNAMODB_TABLE_EXISTS = true`: one `GetItem` (the permission every
    /// request needs anyway, unlike `DescribeTable`) proves the table is there, so a
    /// missing table fails at startup instead of at every request.
    async fn check_table(&self) -> Result<(), ConfigError> {
        self.check_named_table(&self.table, &["id"]).await
    }

    /// [`check_table`](Self::check_table) for the table `name` with these key attributes.
    pub(super) async fn check_named_table(
        &self,
        name: &str,
        keys: &[&str],
    ) -> Result<(), ConfigError> {
        let mut get = self.client.get_item().table_name(name);
        for key in keys {
            get = get.key(
                *key,
                AttributeValue::S("actix-flask-session:startup-probe".to_owned()),
            );
        }
        let probe = get.send().await;
        match probe {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
            {
                Err(ConfigError::Invalid {
                    key: "SESSION_DYNAMODB_TABLE",
                    value: format!("{:?}", self.table),
                    allowed: format!(
                        "an existing table {name:?}: with SESSION_DYNAMODB_TABLE_EXISTS = true \
                         the table is not created; create it, or set \
                         SESSION_DYNAMODB_TABLE_EXISTS = false"
                    ),
                })
            }
            Err(e) => Err(ConfigError::Backend {
                backend: BACKEND,
                message: format!("cannot read the table {name}"),
                source: Some(Box::new(e)),
            }),
        }
    }

    /// Reads `SESSION_DYNAMODB`, `SESSION_DYNAMODB_TABLE` and
    /// `SESSION_DYNAMODB_TABLE_EXISTS`, builds the client and prepares the table.
    pub async fn from_figment(
        config: &SessionConfig,
        figment: &Figment,
    ) -> Result<Self, ConfigError> {
        let connection =
            extract_key::<DynamoDBConnection>(figment, "SESSION_DYNAMODB")?.unwrap_or_default();
        let table = extract_string_key(figment, "SESSION_DYNAMODB_TABLE")?
            .unwrap_or_else(|| DEFAULT_TABLE.to_owned());
        if table.len() < 3
            || table.len() > 255
            || !table
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b))
        {
            return Err(ConfigError::Invalid {
                key: "SESSION_DYNAMODB_TABLE",
                value: format!("{table:?}"),
                allowed:
                    "expected a DynamoDB table name: 3 to 255 characters among a-z A-Z 0-9 _ - ."
                        .to_owned(),
            });
        }
        let table_exists =
            extract_bool_key(figment, "SESSION_DYNAMODB_TABLE_EXISTS")?.unwrap_or(false);
        let sdk = connection.sdk_config().await;
        if sdk.region().is_none() {
            return Err(ConfigError::Missing {
                key: "SESSION_DYNAMODB",
                hint: "no AWS region: set SESSION_DYNAMODB = { region = \"...\" } or AWS_REGION"
                    .to_owned(),
            });
        }
        let mut store = Self::new(Client::new(&sdk), table, table_exists).await?;
        if config.user_key.is_some() {
            store = store.with_user_index(table_exists).await?;
        }
        tracing::info!(table = %store.table, endpoint = ?connection.endpoint_url, region = ?sdk.region(), "dynamodb session store");
        Ok(store)
    }

    /// The table name.
    pub fn table(&self) -> &str {
        &self.table
    }

    async fn ensure_table(&self) -> Result<(), ConfigError> {
        self.ensure_named_table(&self.table, &[("id", KeyType::Hash)])
            .await
    }

    /// [`ensure_table`](Self::ensure_table) for the table `name` with these string key
    /// attributes.
    pub(super) async fn ensure_named_table(
        &self,
        name: &str,
        keys: &[(&str, KeyType)],
    ) -> Result<(), ConfigError> {
        let setup = |message: String, source: BoxError| ConfigError::Backend {
            backend: BACKEND,
            message,
            source: Some(source),
        };
        let mut create = self
            .client
            .create_table()
            .table_name(name)
            .billing_mode(BillingMode::PayPerRequest);
        for (attribute, key_type) in keys {
            let definition = AttributeDefinition::builder()
                .attribute_name(*attribute)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .map_err(|e| setup("cannot describe the key attribute".to_owned(), Box::new(e)))?;
            let key = KeySchemaElement::builder()
                .attribute_name(*attribute)
                .key_type(key_type.clone())
                .build()
                .map_err(|e| setup("cannot describe the key schema".to_owned(), Box::new(e)))?;
            create = create.attribute_definitions(definition).key_schema(key);
        }
        match create.send().await {
            Ok(_) => tracing::info!(table = %name, "created the DynamoDB table"),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_in_use_exception()) => {}
            Err(e) => {
                return Err(setup(
                    format!("cannot create the table {}", name),
                    Box::new(e),
                ));
            }
        }

        let deadline = tokio::time::Instant::now() + TABLE_ACTIVE_WAIT;
        loop {
            let described = self
                .client
                .describe_table()
                .table_name(name)
                .send()
                .await
                .map_err(|e| {
                    setup(
                        format!("cannot describe the table {}", name),
                        Box::new(e),
                    )
                })?;
            let status = described.table().and_then(|t| t.table_status());
            if matches!(status, Some(TableStatus::Active) | None) {
                break;
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(ConfigError::Backend {
                    backend: BACKEND,
                    message: format!(
                        "table {} is still {status:?} after {TABLE_ACTIVE_WAIT:?}",
                        name
                    ),
                    source: None,
                });
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }

        let ttl = self
            .client
            .describe_time_to_live()
            .table_name(name)
            .send()
            .await
            .map_err(|e| {
                setup(
                    format!("cannot read the TTL setting of {}", name),
                    Box::new(e),
                )
            })?;
        if let Some(desc) = ttl.time_to_live_description() {
            let on = matches!(
                desc.time_to_live_status(),
                Some(TimeToLiveStatus::Enabled | TimeToLiveStatus::Enabling)
            );
            match desc.attribute_name() {
                Some("expiration") if on => return Ok(()),
                Some(other) if on => {
                    tracing::warn!(table = %name, attribute = other, "TTL is enabled on another attribute; expired sessions are never served but DynamoDB will not remove them");
                    return Ok(());
                }
                _ => {}
            }
        }
        let spec = TimeToLiveSpecification::builder()
            .attribute_name("expiration")
            .enabled(true)
            .build()
            .map_err(|e| setup("cannot describe the TTL setting".to_owned(), Box::new(e)))?;
        match self
            .client
            .update_time_to_live()
            .table_name(name)
            .time_to_live_specification(spec)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if e.message().is_some_and(|m| m.contains("already enabled")) => Ok(()),
            Err(e) => Err(setup(
                format!("cannot enable TTL on {}.expiration", name),
                Box::new(e),
            )),
        }
    }
}

/// Unix time now, as (whole seconds, the `:now` number with milliseconds).
pub(super) fn now() -> (u64, String) {
    let d = since_epoch();
    (
        d.as_secs(),
        format!("{}.{:03}", d.as_secs(), d.subsec_millis()),
    )
}

pub(super) fn expiration(now_secs: u64, ttl: Duration) -> AttributeValue {
    AttributeValue::N(now_secs.saturating_add(ttl.as_secs()).to_string())
}

/// A conditional write or update: `Ok(None)` when its condition failed (the entry was
/// absent, present or expired, as the condition says), the output otherwise.
pub(super) fn unless_condition_failed<T, E>(
    result: Result<T, SdkError<E, aws_sdk_dynamodb::config::http::HttpResponse>>,
) -> Result<Option<T>, StoreError>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match result {
        Ok(out) => Ok(Some(out)),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.code() == Some("ConditionalCheckFailedException")) =>
        {
            Ok(None)
        }
        Err(e) => Err(map_error(e)),
    }
}

pub(super) fn map_error<E>(e: SdkError<E, aws_sdk_dynamodb::config::http::HttpResponse>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let unavailable = match &e {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            true
        }
        SdkError::ServiceError(s) => matches!(
            s.err().code(),
            Some(
                "ProvisionedThroughputExceededException"
                    | "RequestLimitExceeded"
                    | "ThrottlingException"
                    | "InternalServerError"
                    | "ServiceUnavailable"
            )
        ),
        _ => false,
    };
    if unavailable {
        StoreError::unavailable(BACKEND, e)
    } else {
        StoreError::backend(BACKEND, e)
    }
}

/// DynamoDB's limit on the size of a partition key value, in bytes.
const MAX_KEY_LEN: usize = 2048;

/// `val` of an item; [`StoreError::BadData`] when it is not binary (the lifecycle deletes
/// the item and starts a fresh session, as for corrupt bytes).
fn value_of(item: &HashMap<String, AttributeValue>) -> Result<Vec<u8>, StoreError> {
    match item.get("val") {
        Some(AttributeValue::B(blob)) => Ok(blob.as_ref().to_vec()),
        other => Err(StoreError::BadData {
            backend: BACKEND,
            message: format!(
                "the session item's `val` is {}, not binary",
                match other {
                    None => "missing",
                    Some(AttributeValue::S(_)) => "a string",
                    Some(AttributeValue::N(_)) => "a number",
                    Some(_) => "of another type",
                }
            ),
        }),
    }
}

/// Whether an item read by `GetItem` is still live at `now` (seconds with fraction).
pub(super) fn is_live(item: &HashMap<String, AttributeValue>, now: f64) -> bool {
    match item.get("expiration") {
        Some(AttributeValue::N(n)) => n.parse::<f64>().is_ok_and(|exp| exp > now),
        // no expiration at all: not written by either app; never serve it
        _ => false,
    }
}

#[async_trait]
impl SessionStore for DynamoDbStore {
    async fn load(
        &self,
        key: &str,
        refresh: Option<Duration>,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let (now_secs, now_n) = now();
        match refresh {
            None => {
                let out = self
                    .client
                    .get_item()
                    .table_name(&self.table)
                    .key("id", AttributeValue::S(key.to_owned()))
                    .consistent_read(true)
                    .send()
                    .await
                    .map_err(map_error)?;
                let now_f = now_n.parse::<f64>().unwrap_or(now_secs as f64);
                out.item()
                    .filter(|item| is_live(item, now_f))
                    .map(value_of)
                    .transpose()
            }
            Some(ttl) => {
                let result = self
                    .client
                    .update_item()
                    .table_name(&self.table)
                    .key("id", AttributeValue::S(key.to_owned()))
                    .update_expression("SET #exp = :exp")
                    .condition_expression("attribute_exists(#id) AND #exp > :now")
                    .expression_attribute_names("#id", "id")
                    .expression_attribute_names("#exp", "expiration")
                    .expression_attribute_values(":exp", expiration(now_secs, ttl))
                    .expression_attribute_values(":now", AttributeValue::N(now_n))
                    .return_values(ReturnValue::AllNew)
                    .send()
                    .await;
                unless_condition_failed(result)?
                    .map(|out| out.attributes().map(value_of).unwrap_or(Ok(Vec::new())))
                    .transpose()
            }
        }
    }

    async fn create(&self, key: &str, value: &[u8], ttl: Duration) -> Result<bool, StoreError> {
        let (now_secs, now_n) = now();
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("id", AttributeValue::S(key.to_owned()))
            .item("val", AttributeValue::B(Blob::new(value)))
            .item("expiration", expiration(now_secs, ttl))
            .condition_expression("attribute_not_exists(#id) OR #exp <= :now")
            .expression_attribute_names("#id", "id")
            .expression_attribute_names("#exp", "expiration")
            .expression_attribute_values(":now", AttributeValue::N(now_n))
            .send()
            .await;
        Ok(unless_condition_failed(result)?.is_some())
    }

    async fn update(&self, key: &str, value: &[u8], ttl: Duration) -> Result<bool, StoreError> {
        let (now_secs, now_n) = now();
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("id", AttributeValue::S(key.to_owned()))
            .update_expression("SET #val = :val, #exp = :exp")
            .condition_expression("attribute_exists(#id) AND #exp > :now")
            .expression_attribute_names("#id", "id")
            .expression_attribute_names("#val", "val")
            .expression_attribute_names("#exp", "expiration")
            .expression_attribute_values(":val", AttributeValue::B(Blob::new(value)))
            .expression_attribute_values(":exp", expiration(now_secs, ttl))
            .expression_attribute_values(":now", AttributeValue::N(now_n))
            .send()
            .await;
        Ok(unless_condition_failed(result)?.is_some())
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key("id", AttributeValue::S(key.to_owned()))
            .send()
            .await
            .map_err(map_error)?;
        Ok(())
    }

    /// One `TransactWriteItems`: `Put` of the new item (condition: absent or expired) and
    /// `Delete` of the old one (condition: present and live); see the module docs.
    async fn rename(
        &self,
        from: &str,
        to: &str,
        value: &[u8],
        ttl: Duration,
    ) -> Result<RenameOutcome, StoreError> {
        let build_error = |e| StoreError::backend(BACKEND, e);
        for attempt in 1..=RENAME_CONFLICT_ATTEMPTS {
            let (now_secs, now_n) = now();
            let put = Put::builder()
                .table_name(&self.table)
                .item("id", AttributeValue::S(to.to_owned()))
                .item("val", AttributeValue::B(Blob::new(value)))
                .item("expiration", expiration(now_secs, ttl))
                .condition_expression("attribute_not_exists(#id) OR #exp <= :now")
                .expression_attribute_names("#id", "id")
                .expression_attribute_names("#exp", "expiration")
                .expression_attribute_values(":now", AttributeValue::N(now_n.clone()))
                .build()
                .map_err(build_error)?;
            let delete = Delete::builder()
                .table_name(&self.table)
                .key("id", AttributeValue::S(from.to_owned()))
                .condition_expression("attribute_exists(#id) AND #exp > :now")
                .expression_attribute_names("#id", "id")
                .expression_attribute_names("#exp", "expiration")
                .expression_attribute_values(":now", AttributeValue::N(now_n))
                .build()
                .map_err(build_error)?;
            let result = self
                .client
                .transact_write_items()
                .transact_items(TransactWriteItem::builder().put(put).build())
                .transact_items(TransactWriteItem::builder().delete(delete).build())
                .send()
                .await;
            let error = match result {
                Ok(_) => return Ok(RenameOutcome::Moved),
                Err(error) => error,
            };
            let reasons: Vec<Option<&str>> = match error.as_service_error() {
                Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) => cancelled
                    .cancellation_reasons()
                    .iter()
                    .map(|r| r.code())
                    .collect(),
                _ => return Err(map_error(error)),
            };
            let failed = |i: usize| reasons.get(i).copied().flatten() == Some(CONDITION_FAILED);
            if failed(1) {
                return Ok(RenameOutcome::SourceGone);
            }
            if failed(0) {
                return Ok(RenameOutcome::TargetExists);
            }
            let conflict = reasons.contains(&Some("TransactionConflict"));
            if !conflict || attempt == RENAME_CONFLICT_ATTEMPTS {
                return Err(map_error(error));
            }
            // Another transaction (e.g. a second regenerate) held one of the items: try
            // again; its outcome decides ours.
            tracing::debug!(attempt, "rename transaction conflicted; retrying");
        }
        Err(StoreError::unavailable(
            BACKEND,
            "rename transaction kept conflicting",
        ))
    }

    /// DynamoDB's limit on a partition key: 2048 bytes.
    fn check_key_shape(&self, sample: &str) -> Result<(), String> {
        if sample.len() > MAX_KEY_LEN {
            return Err(format!(
                "a DynamoDB partition key holds at most {MAX_KEY_LEN} bytes"
            ));
        }
        Ok(())
    }

    fn supports_user_index(&self) -> bool {
        self.users_table.is_some()
    }

    async fn index_put(
        &self,
        index: &str,
        entry: &crate::IndexEntry,
        replace: bool,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        self.put_index_entry(index, entry, replace, ttl).await
    }

    async fn index_remove(
        &self,
        index: &str,
        handles: &[String],
        _ttl: Duration,
    ) -> Result<(), StoreError> {
        self.remove_index_entries(index, handles).await
    }

    async fn index_list(&self, index: &str) -> Result<Vec<crate::IndexEntry>, StoreError> {
        self.list_index(index).await
    }

    async fn live_keys(&self, keys: &[String]) -> Result<Vec<bool>, StoreError> {
        self.live(keys).await
    }

    /// A conditional `UpdateItem`; see the `cas` module.
    async fn compare_and_swap(
        &self,
        key: &str,
        expected: &Versioned,
        value: &[u8],
        ttl: Duration,
    ) -> Result<SwapOutcome, StoreError> {
        self.swap(key, expected, value, ttl).await
    }

    fn supports_compare_and_swap(&self) -> bool {
        true
    }

    fn name(&self) -> &'static str {
        BACKEND
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_on_read_accepts_flask_fractional_numbers() {
        let item =
            |n: &str| HashMap::from([("expiration".to_owned(), AttributeValue::N(n.to_owned()))]);
        assert!(is_live(&item("1700000000.5"), 1_700_000_000.4));
        assert!(!is_live(&item("1700000000.5"), 1_700_000_000.5));
        assert!(!is_live(&item("1700000000"), 1_700_000_000.2));
        assert!(!is_live(&HashMap::new(), 0.0));
    }

    #[test]
    fn expiration_is_whole_seconds() {
        assert_eq!(
            expiration(1_700_000_000, Duration::from_millis(2_678_400_900)),
            AttributeValue::N("1702678400".to_owned())
        );
    }
}
