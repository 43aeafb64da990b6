//! The outage scenario shared by the `*_outage` tests: an app over a store on a server the
//! test started itself answers; the server is killed, so routes that need the session
//! answer an opaque 503 while `/hello` stays 200; the server is started again and the same
//! app (no restart) recovers.
//!
//! A backend's test implements [`Outage`] for its server (kill, start again) and calls
//! [`outage_scenario`]; [`ChildServer`] and [`free_port`] do the process handling.

use std::future::Future;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use actix_flask_session::{
    ServerSideSession, ServerSideSessionInterface, Session, SessionConfig, SessionStore,
};
use actix_web::body::MessageBody;
use actix_web::dev::ServiceResponse;
use actix_web::{App, HttpResponse, test, web};

/// A free port on 127.0.0.1.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// `relative` (e.g. `venv-moto/bin/moto_server`) under the services directory of
/// `scripts/services.sh` (`SVC_HOME`, default
/// `$HOME/.cache/actix-flask-session-services`); a missing file is a panic naming `what`.
pub fn service_binary(what: &str, relative: &str) -> PathBuf {
    let home = std::env::var_os("SVC_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
                .join(".cache/actix-flask-session-services")
        });
    let path = home.join(relative);
    assert!(
        path.exists(),
        "{what}'s venv is missing ({}); run scripts/test.sh",
        path.display()
    );
    path
}

/// A server child process on its own port, killed on drop.
pub struct ChildServer {
    name: &'static str,
    port: u16,
    child: Option<Child>,
}

impl ChildServer {
    /// Spawns `command` (its output discarded) as the server `name` on `port`; a server
    /// that cannot be started is a panic saying `hint`.
    pub fn spawn(name: &'static str, port: u16, mut command: Command, hint: &str) -> Self {
        let child = command
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name} ({e}); {hint}"));
        ChildServer {
            name,
            port,
            child: Some(child),
        }
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Polls `probe` (every 20 ms) until it says the server answers; panics when the
    /// process exits first or `timeout` passes.
    pub async fn wait_ready<F, Fut>(&mut self, timeout: Duration, mut probe: F)
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = bool>,
    {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                panic!("{} on port {} exited with {status}", self.name, self.port);
            }
            if probe().await {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{} on port {} never answered",
                self.name,
                self.port
            );
            actix_rt::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Kills the process and waits for it.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for ChildServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A server the test can take down and bring back.
pub trait Outage {
    /// How many times the session routes are tried (and must answer 503) while down.
    const ROUNDS: usize;
    /// Whether the very first request after the restart must succeed (else the test polls
    /// until the app answers 200, for drivers that rediscover the server on their own).
    const FIRST_REQUEST_RECOVERS: bool;

    /// Kills the server.
    fn kill(&mut self);

    /// Starts the server again on the same port (empty, or with what a durable server
    /// would still have) and waits until it answers.
    fn restart(&mut self) -> impl Future<Output = ()>;

    /// Backend-specific checks while the server is down (after the 503s).
    fn check_down(&self) {}
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

/// The value of the `session` cookie `res` sets.
pub fn session_cookie(res: &ServiceResponse<impl MessageBody>) -> String {
    res.headers()
        .get_all("set-cookie")
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("session="))
        .and_then(|v| v.split(';').next())
        .map(str::to_owned)
        .expect("a session cookie")
}

/// The scenario: up (a session is made and read back), down (`/hello` is 200 without a
/// cookie, the session routes an opaque 503, [`Outage::ROUNDS`] times), back (the same app
/// answers; the old session went with the old server; a new one works).
pub async fn outage_scenario<O: Outage>(store: impl SessionStore, server: &mut O) {
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
    let post_set = || test::TestRequest::post().uri("/set").to_request();

    // Up: a session is made and read back.
    let res = test::call_service(&app, post_set()).await;
    assert_eq!(res.status(), 200);
    let cookie = session_cookie(&res);
    let req = || test::TestRequest::get().insert_header(("cookie", format!("session={cookie}")));
    let body = test::call_and_read_body(&app, req().uri("/get").to_request()).await;
    assert_eq!(body, "Some(7)");

    // Down: the pooled connections are dead, new ones are refused.
    server.kill();
    let res = test::call_service(&app, req().uri("/hello").to_request()).await;
    assert_eq!(
        res.status(),
        200,
        "a route without the session must not notice the outage"
    );
    assert_eq!(res.headers().get("set-cookie"), None);
    assert_eq!(test::read_body(res).await, "hello");
    for _ in 0..O::ROUNDS {
        let res = test::call_service(&app, req().uri("/get").to_request()).await;
        assert_eq!(res.status(), 503);
        assert_eq!(res.headers().get("set-cookie"), None);
        assert_eq!(test::read_body(res).await, "Service Unavailable");
        let res = test::call_service(&app, post_set()).await;
        assert_eq!(res.status(), 503);
        assert_eq!(test::read_body(res).await, "Service Unavailable");
    }
    server.check_down();

    // Back. No restart of the app.
    server.restart().await;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let res = test::call_service(&app, req().uri("/get").to_request()).await;
        if res.status() == 200 || O::FIRST_REQUEST_RECOVERS {
            assert_eq!(
                res.status(),
                200,
                "the very first request after the restart"
            );
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
    let res = test::call_service(&app, post_set()).await;
    assert_eq!(res.status(), 200);
    let cookie = session_cookie(&res);
    let req = test::TestRequest::get()
        .insert_header(("cookie", format!("session={cookie}")))
        .uri("/get")
        .to_request();
    assert_eq!(test::call_and_read_body(&app, req).await, "Some(7)");
}
