//! Compare-and-swap on the filesystem store: under the key's file lock.

use std::time::Duration;

use super::FileSystemStore;
use crate::error::StoreError;
use crate::store::{SwapOutcome, Versioned};

impl FileSystemStore {
    /// Replaces the live entry of `key` if its payload is still `expected`'s bytes: read,
    /// compared and replaced (atomic rename) while the key's lock is held.
    pub(crate) async fn swap(
        &self,
        key: &str,
        expected: &Versioned,
        value: &[u8],
        ttl: Duration,
    ) -> Result<SwapOutcome, StoreError> {
        self.files
            .compare_and_swap(key, expected.bytes(), value, ttl)
            .await
    }
}
