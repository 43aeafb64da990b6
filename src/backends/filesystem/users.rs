//! The per-user index on the filesystem store (`SESSION_USER_KEY`): one entry file per
//! user, under the key `SESSION_KEY_PREFIX + "user:" + digest`, changed under that file's
//! lock (so concurrent logins of one user never lose each other's entry, across
//! processes too). Index files count toward `SESSION_FILE_THRESHOLD` like sessions.

use std::time::Duration;

use super::FileSystemStore;
use crate::error::StoreError;
use crate::users::{IndexEntry, blob};

impl FileSystemStore {
    pub(crate) async fn put_index_entry(
        &self,
        index: &str,
        entry: &IndexEntry,
        replace: bool,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        let entry = entry.clone();
        self.engine()
            .modify(index, Some(ttl), ttl, move |current| {
                (blob::put(current, &entry, replace), ())
            })
            .await
    }

    pub(crate) async fn remove_index_entries(
        &self,
        index: &str,
        handles: &[String],
        ttl: Duration,
    ) -> Result<(), StoreError> {
        let handles = handles.to_vec();
        self.engine()
            .modify(index, None, ttl, move |current| {
                (blob::remove(current, &handles), ())
            })
            .await
    }

    pub(crate) async fn list_index(&self, index: &str) -> Result<Vec<IndexEntry>, StoreError> {
        let current = self.engine().get(index, None).await?;
        Ok(blob::entries(current.as_deref()))
    }
}
