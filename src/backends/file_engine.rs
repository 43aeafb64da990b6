//! The file engine shared by `filesystem::FileSystemStore` and
//! `cachelib::FileSystemCache`: one file per key in a directory, with an expiry header,
//! atomic writes and cross-process locking.
#![doc = ""]
#![doc = include_str!("file_engine.md")]

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use crate::clock::since_epoch;
use crate::config::file_values::check_mode;
use crate::error::{ConfigError, StoreError};
use crate::store::{RenameOutcome, SwapOutcome, Versioned};

/// The four magic bytes every entry file starts with.
pub(crate) const MAGIC: [u8; 4] = *b"AFSS";
/// The format version written (byte 4 of the header).
pub(crate) const VERSION: u8 = 2;
/// The length of the header written, in bytes.
pub(crate) const HEADER_LEN: usize = 32;
/// The previous format version (no checksum), still read.
const VERSION_1: u8 = 1;
/// The length of a version 1 header.
const HEADER_LEN_V1: usize = 24;
/// Replaced entry files a process keeps for reuse (see
/// [Recycled files](self#recycled-files)).
const MAX_SPARES: usize = 16;
/// Flag bit (byte 5): the entry has not been read back or rewritten since its creation.
pub(crate) const FLAG_UNUSED: u8 = 1;

/// The number of entry files a process may create between two scans of the directory
/// when the threshold is `threshold` (see [Threshold pruning](self#threshold-pruning)):
/// `max(16, threshold / 8)`, or 0 without a threshold.
pub(crate) fn slack_for(threshold: usize) -> usize {
    if threshold == 0 {
        0
    } else {
        (threshold / 8).max(16)
    }
}

const LOCK_DIR: &str = ".locks";
const TMP_PREFIX: &str = ".afs-tmp-";
/// The file under the lock directory that one sweep at a time holds.
const SWEEP_LOCK: &str = "sweep";
/// Temporary files older than this are leftovers of a crashed writer.
const STALE_TMP_AGE: Duration = Duration::from_secs(3600);

/// The lowercase hex SHA-256 of `key`: the name of the key's entry file.
pub(crate) fn file_name(key: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, key.as_bytes());
    let mut name = String::with_capacity(64);
    for byte in digest.as_ref() {
        name.push(char::from_digit(u32::from(byte >> 4), 16).unwrap_or('0'));
        name.push(char::from_digit(u32::from(byte & 0xf), 16).unwrap_or('0'));
    }
    name
}

fn is_entry_name(name: &str) -> bool {
    name.len() == 64 && name.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// The absolute expiry for a time to live: `0` for a zero TTL (never), else now + ttl
/// rounded up to a whole second.
fn expiry_for(ttl: Duration) -> u64 {
    if ttl.is_zero() {
        return 0;
    }
    let at = since_epoch().saturating_add(ttl);
    let secs = at.as_secs();
    let secs = if at.subsec_nanos() > 0 {
        secs.saturating_add(1)
    } else {
        secs
    };
    secs.max(1)
}

fn is_expired(expiry: u64, now: Duration) -> bool {
    expiry != 0 && now >= Duration::from_secs(expiry)
}

/// What a file holds, as far as the engine is concerned.
enum Entry {
    Absent,
    Corrupt(&'static str),
    Valid { header: Header, payload: Vec<u8> },
}

/// What the header of a sound entry file says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Header {
    expiry: u64,
    unused: bool,
    /// The payload's length.
    len: u64,
    /// Version 2 or later: the payload is checksummed, so the file may be recycled
    /// (see [Recycled files](self#recycled-files)).
    checksummed: bool,
}

impl Header {
    /// The size of the whole file this header describes.
    fn file_len(&self) -> u64 {
        let header = if self.checksummed {
            HEADER_LEN
        } else {
            HEADER_LEN_V1
        };
        // Saturating: the length comes from the file, and a hostile one must not overflow.
        (header as u64).saturating_add(self.len)
    }
}

/// The checksum of an entry (version 2): XXH3-64 of the payload, seeded with the XXH3-64
/// of the entry file's name, so that a file holding another key's entry does not match.
fn checksum(name: &str, payload: &[u8]) -> u64 {
    use xxhash_rust::xxh3::{xxh3_64, xxh3_64_with_seed};
    xxh3_64_with_seed(payload, xxh3_64(name.as_bytes()))
}

/// The bytes of the entry file `name` (version 2).
fn encode(name: &str, expiry: u64, flags: u8, payload: &[u8]) -> Vec<u8> {
    let mut buf = Vec::with_capacity(HEADER_LEN + payload.len());
    buf.extend_from_slice(&MAGIC);
    buf.push(VERSION);
    buf.extend_from_slice(&[flags, 0, 0]);
    buf.extend_from_slice(&expiry.to_le_bytes());
    buf.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    buf.extend_from_slice(&checksum(name, payload).to_le_bytes());
    buf.extend_from_slice(payload);
    buf
}

fn le_u64(bytes: &[u8], at: usize) -> u64 {
    let mut word = [0u8; 8];
    word.copy_from_slice(&bytes[at..at + 8]);
    u64::from_le_bytes(word)
}

/// Checks a header (version 1 or 2) and returns it.
fn parse_header(bytes: &[u8]) -> Result<Header, &'static str> {
    if bytes.len() < HEADER_LEN_V1 {
        return Err("shorter than the header");
    }
    if bytes[0..4] != MAGIC {
        return Err("wrong magic bytes");
    }
    let checksummed = match bytes[4] {
        VERSION if bytes.len() < HEADER_LEN => return Err("shorter than the header"),
        VERSION => true,
        VERSION_1 => false,
        _ => return Err("unknown format version"),
    };
    Ok(Header {
        expiry: le_u64(bytes, 8),
        unused: bytes[5] & FLAG_UNUSED != 0,
        len: le_u64(bytes, 16),
        checksummed,
    })
}

/// Decodes the whole file of the entry `name`: its length must match the header and
/// (version 2) its payload the checksum.
fn decode(name: &str, mut bytes: Vec<u8>) -> Entry {
    match parse_header(&bytes) {
        Err(why) => Entry::Corrupt(why),
        Ok(header) => {
            if bytes.len() as u64 != header.file_len() {
                return Entry::Corrupt("payload length does not match the header");
            }
            if header.checksummed {
                let stored = le_u64(&bytes, 24);
                bytes.drain(..HEADER_LEN);
                if checksum(name, &bytes) != stored {
                    return Entry::Corrupt("checksum does not match");
                }
            } else {
                bytes.drain(..HEADER_LEN_V1);
            }
            Entry::Valid {
                header,
                payload: bytes,
            }
        }
    }
}

#[cfg(test)]
impl Entry {
    fn corrupt(&self) -> Option<&'static str> {
        match self {
            Entry::Corrupt(why) => Some(why),
            _ => None,
        }
    }
}

/// Reads the entry `name` with one `read` of up to 8 KiB (no `stat`, no second `read` for
/// the end of the file) unless the file fills it. A short read is taken as the end of the
/// file (a regular file returns fewer bytes only there); were it not, the length check
/// would call the entry corrupt, and every caller reads a corrupt entry again with
/// [`read_entry`], which reads to the end, before deciding anything.
fn read_entry_quick(path: &Path, name: &str) -> io::Result<Entry> {
    const FIRST_READ: usize = 8192;
    let mut file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Entry::Absent),
        Err(e) => return Err(e),
    };
    let mut bytes = vec![0u8; FIRST_READ];
    let n = loop {
        match file.read(&mut bytes) {
            Ok(n) => break n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    };
    bytes.truncate(n);
    if n == FIRST_READ {
        file.read_to_end(&mut bytes)?;
    }
    Ok(decode(name, bytes))
}

/// Reads the whole file of the entry `name`.
fn read_entry(path: &Path, name: &str) -> io::Result<Entry> {
    match fs::read(path) {
        Ok(bytes) => Ok(decode(name, bytes)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Entry::Absent),
        Err(e) => Err(e),
    }
}

/// Reads only the header: `Ok(None)` when absent, `Ok(Some(Err(_)))` when corrupt.
fn read_header(path: &Path) -> io::Result<Option<Result<Header, &'static str>>> {
    let mut file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let mut header = [0u8; HEADER_LEN];
    let mut filled = 0;
    while filled < HEADER_LEN {
        match file.read(&mut header[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    let size = file.metadata()?.len();
    Ok(Some(parse_header(&header[..filled]).and_then(|header| {
        if size != header.file_len() {
            Err("payload length does not match the header")
        } else {
            Ok(header)
        }
    })))
}

/// Reads only the expiry: `Ok(None)` when absent, `Ok(Some(Err(_)))` when corrupt.
fn read_expiry(path: &Path) -> io::Result<Option<Result<u64, &'static str>>> {
    Ok(read_header(path)?.map(|h| h.map(|h| h.expiry)))
}

/// Clears the *unused* flag of an entry file in place (one byte; both values are a sound
/// header, so readers never see a broken file). A file replaced meanwhile keeps its own
/// flag: the write lands in the replaced, unlinked file.
fn mark_used(path: &Path) -> io::Result<()> {
    use std::io::{Seek, SeekFrom};
    let mut file = match OpenOptions::new().write(true).open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    file.seek(SeekFrom::Start(5))?;
    file.write_all(&[0])
}

/// Writes bytes 5 to 15 of an entry file's header in place, with one write: the flags
/// (all clear: the entry is in use), the two reserved bytes (zero) and `expiry`. Any value
/// these bytes can take makes a sound header, so a reader that catches the write half done,
/// or a file cut short by a crash in the middle of it, still sees a sound entry (see
/// [Refresh in place](self#refresh-in-place)).
fn write_header_in_place(file: &File, expiry: u64) -> io::Result<()> {
    let mut bytes = [0u8; 11];
    bytes[3..].copy_from_slice(&expiry.to_le_bytes());
    write_at(file, &bytes, 5)
}

#[cfg(unix)]
fn write_at(file: &File, bytes: &[u8], offset: u64) -> io::Result<()> {
    use std::os::unix::fs::FileExt;
    file.write_all_at(bytes, offset)
}

#[cfg(not(unix))]
fn write_at(mut file: &File, bytes: &[u8], offset: u64) -> io::Result<()> {
    use std::io::{Seek, SeekFrom};
    file.seek(SeekFrom::Start(offset))?;
    file.write_all(bytes)
}

/// Swaps the files named `a` and `b` atomically (`renameat2(RENAME_EXCHANGE)`); `false`
/// when the system or the filesystem cannot, and the caller should rename instead. Unlike
/// a rename over an existing file, an exchange does not make ext4 (`auto_da_alloc`, its
/// default) start writing the new file out then and there, which made each rewrite about
/// ten times slower (see [Durability](self#durability)).
#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> io::Result<bool> {
    use rustix::fs::{CWD, RenameFlags, renameat_with};
    use rustix::io::Errno;
    match renameat_with(CWD, a, CWD, b, RenameFlags::EXCHANGE) {
        Ok(()) => Ok(true),
        // No exchange on this kernel or filesystem, or `b` is gone (removed without the lock).
        Err(Errno::INVAL | Errno::NOSYS | Errno::OPNOTSUPP | Errno::NOENT) => Ok(false),
        Err(errno) => Err(errno.into()),
    }
}

#[cfg(not(target_os = "linux"))]
fn exchange(_: &Path, _: &Path) -> io::Result<bool> {
    Ok(false)
}

fn remove_if_exists(path: &Path) -> io::Result<bool> {
    match fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

/// The lock file (of the 256) that guards the entry file `name`.
fn stripe(name: &str) -> &str {
    name.get(..2).unwrap_or("00")
}

/// An exclusive lock on one of the 256 lock files, released when dropped; the file stays
/// open for the stripe's next lock.
struct KeyLock<'a> {
    /// The stripe's slot, holding its locked file: the guard keeps this process's other
    /// threads out (a `flock` belongs to the open file, which they share).
    slot: MutexGuard<'a, Option<File>>,
}

impl Drop for KeyLock<'_> {
    fn drop(&mut self) {
        if let Some(file) = self.slot.as_ref()
            && file.unlock().is_err()
        {
            // Closing the file releases the lock for certain; the next lock reopens it.
            *self.slot = None;
        }
    }
}

/// The sweep lock, released when dropped (the file is closed).
struct SweepLock {
    _file: File,
}

/// The number of lock files (stripes) per directory.
const STRIPES: usize = 256;

/// The index of the lock file (of the 256) that guards the entry file `name`.
fn stripe_index(name: &str) -> usize {
    usize::from(u8::from_str_radix(stripe(name), 16).unwrap_or(0))
}

#[derive(Debug)]
struct Inner {
    dir: PathBuf,
    lock_dir: PathBuf,
    threshold: usize,
    /// [`slack_for`] the threshold.
    slack: usize,
    mode: u32,
    backend: &'static str,
    /// Files this process may have created since its last scan: creates reserved since
    /// then, plus those in flight when it started (see the module docs).
    pending: AtomicUsize,
    /// Creates between their reservation and their end.
    in_flight: AtomicUsize,
    /// One scan at a time per process.
    prune_lock: Mutex<()>,
    /// Replaced entry files (`.afs-tmp-*`) kept for reuse; at most [`MAX_SPARES`] (see
    /// [Recycled files](self#recycled-files)).
    spares: Mutex<Vec<PathBuf>>,
    /// The [`STRIPES`] lock files, each opened on its first use and kept open.
    stripes: Stripes,
}

/// The lock files' slots, one per stripe (its `Debug` is a count, not 256 slots).
struct Stripes(Box<[Mutex<Option<File>>]>);

impl std::fmt::Debug for Stripes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} lock files", self.0.len())
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        let spares = self
            .spares
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner);
        for spare in spares.drain(..) {
            // Otherwise a sweep removes it within the hour.
            let _ = remove_if_exists(&spare);
        }
    }
}

/// A reserved create: ends the in-flight count when dropped.
struct Reservation<'a>(Option<&'a Inner>);

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        if let Some(inner) = self.0 {
            inner.in_flight.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

/// The engine: a directory of entry files. Cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct FileEngine {
    inner: Arc<Inner>,
}

impl FileEngine {
    /// Creates the directory (and `.locks`) if needed, checks that a file can be written
    /// in it, and counts the entries. Blocking.
    ///
    /// `key` names the configuration key of the directory, for error messages.
    pub(crate) fn open(
        dir: PathBuf,
        threshold: usize,
        mode: u32,
        backend: &'static str,
        key: &'static str,
    ) -> Result<Self, ConfigError> {
        check_mode(mode, key)?;
        let dir = if dir.is_absolute() {
            dir
        } else {
            std::env::current_dir()
                .map_err(|e| setup_error(backend, key, &dir, e))?
                .join(dir)
        };
        let lock_dir = dir.join(LOCK_DIR);
        fs::create_dir_all(&lock_dir).map_err(|e| setup_error(backend, key, &dir, e))?;
        // Probe: a write in the directory must work now, not at the first request.
        tempfile::Builder::new()
            .prefix(TMP_PREFIX)
            .tempfile_in(&dir)
            .and_then(|mut f| f.write_all(b"probe"))
            .map_err(|e| setup_error(backend, key, &dir, e))?;
        let slack = slack_for(threshold);
        let inner = Inner {
            dir,
            lock_dir,
            threshold,
            slack,
            mode,
            backend,
            pending: AtomicUsize::new(0),
            in_flight: AtomicUsize::new(0),
            prune_lock: Mutex::new(()),
            spares: Mutex::new(Vec::new()),
            stripes: Stripes((0..STRIPES).map(|_| Mutex::new(None)).collect()),
        };
        let count = inner
            .list_entries()
            .map_err(|e| setup_error(backend, key, &inner.dir, e))?
            .len();
        if threshold > 0 && count > threshold {
            // Over the threshold already: the first create prunes.
            inner.pending.store(slack, Ordering::Relaxed);
        }
        tracing::debug!(backend, dir = %inner.dir.display(), entries = count, threshold, mode = format_args!("{mode:#o}"), "file session store opened");
        Ok(FileEngine {
            inner: Arc::new(inner),
        })
    }

    /// The (absolute) directory.
    pub(crate) fn dir(&self) -> &Path {
        &self.inner.dir
    }

    /// The pruning threshold (0 = none).
    pub(crate) fn threshold(&self) -> usize {
        self.inner.threshold
    }

    /// The permission bits of entry files.
    pub(crate) fn mode(&self) -> u32 {
        self.inner.mode
    }

    /// The path of the entry file of `key`.
    pub(crate) fn path_for(&self, key: &str) -> PathBuf {
        self.inner.dir.join(file_name(key))
    }

    async fn run<T, F>(&self, op: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Inner) -> io::Result<T> + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        let backend = inner.backend;
        tokio::task::spawn_blocking(move || op(&inner))
            .await
            .map_err(|e| StoreError::backend(backend, e))?
            .map_err(|e| StoreError::backend(backend, e))
    }

    /// The number of files this process may create before its next scan (the slack).
    pub(crate) fn slack(&self) -> usize {
        self.inner.slack
    }

    /// Returns the payload of a live entry; with `refresh`, moves its expiry first.
    pub(crate) async fn get(
        &self,
        key: &str,
        refresh: Option<Duration>,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let name = file_name(key);
        self.run(move |inner| match refresh {
            None => inner.get(&name),
            Some(ttl) => inner.get_and_touch(&name, ttl),
        })
        .await
    }

    /// Writes unconditionally.
    #[cfg_attr(not(feature = "cachelib"), allow(dead_code))]
    pub(crate) async fn set(
        &self,
        key: &str,
        value: &[u8],
        ttl: Duration,
    ) -> Result<(), StoreError> {
        let name = file_name(key);
        let value = value.to_vec();
        self.run(move |inner| inner.set(&name, &value, ttl)).await
    }

    /// Writes only if there is no live entry.
    pub(crate) async fn add(
        &self,
        key: &str,
        value: &[u8],
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        let name = file_name(key);
        let value = value.to_vec();
        self.run(move |inner| inner.add(&name, &value, ttl)).await
    }

    /// Writes only if there is a live entry.
    pub(crate) async fn replace(
        &self,
        key: &str,
        value: &[u8],
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        let name = file_name(key);
        let value = value.to_vec();
        self.run(move |inner| inner.replace(&name, &value, ttl))
            .await
    }

    /// Moves the live entry of `from` to `to` (written with `value` and a new expiry),
    /// under the locks of both keys; see [`Inner::rename`].
    pub(crate) async fn rename(
        &self,
        from: &str,
        to: &str,
        value: &[u8],
        ttl: Duration,
    ) -> Result<RenameOutcome, StoreError> {
        let (from, to) = (file_name(from), file_name(to));
        let value = value.to_vec();
        self.run(move |inner| inner.rename(&from, &to, &value, ttl))
            .await
    }

    /// Replaces a live entry whose payload is still `expected`, under the key's lock; see
    /// [`SessionStore::compare_and_swap`](crate::SessionStore::compare_and_swap).
    pub(crate) async fn compare_and_swap(
        &self,
        key: &str,
        expected: &[u8],
        value: &[u8],
        ttl: Duration,
    ) -> Result<SwapOutcome, StoreError> {
        let name = file_name(key);
        let (expected, value) = (expected.to_vec(), value.to_vec());
        self.run(move |inner| inner.compare_and_swap(&name, &expected, &value, ttl))
            .await
    }

    /// Moves the expiry of a live entry.
    #[cfg_attr(not(feature = "cachelib"), allow(dead_code))]
    pub(crate) async fn touch(&self, key: &str, ttl: Duration) -> Result<bool, StoreError> {
        let name = file_name(key);
        self.run(move |inner| Ok(inner.get_and_touch(&name, ttl)?.is_some()))
            .await
    }

    /// Changes the entry of `key` in one step under its lock: `change` gets the live
    /// payload (or `None`) and answers the new one (`None` removes the entry) and a result.
    /// The new payload expires after `ttl`, or keeps the old expiry when `ttl` is `None`
    /// (a new entry then lives `fallback_ttl`).
    #[cfg_attr(not(feature = "filesystem"), allow(dead_code))]
    pub(crate) async fn modify<T, F>(
        &self,
        key: &str,
        ttl: Option<Duration>,
        fallback_ttl: Duration,
        change: F,
    ) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(Option<Vec<u8>>) -> (Option<Vec<u8>>, T) + Send + 'static,
    {
        let name = file_name(key);
        self.run(move |inner| inner.modify(&name, ttl, fallback_ttl, change))
            .await
    }

    /// Removes the entry; `true` if a live entry was removed.
    pub(crate) async fn delete(&self, key: &str) -> Result<bool, StoreError> {
        let name = file_name(key);
        self.run(move |inner| inner.delete(&name)).await
    }

    /// Removes expired and corrupt entries and stale temporary files; one process at a
    /// time per directory (the others skip theirs and report 0).
    pub(crate) async fn delete_expired(&self) -> Result<u64, StoreError> {
        self.run(|inner| inner.delete_expired()).await
    }
}

impl Inner {
    /// Takes the lock of `name`'s stripe: first this process's turn on the stripe, then
    /// the `flock` on its lock file, opened on the stripe's first use and kept open.
    fn lock(&self, name: &str) -> io::Result<KeyLock<'_>> {
        let mut slot = self.stripes.0[stripe_index(name)]
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let file = match slot.take() {
            Some(file) => file,
            None => self.open_lock_file(stripe(name))?,
        };
        // File::lock (stable since Rust 1.89, hence the crate's rust-version). On an error
        // the file is closed; the next lock opens it again.
        file.lock()?;
        *slot = Some(file);
        Ok(KeyLock { slot })
    }

    /// Opens (creating it if needed) the lock file `.locks/<stripe>`.
    fn open_lock_file(&self, stripe: &str) -> io::Result<File> {
        let path = self.lock_dir.join(stripe);
        let mut options = OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(self.mode | 0o600);
        }
        let file = match options.open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                // Someone removed `.locks`; recreate it rather than fail every request.
                fs::create_dir_all(&self.lock_dir)?;
                options.open(&path)?
            }
            Err(e) => return Err(e),
        };
        Ok(file)
    }

    /// The sweep lock, `.locks/sweep`, shared by every process on the directory; `None`
    /// (not waited for) when another process is sweeping.
    fn try_sweep_lock(&self) -> io::Result<Option<SweepLock>> {
        let mut options = OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(self.mode | 0o600);
        }
        fs::create_dir_all(&self.lock_dir)?;
        let file = options.open(self.lock_dir.join(SWEEP_LOCK))?;
        match file.try_lock() {
            Ok(()) => Ok(Some(SweepLock { _file: file })),
            Err(std::fs::TryLockError::WouldBlock) => Ok(None),
            Err(std::fs::TryLockError::Error(e)) => Err(e),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Takes one of the creates allowed before the next scan; when they are used up,
    /// scans (and prunes) first. Call it before taking a key lock (the scan takes them).
    fn reserve(&self) -> io::Result<Reservation<'_>> {
        if self.threshold == 0 {
            return Ok(Reservation(None));
        }
        loop {
            // In flight before reserved: a scan that resets `pending` meanwhile counts it.
            self.in_flight.fetch_add(1, Ordering::AcqRel);
            let reservation = Reservation(Some(self));
            let n = self.pending.load(Ordering::Acquire);
            if n < self.slack
                && self
                    .pending
                    .compare_exchange(n, n + 1, Ordering::AcqRel, Ordering::Acquire)
                    .is_ok()
            {
                return Ok(reservation);
            }
            drop(reservation);
            if n < self.slack {
                continue;
            }
            let _scan = self
                .prune_lock
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if self.pending.load(Ordering::Acquire) >= self.slack {
                self.prune()?;
            }
        }
    }

    /// Writes `bytes` (a complete entry) to a new temporary file with the configured mode.
    fn temp_file(&self, bytes: &[u8]) -> io::Result<tempfile::NamedTempFile> {
        let mut tmp = tempfile::Builder::new()
            .prefix(TMP_PREFIX)
            .tempfile_in(&self.dir)?;
        tmp.write_all(bytes)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            tmp.as_file()
                .set_permissions(fs::Permissions::from_mode(self.mode))?;
        }
        Ok(tmp)
    }

    /// Puts `payload` in place of the entry `name`, whose current file `old` describes
    /// (`None`: unknown, or absent), in a recycled file when there is one, else in a new
    /// temporary file (caller holds the lock). The entry is in use from now on (its
    /// *unused* flag is clear).
    fn replace_file(
        &self,
        name: &str,
        expiry: u64,
        payload: &[u8],
        old: Option<Header>,
    ) -> io::Result<()> {
        let bytes = encode(name, expiry, 0, payload);
        let path = self.path(name);
        // Only a checksummed file may be rewritten while a reader may hold it open.
        let recyclable = old.is_some_and(|h| h.checksummed);
        if let Some(spare) = self.take_spare() {
            match self.rewrite_spare(&spare, &bytes) {
                Ok(()) => match exchange(&spare, &path) {
                    Ok(true) => {
                        self.keep_spare(spare, recyclable);
                        return Ok(());
                    }
                    // The entry (or the spare) is gone: start afresh below.
                    Ok(false) => {}
                    Err(error) => {
                        tracing::debug!(backend = self.backend, file = %spare.display(), %error, "cannot swap a recycled session file into place");
                    }
                },
                Err(error) => {
                    tracing::debug!(backend = self.backend, file = %spare.display(), %error, "cannot rewrite a recycled session file");
                }
            }
            let _ = remove_if_exists(&spare);
        }
        let tmp = self.temp_file(&bytes)?;
        if exchange(tmp.path(), &path)? {
            // The temporary name now holds the old entry: kept for reuse, or removed.
            match tmp.into_temp_path().keep() {
                Ok(replaced) => self.keep_spare(replaced, recyclable),
                Err(error) => {
                    tracing::debug!(backend = self.backend, error = %error.error, "cannot keep a replaced session file (removed later as a stale temporary file)");
                }
            }
            return Ok(());
        }
        tmp.persist(path).map_err(|e| e.error)?;
        Ok(())
    }

    /// A recycled file, if the pool has one.
    fn take_spare(&self) -> Option<PathBuf> {
        self.spares
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop()
    }

    /// Keeps the replaced entry file `spare` for reuse when it may be `recyclable` and the
    /// pool has room; removes it otherwise.
    fn keep_spare(&self, spare: PathBuf, recyclable: bool) {
        if recyclable {
            let mut spares = self.spares.lock().unwrap_or_else(PoisonError::into_inner);
            if spares.len() < MAX_SPARES {
                spares.push(spare);
                return;
            }
        }
        if let Err(error) = remove_if_exists(&spare) {
            tracing::debug!(backend = self.backend, file = %spare.display(), %error, "cannot remove a replaced session file (removed later as a stale temporary file)");
        }
    }

    /// Overwrites the recycled file `spare` with `bytes`, with the configured mode, and
    /// cuts it to their length if it was longer.
    fn rewrite_spare(&self, spare: &Path, bytes: &[u8]) -> io::Result<()> {
        let file = OpenOptions::new().write(true).open(spare)?;
        // Its length and mode, read from the file itself (not taken from the old entry's
        // header): a truncation or a `chmod` costs more than this `fstat`, so each is made
        // only when needed.
        let metadata = file.metadata()?;
        let len = metadata.len();
        // First, so that a file this process may not chmod (another user's) is given up
        // before any write.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            if metadata.permissions().mode() & 0o7777 != self.mode {
                file.set_permissions(fs::Permissions::from_mode(self.mode))?;
            }
        }
        write_at(&file, bytes, 0)?;
        if len > bytes.len() as u64 {
            file.set_len(bytes.len() as u64)?;
        }
        Ok(())
    }

    /// Links a finished temporary file as `name` unless that exists; `false` if it does.
    /// The new entry is *unused*.
    fn create_file(&self, name: &str, expiry: u64, payload: &[u8]) -> io::Result<bool> {
        match self
            .temp_file(&encode(name, expiry, FLAG_UNUSED, payload))?
            .persist_noclobber(self.path(name))
        {
            Ok(_) => Ok(true),
            Err(e) if e.error.kind() == io::ErrorKind::AlreadyExists => Ok(false),
            Err(e) => Err(e.error),
        }
    }

    /// Removes `name` if it is (still) expired or corrupt. Takes the lock.
    fn remove_dead(&self, name: &str) -> io::Result<bool> {
        let _lock = self.lock(name)?;
        self.remove_dead_locked(name)
    }

    /// Reads `name` and removes it if expired or corrupt; caller holds the lock.
    /// Returns whether the file was removed.
    fn remove_dead_locked(&self, name: &str) -> io::Result<bool> {
        let path = self.path(name);
        let dead = match read_expiry(&path)? {
            None => return Ok(false),
            Some(Err(why)) => {
                tracing::warn!(backend = self.backend, file = %path.display(), reason = why, "removing corrupt session file");
                true
            }
            Some(Ok(expiry)) => is_expired(expiry, since_epoch()),
        };
        Ok(dead && remove_if_exists(&path)?)
    }

    /// Reads a live entry under the lock; removes a dead one. `None` = no live entry.
    fn read_live_locked(&self, name: &str) -> io::Result<Option<(Header, Vec<u8>)>> {
        let path = self.path(name);
        let entry = match read_entry_quick(&path, name)? {
            // Read to the end before calling it corrupt (and removing it).
            Entry::Corrupt(_) => read_entry(&path, name)?,
            entry => entry,
        };
        match entry {
            Entry::Absent => Ok(None),
            Entry::Corrupt(why) => {
                tracing::warn!(backend = self.backend, file = %path.display(), reason = why, "removing corrupt session file");
                remove_if_exists(&path)?;
                Ok(None)
            }
            Entry::Valid { header, payload } => {
                if is_expired(header.expiry, since_epoch()) {
                    tracing::debug!(backend = self.backend, file = %path.display(), "removing expired session file");
                    remove_if_exists(&path)?;
                    Ok(None)
                } else {
                    Ok(Some((header, payload)))
                }
            }
        }
    }

    /// The header of `name`'s entry if it is live (its payload checked against the
    /// checksum), under the lock; removes a dead one.
    fn live_header_locked(&self, name: &str) -> io::Result<Option<Header>> {
        Ok(self.read_live_locked(name)?.map(|(header, _)| header))
    }

    /// Whether `name` holds a live entry (see [`Self::live_header_locked`]).
    fn is_live_locked(&self, name: &str) -> io::Result<bool> {
        Ok(self.live_header_locked(name)?.is_some())
    }

    fn get(&self, name: &str) -> io::Result<Option<Vec<u8>>> {
        let path = self.path(name);
        match read_entry_quick(&path, name)? {
            Entry::Absent => Ok(None),
            Entry::Valid { header, payload } if !is_expired(header.expiry, since_epoch()) => {
                if header.unused
                    && let Err(error) = mark_used(&path)
                {
                    // Only the pruning order depends on it.
                    tracing::debug!(backend = self.backend, file = %path.display(), %error, "cannot mark a session file as used");
                }
                Ok(Some(payload))
            }
            Entry::Valid { .. } | Entry::Corrupt(_) => {
                // Possibly replaced since we read it: decide again under the lock.
                let _lock = self.lock(name)?;
                Ok(self.read_live_locked(name)?.map(|(_, payload)| payload))
            }
        }
    }

    /// Returns the payload of a live entry after moving its expiry to now + `ttl`, in
    /// place (see [Refresh in place](self#refresh-in-place)).
    fn get_and_touch(&self, name: &str, ttl: Duration) -> io::Result<Option<Vec<u8>>> {
        let expiry = expiry_for(ttl);
        // Refreshed earlier in the same second (the expiry is in whole seconds): nothing to
        // write, so no lock either, exactly as a read without refresh.
        if let Entry::Valid { header, payload } = read_entry_quick(&self.path(name), name)?
            && !header.unused
            && header.expiry == expiry
            && !is_expired(expiry, since_epoch())
        {
            return Ok(Some(payload));
        }
        let _lock = self.lock(name)?;
        self.touch_locked(name, expiry)
    }

    /// Under the lock: reads `name`, removes it if dead, else writes `expiry` (and clears
    /// the *unused* flag) into its header in place, unless they already hold those values.
    fn touch_locked(&self, name: &str, expiry: u64) -> io::Result<Option<Vec<u8>>> {
        let path = self.path(name);
        let mut file = match OpenOptions::new().read(true).write(true).open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)?;
        match decode(name, bytes) {
            Entry::Absent => Ok(None),
            Entry::Corrupt(why) => {
                tracing::warn!(backend = self.backend, file = %path.display(), reason = why, "removing corrupt session file");
                remove_if_exists(&path)?;
                Ok(None)
            }
            Entry::Valid { header, .. } if is_expired(header.expiry, since_epoch()) => {
                tracing::debug!(backend = self.backend, file = %path.display(), "removing expired session file");
                remove_if_exists(&path)?;
                Ok(None)
            }
            Entry::Valid { header, payload } => {
                if header.unused || header.expiry != expiry {
                    write_header_in_place(&file, expiry)?;
                }
                Ok(Some(payload))
            }
        }
    }

    #[cfg_attr(not(feature = "cachelib"), allow(dead_code))]
    fn set(&self, name: &str, value: &[u8], ttl: Duration) -> io::Result<()> {
        // Reserved in case the file is new (an overwrite wastes the reservation).
        let _reservation = self.reserve()?;
        let _lock = self.lock(name)?;
        match read_header(&self.path(name))? {
            Some(old) => self.replace_file(name, expiry_for(ttl), value, old.ok()),
            None => {
                self.temp_file(&encode(name, expiry_for(ttl), FLAG_UNUSED, value))?
                    .persist(self.path(name))
                    .map_err(|e| e.error)?;
                Ok(())
            }
        }
    }

    fn add(&self, name: &str, value: &[u8], ttl: Duration) -> io::Result<bool> {
        let _reservation = self.reserve()?;
        let _lock = self.lock(name)?;
        if self.is_live_locked(name)? {
            return Ok(false);
        }
        // Any dead file was removed above; noclobber also protects against writers that
        // bypass the lock.
        self.create_file(name, expiry_for(ttl), value)
    }

    fn compare_and_swap(
        &self,
        name: &str,
        expected: &[u8],
        value: &[u8],
        ttl: Duration,
    ) -> io::Result<SwapOutcome> {
        let _lock = self.lock(name)?;
        match self.read_live_locked(name)? {
            None => Ok(SwapOutcome::Gone),
            Some((_, current)) if current != expected => {
                Ok(SwapOutcome::Changed(Versioned::new(current)))
            }
            Some((old, _)) => {
                self.replace_file(name, expiry_for(ttl), value, Some(old))?;
                Ok(SwapOutcome::Swapped)
            }
        }
    }

    fn replace(&self, name: &str, value: &[u8], ttl: Duration) -> io::Result<bool> {
        let _lock = self.lock(name)?;
        let Some(old) = self.live_header_locked(name)? else {
            return Ok(false);
        };
        self.replace_file(name, expiry_for(ttl), value, Some(old))?;
        Ok(true)
    }

    /// Holds the locks of both names (one lock when they share a stripe, else the lower
    /// stripe first, so two renames never wait on each other in a cycle), then: no live
    /// `from` → `SourceGone`; a live `to` → `TargetExists`; else writes `to` (no-clobber)
    /// and removes `from`. The file count does not change, so no prune is due.
    fn rename(
        &self,
        from: &str,
        to: &str,
        value: &[u8],
        ttl: Duration,
    ) -> io::Result<RenameOutcome> {
        let (first, second) = if stripe(from) <= stripe(to) {
            (from, to)
        } else {
            (to, from)
        };
        let _first = self.lock(first)?;
        let _second = if stripe(first) == stripe(second) {
            None
        } else {
            Some(self.lock(second)?)
        };
        if !self.is_live_locked(from)? {
            return Ok(RenameOutcome::SourceGone);
        }
        if self.is_live_locked(to)? || !self.create_file(to, expiry_for(ttl), value)? {
            return Ok(RenameOutcome::TargetExists);
        }
        remove_if_exists(&self.path(from))?;
        Ok(RenameOutcome::Moved)
    }

    #[cfg_attr(not(feature = "filesystem"), allow(dead_code))]
    fn modify<T>(
        &self,
        name: &str,
        ttl: Option<Duration>,
        fallback_ttl: Duration,
        change: impl FnOnce(Option<Vec<u8>>) -> (Option<Vec<u8>>, T),
    ) -> io::Result<T> {
        let _reservation = self.reserve()?;
        let _lock = self.lock(name)?;
        let current = self.read_live_locked(name)?;
        let old = current.as_ref().map(|(header, _)| *header);
        let (next, result) = change(current.map(|(_, payload)| payload));
        match next {
            Some(payload) => {
                let expiry = match (ttl, old) {
                    (Some(ttl), _) => expiry_for(ttl),
                    (None, Some(old)) => old.expiry,
                    (None, None) => expiry_for(fallback_ttl),
                };
                self.replace_file(name, expiry, &payload, old)?;
            }
            None => {
                remove_if_exists(&self.path(name))?;
            }
        }
        Ok(result)
    }

    fn delete(&self, name: &str) -> io::Result<bool> {
        let _lock = self.lock(name)?;
        let path = self.path(name);
        let live =
            matches!(read_expiry(&path)?, Some(Ok(expiry)) if !is_expired(expiry, since_epoch()));
        remove_if_exists(&path)?;
        Ok(live)
    }

    /// The names of all entry files.
    fn list_entries(&self) -> io::Result<Vec<String>> {
        let mut names = Vec::new();
        for dirent in fs::read_dir(&self.dir)? {
            let dirent = dirent?;
            if let Some(name) = dirent.file_name().to_str()
                && is_entry_name(name)
            {
                names.push(name.to_owned());
            }
        }
        Ok(names)
    }

    /// Removes temporary files left behind by a crashed writer.
    fn remove_stale_temp_files(&self) -> io::Result<()> {
        for dirent in fs::read_dir(&self.dir)? {
            let dirent = dirent?;
            let is_tmp = dirent
                .file_name()
                .to_str()
                .is_some_and(|n| n.starts_with(TMP_PREFIX));
            if !is_tmp {
                continue;
            }
            let stale = dirent
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age > STALE_TMP_AGE);
            if stale {
                let _ = remove_if_exists(&dirent.path());
            }
        }
        Ok(())
    }

    fn delete_expired(&self) -> io::Result<u64> {
        let Some(_sweeping) = self.try_sweep_lock()? else {
            tracing::debug!(backend = self.backend, dir = %self.dir.display(), "another process is sweeping: sweep skipped");
            return Ok(0);
        };
        let mut removed = 0;
        let names = self.list_entries()?;
        let now = since_epoch();
        for name in &names {
            let dead = match read_expiry(&self.path(name))? {
                None => continue,
                Some(Err(_)) => true,
                Some(Ok(expiry)) => is_expired(expiry, now),
            };
            if dead && self.remove_dead(name)? {
                removed += 1;
            }
        }
        self.remove_stale_temp_files()?;
        if removed > 0 {
            tracing::debug!(backend = self.backend, dir = %self.dir.display(), removed, "removed expired session files");
        }
        Ok(removed)
    }

    /// Scans the directory and brings the number of entries down to the threshold: dead
    /// entries first, then unused live ones, then the others, closest to expiry first.
    /// Caller holds `prune_lock`.
    fn prune(&self) -> io::Result<()> {
        // No create is reserved while the scan runs (`pending` is used up). Those in
        // flight now may finish after the directory is read: they stay counted in the
        // next budget (at worst twice, which only brings the next scan closer). The budget
        // is given back only once the directory is down to the threshold, so it never
        // holds more than threshold + slack entries of this process.
        let in_flight = self.in_flight.load(Ordering::Acquire);
        let result = self.scan_and_evict();
        self.pending.store(in_flight, Ordering::Release);
        result
    }

    fn scan_and_evict(&self) -> io::Result<()> {
        let names = self.list_entries()?;
        let mut count = names.len();
        if count <= self.threshold {
            return Ok(());
        }
        let now = since_epoch();
        let mut live = Vec::with_capacity(names.len());
        for name in names {
            match read_header(&self.path(&name))? {
                None => count -= 1,
                Some(Ok(header)) if !is_expired(header.expiry, now) => live.push((header, name)),
                Some(_) => {
                    // Expired or corrupt; removed only if it still is under the lock.
                    if self.remove_dead(&name)? || !self.path(&name).exists() {
                        count -= 1;
                    }
                }
            }
        }
        let mut evicted = 0usize;
        let mut evicted_in_use = 0usize;
        if count > self.threshold {
            // Unused entries first; never-expiring entries (expiry 0) last in each group.
            live.sort_by_key(|(header, _)| {
                let expiry = if header.expiry == 0 {
                    u64::MAX
                } else {
                    header.expiry
                };
                (!header.unused, expiry)
            });
            for (header, name) in live {
                if count <= self.threshold {
                    break;
                }
                let _lock = self.lock(&name)?;
                let path = self.path(&name);
                // Read back, refreshed or rewritten since the scan: no longer a first
                // candidate.
                if read_header(&path)? != Some(Ok(header)) {
                    continue;
                }
                if remove_if_exists(&path)? {
                    count -= 1;
                    evicted += 1;
                    if !header.unused {
                        evicted_in_use += 1;
                    }
                }
            }
        }
        if evicted > 0 {
            tracing::warn!(
                backend = self.backend,
                dir = %self.dir.display(),
                evicted,
                evicted_in_use,
                threshold = self.threshold,
                "session directory over its threshold: evicted live sessions (unused ones first); raise SESSION_FILE_THRESHOLD (0 = no limit) to keep them"
            );
        }
        Ok(())
    }
}

fn setup_error(backend: &'static str, key: &'static str, dir: &Path, e: io::Error) -> ConfigError {
    ConfigError::Backend {
        backend,
        message: format!(
            "{key} = {:?} cannot be created or written by this process: {e}",
            dir.display().to_string()
        ),
        source: Some(Box::new(e)),
    }
}

/// Opens the engine on the blocking pool (startup does directory I/O).
pub(crate) async fn open_blocking(
    dir: PathBuf,
    threshold: usize,
    mode: u32,
    backend: &'static str,
    key: &'static str,
) -> Result<FileEngine, ConfigError> {
    tokio::task::spawn_blocking(move || FileEngine::open(dir, threshold, mode, backend, key))
        .await
        .map_err(|e| ConfigError::Backend {
            backend,
            message: "the blocking task opening the session directory failed".to_owned(),
            source: Some(Box::new(e)),
        })?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_name_matches_the_flask_session_vector() {
        assert_eq!(
            file_name("session:szSY6pyEjbCgeLhbfqbXJkTprp78DTFD4X2SomHgKpY"),
            "dc42b33094e9b42f48fe11c5a2da30a1dc85d6d53211421677a0fce84fbe37d2"
        );
    }

    const NAME: &str = "dc42b33094e9b42f48fe11c5a2da30a1dc85d6d53211421677a0fce84fbe37d2";

    #[test]
    fn header_round_trips() {
        let bytes = encode(NAME, 1_798_304_422, 0, b"abc");
        assert_eq!(&bytes[..8], b"AFSS\x02\0\0\0");
        assert_eq!(le_u64(&bytes, 8), 1_798_304_422);
        assert_eq!(le_u64(&bytes, 16), 3);
        assert_eq!(le_u64(&bytes, 24), checksum(NAME, b"abc"));
        assert_eq!(&bytes[HEADER_LEN..], b"abc");
        match decode(NAME, bytes) {
            Entry::Valid { header, payload } => {
                assert_eq!(header.expiry, 1_798_304_422);
                assert!(!header.unused);
                assert!(header.checksummed);
                assert_eq!(header.file_len(), HEADER_LEN as u64 + 3);
                assert_eq!(payload, b"abc");
            }
            _ => panic!("not valid"),
        }
        let bytes = encode(NAME, 7, FLAG_UNUSED, b"");
        assert_eq!(&bytes[..8], b"AFSS\x02\x01\0\0");
        assert!(matches!(decode(NAME, bytes), Entry::Valid { header, .. } if header.unused));
        let mut truncated = encode(NAME, 5, 0, b"abcdef");
        truncated.truncate(HEADER_LEN + 2);
        assert!(matches!(decode(NAME, truncated), Entry::Corrupt(_)));
        assert!(matches!(decode(NAME, b"AFSS".to_vec()), Entry::Corrupt(_)));
        assert!(matches!(decode(NAME, Vec::new()), Entry::Corrupt(_)));
        // A version 2 header cut after 24 bytes is not read as version 1.
        let short = encode(NAME, 5, 0, b"")[..HEADER_LEN_V1].to_vec();
        assert_eq!(
            decode(NAME, short).corrupt(),
            Some("shorter than the header")
        );
    }

    #[test]
    fn the_checksum_catches_another_key_and_any_changed_byte() {
        let other = "0".repeat(64);
        let bytes = encode(NAME, 9, 0, b"payload");
        assert_eq!(
            decode(&other, bytes.clone()).corrupt(),
            Some("checksum does not match")
        );
        for at in HEADER_LEN..bytes.len() {
            let mut flipped = bytes.clone();
            flipped[at] ^= 0x20;
            assert_eq!(
                decode(NAME, flipped).corrupt(),
                Some("checksum does not match"),
                "byte {at}"
            );
        }
        let mut wrong_sum = bytes.clone();
        wrong_sum[24] ^= 1;
        assert_eq!(
            decode(NAME, wrong_sum).corrupt(),
            Some("checksum does not match")
        );
        // Flags, reserved bytes and expiry are outside the checksum (written in place).
        let mut refreshed = bytes;
        refreshed[5..16].copy_from_slice(&[0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8]);
        assert!(matches!(decode(NAME, refreshed), Entry::Valid { .. }));
    }

    #[test]
    fn version_1_files_are_still_read() {
        let mut v1 = b"AFSS\x01\x01\0\0".to_vec();
        v1.extend_from_slice(&42u64.to_le_bytes());
        v1.extend_from_slice(&2u64.to_le_bytes());
        v1.extend_from_slice(b"hi");
        match decode(NAME, v1.clone()) {
            Entry::Valid { header, payload } => {
                assert_eq!(
                    (header.expiry, header.unused, header.checksummed),
                    (42, true, false)
                );
                assert_eq!(header.file_len(), 26);
                assert_eq!(payload, b"hi");
            }
            _ => panic!("not valid"),
        }
        v1.push(0);
        assert_eq!(
            decode(NAME, v1).corrupt(),
            Some("payload length does not match the header")
        );
        // A length near u64::MAX is corrupt, not an overflow.
        let mut huge = encode(NAME, 5, 0, b"x");
        huge[16..24].copy_from_slice(&(u64::MAX - 3).to_le_bytes());
        assert_eq!(
            decode(NAME, huge).corrupt(),
            Some("payload length does not match the header")
        );
    }

    #[test]
    fn slack_is_an_eighth_and_at_least_16() {
        assert_eq!(slack_for(0), 0);
        assert_eq!(slack_for(1), 16);
        assert_eq!(slack_for(500), 62);
        assert_eq!(slack_for(10_000), 1250);
    }

    #[test]
    fn expiry_rounds_up_and_zero_means_never() {
        assert_eq!(expiry_for(Duration::ZERO), 0);
        let e = expiry_for(Duration::from_millis(1500));
        let now = since_epoch();
        assert!(Duration::from_secs(e) >= now + Duration::from_millis(1400));
        assert!(!is_expired(0, now));
        assert!(is_expired(1, now));
    }
}
