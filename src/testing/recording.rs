//! A store wrapper that records every call made to the store it wraps.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;

use crate::error::StoreError;
use crate::store::{RenameOutcome, SessionStore, SwapOutcome, Versioned};
use crate::users::IndexEntry;

/// One store call, as seen by [`RecordingStore`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// `load(key, refresh)`
    Load {
        /// The storage key.
        key: String,
        /// The refresh TTL, if any.
        refresh: Option<Duration>,
    },
    /// `create(key, ..)` and whether it wrote.
    Create {
        /// The storage key.
        key: String,
        /// The store's answer.
        created: bool,
    },
    /// `update(key, ..)` and whether it wrote.
    Update {
        /// The storage key.
        key: String,
        /// The store's answer.
        updated: bool,
    },
    /// `delete(key)`
    Delete {
        /// The storage key.
        key: String,
    },
    /// `remove(key)`
    Remove {
        /// The storage key.
        key: String,
    },
    /// `rename(from, to, ..)`
    Rename {
        /// The old key.
        from: String,
        /// The new key.
        to: String,
    },
    /// `delete_expired()`
    DeleteExpired,
    /// `index_put(index, entry, replace, ..)`
    IndexPut {
        /// The index name.
        index: String,
        /// The handle written.
        handle: String,
        /// Whether it replaces an entry (a login) or only refreshes last-seen.
        replace: bool,
    },
    /// `index_remove(index, handles, ..)`
    IndexRemove {
        /// The index name.
        index: String,
        /// The handles removed.
        handles: Vec<String>,
    },
    /// `index_list(index)`
    IndexList {
        /// The index name.
        index: String,
    },
    /// `live_keys(keys)`
    LiveKeys {
        /// How many keys were checked.
        count: usize,
    },
    /// `compare_and_swap(key, ..)` and its answer.
    Swap {
        /// The storage key.
        key: String,
        /// The store's answer: `"swapped"`, `"changed"`, `"gone"` or `"error"`.
        outcome: &'static str,
    },
}

/// Wraps a store and records each call (successful or not) in order.
#[derive(Debug)]
pub struct RecordingStore<S> {
    inner: S,
    ops: Arc<Mutex<Vec<Op>>>,
}

impl<S: SessionStore> RecordingStore<S> {
    /// Wraps `inner`.
    pub fn new(inner: S) -> Self {
        RecordingStore {
            inner,
            ops: Arc::default(),
        }
    }

    /// The wrapped store (calls on it are not recorded).
    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// Takes the calls recorded so far.
    pub fn take_ops(&self) -> Vec<Op> {
        std::mem::take(&mut *self.lock())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Op>> {
        self.ops.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn record(&self, op: Op) {
        self.lock().push(op);
    }
}

#[async_trait]
impl<S: SessionStore> SessionStore for RecordingStore<S> {
    async fn load(
        &self,
        key: &str,
        refresh: Option<Duration>,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        self.record(Op::Load {
            key: key.to_owned(),
            refresh,
        });
        self.inner.load(key, refresh).await
    }

    async fn create(&self, key: &str, value: &[u8], ttl: Duration) -> Result<bool, StoreError> {
        let created = self.inner.create(key, value, ttl).await;
        let answer = matches!(created, Ok(true));
        self.record(Op::Create {
            key: key.to_owned(),
            created: answer,
        });
        created
    }

    async fn update(&self, key: &str, value: &[u8], ttl: Duration) -> Result<bool, StoreError> {
        let updated = self.inner.update(key, value, ttl).await;
        let answer = matches!(updated, Ok(true));
        self.record(Op::Update {
            key: key.to_owned(),
            updated: answer,
        });
        updated
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.record(Op::Delete {
            key: key.to_owned(),
        });
        self.inner.delete(key).await
    }

    async fn remove(&self, key: &str) -> Result<bool, StoreError> {
        self.record(Op::Remove {
            key: key.to_owned(),
        });
        self.inner.remove(key).await
    }

    async fn rename(
        &self,
        from: &str,
        to: &str,
        value: &[u8],
        ttl: Duration,
    ) -> Result<RenameOutcome, StoreError> {
        self.record(Op::Rename {
            from: from.to_owned(),
            to: to.to_owned(),
        });
        self.inner.rename(from, to, value, ttl).await
    }

    async fn delete_expired(&self) -> Result<u64, StoreError> {
        self.record(Op::DeleteExpired);
        self.inner.delete_expired().await
    }

    fn has_native_ttl(&self) -> bool {
        self.inner.has_native_ttl()
    }

    fn supports_user_index(&self) -> bool {
        self.inner.supports_user_index()
    }

    async fn index_put(
        &self,
        index: &str,
        entry: &IndexEntry,
        replace: bool,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        self.record(Op::IndexPut {
            index: index.to_owned(),
            handle: entry.handle.clone(),
            replace,
        });
        self.inner.index_put(index, entry, replace, ttl).await
    }

    async fn index_remove(
        &self,
        index: &str,
        handles: &[String],
        ttl: Duration,
    ) -> Result<(), StoreError> {
        self.record(Op::IndexRemove {
            index: index.to_owned(),
            handles: handles.to_vec(),
        });
        self.inner.index_remove(index, handles, ttl).await
    }

    async fn index_list(&self, index: &str) -> Result<Vec<IndexEntry>, StoreError> {
        self.record(Op::IndexList {
            index: index.to_owned(),
        });
        self.inner.index_list(index).await
    }

    async fn live_keys(&self, keys: &[String]) -> Result<Vec<bool>, StoreError> {
        self.record(Op::LiveKeys { count: keys.len() });
        self.inner.live_keys(keys).await
    }

    /// Recorded as a [`Load`](Op::Load): one read, as `load`.
    async fn load_versioned(
        &self,
        key: &str,
        refresh: Option<Duration>,
    ) -> Result<Option<Versioned>, StoreError> {
        self.record(Op::Load {
            key: key.to_owned(),
            refresh,
        });
        self.inner.load_versioned(key, refresh).await
    }

    async fn compare_and_swap(
        &self,
        key: &str,
        expected: &Versioned,
        value: &[u8],
        ttl: Duration,
    ) -> Result<SwapOutcome, StoreError> {
        let swapped = self.inner.compare_and_swap(key, expected, value, ttl).await;
        self.record(Op::Swap {
            key: key.to_owned(),
            outcome: match &swapped {
                Ok(SwapOutcome::Swapped) => "swapped",
                Ok(SwapOutcome::Changed(_)) => "changed",
                Ok(SwapOutcome::Gone) => "gone",
                Err(_) => "error",
            },
        });
        swapped
    }

    fn supports_compare_and_swap(&self) -> bool {
        self.inner.supports_compare_and_swap()
    }

    fn name(&self) -> &'static str {
        self.inner.name()
    }
}
