//! A Redis outage: requests that need the session get an opaque 503 and the cause is
//! logged; requests that do not touch the session are unaffected; when Redis comes back
//! the app recovers by itself. The test runs its own `redis-server` on a free port, kills
//! it and starts it again (the scenario is `support::outage`). A slow Redis (frozen with
//! `CLIENT PAUSE`) is waited for up to `SESSION_REDIS_RESPONSE_TIMEOUT`, and no longer.
#![cfg(feature = "redis")]

use crate::support;

use std::io::Write;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_flask_session::backends::redis::deadpool_redis::redis;
use actix_flask_session::backends::redis::{RedisOptions, RedisSessionInterface};
use actix_flask_session::{SessionStore, StoreError};
use support::outage::{ChildServer, Outage, free_port, outage_scenario};

/// A `redis-server` on its own port (nothing on disk), and the logs of the test.
struct RedisServer {
    server: ChildServer,
    logs: Logs,
}

impl RedisServer {
    async fn start_on(port: u16) -> ChildServer {
        let mut command = Command::new("redis-server");
        command.args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--daemonize",
            "no",
        ]);
        let mut server = ChildServer::spawn(
            "redis-server",
            port,
            command,
            "install it or run scripts/test.sh",
        );
        let client = redis::Client::open(url(port)).expect("valid url");
        // Polls `PING` until the server answers.
        server
            .wait_ready(Duration::from_secs(20), || {
                let pong: Option<String> = client
                    .get_connection_with_timeout(Duration::from_millis(200))
                    .ok()
                    .and_then(|mut c| redis::cmd("PING").query(&mut c).ok());
                async move { pong.as_deref() == Some("PONG") }
            })
            .await;
        server
    }
}

fn url(port: u16) -> String {
    format!("redis://127.0.0.1:{port}")
}

impl Outage for RedisServer {
    const ROUNDS: usize = 3;
    const FIRST_REQUEST_RECOVERS: bool = true;

    fn kill(&mut self) {
        self.server.kill();
    }

    /// Back, empty: the test server keeps nothing on disk.
    async fn restart(&mut self) {
        self.server = Self::start_on(self.server.port()).await;
    }

    /// The cause of the 503s is logged.
    fn check_down(&self) {
        let logged = self.logs.text();
        assert!(
            logged.contains("the redis session store is unavailable"),
            "{logged}"
        );
        assert!(
            logged.to_lowercase().contains("connection refused"),
            "{logged}"
        );
    }
}

/// Collects the log output of the current thread.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl Logs {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("log buffer")).into_owned()
    }
}

impl Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log buffer").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[actix_rt::test]
async fn outage_is_a_503_for_session_routes_only_and_recovers() {
    let logs = Logs::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::DEBUG)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let port = free_port();
    let mut server = RedisServer {
        server: RedisServer::start_on(port).await,
        logs,
    };
    let mut options = RedisOptions::default();
    options.pool_size = 1;
    options.connect_timeout = Duration::from_secs(2);
    let store = RedisSessionInterface::connect(&url(port), &options)
        .await
        .expect("store");
    outage_scenario(store, &mut server).await;
}

/// Freezes the server for `millis` ms: every client's commands wait until then.
fn pause(port: u16, millis: u64) {
    let client = redis::Client::open(url(port)).expect("valid url");
    let mut conn = client.get_connection().expect("connect");
    let ok: String = redis::cmd("CLIENT")
        .arg("PAUSE")
        .arg(millis)
        .arg("ALL")
        .query(&mut conn)
        .expect("CLIENT PAUSE");
    assert_eq!(ok, "OK");
}

/// A private Redis holding `key`, reached by a store with `response_timeout`, then frozen
/// for `pause_ms` (the server is returned so that it lives as long as the test).
async fn frozen_store(
    response_timeout: Duration,
    key: &str,
    pause_ms: u64,
) -> (ChildServer, RedisSessionInterface) {
    let server = RedisServer::start_on(free_port()).await;
    let mut options = RedisOptions::default();
    options.pool_size = 1;
    options.response_timeout = response_timeout;
    let store = RedisSessionInterface::connect(&url(server.port()), &options)
        .await
        .expect("store");
    assert!(store.create(key, b"\x80", TTL).await.expect("create"));
    pause(server.port(), pause_ms);
    (server, store)
}

const TTL: Duration = Duration::from_secs(60);

/// A command that takes longer than the client library's own default (500 ms) but less
/// than SESSION_REDIS_RESPONSE_TIMEOUT succeeds: the configured limit is the one applied.
#[actix_rt::test]
async fn a_slow_answer_within_the_response_timeout_succeeds() {
    let (_server, store) = frozen_store(Duration::from_secs(10), "session:slow", 1500).await;
    let loaded = store.load("session:slow", Some(TTL)).await.expect("load");
    assert_eq!(loaded.as_deref(), Some(&b"\x80"[..]));
}

/// A command that takes longer than SESSION_REDIS_RESPONSE_TIMEOUT is an outage (a 503
/// for the request); once Redis answers again, so does the store, without a restart.
#[actix_rt::test]
async fn a_frozen_redis_is_unavailable_after_the_response_timeout_then_recovers() {
    let (_server, store) = frozen_store(Duration::from_millis(200), "session:frozen", 5000).await;
    let err = store
        .load("session:frozen", Some(TTL))
        .await
        .expect_err("Redis is paused for longer than the response timeout");
    assert!(matches!(err, StoreError::Unavailable { .. }), "{err:?}");
    let cause = std::error::Error::source(&err).map(ToString::to_string);
    assert!(
        cause
            .as_deref()
            .is_some_and(|c| c.to_lowercase().contains("timed out")),
        "{cause:?}"
    );
    // Polls until the pause is over (at most its 5 s, plus slack).
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        match store.load("session:frozen", Some(TTL)).await {
            Ok(loaded) => {
                assert_eq!(loaded.as_deref(), Some(&b"\x80"[..]));
                break;
            }
            Err(StoreError::Unavailable { .. }) => {
                assert!(std::time::Instant::now() < deadline, "never recovered");
            }
            Err(other) => panic!("{other:?}"),
        }
    }
}
