//! Compare-and-swap on DynamoDB: one `UpdateItem` whose condition expression also compares
//! `val`; the current item is read only when the condition failed.

use std::time::Duration;

use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;

use super::{DynamoDbStore, expiration, now, unless_condition_failed};
use crate::error::StoreError;
use crate::store::{SessionStore, SwapOutcome, Versioned};

impl DynamoDbStore {
    /// `UpdateItem` with `attribute_exists(id) AND expiration > :now AND val = :expected`;
    /// a failed condition: a plain load tells `Gone` from `Changed`.
    pub(crate) async fn swap(
        &self,
        key: &str,
        expected: &Versioned,
        value: &[u8],
        ttl: Duration,
    ) -> Result<SwapOutcome, StoreError> {
        let (now_secs, now_n) = now();
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("id", AttributeValue::S(key.to_owned()))
            .update_expression("SET #val = :val, #exp = :exp")
            .condition_expression("attribute_exists(#id) AND #exp > :now AND #val = :expected")
            .expression_attribute_names("#id", "id")
            .expression_attribute_names("#val", "val")
            .expression_attribute_names("#exp", "expiration")
            .expression_attribute_values(":val", AttributeValue::B(Blob::new(value)))
            .expression_attribute_values(":expected", AttributeValue::B(Blob::new(expected.bytes())))
            .expression_attribute_values(":exp", expiration(now_secs, ttl))
            .expression_attribute_values(":now", AttributeValue::N(now_n))
            .send()
            .await;
        if unless_condition_failed(result)?.is_some() {
            return Ok(SwapOutcome::Swapped);
        }
        Ok(match self.load(key, None).await? {
            None => SwapOutcome::Gone,
            Some(current) => SwapOutcome::Changed(Versioned::new(current)),
        })
    }
}
