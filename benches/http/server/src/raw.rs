//! Peer (c): no session layer. The handler takes the `session` cookie as the id and sends
//! the same Redis commands as the session store (`/read`: `GETEX key EX ttl`; `/incr`:
//! `GETEX` + `SET key value XX EX ttl`) over one multiplexed connection per worker.
//!
//! With `RAW_COOKIE=1` (the `raw-cookie` peer of ../run.sh) `/read` and `/incr` also answer
//! with the headers Flask-Session's default configuration sends on every such request, a
//! refreshed `Set-Cookie` (`session=<id>; Expires=<now + 31 days>; HttpOnly; Path=/`) and
//! `Vary: Cookie`, formatted by hand: the share of the gap to raw that the session
//! semantics themselves cost, whatever the library.
//!
//! `raw <port> <redis-url>`; one worker.

mod raw_peer;
use raw_peer::{hello, key, sid};

use actix_flask_session::backends::redis::deadpool_redis::redis::{
    self, aio::MultiplexedConnection,
};
use actix_web::http::header::{self, HttpDate};
use actix_web::{App, HttpRequest, HttpResponse, HttpResponseBuilder, HttpServer, web};

const TTL: u64 = 31 * 24 * 3600;

/// A 200, with the refreshed session cookie and `Vary: Cookie` when `RAW_COOKIE=1`.
fn ok(req: &HttpRequest, with_cookie: bool) -> HttpResponseBuilder {
    let mut res = HttpResponse::Ok();
    // `with_cookie` is a constant of the handler: the plain peer never looks at the cookie
    // here (a second parse would make the baseline slower than the one before it).
    if !with_cookie {
        return res;
    }
    if let Some(sid) = sid(req) {
        let expires =
            HttpDate::from(std::time::SystemTime::now() + std::time::Duration::from_secs(TTL));
        res.insert_header((
            header::SET_COOKIE,
            format!("session={sid}; Expires={expires}; HttpOnly; Path=/"),
        ))
        .insert_header((header::VARY, "Cookie"));
    }
    res
}

/// `GETEX key EX ttl`: the session store's load with refresh.
async fn getex(conn: &mut MultiplexedConnection, key: &str) -> redis::RedisResult<Option<Vec<u8>>> {
    redis::cmd("GETEX")
        .arg(key)
        .arg("EX")
        .arg(TTL)
        .query_async(conn)
        .await
}

async fn read<const COOKIE: bool>(
    req: HttpRequest,
    conn: web::Data<MultiplexedConnection>,
) -> HttpResponse {
    let Some(key) = key(&req) else {
        return HttpResponse::Ok().body("0");
    };
    let mut conn = conn.get_ref().clone();
    let value = getex(&mut conn, &key).await;
    match value {
        Ok(v) => ok(&req, COOKIE).body(v.map_or(0, |v| v.len()).to_string()),
        Err(_) => HttpResponse::ServiceUnavailable().finish(),
    }
}

async fn incr<const COOKIE: bool>(
    req: HttpRequest,
    conn: web::Data<MultiplexedConnection>,
) -> HttpResponse {
    let Some(key) = key(&req) else {
        return HttpResponse::Ok().body("0");
    };
    let mut conn = conn.get_ref().clone();
    let value = getex(&mut conn, &key).await;
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
        Ok(_) => ok(&req, COOKIE).body(value.len().to_string()),
        Err(_) => HttpResponse::ServiceUnavailable().finish(),
    }
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let port: u16 = args.next().and_then(|p| p.parse().ok()).unwrap_or(8083);
    let url = args
        .next()
        .unwrap_or_else(|| "redis://127.0.0.1:6379".to_owned());
    let client = redis::Client::open(url).map_err(std::io::Error::other)?;
    let cookie = std::env::var("RAW_COOKIE").is_ok_and(|v| v == "1");
    HttpServer::new(move || {
        let client = client.clone();
        App::new()
            .data_factory(move || {
                let client = client.clone();
                async move { client.get_multiplexed_async_connection().await }
            })
            .configure(|cfg| {
                if cookie {
                    cfg.route("/read", web::get().to(read::<true>))
                        .route("/incr", web::get().to(incr::<true>));
                } else {
                    cfg.route("/read", web::get().to(read::<false>))
                        .route("/incr", web::get().to(incr::<false>));
                }
            })
            .route("/hello", web::get().to(hello))
    })
    .workers(1)
    .bind(("127.0.0.1", port))?
    .run()
    .await
}
