//! Restart drill on PostgreSQL: a server of the test's own (`initdb` + `pg_ctl` on port
//! 21530), a store with a pool of connections, a load of session writes, and the server
//! stopped with `pg_ctl stop -m immediate` (a crash: no clean shutdown) and started again
//! under the load. The pool must recover by itself (dead connections replaced), every
//! failed request must be a 503, and no acknowledged write may be lost (a commit is on
//! disk before it is acknowledged). The figures are printed.
#![cfg(feature = "postgres")]

use crate::drill::{Load, figures};

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use actix_flask_session::SessionStore;
use actix_flask_session::backends::sql::{
    PoolOptions, SqlAlchemySessionInterface, SqlPool, SqlTable, migrate,
};

const PORT: u16 = 21530;

/// The newest PostgreSQL's `bin` directory (Debian layout), or `PG_BIN`.
fn pg_bin() -> PathBuf {
    if let Some(dir) = std::env::var_os("PG_BIN") {
        return PathBuf::from(dir);
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    versions.sort();
    versions.pop().map(|v| v.join("bin")).expect(
        "PostgreSQL server binaries (/usr/lib/postgresql/<v>/bin or PG_BIN); run scripts/test.sh",
    )
}

/// Runs a server binary, as the `postgres` user when the test runs as root (PostgreSQL
/// refuses to run as root).
fn pg(tool: &str, args: &[&str]) -> std::process::ExitStatus {
    let path = pg_bin().join(tool);
    let as_root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0"));
    let mut command = if as_root {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(&path);
        c
    } else {
        Command::new(&path)
    };
    command
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

struct Server {
    data: PathBuf,
    _dir: tempfile::TempDir,
}

impl Server {
    fn init() -> Server {
        let dir = tempfile::tempdir().expect("tempdir");
        let data = dir.path().join("data");
        std::fs::create_dir(&data).expect("data dir");
        // The postgres user must own the directory when the test runs as root.
        let _ = Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(dir.path())
            .status();
        let data_s = data.to_str().expect("utf-8 path");
        let status = pg(
            "initdb",
            &["-D", data_s, "-U", "root", "--auth=trust", "--no-sync"],
        );
        assert!(status.success(), "initdb failed: {status}");
        let server = Server { data, _dir: dir };
        server.start();
        server
    }

    fn data(&self) -> &str {
        self.data.to_str().expect("utf-8 path")
    }

    fn start(&self) {
        let options = format!(
            "-p {PORT} -c listen_addresses=127.0.0.1 -k {}",
            Path::new(self.data()).display()
        );
        let status = pg(
            "pg_ctl",
            &["start", "-w", "-t", "60", "-D", self.data(), "-o", &options],
        );
        assert!(status.success(), "pg_ctl start failed: {status}");
    }

    fn crash(&self) {
        let status = pg(
            "pg_ctl",
            &["stop", "-m", "immediate", "-w", "-D", self.data()],
        );
        assert!(status.success(), "pg_ctl stop failed: {status}");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = pg("pg_ctl", &["stop", "-m", "immediate", "-D", self.data()]);
    }
}

#[actix_rt::test]
async fn postgres_restarted_under_load() {
    let server = tokio::task::spawn_blocking(Server::init)
        .await
        .expect("initdb");
    let mut options = PoolOptions::default();
    options.max_size = 4;
    options.timeout = Duration::from_secs(1);
    let pool = SqlPool::connect(
        &format!("postgres://root@127.0.0.1:{PORT}/postgres"),
        &options,
    )
    .await
    .expect("pool on the drill server");
    let table = SqlTable::new("drill_sessions").expect("table");
    migrate::migrate(&pool, &table).await.expect("migrate");
    let store = SqlAlchemySessionInterface::new(pool, table)
        .await
        .expect("store");

    let load = Load::start(store.clone(), "drill:pg:".to_owned());
    load.until(
        Duration::from_secs(30),
        "300 writes before the restart",
        |ops| ops.iter().filter(|o| o.error.is_none()).count() >= 300,
    )
    .await;
    let killed_at = load.start.elapsed();
    let server = tokio::task::spawn_blocking(move || {
        server.crash();
        server
    })
    .await
    .expect("crash");
    // Requests fail while it is down (polled, so the failure is seen before the restart).
    load.until(
        Duration::from_secs(30),
        "a failure while PostgreSQL is down",
        |ops| ops.iter().any(|o| o.error.is_some()),
    )
    .await;
    let restarted_at = load.start.elapsed();
    let server = tokio::task::spawn_blocking(move || {
        server.start();
        server
    })
    .await
    .expect("restart");
    load.until_recovered(Duration::from_secs(60), "recovery after the restart", 200)
        .await;
    let ops = load.stop().await;
    let figures = figures(&ops, killed_at, |key| {
        let store = store.clone();
        async move {
            store
                .load(&key, None)
                .await
                .expect("load after recovery")
                .is_some()
        }
    })
    .await;
    println!(
        "postgres drill (pg_ctl stop -m immediate, restarted {:?} later, {} writes in all): 503 window {:?} \
         (of which the server was down {:?}), {} writes failed (503), acknowledged in the last second before the \
         crash {} of which lost {}, acknowledged before the crash {} of which lost {}",
        restarted_at.saturating_sub(killed_at),
        ops.len(),
        figures.unavailable_for,
        restarted_at.saturating_sub(killed_at),
        figures.failed,
        figures.acked_last_second,
        figures.lost_last_second,
        figures.acked_before_kill,
        figures.lost_before_kill
    );
    assert_eq!(figures.lost_before_kill, 0, "a committed session was lost");
    assert!(
        store
            .create("drill:pg:after", b"x", Duration::from_secs(60))
            .await
            .expect("create")
    );
    assert_eq!(
        store.load("drill:pg:after", None).await.expect("load"),
        Some(b"x".to_vec())
    );
    drop(server);
}
