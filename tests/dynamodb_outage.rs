//! A DynamoDB outage: requests that need the session answer an opaque 503, requests that
//! do not are unaffected, and when the server is back the app recovers by itself (no
//! restart). The test runs its own `moto_server` (from the venv `scripts/services.sh`
//! installs) on a free port, kills it and starts it again. moto keeps nothing across a
//! restart, so the test re-creates the table the way a durable DynamoDB would still have it.
#![cfg(feature = "dynamodb")]

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use actix_flask_session::backends::dynamodb::DynamoDBSessionInterface;
use actix_flask_session::{ServerSideSession, ServerSideSessionInterface, Session, SessionConfig};
use actix_web::{App, test, web};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};

/// A moto_server child process on its own port, killed on drop.
struct Moto {
    port: u16,
    child: Option<Child>,
}

impl Moto {
    fn binary() -> PathBuf {
        let home = std::env::var_os("SVC_HOME")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
                    .join(".cache/actix-flask-session-services")
            });
        home.join("venv-moto/bin/moto_server")
    }

    async fn start_on(port: u16) -> Self {
        let bin = Self::binary();
        assert!(
            bin.exists(),
            "moto's venv is missing ({}); run scripts/test.sh",
            bin.display()
        );
        let child = Command::new(&bin)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start moto_server ({e}); run scripts/test.sh"));
        let mut server = Moto {
            port,
            child: Some(child),
        };
        server.wait_ready().await;
        server
    }

    fn client(&self) -> Client {
        let conf = aws_sdk_dynamodb::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("test", "test", None, None, "static"))
            .endpoint_url(format!("http://127.0.0.1:{}", self.port))
            .build();
        Client::from_conf(conf)
    }

    /// Polls `ListTables` until the server answers.
    async fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        let client = self.client();
        loop {
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                panic!("moto_server on port {} exited with {status}", self.port);
            }
            if client.list_tables().send().await.is_ok() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "moto_server on port {} never answered",
                self.port
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        self.kill();
    }
}

async fn hello() -> &'static str {
    "hello"
}

async fn get(session: ServerSideSession) -> actix_web::Result<String> {
    Ok(format!("{:?}", session.get::<i64>("n")?))
}

async fn set(session: ServerSideSession) -> actix_web::Result<&'static str> {
    session.insert("n", 7)?;
    Ok("set")
}

fn session_cookie(
    res: &actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>,
) -> String {
    res.headers()
        .get_all("set-cookie")
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("session="))
        .and_then(|v| v.split(';').next())
        .map(str::to_owned)
        .expect("a session cookie")
}

#[actix_rt::test]
async fn outage_is_a_503_and_recovers_without_restart() {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let mut server = Moto::start_on(port).await;
    let store = DynamoDBSessionInterface::new(server.client(), "Sessions", false)
        .await
        .expect("store");
    let session = Session::new(
        ServerSideSessionInterface::new(store, SessionConfig::default()).expect("config"),
    );
    let app = test::init_service(
        session.init_app(
            App::new()
                .route("/hello", web::get().to(hello))
                .route("/get", web::get().to(get))
                .route("/set", web::post().to(set)),
        ),
    )
    .await;

    let res = test::call_service(&app, test::TestRequest::post().uri("/set").to_request()).await;
    assert_eq!(res.status(), 200);
    let cookie = session_cookie(&res);
    let req = || test::TestRequest::get().insert_header(("cookie", format!("session={cookie}")));
    assert_eq!(
        test::call_and_read_body(&app, req().uri("/get").to_request()).await,
        "Some(7)"
    );

    server.kill();
    let res = test::call_service(&app, req().uri("/hello").to_request()).await;
    assert_eq!(
        res.status(),
        200,
        "a route without the session does not notice"
    );
    let res = test::call_service(&app, req().uri("/get").to_request()).await;
    assert_eq!(res.status(), 503);
    assert_eq!(res.headers().get("set-cookie"), None);
    assert_eq!(test::read_body(res).await, "Service Unavailable");
    let res = test::call_service(&app, test::TestRequest::post().uri("/set").to_request()).await;
    assert_eq!(res.status(), 503);

    // Back; the table as a durable DynamoDB would still have it. No restart of the app.
    let server = Moto::start_on(port).await;
    DynamoDBSessionInterface::new(server.client(), "Sessions", false)
        .await
        .expect("table again");
    let res = test::call_service(&app, req().uri("/get").to_request()).await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        test::read_body(res).await,
        "None",
        "the old session went with the old server"
    );
    let res = test::call_service(&app, test::TestRequest::post().uri("/set").to_request()).await;
    assert_eq!(res.status(), 200);
    let cookie = session_cookie(&res);
    let req = test::TestRequest::get()
        .insert_header(("cookie", format!("session={cookie}")))
        .uri("/get")
        .to_request();
    assert_eq!(test::call_and_read_body(&app, req).await, "Some(7)");
}
