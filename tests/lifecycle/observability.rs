//! The metrics of every load and save outcome, store call, store error and cleanup, as
//! exact deltas: each step's snapshot must hold exactly the series listed, with exactly
//! these values (a series the step should not touch fails the comparison).
//!
//! The recorder is thread-local (`metrics::set_default_local_recorder`) and the app runs in
//! the test's own thread (`actix_web::test::init_service`), so tests running in parallel
//! never see each other's metrics.

use std::collections::BTreeMap;
use std::time::Duration;

use actix_flask_session::{
    CacheLibStore, ServerSideSession, ServerSideSessionInterface, Session, SessionConfig,
    SessionStore, SimpleCache, StoreError,
};
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::header;
use actix_web::{App, HttpResponse, test, web};
use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};

const LOADS: &str = "actix_flask_session_loads_total";
const SAVES: &str = "actix_flask_session_saves_total";
const ERRORS: &str = "actix_flask_session_store_errors_total";
const CALLS: &str = "actix_flask_session_store_call_duration_seconds";
const CLEANUPS: &str = "actix_flask_session_cleanup_runs_total";
const CLEANED: &str = "actix_flask_session_cleanup_deleted_total";

/// The metrics recorded since the last [`Metrics::take`]: counters by value, histograms by
/// number of samples (each sample must be a duration: finite, not negative).
struct Metrics {
    snapshotter: Snapshotter,
    seen: BTreeMap<String, u64>,
}

impl Metrics {
    fn new(recorder: &DebuggingRecorder) -> Self {
        Metrics {
            snapshotter: recorder.snapshotter(),
            seen: BTreeMap::new(),
        }
    }

    /// Adds what was recorded since the last call (a snapshot resets the recorder).
    fn poll(&mut self) {
        for (key, _, _, value) in self.snapshotter.snapshot().into_vec() {
            let (_, key) = key.into_parts();
            let mut labels: Vec<String> = key
                .labels()
                .map(|l| format!("{}={}", l.key(), l.value()))
                .collect();
            labels.sort();
            let name = format!("{}{{{}}}", key.name(), labels.join(","));
            let n = match value {
                DebugValue::Counter(n) => n,
                DebugValue::Histogram(samples) => {
                    for s in &samples {
                        assert!(s.is_finite() && **s >= 0.0, "{name}: sample {s}");
                    }
                    samples.len() as u64
                }
                DebugValue::Gauge(_) => panic!("no gauges are emitted: {name}"),
            };
            if n > 0 {
                *self.seen.entry(name).or_default() += n;
            }
        }
    }

    /// Everything recorded since the last `take`.
    fn take(&mut self) -> BTreeMap<String, u64> {
        self.poll();
        std::mem::take(&mut self.seen)
    }
}

/// One expected series: name, labels, count.
type Series = (&'static str, Vec<(&'static str, &'static str)>, u64);

/// `name{label=value,...}` (labels in alphabetical order) => count.
fn series(entries: Vec<Series>) -> BTreeMap<String, u64> {
    entries
        .into_iter()
        .map(|(name, labels, n)| {
            let mut labels: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
            labels.sort();
            (format!("{name}{{{}}}", labels.join(",")), n)
        })
        .collect()
}

fn load(outcome: &'static str) -> Series {
    (LOADS, vec![("outcome", outcome)], 1)
}

fn save(outcome: &'static str) -> Series {
    (SAVES, vec![("outcome", outcome)], 1)
}

/// One call of the cachelib store.
fn store_call(operation: &'static str, outcome: &'static str) -> Series {
    (
        CALLS,
        vec![
            ("backend", "cachelib"),
            ("operation", operation),
            ("outcome", outcome),
        ],
        1,
    )
}

async fn get(session: ServerSideSession) -> actix_web::Result<String> {
    Ok(session.get::<String>("v")?.unwrap_or_default())
}

async fn set(
    session: ServerSideSession,
    value: web::Path<String>,
) -> actix_web::Result<&'static str> {
    session.insert("v", value.into_inner())?;
    Ok("set")
}

async fn regenerate(session: ServerSideSession) -> actix_web::Result<&'static str> {
    session.regenerate()?;
    Ok("regenerated")
}

async fn logout(session: ServerSideSession) -> &'static str {
    session.clear();
    "bye"
}

/// Changes the session while another "request" deletes its entry: the save finds it gone.
async fn lose_race(
    session: ServerSideSession,
    app: web::Data<Session>,
) -> actix_web::Result<&'static str> {
    session.insert("v", "late")?;
    let key = app.interface().storage_key(&session.sid());
    app.interface()
        .store()
        .delete(&key)
        .await
        .map_err(actix_web::error::ErrorInternalServerError)?;
    Ok("lost")
}

fn app_of(
    session: Session,
) -> App<
    impl actix_web::dev::ServiceFactory<
        actix_web::dev::ServiceRequest,
        Config = (),
        Response = ServiceResponse<actix_web::body::EitherBody<actix_web::body::BoxBody>>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    session.init_app(
        App::new()
            .app_data(web::Data::new(session.clone()))
            .route("/get", web::get().to(get))
            .route("/set/{v}", web::post().to(set))
            .route("/regenerate", web::post().to(regenerate))
            .route("/logout", web::post().to(logout))
            .route("/lose-race", web::post().to(lose_race))
            .route(
                "/hello",
                web::get().to(|| async { HttpResponse::Ok().body("hello") }),
            ),
    )
}

fn signed_config() -> SessionConfig {
    let mut config = SessionConfig::default();
    config.use_signer = true;
    config.secret_key = Some("metrics test secret".to_owned());
    config
}

/// The `session=...` pair of a response's `Set-Cookie`.
fn cookie_of(res: &ServiceResponse<impl actix_web::body::MessageBody>) -> String {
    let set = res
        .headers()
        .get(header::SET_COOKIE)
        .expect("a Set-Cookie")
        .to_str()
        .expect("ASCII");
    set.split(';').next().expect("name=value").to_owned()
}

async fn send<S, B>(app: &S, method: &str, uri: &str, cookie: Option<&str>) -> ServiceResponse<B>
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
{
    let mut req = match method {
        "POST" => test::TestRequest::post(),
        _ => test::TestRequest::get(),
    }
    .uri(uri);
    if let Some(cookie) = cookie {
        req = req.insert_header((header::COOKIE, cookie.to_owned()));
    }
    test::call_service(app, req.to_request()).await
}

#[actix_web::test]
async fn every_load_and_save_outcome_is_counted_once() {
    let recorder = DebuggingRecorder::new();
    let _local = metrics::set_default_local_recorder(&recorder);
    let mut metrics = Metrics::new(&recorder);
    let session = Session::new(
        ServerSideSessionInterface::new(CacheLibStore::new(SimpleCache::new(100)), signed_config())
            .unwrap(),
    );
    let app = test::init_service(app_of(session.clone())).await;
    metrics.take();

    // A route without the session: nothing.
    assert_eq!(send(&app, "GET", "/hello", None).await.status(), 200);
    assert_eq!(metrics.take(), BTreeMap::new());

    // No cookie, nothing written: fresh, unchanged, no store call.
    assert_eq!(send(&app, "GET", "/get", None).await.status(), 200);
    assert_eq!(
        metrics.take(),
        series(vec![load("fresh"), save("unchanged")])
    );

    // A new session is stored.
    let res = send(&app, "POST", "/set/a", None).await;
    assert_eq!(res.status(), 200);
    let cookie = cookie_of(&res);
    assert_eq!(
        metrics.take(),
        series(vec![
            load("fresh"),
            save("created"),
            store_call("create", "created")
        ])
    );

    // Read back (refreshed in the same call): hit, unchanged.
    assert_eq!(send(&app, "GET", "/get", Some(&cookie)).await.status(), 200);
    assert_eq!(
        metrics.take(),
        series(vec![
            load("hit"),
            save("unchanged"),
            store_call("load", "hit")
        ])
    );

    // Changed: updated.
    assert_eq!(
        send(&app, "POST", "/set/b", Some(&cookie)).await.status(),
        200
    );
    assert_eq!(
        metrics.take(),
        series(vec![
            load("hit"),
            save("updated"),
            store_call("load", "hit"),
            store_call("update", "updated")
        ])
    );

    // Moved to a new id.
    let res = send(&app, "POST", "/regenerate", Some(&cookie)).await;
    assert_eq!(res.status(), 200);
    let new_cookie = cookie_of(&res);
    assert_ne!(new_cookie, cookie);
    assert_eq!(
        metrics.take(),
        series(vec![
            load("hit"),
            save("regenerated"),
            store_call("load", "hit"),
            store_call("rename", "moved")
        ])
    );

    // The old id is gone: miss (a well-formed, correctly signed cookie).
    assert_eq!(send(&app, "GET", "/get", Some(&cookie)).await.status(), 200);
    assert_eq!(
        metrics.take(),
        series(vec![
            load("miss"),
            save("unchanged"),
            store_call("load", "miss")
        ])
    );

    // A forged signature and a malformed cookie never reach the store.
    // The signature's first character changed (its last one may only hold padding bits).
    let dot = new_cookie.find('.').expect("a signed cookie") + 1;
    let flipped = if new_cookie[dot..].starts_with('A') {
        "B"
    } else {
        "A"
    };
    let forged = format!("{}{flipped}{}", &new_cookie[..dot], &new_cookie[dot + 1..]);
    assert_eq!(send(&app, "GET", "/get", Some(&forged)).await.status(), 200);
    assert_eq!(
        send(&app, "GET", "/get", Some("session=not-a-session-id"))
            .await
            .status(),
        200
    );
    assert_eq!(
        metrics.take(),
        series(vec![
            (LOADS, vec![("outcome", "bad_cookie")], 2),
            (SAVES, vec![("outcome", "unchanged")], 2)
        ])
    );

    // Changed while another request deleted the entry: the change is dropped.
    assert_eq!(
        send(&app, "POST", "/lose-race", Some(&new_cookie))
            .await
            .status(),
        200
    );
    assert_eq!(
        metrics.take(),
        series(vec![
            load("hit"),
            save("gone"),
            store_call("load", "hit"),
            store_call("delete", "ok"),
            store_call("update", "gone"),
        ])
    );

    // Log in again, then log out: deleted.
    let res = send(&app, "POST", "/set/c", None).await;
    let cookie = cookie_of(&res);
    metrics.take();
    assert_eq!(
        send(&app, "POST", "/logout", Some(&cookie)).await.status(),
        200
    );
    assert_eq!(
        metrics.take(),
        series(vec![
            load("hit"),
            save("deleted"),
            store_call("load", "hit"),
            store_call("delete", "ok")
        ])
    );

    // An entry that is not a session: corrupt, deleted, a fresh session.
    let res = send(&app, "POST", "/set/d", None).await;
    let cookie = cookie_of(&res);
    let sid = cookie
        .trim_start_matches("session=")
        .split('.')
        .next()
        .unwrap();
    let store = session.interface().store();
    let key = session.interface().storage_key(sid);
    store
        .update(&key, b"\xc1 not msgpack", Duration::from_secs(60))
        .await
        .unwrap();
    metrics.take();
    assert_eq!(send(&app, "GET", "/get", Some(&cookie)).await.status(), 200);
    assert_eq!(
        metrics.take(),
        series(vec![
            load("corrupt"),
            save("unchanged"),
            store_call("load", "hit"),
            store_call("delete", "ok")
        ])
    );
}

/// A store whose server is unreachable for reads and refuses writes.
#[derive(Debug)]
struct Failing;

fn refused() -> StoreError {
    StoreError::unavailable(
        "failing",
        std::io::Error::from(std::io::ErrorKind::ConnectionRefused),
    )
}

#[async_trait::async_trait]
impl SessionStore for Failing {
    async fn load(&self, key: &str, _: Option<Duration>) -> Result<Option<Vec<u8>>, StoreError> {
        if key.ends_with("BadDataBadDataBadDataBadDataBadDataBadDataA") {
            return Err(StoreError::BadData {
                backend: "failing",
                message: "a list".to_owned(),
            });
        }
        Err(refused())
    }
    async fn create(&self, _: &str, _: &[u8], _: Duration) -> Result<bool, StoreError> {
        Err(StoreError::backend(
            "failing",
            std::io::Error::other("read-only"),
        ))
    }
    async fn update(&self, _: &str, _: &[u8], _: Duration) -> Result<bool, StoreError> {
        Err(refused())
    }
    async fn delete(&self, _: &str) -> Result<(), StoreError> {
        Ok(())
    }
    fn name(&self) -> &'static str {
        "failing"
    }
}

fn failing(operation: &'static str, outcome: &'static str) -> Series {
    (
        CALLS,
        vec![
            ("backend", "failing"),
            ("operation", operation),
            ("outcome", outcome),
        ],
        1,
    )
}

fn error(operation: &'static str, kind: &'static str) -> Series {
    (
        ERRORS,
        vec![
            ("backend", "failing"),
            ("operation", operation),
            ("kind", kind),
        ],
        1,
    )
}

#[actix_web::test]
async fn store_errors_are_counted_by_kind() {
    let recorder = DebuggingRecorder::new();
    let _local = metrics::set_default_local_recorder(&recorder);
    let mut metrics = Metrics::new(&recorder);
    let session =
        Session::new(ServerSideSessionInterface::new(Failing, SessionConfig::default()).unwrap());
    let app = test::init_service(app_of(session.clone())).await;
    metrics.take();

    // An outage on load: 503, no save.
    let cookie = "session=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";
    assert_eq!(send(&app, "GET", "/get", Some(cookie)).await.status(), 503);
    assert_eq!(
        metrics.take(),
        series(vec![
            load("error"),
            failing("load", "error"),
            error("load", "outage")
        ])
    );

    // A failed create: 500.
    assert_eq!(send(&app, "POST", "/set/a", None).await.status(), 500);
    assert_eq!(
        metrics.take(),
        series(vec![
            load("fresh"),
            save("error"),
            failing("create", "error"),
            error("create", "other")
        ])
    );

    // Something that is not session data: counted as bad data, and the request goes on
    // with a fresh session.
    let cookie = "session=BadDataBadDataBadDataBadDataBadDataBadDataA";
    assert_eq!(send(&app, "GET", "/get", Some(cookie)).await.status(), 200);
    assert_eq!(
        metrics.take(),
        series(vec![
            load("corrupt"),
            save("unchanged"),
            failing("load", "error"),
            error("load", "bad_data"),
            failing("delete", "ok"),
        ])
    );
}

#[actix_web::test]
async fn cleanups_count_runs_and_deleted_sessions() {
    let recorder = DebuggingRecorder::new();
    let _local = metrics::set_default_local_recorder(&recorder);
    let mut metrics = Metrics::new(&recorder);
    let mut config = SessionConfig::default();
    config.cleanup_n_requests = Some(2);
    let session = Session::new(
        ServerSideSessionInterface::new(CacheLibStore::new(SimpleCache::new(100)), config).unwrap(),
    );
    let app = test::init_service(app_of(session.clone())).await;
    let store = session.interface().store();
    for i in 0..3 {
        let key = format!("session:expiring{i}");
        assert!(
            store
                .create(&key, b"\x80", Duration::from_millis(1))
                .await
                .unwrap()
        );
    }
    // Waits for the entries' expiry (a deadline in the store, nothing to poll).
    actix_web::rt::time::sleep(Duration::from_millis(5)).await;
    metrics.take();

    // Manual: 3 expired entries deleted.
    assert_eq!(session.interface().cleanup().await.unwrap(), 3);
    assert_eq!(
        metrics.take(),
        series(vec![
            (CLEANUPS, vec![("trigger", "manual"), ("outcome", "ok")], 1),
            (CLEANED, vec![("trigger", "manual")], 3),
            store_call("delete_expired", "ok"),
        ])
    );

    // Background: the second session-using request starts one (nothing left to delete:
    // the deleted counter gets 0, which the snapshot does not list).
    assert_eq!(send(&app, "GET", "/get", None).await.status(), 200);
    assert_eq!(send(&app, "GET", "/get", None).await.status(), 200);
    let mut seen = BTreeMap::new();
    for _ in 0..1000 {
        metrics.poll();
        if metrics.seen.keys().any(|k| k.starts_with(CLEANUPS)) {
            seen = metrics.take();
            break;
        }
        actix_web::rt::task::yield_now().await;
    }
    assert_eq!(
        seen,
        series(vec![
            (LOADS, vec![("outcome", "fresh")], 2),
            (SAVES, vec![("outcome", "unchanged")], 2),
            (
                CLEANUPS,
                vec![("trigger", "background"), ("outcome", "ok")],
                1
            ),
            store_call("delete_expired", "ok"),
        ])
    );
}

#[actix_web::test]
async fn health_reads_a_key_no_session_can_have() {
    let recorder = DebuggingRecorder::new();
    let _local = metrics::set_default_local_recorder(&recorder);
    let mut metrics = Metrics::new(&recorder);
    let ok = Session::new(
        ServerSideSessionInterface::new(
            CacheLibStore::new(SimpleCache::new(10)),
            SessionConfig::default(),
        )
        .unwrap(),
    );
    let health = ok.health().await;
    assert!(health.answers);
    assert_eq!(health.backend, "cachelib");
    assert_eq!(health.error, None);
    assert_eq!(metrics.take(), series(vec![store_call("load", "miss")]));

    let down =
        Session::new(ServerSideSessionInterface::new(Failing, SessionConfig::default()).unwrap());
    let health = down.health().await;
    assert!(!health.answers);
    assert_eq!(health.backend, "failing");
    assert_eq!(
        health.error.as_deref(),
        Some("the failing session store is unavailable\n\nCaused by:\n    connection refused")
    );
    assert_eq!(
        metrics.take(),
        series(vec![failing("load", "error"), error("load", "outage")])
    );
}
