//! The routes and server shared by the `afs` (Redis) and `afs-sql` (PostgreSQL) peers:
//! `/read` reads `n` from the session, `/incr` reads, increments and writes it back,
//! `/hello` does not touch the session. One actix worker.

use actix_flask_session::{
    ServerSideSession, ServerSideSessionInterface, Session, SessionConfig, SessionStore,
};
use actix_web::{App, HttpResponse, HttpServer, web};

// The answers are built like the raw peer's (a body, no content type), so that the
// responses differ only by what the session layer adds.
async fn read(session: ServerSideSession) -> actix_web::Result<HttpResponse> {
    let n = session.get::<i64>("n")?.unwrap_or(0);
    Ok(HttpResponse::Ok().body(n.to_string()))
}

async fn incr(session: ServerSideSession) -> actix_web::Result<HttpResponse> {
    let n = session.get::<i64>("n")?.unwrap_or(0) + 1;
    session.insert("n", n)?;
    Ok(HttpResponse::Ok().body(n.to_string()))
}

async fn hello() -> &'static str {
    "hello"
}

/// The first two arguments: the port (default `default_port`) and the store URL.
pub fn args(default_port: u16, default_url: &str) -> (u16, String) {
    let mut args = std::env::args().skip(1);
    let port = args
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap_or(default_port);
    let url = args.next().unwrap_or_else(|| default_url.to_owned());
    (port, url)
}

/// Serves the three routes over `store` with Flask-Session's default configuration
/// (permanent, refresh each request, msgpack, unsigned cookie). `AFS_REFRESH=0` turns
/// `SESSION_REFRESH_EACH_REQUEST` off, to see what the refresh costs.
pub async fn serve(store: impl SessionStore, port: u16) -> std::io::Result<()> {
    let mut config = SessionConfig::default();
    config.refresh_each_request = std::env::var("AFS_REFRESH").map_or(true, |v| v != "0");
    let interface =
        ServerSideSessionInterface::new(store, config).map_err(std::io::Error::other)?;
    let session = Session::new(interface);
    HttpServer::new(move || {
        session.init_app(
            App::new()
                .route("/read", web::get().to(read))
                .route("/incr", web::get().to(incr))
                .route("/hello", web::get().to(hello)),
        )
    })
    .workers(1)
    .bind(("127.0.0.1", port))?
    .run()
    .await
}
