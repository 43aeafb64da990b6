use std::path::{Path, PathBuf};
use std::time::Duration;

use async_trait::async_trait;
use figment::Figment;

use crate::backends::file_engine::{self, FileEngine};
use crate::config::{self, SessionConfig, file_values};
use crate::error::{ConfigError, StoreError};
use crate::store::{RenameOutcome, SessionStore, SwapOutcome, Versioned};

#[path = "cas.rs"]
mod cas;

const BACKEND: &str = "filesystem";

/// The default `SESSION_FILE_DIR`, relative to the current directory.
pub(crate) const DEFAULT_DIR: &str = "flask_session";
/// The default `SESSION_FILE_THRESHOLD`.
pub(crate) const DEFAULT_THRESHOLD: usize = 500;
/// The default `SESSION_FILE_MODE` (`0o600`, decimal 384).
pub(crate) const DEFAULT_MODE: u32 = 0o600;

/// A [`SessionStore`] keeping each session in its own file in a directory
/// (Flask-Session's `FileSystemStore`).
///
/// Safe to share between worker threads and between processes using the same directory.
/// All file work runs on tokio's blocking pool (`spawn_blocking`). What each call does on
/// disk (`<file>` = `<dir>/<sha256-hex of key>`, `<lock>` = `<dir>/.locks/<first two hex
/// digits>`, "write" = a new or [recycled](super#recycled-files) temporary file +
/// `fchmod(mode)` + exchange or rename, see [the module docs](super#writes)):
///
/// | call | file operations |
/// |------|-----------------|
/// | [`load(key, None)`](SessionStore::load) | read `<file>`; if expired or corrupt: lock `<lock>`, read again, remove it if still so |
/// | [`load(key, Some(ttl))`](SessionStore::load) | read `<file>`: if live, in use and its expiry already is now + ttl (refreshed earlier in the same second), done; else lock `<lock>`; read `<file>`; remove it if expired/corrupt, else write the new expiry into its header in place (one `pwrite`, [refresh in place](super#refresh-in-place)) |
/// | [`create`](SessionStore::create) | lock `<lock>`; read the header of `<file>`; if live → `false`; else (removing a dead one) write with `persist_noclobber` → `true`; then maybe a background prune |
/// | [`update`](SessionStore::update) | lock `<lock>`; read `<file>`; if absent/expired/corrupt → remove, `false`; else write over it → `true` |
/// | [`delete`](SessionStore::delete), [`remove`](SessionStore::remove) | lock `<lock>`; remove `<file>` (absent is fine) |
/// | [`rename`](SessionStore::rename) | lock both keys' `<lock>`s (lower stripe first); read the old `<file>`'s header: if not live → `SourceGone`; read the new one's: if live → `TargetExists`; write the new `<file>` with `persist_noclobber`, remove the old one → `Moved` |
/// | [`delete_expired`](SessionStore::delete_expired) | skipped (0) when another process holds `<dir>/.locks/sweep`, else holding it: list `<dir>`; read each header; for each dead one: lock, re-check, remove; remove `.afs-tmp-*` older than an hour |
///
/// [`has_native_ttl`](SessionStore::has_native_ttl) is `false`: expired files are removed
/// when met and by `delete_expired`, which the lifecycle runs in the background every
/// `SESSION_CLEANUP_N_REQUESTS` requests.
///
/// Nothing is `fsync`ed: a write survives the process, not necessarily a power loss (see
/// [durability](super#durability)).
///
/// # Example
///
/// ```
/// # actix_rt::System::new().block_on(async {
/// use std::time::Duration;
/// use actix_flask_session::SessionStore;
/// use actix_flask_session::backends::filesystem::FileSystemStore;
///
/// let dir = tempfile::tempdir()?;
/// let store = FileSystemStore::new(dir.path(), 500, 0o600)?;
/// assert!(store.create("session:abc", b"\x80", Duration::from_secs(60)).await?);
/// assert_eq!(store.load("session:abc", None).await?.as_deref(), Some(&b"\x80"[..]));
/// # Ok::<_, Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// ```
#[derive(Debug, Clone)]
pub struct FileSystemStore {
    files: FileEngine,
}

impl FileSystemStore {
    /// The file engine (for the per-user index).
    pub(super) fn engine(&self) -> &FileEngine {
        &self.files
    }

    /// Opens (creating if needed) the session directory `dir`, with a pruning `threshold`
    /// (`0` = no limit) and the permission bits `mode` for session files.
    ///
    /// A relative `dir` is resolved against the current directory now. Creates `dir` and
    /// `dir/.locks`, writes and removes a probe file, and counts the existing entries:
    /// this is blocking I/O, so call it at startup (or use
    /// [`from_figment`](Self::from_figment), which runs it on the blocking pool).
    ///
    /// # Errors
    ///
    /// [`ConfigError::Invalid`] when `mode` is over `0o777` or lacks the owner's read and
    /// write bits; [`ConfigError::Backend`] naming `SESSION_FILE_DIR` when the directory
    /// cannot be created or written.
    pub fn new(dir: impl AsRef<Path>, threshold: usize, mode: u32) -> Result<Self, ConfigError> {
        let files = FileEngine::open(
            dir.as_ref().to_path_buf(),
            threshold,
            mode,
            BACKEND,
            "SESSION_FILE_DIR",
        )?;
        Ok(FileSystemStore { files })
    }

    /// Builds the store from `SESSION_FILE_DIR`, `SESSION_FILE_THRESHOLD` and
    /// `SESSION_FILE_MODE` (defaults: `flask_session` in the current directory, `500`,
    /// `0o600`). The directory is opened on the blocking pool.
    ///
    /// `SESSION_FILE_MODE` accepts an integer (write TOML's octal literal `0o600`, or the
    /// decimal `384`) or a string with an octal prefix (`"0o600"`, `"0600"`), as an
    /// environment variable would give. Decimal `700` or `600` (Flask-Session issue #83)
    /// is rejected with an explanation instead of producing unreadable files.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] naming the key for a value of the wrong type, a negative
    /// threshold, a bad mode, or a directory that cannot be created or written.
    pub async fn from_figment(
        _config: &SessionConfig,
        figment: &Figment,
    ) -> Result<Self, ConfigError> {
        let dir = match crate::config::extract_string_key(figment, "SESSION_FILE_DIR")? {
            Some(dir) if dir.trim().is_empty() => {
                return Err(ConfigError::Invalid {
                    key: "SESSION_FILE_DIR",
                    value: format!("{dir:?}"),
                    allowed: "a directory path (default \"flask_session\")".to_owned(),
                });
            }
            Some(dir) => PathBuf::from(dir),
            None => PathBuf::from(DEFAULT_DIR),
        };
        let threshold = match config::find_key(figment, "SESSION_FILE_THRESHOLD")? {
            Some(v) => file_values::parse_threshold(&v, "SESSION_FILE_THRESHOLD")?,
            None => DEFAULT_THRESHOLD,
        };
        let mode = match config::find_key(figment, "SESSION_FILE_MODE")? {
            Some(v) => file_values::parse_mode(&v, "SESSION_FILE_MODE")?,
            None => DEFAULT_MODE,
        };
        let files =
            file_engine::open_blocking(dir, threshold, mode, BACKEND, "SESSION_FILE_DIR").await?;
        tracing::info!(dir = %files.dir().display(), threshold, mode = format_args!("{mode:#o}"), "filesystem session store");
        Ok(FileSystemStore { files })
    }

    /// The session directory (absolute).
    pub fn dir(&self) -> &Path {
        self.files.dir()
    }

    /// The pruning threshold (`0` = no limit).
    pub fn threshold(&self) -> usize {
        self.files.threshold()
    }

    /// How many files one process may add over the threshold before it prunes: the
    /// directory never holds more than `threshold + slack` files per process sharing it
    /// (see the file engine's `slack_for`).
    pub fn slack(&self) -> usize {
        self.files.slack()
    }

    /// The permission bits given to session files.
    pub fn mode(&self) -> u32 {
        self.files.mode()
    }

    /// The file that holds `key`: `<dir>/<lowercase hex SHA-256 of key>`.
    pub fn file_path(&self, key: &str) -> PathBuf {
        self.files.path_for(key)
    }
}

#[async_trait]
impl SessionStore for FileSystemStore {
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

    async fn load(
        &self,
        key: &str,
        refresh: Option<Duration>,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        self.files.get(key, refresh).await
    }

    async fn create(&self, key: &str, value: &[u8], ttl: Duration) -> Result<bool, StoreError> {
        self.files.add(key, value, ttl).await
    }

    async fn update(&self, key: &str, value: &[u8], ttl: Duration) -> Result<bool, StoreError> {
        self.files.replace(key, value, ttl).await
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.files.delete(key).await.map(|_| ())
    }

    async fn remove(&self, key: &str) -> Result<bool, StoreError> {
        self.files.delete(key).await
    }

    async fn rename(
        &self,
        from: &str,
        to: &str,
        value: &[u8],
        ttl: Duration,
    ) -> Result<RenameOutcome, StoreError> {
        self.files.rename(from, to, value, ttl).await
    }

    async fn delete_expired(&self) -> Result<u64, StoreError> {
        self.files.delete_expired().await
    }

    fn has_native_ttl(&self) -> bool {
        false
    }

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
