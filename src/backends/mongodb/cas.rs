//! Compare-and-swap on MongoDB: one filtered `update_one` (a single-document write is
//! atomic); the current document is read only when the filter matched nothing.

use std::time::Duration;

use mongodb::bson::{DateTime, doc};

use super::{MongoDbStore, binary, expiration, map_error};
use crate::error::StoreError;
use crate::store::{SessionStore, SwapOutcome, Versioned};

impl MongoDbStore {
    /// `update_one({id, expiration: {$gt: now}, val: expected}, {$set: {val, expiration}})`;
    /// no match: a plain load tells `Gone` from `Changed`.
    pub(crate) async fn swap(
        &self,
        key: &str,
        expected: &Versioned,
        value: &[u8],
        ttl: Duration,
    ) -> Result<SwapOutcome, StoreError> {
        let now = DateTime::now();
        let result = self
            .collection
            .update_one(
                doc! { "id": key, "expiration": { "$gt": now }, "val": binary(expected.bytes()) },
                doc! { "$set": { "val": binary(value), "expiration": expiration(now, ttl) } },
            )
            .await
            .map_err(map_error)?;
        if result.matched_count == 1 {
            return Ok(SwapOutcome::Swapped);
        }
        Ok(match self.load(key, None).await? {
            None => SwapOutcome::Gone,
            Some(current) => SwapOutcome::Changed(Versioned::new(current)),
        })
    }
}
