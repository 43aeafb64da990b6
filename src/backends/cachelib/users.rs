//! The per-user index on a cachelib store (`SESSION_USER_KEY`): one cache entry per user,
//! under the key `SESSION_KEY_PREFIX + "user:" + digest`, read, changed and written back
//! while this process holds a lock, so concurrent requests of one process never lose each
//! other's entry. A [`Cache`](super::Cache) shared by several processes (a
//! [`FileSystemCache`](super::FileSystemCache) directory) has no lock between them: two
//! processes changing one user's index at the same instant can lose one change (a
//! session missing from the listing, a limit applied late).

use std::time::Duration;

use super::{Cache, CacheLibStore};
use crate::error::StoreError;
use crate::users::{IndexEntry, blob};

/// Serializes the index changes of this process.
static INDEX_LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

impl<C: Cache + ?Sized> CacheLibStore<C> {
    pub(crate) async fn put_index_entry(
        &self,
        index: &str,
        entry: &IndexEntry,
        replace: bool,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        let _guard = INDEX_LOCK.lock().await;
        let current = self.cache().get(index).await?;
        match blob::put(current, entry, replace) {
            Some(bytes) => self.cache().set(index, &bytes, ttl).await,
            None => self.cache().delete(index).await.map(|_| ()),
        }
    }

    pub(crate) async fn remove_index_entries(
        &self,
        index: &str,
        handles: &[String],
        ttl: Duration,
    ) -> Result<(), StoreError> {
        let _guard = INDEX_LOCK.lock().await;
        let Some(current) = self.cache().get(index).await? else {
            return Ok(());
        };
        let before = current.len();
        match blob::remove(Some(current), handles) {
            // A cache cannot rewrite a value and keep its timeout: what remains gets `ttl`.
            Some(bytes) if bytes.len() != before => {
                self.cache().replace(index, &bytes, ttl).await.map(|_| ())
            }
            Some(_) => Ok(()),
            None => self.cache().delete(index).await.map(|_| ()),
        }
    }

    pub(crate) async fn list_index(&self, index: &str) -> Result<Vec<IndexEntry>, StoreError> {
        let current = self.cache().get(index).await?;
        Ok(blob::entries(current.as_deref()))
    }
}
