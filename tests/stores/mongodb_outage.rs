//! A MongoDB outage: requests that need the session answer an opaque 503, requests that
//! do not are unaffected, and when the server is back the app recovers by itself (no
//! restart). The test runs its own SecantusDB (the server `scripts/services.sh` installs,
//! from its venv) on a free port, kills it and starts it again (the scenario is
//! `support::outage`).
#![cfg(feature = "mongodb")]

use crate::support;

use std::process::Command;
use std::time::Duration;

use actix_flask_session::backends::mongodb::MongoDBSessionInterface;
use mongodb::bson::doc;
use support::outage::{ChildServer, Outage, free_port, outage_scenario, service_binary};

const LAUNCHER: &str = r#"
import signal, sys
from secantus import SecantusDBServer
srv = SecantusDBServer(host="127.0.0.1", port=int(sys.argv[1]), storage_path=":memory:",
                       ttl_sweep_seconds=1.0, cache_size="64M", enable_test_commands=False)
signal.signal(signal.SIGTERM, lambda *_: (srv.stop(), sys.exit(0)))
srv.start(); srv.wait()
"#;

/// A SecantusDB child process on its own port (in memory).
struct Mongo(ChildServer);

impl Mongo {
    async fn start_on(port: u16) -> Self {
        let python = service_binary("SecantusDB", "venv-mongo/bin/python");
        let mut command = Command::new(&python);
        command.args(["-c", LAUNCHER, &port.to_string()]);
        let mut server = ChildServer::spawn("SecantusDB", port, command, "run scripts/test.sh");
        // Polls `ping` until the server answers.
        let client = MongoDBSessionInterface::connect(&url(port))
            .await
            .expect("client");
        server
            .wait_ready(Duration::from_secs(60), || async {
                client
                    .database("admin")
                    .run_command(doc! { "ping": 1 })
                    .await
                    .is_ok()
            })
            .await;
        Mongo(server)
    }
}

fn url(port: u16) -> String {
    format!("mongodb://127.0.0.1:{port}/?serverSelectionTimeoutMS=1000&heartbeatFrequencyMS=500")
}

impl Outage for Mongo {
    const ROUNDS: usize = 2;
    /// The driver rediscovers the server by itself: the test polls until the app answers.
    const FIRST_REQUEST_RECOVERS: bool = false;

    fn kill(&mut self) {
        self.0.kill();
    }

    /// Back, empty (in memory).
    async fn restart(&mut self) {
        *self = Self::start_on(self.0.port()).await;
    }
}

#[actix_rt::test]
async fn outage_is_a_503_and_recovers_without_restart() {
    let port = free_port();
    let mut server = Mongo::start_on(port).await;
    let client = MongoDBSessionInterface::connect(&url(port))
        .await
        .expect("client");
    let store = MongoDBSessionInterface::new(client, "flask_session", "sessions")
        .await
        .expect("store");
    outage_scenario(store, &mut server).await;
}
