//! A Redis outage: requests that need the session get an opaque 503 and the cause is
//! logged; requests that do not touch the session are unaffected; when Redis comes back
//! the app recovers by itself. The test runs its own `redis-server` on a free port, kills
//! it and starts it again.
#![cfg(feature = "redis")]

use std::io::Write;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_flask_session::backends::redis::deadpool_redis::redis;
use actix_flask_session::backends::redis::{RedisOptions, RedisSessionInterface};
use actix_flask_session::{ServerSideSession, ServerSideSessionInterface, Session, SessionConfig};
use actix_web::{App, HttpResponse, test, web};

/// A `redis-server` child process on its own port, killed on drop.
struct RedisServer {
    port: u16,
    child: Option<Child>,
}

impl RedisServer {
    fn start_on(port: u16) -> Self {
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .args(["--daemonize", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start redis-server ({e}); install it or run scripts/test.sh")
            });
        let mut server = RedisServer {
            port,
            child: Some(child),
        };
        server.wait_ready();
        server
    }

    fn start() -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        Self::start_on(port)
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Polls `PING` until the server answers.
    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        let client = redis::Client::open(self.url()).expect("valid url");
        loop {
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                panic!("redis-server on port {} exited with {status}", self.port);
            }
            let pong: Option<String> = client
                .get_connection_with_timeout(Duration::from_millis(200))
                .ok()
                .and_then(|mut c| redis::cmd("PING").query(&mut c).ok());
            if pong.as_deref() == Some("PONG") {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "redis-server on port {} never answered PING",
                self.port
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
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
async fn outage_is_a_503_for_session_routes_only_and_recovers() {
    let logs = Logs::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::DEBUG)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let mut server = RedisServer::start();
    let mut options = RedisOptions::default();
    options.pool_size = 1;
    options.connect_timeout = Duration::from_secs(2);
    let store = RedisSessionInterface::connect(&server.url(), &options)
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
                .route("/set", web::post().to(set))
                .default_service(web::to(HttpResponse::NotFound)),
        ),
    )
    .await;

    // Up: a session is made and read back.
    let res = test::call_service(&app, test::TestRequest::post().uri("/set").to_request()).await;
    assert_eq!(res.status(), 200);
    let cookie = session_cookie(&res);
    let req = || test::TestRequest::get().insert_header(("cookie", format!("session={cookie}")));
    let body = test::call_and_read_body(&app, req().uri("/get").to_request()).await;
    assert_eq!(body, "Some(7)");

    // Down.
    server.kill();
    let res = test::call_service(&app, req().uri("/hello").to_request()).await;
    assert_eq!(
        res.status(),
        200,
        "a route without the session must not notice the outage"
    );
    assert_eq!(res.headers().get("set-cookie"), None);
    assert_eq!(test::read_body(res).await, "hello");

    for _ in 0..3 {
        let res = test::call_service(&app, req().uri("/get").to_request()).await;
        assert_eq!(res.status(), 503);
        assert_eq!(res.headers().get("set-cookie"), None);
        assert_eq!(test::read_body(res).await, "Service Unavailable");
        let res =
            test::call_service(&app, test::TestRequest::post().uri("/set").to_request()).await;
        assert_eq!(res.status(), 503);
        assert_eq!(test::read_body(res).await, "Service Unavailable");
    }
    let logged = logs.text();
    assert!(
        logged.contains("the redis session store is unavailable"),
        "{logged}"
    );
    assert!(
        logged.to_lowercase().contains("connection refused"),
        "{logged}"
    );

    // Back (empty: the test server keeps nothing on disk). No restart of the app.
    let _server = RedisServer::start_on(server.port);
    let res = test::call_service(&app, req().uri("/get").to_request()).await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        test::read_body(res).await,
        "None",
        "the old session is gone with the old server"
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
