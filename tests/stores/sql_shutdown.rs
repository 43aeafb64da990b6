//! Stopping an app whose SQL store talks TLS to PostgreSQL (`sslmode=require`) while its
//! pool has connections open and being made must not crash the process: neither actix's
//! graceful shutdown followed by the end of `main`, nor a plain `std::process::exit`.
//!
//! libpq's OpenSSL (and Kerberos) state used to be torn down at exit under r2d2 threads
//! still connecting, a `SIGSEGV` now and then. Each round runs this test binary again as
//! a child ([`shutdown_child`], selected by an environment variable): it starts an app,
//! sends a burst of session requests and stops as soon as the first answer is in, while
//! the others (and the pool's connects) are still running. The child must exit with
//! status 0, never by a signal.
#![cfg(feature = "postgres")]

use crate::sql_support;

use std::process::Command;

use actix_flask_session::backends::sql::{
    Dialect, PoolOptions, SqlAlchemySessionInterface, SqlPool,
};
use actix_flask_session::{ServerSideSession, ServerSideSessionInterface, Session, SessionConfig};
use actix_web::{App, HttpServer, web};
use futures_util::future::select_all;
use sql_support::{Fixture, TEST_DB, pg_server};

/// Set in the child: how it stops (`graceful` or `exit`).
const MODE: &str = "AFS_SHUTDOWN_CHILD";
const URL: &str = "AFS_SHUTDOWN_URL";
const SCHEMA: &str = "AFS_SHUTDOWN_SCHEMA";
/// Rounds per way of stopping.
const ROUNDS: usize = 25;
/// Requests in the burst (more than the pool holds, so connections are being made).
const BURST: usize = 24;

async fn visit(session: ServerSideSession) -> actix_web::Result<&'static str> {
    session.insert("v", 1)?;
    Ok("ok")
}

/// The child: does nothing unless started by [`tls_app_stops_cleanly_many_times`].
#[test]
fn shutdown_child() {
    let Ok(mode) = std::env::var(MODE) else {
        return;
    };
    let url = std::env::var(URL).expect("url");
    let schema = std::env::var(SCHEMA).expect("schema");
    actix_web::rt::System::new().block_on(async move {
        let mut options = PoolOptions::default();
        options.max_size = 8;
        let pool = SqlPool::connect(&url, &options).await.expect("pool");
        let table = actix_flask_session::backends::sql::SqlTable::default()
            .with_schema(&schema)
            .expect("schema");
        let store = SqlAlchemySessionInterface::new(pool, table)
            .await
            .expect("store");
        let session =
            Session::new(ServerSideSessionInterface::new(store, SessionConfig::default()).unwrap());
        let server =
            HttpServer::new(move || session.init_app(App::new().route("/", web::get().to(visit))))
                .workers(2)
                .disable_signals()
                .shutdown_timeout(10)
                .bind(("127.0.0.1", 0))
                .expect("bind");
        let addr = server.addrs()[0];
        let server = server.run();
        let handle = server.handle();
        let running = actix_web::rt::spawn(server);
        let client = reqwest::Client::new();
        let burst = (0..BURST).map(|_| Box::pin(client.get(format!("http://{addr}/")).send()));
        let (first, _, _rest) = select_all(burst).await;
        assert_eq!(first.expect("first answer").status(), 200);
        if mode == "exit" {
            // A plain exit: nothing is dropped, r2d2's threads may be mid-connect.
            std::process::exit(0);
        }
        // Graceful: in-flight requests finish, the app (and the store) are dropped, then
        // the test (and `main`) returns.
        handle.stop(true).await;
        running.await.expect("server task").expect("server");
    });
}

#[actix_rt::test]
async fn tls_app_stops_cleanly_many_times() {
    let fixture = Fixture::new(Dialect::Postgres, "afs_shutdown").await;
    let url = format!("{}/{TEST_DB}?sslmode=require", pg_server());
    // TLS is really on (sslmode=require fails without it).
    SqlPool::connect(&url, &PoolOptions::default())
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL with TLS at {url}: {e}"));
    let schema = fixture.object_name();
    let exe = std::env::current_exe().expect("test binary");
    let mut failures = Vec::new();
    for round in 0..ROUNDS {
        for mode in ["graceful", "exit"] {
            let mut child = Command::new(&exe);
            child
                .args([
                    "--exact",
                    "sql_shutdown::shutdown_child",
                    "--nocapture",
                    "--test-threads=1",
                ])
                .env(MODE, mode)
                .env(URL, &url)
                .env(SCHEMA, &schema);
            let out = tokio::task::spawn_blocking(move || child.output())
                .await
                .expect("task")
                .expect("run the child");
            if !out.status.success() {
                let stderr = String::from_utf8_lossy(&out.stderr);
                let tail: String = stderr.lines().rev().take(5).collect::<Vec<_>>().join(" | ");
                failures.push(format!("round {round} {mode}: {:?}: {tail}", out.status));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} runs did not exit cleanly:\n{}",
        failures.len(),
        2 * ROUNDS,
        failures.join("\n")
    );
}
