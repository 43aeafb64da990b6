//! The per-user index on MongoDB (`SESSION_USER_KEY`): one document per indexed session in
//! the sessions collection, beside the session documents, with the id
//! `<index>/<handle>` (`<index>` = `SESSION_KEY_PREFIX + "user:" + digest`; no session id
//! contains `/` or `:`), the entry as binary `entry`, the last-seen second `seen` and an
//! `expiration` the TTL index removes it by. Flask-Session never reads these documents
//! (it only looks up session ids). Listing is one range query on the unique `id` index,
//! liveness one `$in` query.

use std::collections::HashSet;
use std::time::Duration;

use futures_util::TryStreamExt;
use mongodb::bson::{DateTime, Document, doc};

use super::MongoDbStore;
use super::store::{binary, command_code, expiration, map_error, DUPLICATE_KEY};
use crate::error::StoreError;
use crate::users::IndexEntry;

fn entry_id(index: &str, handle: &str) -> String {
    format!("{index}/{handle}")
}

impl MongoDbStore {
    pub(crate) async fn put_index_entry(
        &self,
        index: &str,
        entry: &IndexEntry,
        replace: bool,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        let now = DateTime::now();
        let id = entry_id(index, &entry.handle);
        let seen = i64::try_from(entry.last_seen).unwrap_or(i64::MAX);
        let update = if replace {
            doc! { "$set": { "id": &id, "entry": binary(&entry.to_bytes()), "seen": seen, "expiration": expiration(now, ttl) } }
        } else {
            doc! {
                "$setOnInsert": { "entry": binary(&entry.to_bytes()) },
                "$max": { "seen": seen },
                "$set": { "expiration": expiration(now, ttl) },
            }
        };
        for attempt in 0..2 {
            // Two upserts of one new id at once: one inserts, the other hits the unique
            // index and, tried again, updates.
            match self
                .collection
                .update_one(doc! { "id": &id }, update.clone())
                .upsert(true)
                .await
            {
                Ok(_) => return Ok(()),
                Err(e) if command_code(&e) == Some(DUPLICATE_KEY) && attempt == 0 => {}
                Err(e) => return Err(map_error(e)),
            }
        }
        Ok(())
    }

    pub(crate) async fn remove_index_entries(
        &self,
        index: &str,
        handles: &[String],
        _ttl: Duration,
    ) -> Result<(), StoreError> {
        let ids: Vec<String> = handles.iter().map(|h| entry_id(index, h)).collect();
        self.collection
            .delete_many(doc! { "id": { "$in": ids } })
            .await
            .map_err(map_error)?;
        Ok(())
    }

    pub(crate) async fn list_index(&self, index: &str) -> Result<Vec<IndexEntry>, StoreError> {
        // Every id from `<index>/` up to `<index>0` (`0` follows `/`): the entries.
        let documents: Vec<Document> = self
            .collection
            .find(doc! {
                "id": { "$gt": format!("{index}/"), "$lt": format!("{index}0") },
                "expiration": { "$gt": DateTime::now() },
            })
            .await
            .map_err(map_error)?
            .try_collect()
            .await
            .map_err(map_error)?;
        Ok(documents
            .iter()
            .filter_map(|d| {
                let Ok(bytes) = d.get_binary_generic("entry") else {
                    return None;
                };
                let mut entry = IndexEntry::from_bytes(bytes)?;
                if let Ok(seen) = d.get_i64("seen") {
                    entry.last_seen = entry.last_seen.max(u64::try_from(seen).unwrap_or(0));
                }
                Some(entry)
            })
            .collect())
    }

    pub(crate) async fn live(&self, keys: &[String]) -> Result<Vec<bool>, StoreError> {
        let found: Vec<Document> = self
            .collection
            .find(doc! { "id": { "$in": keys }, "expiration": { "$gt": DateTime::now() } })
            .projection(doc! { "id": 1, "_id": 0 })
            .await
            .map_err(map_error)?
            .try_collect()
            .await
            .map_err(map_error)?;
        let live: HashSet<&str> = found.iter().filter_map(|d| d.get_str("id").ok()).collect();
        Ok(keys.iter().map(|k| live.contains(k.as_str())).collect())
    }
}
