//! A flood of new sessions against the stores with a threshold (`filesystem`,
//! cachelib's `FileSystemCache` and `SimpleCache`): the number of entries, sampled all
//! through the flood by a thread of its own, stays within the threshold plus the
//! documented slack per process, and the sessions in use (read back before the flood)
//! survive it.
#![cfg(all(feature = "filesystem", feature = "cachelib"))]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use actix_flask_session::{
    CacheLibSessionInterface, FileSystemCache, FileSystemSessionInterface, SessionStore,
    SimpleCache,
};
use futures_util::future::join_all;

const THRESHOLD: usize = 100;
const REAL: usize = 50;
const FLOOD: usize = 2_000;
/// Creates in flight at once (each runs on tokio's blocking pool).
const CONCURRENCY: usize = 32;
const LIFETIME: Duration = Duration::from_secs(3600);

fn key(kind: &str, i: usize) -> String {
    format!("session:{kind}-{i:05}")
}

/// The number of entry files (64 hex characters) in `dir`.
fn entry_files(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter(|e| {
                    e.file_name()
                        .to_str()
                        .is_some_and(|n| n.len() == 64 && n.bytes().all(|b| b.is_ascii_hexdigit()))
                })
                .count()
        })
        .unwrap_or(0)
}

/// Samples `count` in a loop on its own thread until the flood ends; returns the highest
/// value seen and the number of samples.
struct Sampler {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<(usize, usize)>,
}

impl Sampler {
    fn start(count: impl Fn() -> usize + Send + 'static) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            let (mut max, mut samples) = (0, 0);
            while !flag.load(Ordering::Acquire) {
                max = max.max(count());
                samples += 1;
            }
            (max.max(count()), samples + 1)
        });
        Sampler { stop, thread }
    }

    fn finish(self) -> (usize, usize) {
        self.stop.store(true, Ordering::Release);
        self.thread.join().expect("sampler")
    }
}

/// Stores `REAL` sessions and reads each back (half with a refresh, half without, as
/// requests do with and without `SESSION_REFRESH_EACH_REQUEST`); then floods the stores
/// (round robin: several "processes" on one directory) with `FLOOD` new sessions, never
/// read back. Returns the largest entry count sampled during the flood.
async fn flood(
    stores: &[Arc<dyn SessionStore>],
    count: impl Fn() -> usize + Send + 'static,
) -> usize {
    for i in 0..REAL {
        let store = &stores[i % stores.len()];
        assert!(
            store
                .create(&key("real", i), b"\x80", LIFETIME)
                .await
                .unwrap()
        );
        let refresh = (i % 2 == 0).then_some(LIFETIME);
        assert!(
            store
                .load(&key("real", i), refresh)
                .await
                .unwrap()
                .is_some()
        );
    }
    let sampler = Sampler::start(count);
    let started = std::time::Instant::now();
    let next = AtomicUsize::new(0);
    let worker = |w: usize| {
        let next = &next;
        async move {
            let store = &stores[w % stores.len()];
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= FLOOD {
                    break;
                }
                assert!(
                    store
                        .create(&key("flood", i), b"\x80", LIFETIME)
                        .await
                        .unwrap()
                );
            }
        }
    };
    join_all((0..CONCURRENCY).map(worker)).await;
    let elapsed = started.elapsed();
    let (max, samples) = sampler.finish();
    println!("{FLOOD} creates in {elapsed:?}; {samples} samples of the count");
    assert!(samples > 1, "the sampler ran during the flood");
    // Every session in use survived.
    for i in 0..REAL {
        let store = &stores[i % stores.len()];
        assert!(
            store.load(&key("real", i), None).await.unwrap().is_some(),
            "real session {i} was evicted by the flood"
        );
    }
    max
}

fn dir() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("sessions");
    (tmp, path)
}

#[actix_rt::test]
async fn filesystem_flood_stays_within_threshold_plus_slack() {
    let (_tmp, path) = dir();
    let store = FileSystemSessionInterface::new(&path, THRESHOLD, 0o600).unwrap();
    let slack = store.slack();
    assert_eq!(slack, 16);
    let counted = path.clone();
    let max = flood(&[Arc::new(store)], move || entry_files(&counted)).await;
    println!("filesystem: threshold {THRESHOLD}, slack {slack}, max files during the flood {max}");
    assert!(
        max <= THRESHOLD + slack,
        "{max} files > {THRESHOLD} + {slack}"
    );
    assert!(entry_files(&path) <= THRESHOLD + slack);
}

/// Two stores on one directory count as two processes: each may add its slack.
#[actix_rt::test]
async fn filesystem_flood_from_two_processes_stays_within_threshold_plus_two_slacks() {
    let (_tmp, path) = dir();
    let a = FileSystemSessionInterface::new(&path, THRESHOLD, 0o600).unwrap();
    let b = FileSystemSessionInterface::new(&path, THRESHOLD, 0o600).unwrap();
    let slack = a.slack();
    let counted = path.clone();
    let max = flood(&[Arc::new(a), Arc::new(b)], move || entry_files(&counted)).await;
    println!(
        "filesystem x2: threshold {THRESHOLD}, slack {slack}, max files during the flood {max}"
    );
    assert!(
        max <= THRESHOLD + 2 * slack,
        "{max} files > {THRESHOLD} + 2 × {slack}"
    );
}

#[actix_rt::test]
async fn cachelib_filesystem_cache_flood_stays_within_threshold_plus_slack() {
    let (_tmp, path) = dir();
    let cache = FileSystemCache::new(&path, THRESHOLD, 0o600).unwrap();
    let slack = cache.slack();
    let counted = path.clone();
    let max = flood(
        &[Arc::new(CacheLibSessionInterface::new(cache))],
        move || entry_files(&counted),
    )
    .await;
    println!(
        "FileSystemCache: threshold {THRESHOLD}, slack {slack}, max files during the flood {max}"
    );
    assert!(
        max <= THRESHOLD + slack,
        "{max} files > {THRESHOLD} + {slack}"
    );
}

/// `SimpleCache` keeps its threshold exactly (pruning happens under its lock).
#[actix_rt::test]
async fn simple_cache_flood_stays_within_threshold() {
    let store = Arc::new(CacheLibSessionInterface::new(SimpleCache::new(THRESHOLD)));
    let sampled = Arc::clone(&store);
    let max = flood(&[store], move || sampled.cache().len()).await;
    println!("SimpleCache: threshold {THRESHOLD}, max entries during the flood {max}");
    assert!(max <= THRESHOLD, "{max} entries > {THRESHOLD}");
}

/// A directory left over the threshold (here by a store without one) is brought back
/// under it by the first create of a store that has one.
#[actix_rt::test]
async fn a_directory_over_the_threshold_is_pruned_by_the_first_create() {
    let (_tmp, path) = dir();
    let unbounded = FileSystemSessionInterface::new(&path, 0, 0o600).unwrap();
    for i in 0..3 * THRESHOLD {
        assert!(
            unbounded
                .create(&key("old", i), b"\x80", LIFETIME)
                .await
                .unwrap()
        );
    }
    assert_eq!(entry_files(&path), 3 * THRESHOLD);
    let bounded = FileSystemSessionInterface::new(&path, THRESHOLD, 0o600).unwrap();
    assert!(
        bounded
            .create(&key("new", 0), b"\x80", LIFETIME)
            .await
            .unwrap()
    );
    assert_eq!(entry_files(&path), THRESHOLD + 1);
}
