//! Failover drill on Redis Sentinel: a master (port 21500), two replicas (21501, 21502)
//! and three sentinels (21510-21512) of the test's own, a store connected through the
//! sentinels, a load of session writes, and the master killed (`SIGKILL`) under it. The
//! store must come back by itself on the promoted replica (no restart), every failed
//! request must be a 503, and the figures (503 window, writes lost) are printed.
#![cfg(feature = "redis-sentinel")]

use crate::drill::{Load, ask, eventually, figures};
use crate::support::outage::ChildServer;

use std::process::Command;
use std::time::Duration;

use actix_flask_session::SessionStore;
use actix_flask_session::backends::redis::{RedisOptions, RedisSentinel, RedisSessionInterface};

const MASTER: u16 = 21500;
const REPLICAS: [u16; 2] = [21501, 21502];
const SENTINELS: [u16; 3] = [21510, 21511, 21512];
const GROUP: &str = "drill";

/// A data node, working in `dir`: a replica's full sync writes the master's snapshot to
/// its working directory, which must not be the repository.
async fn data_node(port: u16, replica_of: Option<u16>, dir: &std::path::Path) -> ChildServer {
    let mut command = Command::new("redis-server");
    command.current_dir(dir).args([
        "--port",
        &port.to_string(),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
    ]);
    if let Some(master) = replica_of {
        command.args(["--replicaof", "127.0.0.1", &master.to_string()]);
    }
    let mut server = ChildServer::spawn("redis-server", port, command, "install redis-server");
    server
        .wait_ready(Duration::from_secs(20), || async move {
            ask(port, &["PING"]).as_deref() == Some("PONG")
        })
        .await;
    server
}

async fn sentinel(port: u16, dir: &std::path::Path) -> ChildServer {
    let conf = dir.join(format!("sentinel-{port}.conf"));
    std::fs::write(
        &conf,
        format!(
            "port {port}\nbind 127.0.0.1\ndir {}\n\
             sentinel monitor {GROUP} 127.0.0.1 {MASTER} 2\n\
             sentinel down-after-milliseconds {GROUP} 1000\n\
             sentinel failover-timeout {GROUP} 5000\n\
             sentinel parallel-syncs {GROUP} 1\n",
            dir.display()
        ),
    )
    .expect("sentinel.conf");
    let mut command = Command::new("redis-server");
    command.arg(&conf).arg("--sentinel");
    let mut server = ChildServer::spawn("redis-sentinel", port, command, "install redis-server");
    server
        .wait_ready(Duration::from_secs(20), || async move {
            ask(port, &["PING"]).as_deref() == Some("PONG")
        })
        .await;
    server
}

fn master_port() -> Option<u16> {
    let addr = ask(
        SENTINELS[0],
        &["SENTINEL", "get-master-addr-by-name", GROUP],
    )?;
    addr.split_whitespace().nth(1)?.parse().ok()
}

#[actix_rt::test]
async fn sentinel_master_killed_under_load() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut master = data_node(MASTER, None, dir.path()).await;
    let _replicas = [
        data_node(REPLICAS[0], Some(MASTER), dir.path()).await,
        data_node(REPLICAS[1], Some(MASTER), dir.path()).await,
    ];
    let _sentinels = [
        sentinel(SENTINELS[0], dir.path()).await,
        sentinel(SENTINELS[1], dir.path()).await,
        sentinel(SENTINELS[2], dir.path()).await,
    ];
    eventually(
        Duration::from_secs(30),
        "replicas in sync and a sentinel quorum",
        || {
            ask(MASTER, &["INFO", "replication"])
                .is_some_and(|i| i.matches("state=online").count() == 2)
                && SENTINELS.iter().all(|&p| {
                    ask(p, &["SENTINEL", "ckquorum", GROUP])
                        .is_some_and(|r| r.starts_with("OK 3 usable"))
                })
        },
    )
    .await;

    let mut options = RedisOptions::default();
    options.pool_size = 2;
    options.connect_timeout = Duration::from_secs(1);
    options.response_timeout = Duration::from_secs(1);
    let nodes = SENTINELS
        .iter()
        .map(|p| format!("redis://127.0.0.1:{p}"))
        .collect();
    let store =
        RedisSessionInterface::connect_sentinel(&RedisSentinel::new(GROUP, nodes), &options)
            .await
            .expect("store through the sentinels");

    let load = Load::start(store.clone(), "drill:sentinel:".to_owned());
    load.until(
        Duration::from_secs(20),
        "500 writes before the kill",
        |ops| ops.iter().filter(|o| o.error.is_none()).count() >= 500,
    )
    .await;
    let killed_at = load.start.elapsed();
    master.kill();

    // Recovery without a restart: writes succeed again on the promoted replica.
    load.until(
        Duration::from_secs(60),
        "recovery after the failover",
        |ops| {
            let first_failure = ops
                .iter()
                .filter(|o| o.error.is_some())
                .map(|o| o.started)
                .min();
            first_failure.is_some_and(|f| {
                ops.iter()
                    .filter(|o| o.error.is_none() && o.started > f)
                    .count()
                    >= 200
            })
        },
    )
    .await;
    let ops = load.stop().await;
    let promoted = master_port().expect("the sentinels name a master");
    assert!(REPLICAS.contains(&promoted), "promoted {promoted}");

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
        "sentinel drill (down-after-milliseconds 1000, {} writes in all): 503 window {:?}, {} writes failed (503), \
         acknowledged in the last second before the kill {} of which lost {}, acknowledged before the kill {} of which lost {}",
        ops.len(),
        figures.unavailable_for,
        figures.failed,
        figures.acked_last_second,
        figures.lost_last_second,
        figures.acked_before_kill,
        figures.lost_before_kill
    );

    // The same store keeps working on the new master.
    assert!(
        store
            .create("drill:sentinel:after", b"x", Duration::from_secs(60))
            .await
            .expect("create")
    );
    assert_eq!(
        ask(promoted, &["GET", "drill:sentinel:after"]).as_deref(),
        Some("x")
    );
}
