//! The filesystem store's sweep with several processes on one directory: one sweep at a
//! time (an exclusive lock on `<dir>/.locks/sweep`, not waited for), the others skip
//! theirs. Each store below stands for one app instance (its own engine on the shared
//! directory); the lock is a `flock`, so it excludes other processes the same way.
#![cfg(feature = "filesystem")]

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use actix_flask_session::SessionStore;
use actix_flask_session::backends::filesystem::FileSystemSessionInterface;

const HOUR: Duration = Duration::from_secs(3600);

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn entries(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir)
        .expect("read dir")
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_str().is_some_and(|n| n.len() == 64))
        .count()
}

/// `expired` entries with a 1 s lifetime and `live` entries for an hour, then waits
/// (without loading them) until the short ones have expired.
async fn fill(store: &FileSystemSessionInterface, expired: usize, live: usize) {
    for i in 0..expired {
        assert!(
            store
                .create(&format!("session:dead-{i}"), b"x", Duration::from_secs(1))
                .await
                .expect("create")
        );
    }
    for i in 0..live {
        assert!(
            store
                .create(&format!("session:live-{i}"), b"y", HOUR)
                .await
                .expect("create")
        );
    }
    let after = unix_now() + 2;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while unix_now() <= after {
        assert!(
            std::time::Instant::now() < deadline,
            "the clock did not move"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[actix_rt::test]
async fn a_held_sweep_lock_skips_the_sweep() {
    let dir = tempfile::tempdir().expect("tempdir");
    let a = FileSystemSessionInterface::new(dir.path(), 0, 0o600).expect("instance a");
    let b = FileSystemSessionInterface::new(dir.path(), 0, 0o600).expect("instance b");
    fill(&a, 3, 1).await;

    // Another process sweeping: it holds the lock.
    let lock = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(dir.path().join(".locks").join("sweep"))
        .or_else(|_| {
            std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(dir.path().join(".locks").join("sweep"))
        })
        .expect("lock file");
    lock.lock().expect("flock");
    assert_eq!(b.delete_expired().await.expect("skipped sweep"), 0);
    assert_eq!(a.delete_expired().await.expect("skipped sweep"), 0);
    assert_eq!(entries(dir.path()), 4);

    lock.unlock().expect("unlock");
    assert_eq!(b.delete_expired().await.expect("sweep"), 3);
    assert_eq!(entries(dir.path()), 1);
    assert_eq!(
        a.load("session:live-0", None).await.expect("load"),
        Some(b"y".to_vec())
    );
}

#[actix_rt::test]
async fn two_concurrent_sweeps_one_runs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let a = FileSystemSessionInterface::new(dir.path(), 0, 0o600).expect("instance a");
    let b = FileSystemSessionInterface::new(dir.path(), 0, 0o600).expect("instance b");
    fill(&a, 300, 2).await;
    let (ra, rb) = tokio::join!(a.delete_expired(), b.delete_expired());
    let mut counts = [ra.expect("sweep a"), rb.expect("sweep b")];
    counts.sort_unstable();
    // One sweep removed all 300; the other found the lock held (or, after it, nothing).
    assert_eq!(counts, [0, 300]);
    assert_eq!(entries(dir.path()), 2);
}
