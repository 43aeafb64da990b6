//! The raw memcached peer: no session layer. The handler takes the `session` cookie as the
//! id and sends the meta commands the memcached store sends, through the same client
//! (async-memcached) and pool (deadpool, 64 connections): `/read`: `mg session:<id> v f
//! T<now + ttl>`; `/incr`: the same, then `ms session:<id> <len> T<ttl> MR` with the value's
//! last byte changed. `raw-memcached <port> <host:port>`; one worker.

mod raw_peer;
use raw_peer::key;

use actix_web::{HttpRequest, HttpResponse, web};
use async_memcached::{Client, Error as McError, MetaProtocol};
use deadpool::managed::{self, Metrics, Pool, RecycleResult};

/// Flask's 31 days is over memcached's 30-day limit for relative times, so the store (and
/// this peer) send an absolute Unix time.
fn ttl_flag() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    format!("T{}", now + 31 * 24 * 3600)
}

struct Connector(String);

impl managed::Manager for Connector {
    type Type = Client;
    type Error = McError;

    async fn create(&self) -> Result<Client, McError> {
        Client::new(&self.0).await
    }

    async fn recycle(&self, _: &mut Client, _: &Metrics) -> RecycleResult<McError> {
        Ok(())
    }
}

type McPool = Pool<Connector>;

async fn get(pool: &McPool, key: &str) -> Option<Vec<u8>> {
    let mut c = pool.get().await.ok()?;
    let ttl = ttl_flag();
    let v = c
        .meta_get(key, false, None, Some(&["v", "f", ttl.as_str()]))
        .await
        .ok()??;
    v.data
}

async fn read(req: HttpRequest, pool: web::Data<McPool>) -> HttpResponse {
    let Some(key) = key(&req) else {
        return HttpResponse::Ok().body("0");
    };
    match get(&pool, &key).await {
        Some(v) => HttpResponse::Ok().body(v.len().to_string()),
        None => HttpResponse::ServiceUnavailable().finish(),
    }
}

async fn incr(req: HttpRequest, pool: web::Data<McPool>) -> HttpResponse {
    let Some(key) = key(&req) else {
        return HttpResponse::Ok().body("0");
    };
    let Some(mut value) = get(&pool, &key).await else {
        return HttpResponse::ServiceUnavailable().finish();
    };
    if let Some(last) = value.last_mut() {
        *last = last.wrapping_add(1) & 0x7f;
    }
    let Ok(mut c) = pool.get().await else {
        return HttpResponse::ServiceUnavailable().finish();
    };
    match c
        .meta_set(
            &key,
            value.as_slice(),
            false,
            None,
            Some(&[ttl_flag().as_str(), "MR"]),
        )
        .await
    {
        Ok(_) => HttpResponse::Ok().body(value.len().to_string()),
        Err(_) => HttpResponse::ServiceUnavailable().finish(),
    }
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let port: u16 = args.next().and_then(|p| p.parse().ok()).unwrap_or(8087);
    let server = args.next().unwrap_or_else(|| "127.0.0.1:11211".to_owned());
    let pool: McPool = Pool::builder(Connector(format!("tcp://{server}")))
        .max_size(64)
        .build()
        .map_err(std::io::Error::other)?;
    raw_peer::serve(port, pool, |cfg| {
        cfg.route("/read", web::get().to(read))
            .route("/incr", web::get().to(incr));
    })
    .await
}
