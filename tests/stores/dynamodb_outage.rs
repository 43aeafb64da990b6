//! A DynamoDB outage: requests that need the session answer an opaque 503, requests that
//! do not are unaffected, and when the server is back the app recovers by itself (no
//! restart). The test runs its own `moto_server` (from the venv `scripts/services.sh`
//! installs) on a free port, kills it and starts it again (the scenario is
//! `support::outage`). moto keeps nothing across a restart, so the test re-creates the
//! table the way a durable DynamoDB would still have it.
#![cfg(feature = "dynamodb")]

use crate::support;

use std::process::Command;
use std::time::Duration;

use actix_flask_session::backends::dynamodb::DynamoDBSessionInterface;
use support::outage::{ChildServer, Outage, free_port, outage_scenario, service_binary};

fn client(port: u16) -> aws_sdk_dynamodb::Client {
    support::raw::dynamodb::client(&format!("http://127.0.0.1:{port}"))
}

/// A moto_server child process on its own port.
struct Moto(ChildServer);

impl Moto {
    async fn start_on(port: u16) -> Self {
        let bin = service_binary("moto", "venv-moto/bin/moto_server");
        let mut command = Command::new(&bin);
        command.args(["-H", "127.0.0.1", "-p", &port.to_string()]);
        let mut server = ChildServer::spawn("moto_server", port, command, "run scripts/test.sh");
        // Polls `ListTables` until the server answers.
        let client = client(port);
        server
            .wait_ready(Duration::from_secs(60), || async {
                client.list_tables().send().await.is_ok()
            })
            .await;
        Moto(server)
    }
}

impl Outage for Moto {
    const ROUNDS: usize = 1;
    const FIRST_REQUEST_RECOVERS: bool = true;

    fn kill(&mut self) {
        self.0.kill();
    }

    /// Back, with the table as a durable DynamoDB would still have it.
    async fn restart(&mut self) {
        let port = self.0.port();
        *self = Self::start_on(port).await;
        DynamoDBSessionInterface::new(client(port), "Sessions", false)
            .await
            .expect("table again");
    }
}

#[actix_rt::test]
async fn outage_is_a_503_and_recovers_without_restart() {
    let port = free_port();
    let mut server = Moto::start_on(port).await;
    let store = DynamoDBSessionInterface::new(client(port), "Sessions", false)
        .await
        .expect("store");
    outage_scenario(store, &mut server).await;
}
