//! The actix mirror of `tests/interop/flask_app.py`: the same routes with the same answers,
//! served by a real `HttpServer` on 127.0.0.1 (one worker, in a background thread).

use std::collections::BTreeSet;
use std::sync::mpsc;
use std::thread::JoinHandle;

use actix_flask_session::{ServerSideSession, Session, Value};
use actix_flask_session::{timestamp_value, value_as_timestamp};
use actix_web::dev::ServerHandle;
use actix_web::{App, HttpResponse, HttpServer, web};
use base64::Engine as _;
use serde_json::{Value as Json, json};

/// A running mirror app; stopped on drop.
pub struct MirrorApp {
    port: u16,
    handle: ServerHandle,
    thread: Option<JoinHandle<()>>,
}

impl MirrorApp {
    /// Serves the mirror routes with `session` on a free port of 127.0.0.1.
    pub fn start(session: Session) -> Self {
        let (tx, rx) = mpsc::channel();
        let thread = std::thread::spawn(move || {
            let system = actix_web::rt::System::new();
            system.block_on(async move {
                let server =
                    HttpServer::new(move || session.init_app(App::new().configure(routes)))
                        .workers(1)
                        .disable_signals()
                        .bind(("127.0.0.1", 0));
                let server = match server {
                    Ok(server) => server,
                    Err(e) => panic!("the mirror app cannot bind: {e}"),
                };
                let port = server
                    .addrs()
                    .first()
                    .map(|a| a.port())
                    .expect("a bound address");
                let server = server.run();
                let _ = tx.send((port, server.handle()));
                let _ = server.await;
            });
        });
        let (port, handle) = rx.recv().expect("the mirror app started");
        MirrorApp {
            port,
            handle,
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for MirrorApp {
    fn drop(&mut self) {
        // Stopping needs the server's own runtime; a helper thread drives the future.
        let handle = self.handle.clone();
        let _ = std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(handle.stop(false));
        })
        .join();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The routes of `flask_app.py`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/ready", web::get().to(|| async { "ok" }))
        .route("/hello", web::get().to(|| async { "hello" }))
        .route("/get/{key}", web::get().to(get))
        .route("/set/{key}", web::post().to(set))
        .route("/delete/{key}", web::post().to(delete))
        .route("/clear", web::post().to(clear))
        .route("/regenerate", web::post().to(regenerate))
        .route("/permanent/{flag}", web::post().to(permanent))
        .route("/dump", web::get().to(dump))
        .route("/set_typed", web::post().to(set_typed));
}

async fn get(session: ServerSideSession, key: web::Path<String>) -> HttpResponse {
    match session.get_value(&key) {
        Some(value) => HttpResponse::Ok().json(json!({ "value": tag(&value) })),
        None => HttpResponse::Ok().json(json!({ "missing": true })),
    }
}

async fn set(
    session: ServerSideSession,
    key: web::Path<String>,
    body: web::Bytes,
) -> actix_web::Result<&'static str> {
    let value: Json = serde_json::from_slice(&body).map_err(actix_web::error::ErrorBadRequest)?;
    session.insert(key.into_inner(), &value)?;
    Ok("ok")
}

async fn delete(session: ServerSideSession, key: web::Path<String>) -> &'static str {
    session.remove(&key);
    "ok"
}

async fn clear(session: ServerSideSession) -> &'static str {
    session.clear();
    "ok"
}

async fn regenerate(session: ServerSideSession) -> actix_web::Result<&'static str> {
    session.regenerate()?;
    Ok("ok")
}

async fn permanent(session: ServerSideSession, flag: web::Path<u8>) -> &'static str {
    session.set_permanent(*flag != 0);
    "ok"
}

async fn dump(session: ServerSideSession) -> HttpResponse {
    let mut data = serde_json::Map::new();
    for key in session.keys() {
        if let Some(value) = session.get_value(&key) {
            data.insert(key, tag(&value));
        }
    }
    HttpResponse::Ok().json(json!({
        "sid": session.sid(),
        "permanent": session.permanent(),
        "data": Json::Object(data),
    }))
}

/// What a Rust app stores for the Python values of the round-trip table (one value per
/// stored type).
async fn set_typed(session: ServerSideSession) -> actix_web::Result<&'static str> {
    session.insert("tuple", (1, "a"))?;
    session.insert("set", BTreeSet::from([7]))?;
    session.insert_value("bytes", Value::Binary(vec![0x00, 0xff]))?;
    session.insert_value(
        "aware",
        timestamp_value(time::macros::datetime!(2024-01-02 03:04:05 UTC)),
    )?;
    session.insert("naive", "2024-01-02T03:04:05")?;
    session.insert("decimal", "1.10")?;
    session.insert("uuid", "12345678-1234-5678-1234-567812345678")?;
    session.insert_value(
        "int_keys",
        Value::Map(vec![
            (Value::from(1), Value::from("a")),
            (Value::from(2), Value::from("b")),
        ]),
    )?;
    session.insert("float", 1.5)?;
    session.insert_value("none", Value::Nil)?;
    session.insert(
        "nested",
        json!({ "list": [1, [2, 3]], "map": { "k": "v" }, "t": true }),
    )?;
    Ok("ok")
}

/// The tagged JSON of `flask_app.py`'s `tag()`: bytes `{"$bytes": base64}`, date-times
/// `{"$datetime": Python isoformat}`, maps `{"$dict": [[key, value], ...]}`.
pub fn tag(value: &Value) -> Json {
    match value {
        Value::Nil => Json::Null,
        Value::Boolean(b) => Json::Bool(*b),
        Value::Integer(i) => match (i.as_u64(), i.as_i64()) {
            (Some(u), _) => json!(u),
            (None, Some(s)) => json!(s),
            _ => json!({ "$repr": i.to_string() }),
        },
        Value::F32(f) => json!(f64::from(*f)),
        Value::F64(f) => json!(f),
        Value::String(s) => match s.as_str() {
            Some(s) => Json::String(s.to_owned()),
            None => json!({ "$repr": format!("{s:?}") }),
        },
        Value::Binary(b) => {
            json!({ "$bytes": base64::engine::general_purpose::STANDARD.encode(b) })
        }
        Value::Array(items) => Json::Array(items.iter().map(tag).collect()),
        Value::Map(entries) => {
            json!({ "$dict": entries.iter().map(|(k, v)| json!([tag(k), tag(v)])).collect::<Vec<_>>() })
        }
        Value::Ext(..) => match value_as_timestamp(value) {
            Some(dt) => json!({ "$datetime": python_isoformat(dt) }),
            None => json!({ "$repr": format!("{value:?}") }),
        },
    }
}

/// `datetime.isoformat()` of an aware UTC datetime: `2024-01-02T03:04:05+00:00`, with
/// `.ffffff` when there are microseconds.
fn python_isoformat(dt: time::OffsetDateTime) -> String {
    let dt = dt.to_offset(time::UtcOffset::UTC);
    let mut out = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        dt.year(),
        u8::from(dt.month()),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second()
    );
    if dt.microsecond() != 0 {
        out.push_str(&format!(".{:06}", dt.microsecond()));
    }
    out.push_str("+00:00");
    out
}
