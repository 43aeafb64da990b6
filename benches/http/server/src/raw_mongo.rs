//! The raw MongoDB peer: no session layer. The handler takes the `session` cookie as the
//! id and sends the commands `MongoDbStore` sends with `SESSION_REFRESH_EACH_REQUEST` on,
//! through the same driver client (built by `MongoDbStore::connect`: same pool, same
//! options), on a collection with the same documents and indexes:
//!
//! * `/read`: `findAndModify({id: "session:<id>", expiration: {$gt: now}}, {$set:
//!   {expiration: now + 31 days}}, fields {val: 1, _id: 0}, new: true)`;
//! * `/incr`: the same, then `update({id, expiration: {$gt: now}}, {$set: {val,
//!   expiration: now + 31 days}})` with the value's last byte changed.
//!
//! `raw-mongo <port> <mongodb-url>`; one worker; database `$AFS_MONGO_DB` (default
//! `afs_bench_mongo`), collection `raw_sessions` (indexes `expiration_1` with
//! `expireAfterSeconds: 0` and unique `id_1`, created at startup as the store creates
//! them). Its documents are seeded by ../mongodb.sh.

mod raw_peer;
use raw_peer::key;

use std::time::Duration;

use actix_flask_session::backends::mongodb::MongoDbStore;
use actix_web::{HttpRequest, HttpResponse, web};
use mongodb::bson::spec::BinarySubtype;
use mongodb::bson::{Binary, Bson, DateTime, Document, doc};
use mongodb::options::{IndexOptions, ReturnDocument};
use mongodb::{Collection, IndexModel};

/// Flask's default `PERMANENT_SESSION_LIFETIME`, 31 days, in milliseconds.
const TTL_MS: i64 = 31 * 24 * 3600 * 1000;

type Sessions = Collection<Document>;

fn expiration(now: DateTime) -> DateTime {
    DateTime::from_millis(now.timestamp_millis().saturating_add(TTL_MS))
}

/// The store's load with refresh: the live document's `val`, its expiry moved.
/// `Err` on a driver error or a document without binary `val`, `Ok(None)` on a miss.
async fn load(sessions: &Sessions, key: &str) -> Result<Option<Vec<u8>>, ()> {
    let now = DateTime::now();
    let found = sessions
        .find_one_and_update(
            doc! { "id": key, "expiration": { "$gt": now } },
            doc! { "$set": { "expiration": expiration(now) } },
        )
        .projection(doc! { "val": 1, "_id": 0 })
        .return_document(ReturnDocument::After)
        .await
        .map_err(|_| ())?;
    match found.map(|mut d| d.remove("val")) {
        None => Ok(None),
        Some(Some(Bson::Binary(b))) => Ok(Some(b.bytes)),
        Some(_) => Err(()),
    }
}

async fn read(req: HttpRequest, sessions: web::Data<Sessions>) -> HttpResponse {
    let Some(key) = key(&req) else {
        return HttpResponse::Ok().body("0");
    };
    match load(&sessions, &key).await {
        Ok(v) => HttpResponse::Ok().body(v.map_or(0, |v| v.len()).to_string()),
        Err(()) => HttpResponse::ServiceUnavailable().finish(),
    }
}

async fn incr(req: HttpRequest, sessions: web::Data<Sessions>) -> HttpResponse {
    let Some(key) = key(&req) else {
        return HttpResponse::Ok().body("0");
    };
    let Ok(Some(mut value)) = load(&sessions, &key).await else {
        return HttpResponse::ServiceUnavailable().finish();
    };
    if let Some(last) = value.last_mut() {
        *last = last.wrapping_add(1) & 0x7f;
    }
    let len = value.len();
    let now = DateTime::now();
    let val = Binary {
        subtype: BinarySubtype::Generic,
        bytes: value,
    };
    let result = sessions
        .update_one(
            doc! { "id": key.as_str(), "expiration": { "$gt": now } },
            doc! { "$set": { "val": val, "expiration": expiration(now) } },
        )
        .await;
    match result {
        Ok(r) if r.matched_count == 1 => HttpResponse::Ok().body(len.to_string()),
        _ => HttpResponse::ServiceUnavailable().finish(),
    }
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let port: u16 = args.next().and_then(|p| p.parse().ok()).unwrap_or(8089);
    let url = args
        .next()
        .unwrap_or_else(|| "mongodb://127.0.0.1:27017".to_owned());
    let database = std::env::var("AFS_MONGO_DB").unwrap_or_else(|_| "afs_bench_mongo".to_owned());
    let client = MongoDbStore::connect(&url)
        .await
        .map_err(std::io::Error::other)?;
    let sessions: Sessions = client.database(&database).collection("raw_sessions");
    for index in [
        IndexModel::builder()
            .keys(doc! { "expiration": 1 })
            .options(IndexOptions::builder().expire_after(Duration::ZERO).build())
            .build(),
        IndexModel::builder()
            .keys(doc! { "id": 1 })
            .options(IndexOptions::builder().unique(true).build())
            .build(),
    ] {
        sessions
            .create_index(index)
            .await
            .map_err(std::io::Error::other)?;
    }
    raw_peer::serve(port, sessions, |cfg| {
        cfg.route("/read", web::get().to(read))
            .route("/incr", web::get().to(incr));
    })
    .await
}
