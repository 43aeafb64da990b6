//! Peer (b): actix-session 0.11 with its Redis store and default settings (private,
//! encrypted cookie). `actix-session-peer <port> <redis-url>`; one worker.

use actix_session::storage::RedisSessionStore;
use actix_session::{Session, SessionMiddleware};
use actix_web::cookie::Key;
use actix_web::{App, HttpResponse, HttpServer, web};

// Answers built like the other peers' (a body, no content type).
async fn read(session: Session) -> actix_web::Result<HttpResponse> {
    let n = session.get::<i64>("n")?.unwrap_or(0);
    Ok(HttpResponse::Ok().body(n.to_string()))
}

async fn incr(session: Session) -> actix_web::Result<HttpResponse> {
    let n = session.get::<i64>("n")?.unwrap_or(0) + 1;
    session.insert("n", n)?;
    Ok(HttpResponse::Ok().body(n.to_string()))
}

async fn hello() -> &'static str {
    "hello"
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let port: u16 = args.next().and_then(|p| p.parse().ok()).unwrap_or(8082);
    let url = args
        .next()
        .unwrap_or_else(|| "redis://127.0.0.1:6379".to_owned());
    let store = RedisSessionStore::new(url)
        .await
        .map_err(std::io::Error::other)?;
    let key = Key::generate();
    HttpServer::new(move || {
        App::new()
            .wrap(SessionMiddleware::new(store.clone(), key.clone()))
            .route("/read", web::get().to(read))
            .route("/incr", web::get().to(incr))
            .route("/hello", web::get().to(hello))
    })
    .workers(1)
    .bind(("127.0.0.1", port))?
    .run()
    .await
}
