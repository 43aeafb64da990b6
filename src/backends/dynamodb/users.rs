//! The per-user index on DynamoDB (`SESSION_USER_KEY`): a table of its own,
//! `<SESSION_DYNAMODB_TABLE>_users`, with the key `user_index` (HASH, `S`: the user's index
//! name, a digest of the user id) and `handle` (RANGE, `S`), so that a user's entries are
//! one `Query`. The session table keeps only hash-keyed session items (a listing there
//! would need a `Scan`), and Flask-Session never sees the index table.
//!
//! Items: `user_index`, `handle`, `entry` (B: the [`IndexEntry`] bytes), `seen` (N: last
//! seen, Unix seconds) and `expiration` (N, the table's TTL attribute, as on the session
//! table).
//!
//! | operation | request |
//! |---|---|
//! | put, replacing | `PutItem` |
//! | put, touching | `UpdateItem` `SET entry = if_not_exists(entry, :e), seen = :s, expiration = :x`, condition `attribute_not_exists(seen) OR seen <= :s` (a later last-seen already written wins) |
//! | remove | `BatchWriteItem` of `DeleteRequest`s, 25 per request, unprocessed ones sent again |
//! | list | `Query` on `user_index` (`ConsistentRead`), every page; expired items skipped |
//! | liveness | `BatchGetItem` on the session table (`ConsistentRead`, `id` and `expiration` only), 100 keys per request, unprocessed keys sent again |

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::{
    AttributeValue, DeleteRequest, KeyType, KeysAndAttributes, WriteRequest,
};

use super::DynamoDbStore;
use super::store::{BACKEND, expiration, is_live, map_error, now, unless_condition_failed};
use crate::error::{ConfigError, StoreError};
use crate::users::IndexEntry;

/// `BatchWriteItem`'s limit on requests per call.
const WRITE_BATCH: usize = 25;
/// `BatchGetItem`'s limit on keys per call.
const GET_BATCH: usize = 100;
/// How often unprocessed items are sent again before the operation fails.
const UNPROCESSED_ATTEMPTS: usize = 8;

fn unprocessed(what: &str) -> StoreError {
    StoreError::unavailable(
        BACKEND,
        format!("DynamoDB left {what} unprocessed after {UNPROCESSED_ATTEMPTS} attempts"),
    )
}

impl DynamoDbStore {
    /// The store with the per-user index table (`SESSION_USER_KEY`) prepared: created as
    /// the session table is (unless `table_exists`, when it must exist already), named
    /// `<table>_users` (see the [module docs](super#per-user-index)).
    /// [`from_figment`](Self::from_figment) calls it when `SESSION_USER_KEY` is set; a store
    /// built without it refuses `SESSION_USER_KEY` at startup.
    pub async fn with_user_index(mut self, table_exists: bool) -> Result<Self, ConfigError> {
        // DynamoDB table names are at most 255 characters.
        let users = format!(
            "{}_users",
            self.table.chars().take(255 - "_users".len()).collect::<String>()
        );
        if table_exists {
            self.check_named_table(&users, &["user_index", "handle"])
                .await?;
        } else {
            self.ensure_named_table(
                &users,
                &[("user_index", KeyType::Hash), ("handle", KeyType::Range)],
            )
            .await?;
        }
        self.users_table = Some(users);
        Ok(self)
    }

    fn users_table(&self) -> Result<&str, StoreError> {
        self.users_table
            .as_deref()
            .ok_or_else(|| StoreError::InvalidInput {
                backend: BACKEND,
                message: "the per-user index table was not prepared (with_user_index)"
                    .to_owned(),
            })
    }

    pub(crate) async fn put_index_entry(
        &self,
        index: &str,
        entry: &IndexEntry,
        replace: bool,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        let table = self.users_table()?;
        let (now_secs, _) = now();
        let seen = AttributeValue::N(entry.last_seen.to_string());
        let bytes = AttributeValue::B(Blob::new(entry.to_bytes()));
        if replace {
            self.client
                .put_item()
                .table_name(table)
                .item("user_index", AttributeValue::S(index.to_owned()))
                .item("handle", AttributeValue::S(entry.handle.clone()))
                .item("entry", bytes)
                .item("seen", seen)
                .item("expiration", expiration(now_secs, ttl))
                .send()
                .await
                .map_err(map_error)?;
            return Ok(());
        }
        let touched = self
            .client
            .update_item()
            .table_name(table)
            .key("user_index", AttributeValue::S(index.to_owned()))
            .key("handle", AttributeValue::S(entry.handle.clone()))
            .update_expression("SET #e = if_not_exists(#e, :e), #s = :s, #x = :x")
            .condition_expression("attribute_not_exists(#s) OR #s <= :s")
            .expression_attribute_names("#e", "entry")
            .expression_attribute_names("#s", "seen")
            .expression_attribute_names("#x", "expiration")
            .expression_attribute_values(":e", bytes)
            .expression_attribute_values(":s", seen)
            .expression_attribute_values(":x", expiration(now_secs, ttl))
            .send()
            .await;
        // A failed condition: a later last-seen (and expiration) is already there.
        unless_condition_failed(touched)?;
        Ok(())
    }

    pub(crate) async fn remove_index_entries(
        &self,
        index: &str,
        handles: &[String],
    ) -> Result<(), StoreError> {
        let table = self.users_table()?;
        for chunk in handles.chunks(WRITE_BATCH) {
            let mut requests = chunk
                .iter()
                .map(|handle| {
                    let delete = DeleteRequest::builder()
                        .key("user_index", AttributeValue::S(index.to_owned()))
                        .key("handle", AttributeValue::S(handle.clone()))
                        .build()
                        .map_err(|e| StoreError::backend(BACKEND, e))?;
                    Ok(WriteRequest::builder().delete_request(delete).build())
                })
                .collect::<Result<Vec<_>, StoreError>>()?;
            let mut attempts = 0;
            while !requests.is_empty() {
                if attempts == UNPROCESSED_ATTEMPTS {
                    return Err(unprocessed("index deletions"));
                }
                attempts += 1;
                let out = self
                    .client
                    .batch_write_item()
                    .request_items(table, requests)
                    .send()
                    .await
                    .map_err(map_error)?;
                requests = out
                    .unprocessed_items
                    .and_then(|mut left| left.remove(table))
                    .unwrap_or_default();
            }
        }
        Ok(())
    }

    pub(crate) async fn list_index(&self, index: &str) -> Result<Vec<IndexEntry>, StoreError> {
        let table = self.users_table()?;
        let (now_secs, _) = now();
        let mut entries = Vec::new();
        let mut start: Option<HashMap<String, AttributeValue>> = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(table)
                .key_condition_expression("#i = :i")
                .expression_attribute_names("#i", "user_index")
                .expression_attribute_values(":i", AttributeValue::S(index.to_owned()))
                .consistent_read(true)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(map_error)?;
            for item in out.items() {
                if !is_live(item, now_secs as f64) {
                    continue;
                }
                let Some(AttributeValue::B(bytes)) = item.get("entry") else {
                    continue;
                };
                let Some(mut entry) = IndexEntry::from_bytes(bytes.as_ref()) else {
                    continue;
                };
                if let Some(AttributeValue::N(seen)) = item.get("seen") {
                    entry.last_seen = entry.last_seen.max(seen.parse().unwrap_or(0));
                }
                entries.push(entry);
            }
            match out.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => break,
            }
        }
        entries.sort_by_key(|e| e.created_us);
        Ok(entries)
    }

    pub(crate) async fn live(&self, keys: &[String]) -> Result<Vec<bool>, StoreError> {
        let (_, now_n) = now();
        let now_f = now_n.parse::<f64>().unwrap_or(0.0);
        let mut live = HashSet::new();
        let unique: Vec<&String> = keys.iter().collect::<HashSet<_>>().into_iter().collect();
        for chunk in unique.chunks(GET_BATCH) {
            let mut wanted = Some(
                KeysAndAttributes::builder()
                    .set_keys(Some(
                        chunk
                            .iter()
                            .map(|k| HashMap::from([("id".to_owned(), AttributeValue::S((*k).clone()))]))
                            .collect(),
                    ))
                    .projection_expression("#id, #x")
                    .expression_attribute_names("#id", "id")
                    .expression_attribute_names("#x", "expiration")
                    .consistent_read(true)
                    .build()
                    .map_err(|e| StoreError::backend(BACKEND, e))?,
            );
            let mut attempts = 0;
            while let Some(request) = wanted.take() {
                if attempts == UNPROCESSED_ATTEMPTS {
                    return Err(unprocessed("session reads"));
                }
                attempts += 1;
                let out = self
                    .client
                    .batch_get_item()
                    .request_items(&self.table, request)
                    .send()
                    .await
                    .map_err(map_error)?;
                if let Some(items) = out.responses.as_ref().and_then(|r| r.get(&self.table)) {
                    for item in items.iter().filter(|item| is_live(item, now_f)) {
                        if let Some(AttributeValue::S(id)) = item.get("id") {
                            live.insert(id.clone());
                        }
                    }
                }
                wanted = out
                    .unprocessed_keys
                    .and_then(|mut left| left.remove(&self.table))
                    .filter(|k| !k.keys().is_empty());
            }
        }
        Ok(keys.iter().map(|k| live.contains(k)).collect())
    }
}
