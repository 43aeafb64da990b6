//! Peer (a): actix-flask-session on Redis, Flask-Session's default configuration
//! (permanent, refresh each request, msgpack, unsigned cookie).
//!
//! `afs <port> <redis-url>`; one worker.

use actix_flask_session::backends::redis::{RedisOptions, RedisSessionInterface};
use actix_flask_session::{ServerSideSession, ServerSideSessionInterface, Session, SessionConfig};
use actix_web::{App, HttpServer, web};

async fn read(session: ServerSideSession) -> actix_web::Result<String> {
    Ok(session.get::<i64>("n")?.unwrap_or(0).to_string())
}

async fn incr(session: ServerSideSession) -> actix_web::Result<String> {
    let n = session.get::<i64>("n")?.unwrap_or(0) + 1;
    session.insert("n", &n)?;
    Ok(n.to_string())
}

async fn hello() -> &'static str {
    "hello"
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let port: u16 = args.next().and_then(|p| p.parse().ok()).unwrap_or(8081);
    let url = args
        .next()
        .unwrap_or_else(|| "redis://127.0.0.1:6379".to_owned());
    let store = RedisSessionInterface::connect(&url, &RedisOptions::default())
        .await
        .map_err(std::io::Error::other)?;
    let mut config = SessionConfig::default();
    // AFS_REFRESH=0 turns SESSION_REFRESH_EACH_REQUEST off (no cookie re-send on reads), to
    // see what the refresh costs.
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
