//! Peer (c): no session layer. The handler takes the `session` cookie as the id and sends
//! the same Redis commands as the session store (`/read`: `GETEX key EX ttl`; `/incr`:
//! `GETEX` + `SET key value XX EX ttl`) over one multiplexed connection per worker.
//!
//! `raw <port> <redis-url>`; one worker.

use actix_flask_session::backends::redis::deadpool_redis::redis::{
    self, aio::MultiplexedConnection,
};
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};

const TTL: u64 = 31 * 24 * 3600;

fn key(req: &HttpRequest) -> Option<String> {
    let header = req.headers().get("cookie")?.to_str().ok()?;
    let sid = header
        .split(';')
        .find_map(|c| c.trim().strip_prefix("session="))?;
    Some(format!("session:{sid}"))
}

async fn read(req: HttpRequest, conn: web::Data<MultiplexedConnection>) -> HttpResponse {
    let Some(key) = key(&req) else {
        return HttpResponse::Ok().body("0");
    };
    let mut conn = conn.get_ref().clone();
    let value: Result<Option<Vec<u8>>, _> = redis::cmd("GETEX")
        .arg(&key)
        .arg("EX")
        .arg(TTL)
        .query_async(&mut conn)
        .await;
    match value {
        Ok(v) => HttpResponse::Ok().body(v.map_or(0, |v| v.len()).to_string()),
        Err(_) => HttpResponse::ServiceUnavailable().finish(),
    }
}

async fn incr(req: HttpRequest, conn: web::Data<MultiplexedConnection>) -> HttpResponse {
    let Some(key) = key(&req) else {
        return HttpResponse::Ok().body("0");
    };
    let mut conn = conn.get_ref().clone();
    let value: Result<Option<Vec<u8>>, _> = redis::cmd("GETEX")
        .arg(&key)
        .arg("EX")
        .arg(TTL)
        .query_async(&mut conn)
        .await;
    let Ok(Some(mut value)) = value else {
        return HttpResponse::ServiceUnavailable().finish();
    };
    // Same size as the session's bytes; the last byte changes.
    if let Some(last) = value.last_mut() {
        *last = last.wrapping_add(1) & 0x7f;
    }
    let set: Result<Option<String>, _> = redis::cmd("SET")
        .arg(&key)
        .arg(&value)
        .arg("XX")
        .arg("EX")
        .arg(TTL)
        .query_async(&mut conn)
        .await;
    match set {
        Ok(_) => HttpResponse::Ok().body(value.len().to_string()),
        Err(_) => HttpResponse::ServiceUnavailable().finish(),
    }
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
        .unwrap_or_else(|| "redis://127.0.0.1:6379".to_owned());
    let client = redis::Client::open(url).map_err(std::io::Error::other)?;
    HttpServer::new(move || {
        let client = client.clone();
        App::new()
            .data_factory(move || {
                let client = client.clone();
                async move { client.get_multiplexed_async_connection().await }
            })
            .route("/read", web::get().to(read))
            .route("/incr", web::get().to(incr))
            .route("/hello", web::get().to(hello))
    })
    .workers(1)
    .bind(("127.0.0.1", port))?
    .run()
    .await
}
