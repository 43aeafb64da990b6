//! The test app, its configuration and the HTTP helpers the cases use.

use std::sync::Arc;

use actix_http::Request;
use actix_service::Service;
use actix_web::{
    App, Error, HttpResponse, body::MessageBody, dev::ServiceResponse, http::header, test, web,
};
use rmpv::Value;
use tokio::sync::Notify;

use super::recording::RecordingStore;
use crate::Session;
use crate::config::SessionConfig;
use crate::lifecycle::{ServerSideSession, ServerSideSessionInterface};
use crate::store::SessionStore;

/// Two signals to interleave two requests deterministically: the held request signals
/// `entered` once its session is loaded, then waits for `release`.
#[derive(Debug, Default)]
pub struct Gate {
    entered: Notify,
    release: Notify,
}

impl Gate {
    /// Waits until the held request has loaded its session.
    pub async fn wait_entered(&self) {
        self.entered.notified().await;
    }

    /// Lets the held request finish.
    pub fn release(&self) {
        self.release.notify_one();
    }
}

/// A store under test plus the configuration of the app around it.
#[derive(Debug)]
pub struct Harness<S: SessionStore> {
    /// The store, wrapped to record every call.
    pub store: Arc<RecordingStore<S>>,
    /// The configuration [`app`](Self::app) uses; each harness gets a random key prefix.
    pub config: SessionConfig,
    /// The gate used by the `/hold/*` routes.
    pub gate: Arc<Gate>,
}

impl<S: SessionStore> Harness<S> {
    /// Wraps `store` with Flask-Session's default configuration and a random key prefix
    /// (`acc<random>:`), so cases never see each other's keys.
    pub fn new(store: S) -> Self {
        let mut config = SessionConfig::default();
        let tag = crate::sid::generate(9).unwrap_or_else(|_| "fallback-tag".to_owned());
        config.key_prefix = format!("acc{}:", tag.replace(['-', '_'], "x"));
        Harness {
            store: Arc::new(RecordingStore::new(store)),
            config,
            gate: Arc::default(),
        }
    }

    /// Changes the configuration.
    pub fn configure(mut self, change: impl FnOnce(&mut SessionConfig)) -> Self {
        change(&mut self.config);
        self
    }

    /// The session interface for the current configuration.
    pub fn interface(&self) -> ServerSideSessionInterface {
        self.interface_with(self.config.clone())
    }

    /// The session interface for another configuration over the same store.
    pub fn interface_with(&self, config: SessionConfig) -> ServerSideSessionInterface {
        let store: Arc<dyn SessionStore> = self.store.clone();
        match ServerSideSessionInterface::from_arc(store, config) {
            Ok(interface) => interface,
            Err(error) => panic!("test configuration rejected: {error}"),
        }
    }

    /// The storage key of `sid` under the current prefix.
    pub fn key(&self, sid: &str) -> String {
        format!("{}{}", self.config.key_prefix, sid)
    }

    /// The raw bytes stored for `sid` (read without refresh and without recording).
    pub async fn raw(&self, sid: &str) -> Option<Vec<u8>> {
        match self.store.inner().load(&self.key(sid), None).await {
            Ok(bytes) => bytes,
            Err(error) => panic!("store failed while reading {sid}: {error}"),
        }
    }

    /// Writes raw bytes for `sid` directly into the store.
    pub async fn put_raw(&self, sid: &str, bytes: &[u8]) {
        let key = self.key(sid);
        let _ = self.store.inner().delete(&key).await;
        match self
            .store
            .inner()
            .create(&key, bytes, self.config.lifetime)
            .await
        {
            Ok(true) => {}
            other => panic!("could not write {key}: {other:?}"),
        }
    }

    /// The test app for the current configuration.
    pub async fn app(
        &self,
    ) -> impl Service<Request, Response = ServiceResponse<impl MessageBody>, Error = Error> {
        self.app_with(self.config.clone()).await
    }

    /// The test app for another configuration over the same store.
    pub async fn app_with(
        &self,
        config: SessionConfig,
    ) -> impl Service<Request, Response = ServiceResponse<impl MessageBody>, Error = Error> {
        let session = Session::new(self.interface_with(config));
        test::init_service(
            session.init_app(
                App::new()
                    .app_data(web::Data::from(self.gate.clone()))
                    .configure(routes),
            ),
        )
        .await
    }
}

/// The routes of the test app (Flask-Session's upstream test app plus a few more).
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(|| async { "hello world" }))
        .route("/set", web::post().to(set))
        .route("/modify", web::post().to(set))
        .route("/delete", web::post().to(delete))
        .route("/get", web::get().to(get))
        .route("/contains", web::get().to(contains))
        .route(
            "/keys",
            web::get().to(|s: ServerSideSession| async move { s.keys().join(",") }),
        )
        .route(
            "/sid",
            web::get().to(|s: ServerSideSession| async move { s.sid() }),
        )
        .route("/ab", web::post().to(ab))
        .route("/clear", web::post().to(clear))
        .route("/regenerate", web::post().to(regenerate))
        .route("/permanent/{flag}", web::post().to(permanent))
        .route("/set_then_delete", web::post().to(set_then_delete))
        .route("/insert_ext", web::post().to(insert_ext))
        .route("/hold/get", web::get().to(hold_get))
        .route("/hold/set", web::post().to(hold_set))
        .route("/hold/regenerate", web::post().to(hold_regenerate))
        .configure(super::users::routes);
}

#[derive(serde::Deserialize)]
struct ValueQuery {
    value: String,
}

async fn set(s: ServerSideSession, q: web::Query<ValueQuery>) -> actix_web::Result<&'static str> {
    s.insert("value", &q.value)?;
    Ok("value set")
}

async fn delete(s: ServerSideSession) -> &'static str {
    s.remove("value");
    "value deleted"
}

async fn get(s: ServerSideSession) -> actix_web::Result<String> {
    Ok(s.get::<String>("value")?
        .unwrap_or_else(|| "no value set".to_owned()))
}

async fn contains(s: ServerSideSession) -> String {
    s.contains_key("value").to_string()
}

async fn ab(s: ServerSideSession) -> actix_web::Result<&'static str> {
    s.insert("a", 1)?;
    s.insert("b", "x")?;
    Ok("ok")
}

async fn clear(s: ServerSideSession) -> &'static str {
    s.clear();
    "cleared"
}

async fn regenerate(s: ServerSideSession) -> actix_web::Result<String> {
    s.regenerate()?;
    Ok(s.sid())
}

async fn permanent(s: ServerSideSession, flag: web::Path<u8>) -> &'static str {
    s.set_permanent(*flag == 1);
    "ok"
}

async fn set_then_delete(s: ServerSideSession) -> actix_web::Result<&'static str> {
    s.insert("tmp", 1)?;
    s.remove("tmp");
    Ok("ok")
}

async fn insert_ext(s: ServerSideSession) -> HttpResponse {
    match s.insert_value("ext", Value::Ext(5, vec![1, 2, 3])) {
        Ok(()) => HttpResponse::Ok().body("inserted"),
        Err(error) => HttpResponse::BadRequest().body(format!("rejected: {error}")),
    }
}

async fn hold_get(s: ServerSideSession, gate: web::Data<Gate>) -> actix_web::Result<String> {
    gate.entered.notify_one();
    gate.release.notified().await;
    Ok(s.get::<String>("value")?
        .unwrap_or_else(|| "no value set".to_owned()))
}

async fn hold_set(
    s: ServerSideSession,
    gate: web::Data<Gate>,
    q: web::Query<ValueQuery>,
) -> actix_web::Result<&'static str> {
    gate.entered.notify_one();
    gate.release.notified().await;
    s.insert("value", &q.value)?;
    Ok("value set")
}

/// Regenerates the session, then waits at the gate before the response (and the save
/// that moves the session) happen. Answers the new id.
async fn hold_regenerate(s: ServerSideSession, gate: web::Data<Gate>) -> actix_web::Result<String> {
    s.regenerate()?;
    gate.entered.notify_one();
    gate.release.notified().await;
    Ok(s.sid())
}

/// What a response carried, in a form that is easy to assert on.
#[derive(Debug, Clone)]
pub struct Reply {
    /// The status code.
    pub status: u16,
    /// Every `Set-Cookie` header, in order.
    pub set_cookies: Vec<String>,
    /// The `Vary` header, if any.
    pub vary: Option<String>,
    /// The body as text.
    pub body: String,
}

impl Reply {
    /// The value of the first `Set-Cookie` for `name`.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.set_cookies.iter().find_map(|c| {
            let (pair, _) = c.split_once(';').unwrap_or((c.as_str(), ""));
            let (n, v) = pair.split_once('=')?;
            (n == name).then(|| v.to_owned())
        })
    }
}

/// Sends `req` and collects the reply.
pub async fn send<T, B>(app: &T, req: Request) -> Reply
where
    T: Service<Request, Response = ServiceResponse<B>, Error = Error>,
    B: MessageBody,
{
    let res = test::call_service(app, req).await;
    let status = res.status().as_u16();
    let set_cookies = res
        .headers()
        .get_all(header::SET_COOKIE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .collect();
    let vary = res
        .headers()
        .get(header::VARY)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let body = String::from_utf8_lossy(&test::read_body(res).await).into_owned();
    Reply {
        status,
        set_cookies,
        vary,
        body,
    }
}

/// A request with an optional `Cookie: session=<value>` header.
pub fn request(method: &str, uri: &str, cookie: Option<&str>) -> Request {
    let req = match method {
        "POST" => test::TestRequest::post(),
        _ => test::TestRequest::get(),
    }
    .uri(uri);
    match cookie {
        Some(value) => req
            .insert_header((header::COOKIE, format!("session={value}")))
            .to_request(),
        None => req.to_request(),
    }
}
