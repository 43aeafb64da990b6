use std::time::Duration;

use async_trait::async_trait;
use figment::Figment;
use mongodb::bson::spec::BinarySubtype;
use mongodb::bson::{Binary, Bson, DateTime, Document, doc};
use mongodb::error::{Error as MongoError, ErrorKind, WriteFailure};
use mongodb::options::{ClientOptions, IndexOptions, ReturnDocument};
use mongodb::{Client, Collection, IndexModel};

use crate::config::{SessionConfig, extract_string_key};
use crate::config::redact_url;
use crate::error::{ConfigError, StoreError};
use crate::store::{RenameOutcome, SessionStore, SwapOutcome, Versioned};

#[path = "cas.rs"]
mod cas;

const BACKEND: &str = "mongodb";

/// `SESSION_MONGODB` default.
pub(crate) const DEFAULT_URL: &str = "mongodb://127.0.0.1:27017";
/// `SESSION_MONGODB_DB` default (Flask-Session's).
pub(crate) const DEFAULT_DB: &str = "flask_session";
/// `SESSION_MONGODB_COLLECT` default (Flask-Session's).
pub(crate) const DEFAULT_COLLECTION: &str = "sessions";

/// Server selection timeout used when the URL sets none.
const SERVER_SELECTION_TIMEOUT: Duration = Duration::from_secs(5);

/// Duplicate key.
pub(super) const DUPLICATE_KEY: i32 = 11000;
/// An index with this name or key pattern exists with other options.
const INDEX_OPTIONS_CONFLICT: i32 = 85;
/// An index with this name exists with another key pattern.
const INDEX_KEY_SPECS_CONFLICT: i32 = 86;

/// MongoDB session store: Flask-Session's document layout, plus a unique index on `id`,
/// expiry checked on read and conditional writes.
///
/// See the [module documentation](super) for every request it sends.
#[derive(Debug, Clone)]
pub struct MongoDbStore {
    pub(super) collection: Collection<Document>,
}

impl MongoDbStore {
    /// Uses `client` and `database.collection`, creating the two indexes (see the module
    /// documentation). The client is the `mongodb` driver's: the dependency type through
    /// which an application hands over a client it configured itself (or one from
    /// [`connect`](Self::connect)). Fails with [`ConfigError::Backend`] when the server cannot be
    /// reached or the indexes cannot be created.
    pub async fn new(
        client: Client,
        database: &str,
        collection: &str,
    ) -> Result<Self, ConfigError> {
        let collection = client.database(database).collection::<Document>(collection);
        let store = MongoDbStore { collection };
        store.ensure_indexes().await?;
        Ok(store)
    }

    /// Reads `SESSION_MONGODB`, `SESSION_MONGODB_DB` and `SESSION_MONGODB_COLLECT`,
    /// connects and creates the indexes.
    pub async fn from_figment(
        _config: &SessionConfig,
        figment: &Figment,
    ) -> Result<Self, ConfigError> {
        let url = extract_string_key(figment, "SESSION_MONGODB")?
            .unwrap_or_else(|| DEFAULT_URL.to_owned());
        let database = extract_string_key(figment, "SESSION_MONGODB_DB")?
            .unwrap_or_else(|| DEFAULT_DB.to_owned());
        let collection = extract_string_key(figment, "SESSION_MONGODB_COLLECT")?
            .unwrap_or_else(|| DEFAULT_COLLECTION.to_owned());
        for (key, value) in [
            ("SESSION_MONGODB_DB", &database),
            ("SESSION_MONGODB_COLLECT", &collection),
        ] {
            if value.is_empty()
                || value.contains('\0')
                || (key == "SESSION_MONGODB_DB" && value.contains(['/', '.', ' ', '$']))
            {
                return Err(ConfigError::Invalid {
                    key,
                    value: format!("{value:?}"),
                    allowed: "expected a non-empty MongoDB name".to_owned(),
                });
            }
        }
        let client = Self::connect(&url).await?;
        let store = Self::new(client, &database, &collection).await?;
        tracing::info!(database = %database, collection = %collection, "mongodb session store");
        Ok(store)
    }

    /// A `mongodb` driver client for `url`, for [`new`](Self::new), with a 5 s server
    /// selection timeout unless the URL sets one. A malformed URL is a [`ConfigError::Invalid`] naming `SESSION_MONGODB`.
    pub async fn connect(url: &str) -> Result<Client, ConfigError> {
        let mut options = ClientOptions::parse(url)
            .await
            .map_err(|e| ConfigError::Invalid {
                key: "SESSION_MONGODB",
                value: redact_url(url),
                allowed: format!("expected a mongodb:// or mongodb+srv:// connection string ({e})"),
            })?;
        if options.server_selection_timeout.is_none() {
            options.server_selection_timeout = Some(SERVER_SELECTION_TIMEOUT);
        }
        if options.app_name.is_none() {
            options.app_name = Some("actix-flask-session".to_owned());
        }
        Client::with_options(options).map_err(|e| ConfigError::Backend {
            backend: BACKEND,
            message: "cannot create the MongoDB client".to_owned(),
            source: Some(Box::new(e)),
        })
    }

    async fn ensure_indexes(&self) -> Result<(), ConfigError> {
        let setup_error = |message: String, e: MongoError| ConfigError::Backend {
            backend: BACKEND,
            message,
            source: Some(Box::new(e)),
        };
        let ttl = IndexModel::builder()
            .keys(doc! { "expiration": 1 })
            .options(IndexOptions::builder().expire_after(Duration::ZERO).build())
            .build();
        if let Err(e) = self.collection.create_index(ttl).await {
            match command_code(&e) {
                Some(INDEX_OPTIONS_CONFLICT | INDEX_KEY_SPECS_CONFLICT) => tracing::warn!(
                    collection = %self.collection.namespace(),
                    error = %e,
                    "an index on `expiration` exists with other options; expired sessions are still never served, but MongoDB may not remove them"
                ),
                _ => {
                    return Err(setup_error(
                        format!(
                            "cannot create the TTL index on {}.expiration",
                            self.collection.namespace()
                        ),
                        e,
                    ));
                }
            }
        }
        let unique = IndexModel::builder()
            .keys(doc! { "id": 1 })
            .options(IndexOptions::builder().unique(true).build())
            .build();
        if let Err(e) = self.collection.create_index(unique).await {
            let message = match command_code(&e) {
                Some(INDEX_OPTIONS_CONFLICT | INDEX_KEY_SPECS_CONFLICT) => format!(
                    "an index on {}.id exists but is not unique; drop it (db.{}.dropIndex(\"id_1\")) so the unique one can be created",
                    self.collection.namespace(),
                    self.collection.name()
                ),
                Some(DUPLICATE_KEY) => format!(
                    "{} holds several documents with the same id; remove the duplicates so the unique index on id can be created",
                    self.collection.namespace()
                ),
                _ => format!(
                    "cannot create the unique index on {}.id",
                    self.collection.namespace()
                ),
            };
            return Err(setup_error(message, e));
        }
        Ok(())
    }
}


pub(super) fn command_code(e: &MongoError) -> Option<i32> {
    match &*e.kind {
        ErrorKind::Command(c) => Some(c.code),
        ErrorKind::Write(WriteFailure::WriteError(w)) => Some(w.code),
        _ => None,
    }
}

pub(super) fn map_error(e: MongoError) -> StoreError {
    match &*e.kind {
        ErrorKind::Io(_)
        | ErrorKind::ServerSelection { .. }
        | ErrorKind::ConnectionPoolCleared { .. }
        | ErrorKind::DnsResolve { .. } => StoreError::unavailable(BACKEND, e),
        _ => StoreError::backend(BACKEND, e),
    }
}

pub(super) fn expiration(now: DateTime, ttl: Duration) -> DateTime {
    let ms = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX);
    DateTime::from_millis(now.timestamp_millis().saturating_add(ms))
}

pub(super) fn binary(value: &[u8]) -> Binary {
    Binary {
        subtype: BinarySubtype::Generic,
        bytes: value.to_vec(),
    }
}

/// The `val` field of a found document (see the module documentation).
fn value_of(document: &Document) -> Result<Vec<u8>, StoreError> {
    match document.get("val") {
        Some(Bson::Binary(b)) => Ok(b.bytes.clone()),
        other => Err(StoreError::BadData {
            backend: BACKEND,
            message: format!(
                "the session document's `val` is {:?}, not binary",
                other.map(Bson::element_type)
            ),
        }),
    }
}

#[async_trait]
impl SessionStore for MongoDbStore {
    async fn load(
        &self,
        key: &str,
        refresh: Option<Duration>,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let now = DateTime::now();
        let filter = doc! { "id": key, "expiration": { "$gt": now } };
        let projection = doc! { "val": 1, "_id": 0 };
        let found = match refresh {
            Some(ttl) => self
                .collection
                .find_one_and_update(
                    filter,
                    doc! { "$set": { "expiration": expiration(now, ttl) } },
                )
                .projection(projection)
                .return_document(ReturnDocument::After)
                .await
                .map_err(map_error)?,
            None => self
                .collection
                .find_one(filter)
                .projection(projection)
                .await
                .map_err(map_error)?,
        };
        found.map(|d| value_of(&d)).transpose()
    }

    async fn create(&self, key: &str, value: &[u8], ttl: Duration) -> Result<bool, StoreError> {
        let now = DateTime::now();
        let result = self
            .collection
            .update_one(
                doc! { "id": key, "expiration": { "$lte": now } },
                doc! { "$set": { "id": key, "val": binary(value), "expiration": expiration(now, ttl) } },
            )
            .upsert(true)
            .await;
        match result {
            Ok(r) => Ok(r.upserted_id.is_some() || r.matched_count == 1),
            Err(e) if command_code(&e) == Some(DUPLICATE_KEY) => Ok(false),
            Err(e) => Err(map_error(e)),
        }
    }

    async fn update(&self, key: &str, value: &[u8], ttl: Duration) -> Result<bool, StoreError> {
        let now = DateTime::now();
        let result = self
            .collection
            .update_one(
                doc! { "id": key, "expiration": { "$gt": now } },
                doc! { "$set": { "val": binary(value), "expiration": expiration(now, ttl) } },
            )
            .await
            .map_err(map_error)?;
        Ok(result.matched_count == 1)
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.collection
            .delete_one(doc! { "id": key })
            .await
            .map_err(map_error)?;
        Ok(())
    }

    /// Moves the document in place: `update({id: from, expiration: {$gt: now}}, {$set: {id:
    /// to, val, expiration}})`, one atomic single-document write (see the module docs).
    async fn rename(
        &self,
        from: &str,
        to: &str,
        value: &[u8],
        ttl: Duration,
    ) -> Result<RenameOutcome, StoreError> {
        let now = DateTime::now();
        for attempt in 0..2 {
            let result = self
                .collection
                .update_one(
                    doc! { "id": from, "expiration": { "$gt": now } },
                    doc! { "$set": { "id": to, "val": binary(value), "expiration": expiration(now, ttl) } },
                )
                .await;
            match result {
                Ok(r) if r.matched_count == 1 => return Ok(RenameOutcome::Moved),
                Ok(_) => return Ok(RenameOutcome::SourceGone),
                Err(e) if command_code(&e) == Some(DUPLICATE_KEY) && attempt == 0 => {
                    // `to` is taken: by a live document, or by an expired one the TTL
                    // monitor has not removed yet, which may go.
                    let freed = self
                        .collection
                        .delete_one(doc! { "id": to, "expiration": { "$lte": now } })
                        .await
                        .map_err(map_error)?;
                    if freed.deleted_count == 0 {
                        return Ok(RenameOutcome::TargetExists);
                    }
                }
                Err(e) if command_code(&e) == Some(DUPLICATE_KEY) => {
                    return Ok(RenameOutcome::TargetExists);
                }
                Err(e) => return Err(map_error(e)),
            }
        }
        Ok(RenameOutcome::TargetExists)
    }

    fn supports_user_index(&self) -> bool {
        true
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
        ttl: Duration,
    ) -> Result<(), StoreError> {
        self.remove_index_entries(index, handles, ttl).await
    }

    async fn index_list(&self, index: &str) -> Result<Vec<crate::IndexEntry>, StoreError> {
        self.list_index(index).await
    }

    async fn live_keys(&self, keys: &[String]) -> Result<Vec<bool>, StoreError> {
        self.live(keys).await
    }

    /// A filtered `update_one`; see the `cas` module.
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
    fn expiration_adds_the_ttl_in_milliseconds() {
        let now = DateTime::from_millis(1_700_000_000_123);
        assert_eq!(
            expiration(now, Duration::from_millis(1_500)).timestamp_millis(),
            1_700_000_001_623
        );
    }
}
