//! A memcached outage: requests that need the session answer an opaque 503, requests that
//! do not are unaffected, and when memcached is back the app recovers by itself (no
//! restart). The test runs its own `memcached` on a free port, kills it and starts it again
//! (the scenario is `support::outage`).
#![cfg(feature = "memcached")]

use crate::support;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::Duration;

use actix_flask_session::SessionConfig;
use actix_flask_session::backends::memcached::MemcachedSessionInterface;
use support::outage::{ChildServer, Outage, free_port, outage_scenario};

/// A `memcached` child process on its own port.
struct Memcached(ChildServer);

impl Memcached {
    async fn start_on(port: u16) -> Self {
        let mut command = Command::new("memcached");
        command.args([
            "-l",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "-U",
            "0",
            "-m",
            "16",
            "-u",
            "root",
        ]);
        let mut server = ChildServer::spawn(
            "memcached",
            port,
            command,
            "install it with scripts/test.sh",
        );
        // Polls `version` until the server answers.
        server
            .wait_ready(Duration::from_secs(20), || {
                let answered = TcpStream::connect(addr(port)).ok().and_then(|mut s| {
                    s.set_read_timeout(Some(Duration::from_secs(1))).ok()?;
                    s.write_all(b"version\r\n").ok()?;
                    let mut line = String::new();
                    BufReader::new(s).read_line(&mut line).ok()?;
                    Some(line.starts_with("VERSION"))
                });
                async move { answered == Some(true) }
            })
            .await;
        Memcached(server)
    }
}

fn addr(port: u16) -> String {
    format!("127.0.0.1:{port}")
}

impl Outage for Memcached {
    const ROUNDS: usize = 3;
    /// No restart, no stale connection.
    const FIRST_REQUEST_RECOVERS: bool = true;

    fn kill(&mut self) {
        self.0.kill();
    }

    /// Back, empty.
    async fn restart(&mut self) {
        *self = Self::start_on(self.0.port()).await;
    }
}

#[actix_rt::test]
async fn outage_is_a_503_and_recovers_without_restart() {
    let port = free_port();
    let mut server = Memcached::start_on(port).await;
    let store = MemcachedSessionInterface::new(&[addr(port)], Some(2)).expect("store");
    outage_scenario(store, &mut server).await;
}

#[actix_rt::test]
async fn startup_without_a_server_is_a_config_error() {
    let figment = figment::Figment::from(figment::providers::Serialized::default(
        "SESSION_MEMCACHED",
        addr(free_port()),
    ));
    let err = MemcachedSessionInterface::from_figment(&SessionConfig::default(), &figment)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            actix_flask_session::ConfigError::Backend {
                backend: "memcached",
                ..
            }
        ),
        "{err}"
    );
}
