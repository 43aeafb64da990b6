//! A MongoDB outage: requests that need the session answer an opaque 503, requests that
//! do not are unaffected, and when the server is back the app recovers by itself (no
//! restart). The test runs its own SecantusDB (the server `scripts/services.sh` installs,
//! from its venv) on a free port, kills it and starts it again.
#![cfg(feature = "mongodb")]

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use actix_flask_session::backends::mongodb::MongoDBSessionInterface;
use actix_flask_session::{ServerSideSession, ServerSideSessionInterface, Session, SessionConfig};
use actix_web::{App, test, web};
use mongodb::bson::doc;

const LAUNCHER: &str = r#"
import signal, sys
from secantus import SecantusDBServer
srv = SecantusDBServer(host="127.0.0.1", port=int(sys.argv[1]), storage_path=":memory:",
                       ttl_sweep_seconds=1.0, cache_size="64M", enable_test_commands=False)
signal.signal(signal.SIGTERM, lambda *_: (srv.stop(), sys.exit(0)))
srv.start(); srv.wait()
"#;

/// A SecantusDB child process on its own port, killed on drop.
struct Mongo {
    port: u16,
    child: Option<Child>,
}

impl Mongo {
    fn python() -> PathBuf {
        let home = std::env::var_os("SVC_HOME")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
                    .join(".cache/actix-flask-session-services")
            });
        home.join("venv-mongo/bin/python")
    }

    async fn start_on(port: u16) -> Self {
        let python = Self::python();
        assert!(
            python.exists(),
            "SecantusDB's venv is missing ({}); run scripts/test.sh",
            python.display()
        );
        let child = Command::new(&python)
            .args(["-c", LAUNCHER, &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start SecantusDB ({e}); run scripts/test.sh"));
        let mut server = Mongo {
            port,
            child: Some(child),
        };
        server.wait_ready().await;
        server
    }

    fn url(&self) -> String {
        format!(
            "mongodb://127.0.0.1:{}/?serverSelectionTimeoutMS=1000&heartbeatFrequencyMS=500",
            self.port
        )
    }

    /// Polls `ping` until the server answers.
    async fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        let client = MongoDBSessionInterface::connect(&self.url())
            .await
            .expect("client");
        loop {
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                panic!("SecantusDB on port {} exited with {status}", self.port);
            }
            if client
                .database("admin")
                .run_command(doc! { "ping": 1 })
                .await
                .is_ok()
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "SecantusDB on port {} never answered ping",
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

impl Drop for Mongo {
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
    let mut server = Mongo::start_on(port).await;
    let client = MongoDBSessionInterface::connect(&server.url())
        .await
        .expect("client");
    let store = MongoDBSessionInterface::new(client, "flask_session", "sessions")
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
    for _ in 0..2 {
        let res = test::call_service(&app, req().uri("/get").to_request()).await;
        assert_eq!(res.status(), 503);
        assert_eq!(res.headers().get("set-cookie"), None);
        assert_eq!(test::read_body(res).await, "Service Unavailable");
        let res =
            test::call_service(&app, test::TestRequest::post().uri("/set").to_request()).await;
        assert_eq!(res.status(), 503);
    }

    // Back (empty, in memory). The driver rediscovers the server by itself; poll until the
    // app answers, with no restart of the app.
    let _server = Mongo::start_on(port).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let res = test::call_service(&app, req().uri("/get").to_request()).await;
        if res.status() == 200 {
            assert_eq!(
                test::read_body(res).await,
                "None",
                "the old session went with the old server"
            );
            break;
        }
        assert_eq!(res.status(), 503);
        assert!(Instant::now() < deadline, "the app never recovered");
    }
    let res = test::call_service(&app, test::TestRequest::post().uri("/set").to_request()).await;
    assert_eq!(res.status(), 200);
    let cookie = session_cookie(&res);
    let req = test::TestRequest::get()
        .insert_header(("cookie", format!("session={cookie}")))
        .uri("/get")
        .to_request();
    assert_eq!(test::call_and_read_body(&app, req).await, "Some(7)");
}
