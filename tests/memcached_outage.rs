//! A memcached outage: requests that need the session answer an opaque 503, requests that
//! do not are unaffected, and when memcached is back the app recovers by itself (no
//! restart). The test runs its own `memcached` on a free port, kills it and starts it again.
#![cfg(feature = "memcached")]

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use actix_flask_session::backends::memcached::MemcachedSessionInterface;
use actix_flask_session::{ServerSideSession, ServerSideSessionInterface, Session, SessionConfig};
use actix_web::{App, test, web};

/// A `memcached` child process on its own port, killed on drop.
struct Memcached {
    port: u16,
    child: Option<Child>,
}

impl Memcached {
    fn start_on(port: u16) -> Self {
        let child = Command::new("memcached")
            .args([
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
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start memcached ({e}); install it with scripts/test.sh")
            });
        let mut server = Memcached {
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

    fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Polls `version` until the server answers.
    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                panic!("memcached on port {} exited with {status}", self.port);
            }
            let answered = TcpStream::connect(self.addr()).ok().and_then(|mut s| {
                s.set_read_timeout(Some(Duration::from_secs(1))).ok()?;
                s.write_all(b"version\r\n").ok()?;
                let mut line = String::new();
                BufReader::new(s).read_line(&mut line).ok()?;
                Some(line.starts_with("VERSION"))
            });
            if answered == Some(true) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "memcached on port {} never answered",
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

impl Drop for Memcached {
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
    let mut server = Memcached::start();
    let store = MemcachedSessionInterface::new(&[server.addr()], Some(2)).expect("store");
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

    // Down: the pooled connections are dead, new ones are refused.
    server.kill();
    let res = test::call_service(&app, req().uri("/hello").to_request()).await;
    assert_eq!(
        res.status(),
        200,
        "a route without the session does not notice"
    );
    for _ in 0..3 {
        let res = test::call_service(&app, req().uri("/get").to_request()).await;
        assert_eq!(res.status(), 503);
        assert_eq!(res.headers().get("set-cookie"), None);
        assert_eq!(test::read_body(res).await, "Service Unavailable");
        let res =
            test::call_service(&app, test::TestRequest::post().uri("/set").to_request()).await;
        assert_eq!(res.status(), 503);
    }

    // Back (empty). The very first request succeeds: no restart, no stale connection.
    let _server = Memcached::start_on(server.port);
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

#[actix_rt::test]
async fn startup_without_a_server_is_a_config_error() {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let figment = figment::Figment::from(figment::providers::Serialized::default(
        "SESSION_MEMCACHED",
        format!("127.0.0.1:{port}"),
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
