//! Compare-and-swap for the shipped caches: under the map's mutex, under the file lock.

use std::time::{Duration, Instant};

use super::{FileSystemCache, SimpleCache};
use crate::error::StoreError;
use crate::store::{SwapOutcome, Versioned};

impl SimpleCache {
    /// Replaces a live entry whose value is still `expected`, under the map's mutex.
    pub(crate) fn swap_entry(
        &self,
        key: &str,
        expected: &[u8],
        value: &[u8],
        timeout: Duration,
    ) -> SwapOutcome {
        let now = Instant::now();
        let mut map = self.entries();
        match map.get_mut(key) {
            Some(e) if e.is_live(now) && e.value != expected => {
                e.used = true;
                SwapOutcome::Changed(Versioned::new(e.value.clone()))
            }
            Some(e) if e.is_live(now) => {
                e.value = value.to_vec();
                e.expires = Self::expiry(now, timeout);
                e.used = true;
                SwapOutcome::Swapped
            }
            Some(_) => {
                map.remove(key);
                SwapOutcome::Gone
            }
            None => SwapOutcome::Gone,
        }
    }
}

impl FileSystemCache {
    /// Replaces a live entry whose value is still `expected`, under the key's file lock.
    pub(crate) async fn swap_file(
        &self,
        key: &str,
        expected: &[u8],
        value: &[u8],
        timeout: Duration,
    ) -> Result<SwapOutcome, StoreError> {
        self.files
            .compare_and_swap(key, expected, value, timeout)
            .await
    }
}
