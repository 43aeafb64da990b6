//! actix-flask-session on PostgreSQL, Flask-Session's default configuration (permanent,
//! refresh each request, msgpack, unsigned cookie); same routes as the Redis peer.
//!
//! `afs-sql <port> <postgres-url>`; one worker; creates the table if missing.

use actix_flask_session::backends::sql::{PoolOptions, SqlAlchemySessionInterface, SqlPool, SqlTable};
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
    let port: u16 = args.next().and_then(|p| p.parse().ok()).unwrap_or(8083);
    let url = args
        .next()
        .unwrap_or_else(|| "postgresql://root@127.0.0.1/afs_bench?sslmode=disable".to_owned());
    let pool = SqlPool::connect(&url, &PoolOptions::default()).await.map_err(std::io::Error::other)?;
    let table = SqlTable::default();
    actix_flask_session::backends::sql::migrate::migrate(&pool, &table)
        .await
        .map_err(std::io::Error::other)?;
    let store = SqlAlchemySessionInterface::new(pool, table).await.map_err(std::io::Error::other)?;
    let interface =
        ServerSideSessionInterface::new(store, SessionConfig::default()).map_err(std::io::Error::other)?;
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
