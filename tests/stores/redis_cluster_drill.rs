//! Failover drill on Redis Cluster: a 6-node cluster of the test's own (ports
//! 21520-21525, 3 masters + 3 replicas, `cluster-node-timeout` 1000 ms), a load of
//! session writes whose keys all live on the first master (one hash tag), and that
//! master killed (`SIGKILL`) under the load. The cluster client must follow the new
//! topology (the promoted replica, `MOVED`) without a restart, every failed request
//! must be a 503, and the figures (503 window, writes lost) are printed.
#![cfg(feature = "redis-cluster")]

use crate::drill::{Load, ask, eventually, figures};
use crate::support::outage::ChildServer;

use std::process::Command;
use std::time::Duration;

use actix_flask_session::SessionStore;
use actix_flask_session::backends::redis::{RedisOptions, RedisSessionInterface};

const PORTS: [u16; 6] = [21520, 21521, 21522, 21523, 21524, 21525];

async fn node(port: u16, dir: &std::path::Path) -> ChildServer {
    let mut command = Command::new("redis-server");
    command.current_dir(dir).args([
        "--port",
        &port.to_string(),
        "--bind",
        "127.0.0.1",
        "--cluster-enabled",
        "yes",
        "--cluster-config-file",
        &format!("nodes-{port}.conf"),
        "--cluster-node-timeout",
        "1000",
        "--save",
        "",
        "--appendonly",
        "no",
        "--repl-diskless-sync-delay",
        "0",
    ]);
    let mut server = ChildServer::spawn("redis-server", port, command, "install redis-server");
    server
        .wait_ready(Duration::from_secs(20), || async move {
            ask(port, &["PING"]).as_deref() == Some("PONG")
        })
        .await;
    server
}

/// The port of the master that serves `slot`, from `CLUSTER NODES` as node `via` sees it.
fn master_of(slot: u16, via: u16) -> Option<u16> {
    let nodes = ask(via, &["CLUSTER", "NODES"])?;
    nodes.lines().find_map(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.len() < 9 || !fields[2].contains("master") || fields[2].contains("fail") {
            return None;
        }
        let serves = fields[8..].iter().any(|range| {
            let mut ends = range.split('-').filter_map(|n| n.parse::<u16>().ok());
            match (ends.next(), ends.next()) {
                (Some(a), Some(b)) => (a..=b).contains(&slot),
                (Some(a), None) => a == slot,
                _ => false,
            }
        });
        serves.then(|| fields[1].split(['@', ':']).nth(1)?.parse().ok())?
    })
}

#[actix_rt::test]
async fn cluster_master_killed_under_load() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut nodes = Vec::new();
    for port in PORTS {
        nodes.push(node(port, dir.path()).await);
    }
    let mut create = Command::new("redis-cli");
    create.args(["--cluster", "create"]);
    for port in PORTS {
        create.arg(format!("127.0.0.1:{port}"));
    }
    let status = create
        .args(["--cluster-replicas", "1", "--cluster-yes"])
        .stdout(std::process::Stdio::null())
        .status()
        .expect("redis-cli --cluster create");
    assert!(status.success(), "cluster create failed: {status}");
    eventually(
        Duration::from_secs(30),
        "cluster_state:ok with 3 replicas in sync",
        || {
            PORTS.iter().all(|&p| {
                ask(p, &["CLUSTER", "INFO"]).is_some_and(|i| i.contains("cluster_state:ok"))
            }) && PORTS
                .iter()
                .filter(|&&p| {
                    ask(p, &["INFO", "replication"])
                        .is_some_and(|i| i.contains("role:master") && i.contains("state=online"))
                })
                .count()
                == 3
        },
    )
    .await;

    // A hash tag whose slot the node on PORTS[0] serves: every key of the load lives there.
    let (tag, slot) = (0..1000)
        .find_map(|i| {
            let tag = format!("t{i}");
            let slot: u16 = ask(PORTS[0], &["CLUSTER", "KEYSLOT", &format!("{{{tag}}}")])?
                .parse()
                .ok()?;
            (master_of(slot, PORTS[1]) == Some(PORTS[0])).then_some((tag, slot))
        })
        .expect("a tag on the first master");

    let mut options = RedisOptions::default();
    options.pool_size = 2;
    options.connect_timeout = Duration::from_secs(1);
    options.response_timeout = Duration::from_secs(1);
    let urls: Vec<String> = PORTS
        .iter()
        .map(|p| format!("redis://127.0.0.1:{p}"))
        .collect();
    let store = RedisSessionInterface::connect_cluster(&urls[1..], &options)
        .await
        .expect("cluster store");

    let load = Load::start(store.clone(), format!("drill:{{{tag}}}:"));
    load.until(
        Duration::from_secs(20),
        "500 writes before the kill",
        |ops| ops.iter().filter(|o| o.error.is_none()).count() >= 500,
    )
    .await;
    let killed_at = load.start.elapsed();
    nodes[0].kill();

    load.until_recovered(Duration::from_secs(60), "recovery after the failover", 200)
        .await;
    let ops = load.stop().await;
    let promoted = master_of(slot, PORTS[1]).expect("a master for the slot");
    assert_ne!(promoted, PORTS[0]);

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
        "cluster drill (cluster-node-timeout 1000, {} writes in all, slot {slot}): 503 window {:?}, {} writes failed (503), \
         acknowledged in the last second before the kill {} of which lost {}, acknowledged before the kill {} of which lost {}",
        ops.len(),
        figures.unavailable_for,
        figures.failed,
        figures.acked_last_second,
        figures.lost_last_second,
        figures.acked_before_kill,
        figures.lost_before_kill
    );
    let key = format!("drill:{{{tag}}}:after");
    assert!(
        store
            .create(&key, b"x", Duration::from_secs(60))
            .await
            .expect("create")
    );
    assert_eq!(ask(promoted, &["GET", &key]).as_deref(), Some("x"));
}
