//! [`Instrumented`]: the configured store, wrapped so that every call gets a `tracing`
//! span (and, with the `metrics` feature, a latency sample and an error count).

use std::fmt;
use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use tracing::Instrument;

use crate::error::StoreError;
use crate::store::{RenameOutcome, SessionStore, SwapOutcome, Versioned};
use crate::users::IndexEntry;

/// The store operations, with the outcomes each can have (`error` last): the span's
/// `outcome` field and the latency histogram's `outcome` label.
#[derive(Debug, Clone, Copy)]
enum Operation {
    Load,
    Create,
    Update,
    Delete,
    Remove,
    Rename,
    DeleteExpired,
    CompareAndSwap,
    IndexPut,
    IndexRemove,
    IndexList,
    LiveKeys,
}

/// Name and outcomes of each operation, in the order of [`Operation`].
pub(super) const OPERATIONS: &[(&str, &[&str])] = &[
    ("load", &["hit", "miss", "error"]),
    ("create", &["created", "exists", "error"]),
    ("update", &["updated", "gone", "error"]),
    ("delete", &["ok", "error"]),
    ("remove", &["removed", "absent", "error"]),
    (
        "rename",
        &["moved", "target_exists", "source_gone", "error"],
    ),
    ("delete_expired", &["ok", "error"]),
    ("compare_and_swap", &["swapped", "changed", "gone", "error"]),
    ("index_put", &["ok", "error"]),
    ("index_remove", &["ok", "error"]),
    ("index_list", &["ok", "error"]),
    ("live_keys", &["ok", "error"]),
];

impl Operation {
    fn name(self) -> &'static str {
        OPERATIONS[self as usize].0
    }

    /// The outcome label at `index` in this operation's list; the last is `error`.
    fn outcome(self, index: usize) -> &'static str {
        OPERATIONS[self as usize].1[index]
    }

    fn error_index(self) -> usize {
        OPERATIONS[self as usize].1.len() - 1
    }
}

/// A store that observes another: each call runs in a `session_store` span at `debug`
/// level (fields `backend`, `operation`, `outcome`, `duration_us`, and `error_kind` when it
/// failed) and, with the `metrics` feature, records its latency and counts its errors.
/// Everything else is the wrapped store's.
pub(crate) struct Instrumented {
    inner: Arc<dyn SessionStore>,
    backend: &'static str,
    #[cfg(feature = "metrics")]
    keys: super::record::StoreKeys,
}

impl fmt::Debug for Instrumented {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The wrapper is an implementation detail: show the store.
        self.inner.fmt(f)
    }
}

impl Instrumented {
    /// Wraps `inner`.
    pub(crate) fn wrap(inner: Arc<dyn SessionStore>) -> Arc<dyn SessionStore> {
        let backend = inner.name();
        #[cfg(feature = "metrics")]
        super::record::describe();
        Arc::new(Instrumented {
            #[cfg(feature = "metrics")]
            keys: super::record::StoreKeys::new(backend, OPERATIONS),
            inner,
            backend,
        })
    }

    /// Runs one store call in its span and records it; `outcome` gives the index of a
    /// successful result's outcome in the operation's list.
    async fn observe<T>(
        &self,
        operation: Operation,
        call: impl Future<Output = Result<T, StoreError>>,
        outcome: impl FnOnce(&T) -> usize,
    ) -> Result<T, StoreError> {
        // Checked first: a span that is off costs nothing more than this check.
        if tracing::level_enabled!(tracing::Level::DEBUG) {
            let span = tracing::debug_span!(
                "session_store",
                backend = self.backend,
                operation = operation.name(),
                outcome = tracing::field::Empty,
                duration_us = tracing::field::Empty,
                error_kind = tracing::field::Empty,
            );
            if !span.is_disabled() {
                let start = Instant::now();
                let mut call = pin!(call.instrument(span));
                let result = call.as_mut().await;
                let elapsed = start.elapsed();
                let index = outcome_index(operation, &result, outcome);
                let span = call.span();
                span.record("outcome", operation.outcome(index));
                span.record("duration_us", elapsed.as_micros() as u64);
                if let Err(error) = &result {
                    span.record("error_kind", super::error_kind(error));
                }
                self.record(operation, index, elapsed, &result);
                return result;
            }
        }
        #[cfg(feature = "metrics")]
        let start = Instant::now();
        let result = call.await;
        #[cfg(feature = "metrics")]
        self.record(
            operation,
            outcome_index(operation, &result, outcome),
            start.elapsed(),
            &result,
        );
        #[cfg(not(feature = "metrics"))]
        let _ = outcome;
        result
    }
}

impl Instrumented {
    /// Records one call's latency and, when it failed, its error (`metrics` feature).
    #[inline]
    fn record<T>(
        &self,
        operation: Operation,
        index: usize,
        elapsed: Duration,
        result: &Result<T, StoreError>,
    ) {
        #[cfg(feature = "metrics")]
        {
            self.keys.call(operation as usize, index, elapsed);
            if let Err(error) = result {
                super::record::store_error(self.backend, operation.name(), error);
            }
        }
        #[cfg(not(feature = "metrics"))]
        let _ = (operation, index, elapsed, result);
    }
}

/// The index of a call's outcome in its operation's list.
fn outcome_index<T>(
    operation: Operation,
    result: &Result<T, StoreError>,
    outcome: impl FnOnce(&T) -> usize,
) -> usize {
    match result {
        Ok(value) => outcome(value),
        Err(_) => operation.error_index(),
    }
}

#[async_trait]
impl SessionStore for Instrumented {
    async fn load(
        &self,
        key: &str,
        refresh: Option<Duration>,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        self.observe(Operation::Load, self.inner.load(key, refresh), |found| {
            usize::from(found.is_none())
        })
        .await
    }

    async fn create(&self, key: &str, value: &[u8], ttl: Duration) -> Result<bool, StoreError> {
        self.observe(
            Operation::Create,
            self.inner.create(key, value, ttl),
            |&created| usize::from(!created),
        )
        .await
    }

    async fn update(&self, key: &str, value: &[u8], ttl: Duration) -> Result<bool, StoreError> {
        self.observe(
            Operation::Update,
            self.inner.update(key, value, ttl),
            |&updated| usize::from(!updated),
        )
        .await
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.observe(Operation::Delete, self.inner.delete(key), |_| 0)
            .await
    }

    async fn remove(&self, key: &str) -> Result<bool, StoreError> {
        self.observe(Operation::Remove, self.inner.remove(key), |&removed| {
            usize::from(!removed)
        })
        .await
    }

    async fn rename(
        &self,
        from: &str,
        to: &str,
        value: &[u8],
        ttl: Duration,
    ) -> Result<RenameOutcome, StoreError> {
        self.observe(
            Operation::Rename,
            self.inner.rename(from, to, value, ttl),
            |outcome| match outcome {
                RenameOutcome::Moved => 0,
                RenameOutcome::TargetExists => 1,
                RenameOutcome::SourceGone => 2,
            },
        )
        .await
    }

    async fn delete_expired(&self) -> Result<u64, StoreError> {
        self.observe(Operation::DeleteExpired, self.inner.delete_expired(), |_| 0)
            .await
    }

    fn has_native_ttl(&self) -> bool {
        self.inner.has_native_ttl()
    }

    async fn load_versioned(
        &self,
        key: &str,
        refresh: Option<Duration>,
    ) -> Result<Option<Versioned>, StoreError> {
        self.observe(
            Operation::Load,
            self.inner.load_versioned(key, refresh),
            |found| usize::from(found.is_none()),
        )
        .await
    }

    async fn compare_and_swap(
        &self,
        key: &str,
        expected: &Versioned,
        value: &[u8],
        ttl: Duration,
    ) -> Result<SwapOutcome, StoreError> {
        self.observe(
            Operation::CompareAndSwap,
            self.inner.compare_and_swap(key, expected, value, ttl),
            |outcome| match outcome {
                SwapOutcome::Swapped => 0,
                SwapOutcome::Changed(_) => 1,
                SwapOutcome::Gone => 2,
            },
        )
        .await
    }

    fn supports_compare_and_swap(&self) -> bool {
        self.inner.supports_compare_and_swap()
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
        self.observe(
            Operation::IndexPut,
            self.inner.index_put(index, entry, replace, ttl),
            |_| 0,
        )
        .await
    }

    async fn index_remove(
        &self,
        index: &str,
        handles: &[String],
        ttl: Duration,
    ) -> Result<(), StoreError> {
        self.observe(
            Operation::IndexRemove,
            self.inner.index_remove(index, handles, ttl),
            |_| 0,
        )
        .await
    }

    async fn index_list(&self, index: &str) -> Result<Vec<IndexEntry>, StoreError> {
        self.observe(Operation::IndexList, self.inner.index_list(index), |_| 0)
            .await
    }

    async fn live_keys(&self, keys: &[String]) -> Result<Vec<bool>, StoreError> {
        self.observe(Operation::LiveKeys, self.inner.live_keys(keys), |_| 0)
            .await
    }

    fn check_key_shape(&self, sample: &str) -> Result<(), String> {
        self.inner.check_key_shape(sample)
    }

    fn name(&self) -> &'static str {
        self.backend
    }
}
