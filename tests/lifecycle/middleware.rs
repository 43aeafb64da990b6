//! Lifecycle behaviour that does not depend on a particular store: error answers, scoped
//! middleware, `Vary` merging, the background cleanup counter.

use std::time::{Duration, Instant};

use actix_flask_session::testing::{Op, RecordingStore};
use actix_flask_session::{
    ServerSideSession, ServerSideSessionInterface, Session, SessionConfig, SessionStore,
    StoreError, backends::filesystem::FileSystemSessionInterface,
};
use actix_web::{App, HttpResponse, http::header, test, web};

/// A store whose server is gone: every call fails as an outage would. (Real outages are
/// tested per backend against real servers; this pins the HTTP answer.)
#[derive(Debug)]
struct Offline;

fn refused() -> StoreError {
    StoreError::unavailable(
        "offline",
        std::io::Error::from(std::io::ErrorKind::ConnectionRefused),
    )
}

#[async_trait::async_trait]
impl SessionStore for Offline {
    async fn load(&self, _: &str, _: Option<Duration>) -> Result<Option<Vec<u8>>, StoreError> {
        Err(refused())
    }
    async fn create(&self, _: &str, _: &[u8], _: Duration) -> Result<bool, StoreError> {
        Err(refused())
    }
    async fn update(&self, _: &str, _: &[u8], _: Duration) -> Result<bool, StoreError> {
        Err(refused())
    }
    async fn delete(&self, _: &str) -> Result<(), StoreError> {
        Err(refused())
    }
}

async fn get(s: ServerSideSession) -> actix_web::Result<String> {
    Ok(s.get::<String>("v")?.unwrap_or_default())
}

async fn set(s: ServerSideSession) -> actix_web::Result<&'static str> {
    s.insert("v", "x")?;
    Ok("set")
}

fn sid_cookie() -> (header::HeaderName, String) {
    (
        header::COOKIE,
        "session=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8".to_owned(),
    )
}

#[actix_web::test]
async fn store_outage_is_an_opaque_503_and_spares_other_routes() {
    let session =
        Session::new(ServerSideSessionInterface::new(Offline, SessionConfig::default()).unwrap());
    let app = test::init_service(
        session.init_app(
            App::new()
                .route("/get", web::get().to(get))
                .route("/set", web::post().to(set))
                .route("/hello", web::get().to(|| async { "hello" })),
        ),
    )
    .await;
    // Loading fails.
    let res = test::call_service(
        &app,
        test::TestRequest::get()
            .uri("/get")
            .insert_header(sid_cookie())
            .to_request(),
    )
    .await;
    assert_eq!(res.status(), 503);
    assert!(res.headers().get(header::SET_COOKIE).is_none());
    assert_eq!(test::read_body(res).await, "Service Unavailable");
    // Saving fails after the handler ran: the response is replaced.
    let res = test::call_service(&app, test::TestRequest::post().uri("/set").to_request()).await;
    assert_eq!(res.status(), 503);
    assert!(res.headers().get(header::SET_COOKIE).is_none());
    assert_eq!(test::read_body(res).await, "Service Unavailable");
    // A route that does not use the session is untouched, cookie or not.
    let res = test::call_service(
        &app,
        test::TestRequest::get()
            .uri("/hello")
            .insert_header(sid_cookie())
            .to_request(),
    )
    .await;
    assert_eq!(res.status(), 200);
    assert_eq!(test::read_body(res).await, "hello");
}

#[actix_web::test]
async fn extractor_without_middleware_is_a_500() {
    let app = test::init_service(App::new().route("/get", web::get().to(get))).await;
    let res = test::call_service(&app, test::TestRequest::get().uri("/get").to_request()).await;
    assert_eq!(res.status(), 500);
    assert_eq!(test::read_body(res).await, "Internal Server Error");
}

fn filesystem_store() -> FileSystemSessionInterface {
    FileSystemSessionInterface::new(tempfile::tempdir().unwrap().keep(), 0, 0o600).unwrap()
}

#[actix_web::test]
async fn middleware_on_a_scope_only() {
    let session = Session::new(
        ServerSideSessionInterface::new(filesystem_store(), SessionConfig::default()).unwrap(),
    );
    let app = test::init_service(
        App::new()
            .service(
                web::scope("/app")
                    .wrap(session.middleware())
                    .route("/set", web::post().to(set)),
            )
            .route("/other", web::post().to(set)),
    )
    .await;
    let res =
        test::call_service(&app, test::TestRequest::post().uri("/app/set").to_request()).await;
    assert_eq!(res.status(), 200);
    assert!(res.headers().get(header::SET_COOKIE).is_some());
    let res = test::call_service(&app, test::TestRequest::post().uri("/other").to_request()).await;
    assert_eq!(res.status(), 500);
}

#[actix_web::test]
async fn vary_cookie_is_merged_into_an_existing_vary() {
    let session = Session::new(
        ServerSideSessionInterface::new(filesystem_store(), SessionConfig::default()).unwrap(),
    );
    let app = test::init_service(session.init_app(App::new().route(
        "/",
        web::get().to(|s: ServerSideSession| async move {
            let _ = s.contains_key("x");
            HttpResponse::Ok()
                .insert_header((header::VARY, "Accept-Encoding"))
                .finish()
        }),
    )))
    .await;
    let res = test::call_service(&app, test::TestRequest::get().uri("/").to_request()).await;
    let vary: Vec<_> = res
        .headers()
        .get_all(header::VARY)
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    assert_eq!(vary, vec!["Accept-Encoding, Cookie"]);
}

/// The filesystem store, counting finished `delete_expired` calls.
#[derive(Debug)]
struct CountingCleanups {
    inner: FileSystemSessionInterface,
    done: std::sync::atomic::AtomicUsize,
}

#[async_trait::async_trait]
impl SessionStore for CountingCleanups {
    async fn load(&self, k: &str, r: Option<Duration>) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner.load(k, r).await
    }
    async fn create(&self, k: &str, v: &[u8], t: Duration) -> Result<bool, StoreError> {
        self.inner.create(k, v, t).await
    }
    async fn update(&self, k: &str, v: &[u8], t: Duration) -> Result<bool, StoreError> {
        self.inner.update(k, v, t).await
    }
    async fn delete(&self, k: &str) -> Result<(), StoreError> {
        self.inner.delete(k).await
    }
    async fn delete_expired(&self) -> Result<u64, StoreError> {
        let result = self.inner.delete_expired().await;
        self.done.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        result
    }
    fn has_native_ttl(&self) -> bool {
        self.inner.has_native_ttl()
    }
}

/// A handler argument and a second extraction in the same request (say, a custom
/// extractor built on `ServerSideSession`) share one session and one store load.
#[actix_web::test]
async fn extractions_in_one_request_share_one_load() {
    async fn two(a: ServerSideSession, b: ServerSideSession) -> actix_web::Result<String> {
        a.insert("n", 7)?;
        let seen: Option<i64> = b.get("n")?;
        Ok(format!("{seen:?} {}", a.sid() == b.sid()))
    }
    let store = std::sync::Arc::new(RecordingStore::new(filesystem_store()));
    let interface =
        ServerSideSessionInterface::from_arc(store.clone(), SessionConfig::default()).unwrap();
    let app = test::init_service(
        Session::new(interface).init_app(App::new().route("/two", web::get().to(two))),
    )
    .await;
    let res = test::call_service(&app, test::TestRequest::get().uri("/two").to_request()).await;
    assert_eq!(res.status(), 200);
    let set_cookie = res
        .headers()
        .get(header::SET_COOKIE)
        .expect("session cookie");
    let pair = set_cookie
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let sid = pair
        .strip_prefix("session=")
        .expect("session cookie")
        .to_owned();
    assert_eq!(test::read_body(res).await, "Some(7) true");
    let key = format!("session:{sid}");
    // A new session: no load (no cookie), one create.
    assert_eq!(
        store.take_ops(),
        vec![Op::Create {
            key: key.clone(),
            created: true
        }]
    );
    let res = test::call_service(
        &app,
        test::TestRequest::get()
            .uri("/two")
            .insert_header((header::COOKIE, pair))
            .to_request(),
    )
    .await;
    assert_eq!(test::read_body(res).await, "Some(7) true");
    // Both extractions of the second request awaited one load; nothing changed, so no write.
    assert_eq!(
        store.take_ops(),
        vec![Op::Load {
            key,
            refresh: Some(SessionConfig::default().lifetime)
        }]
    );
}

#[actix_web::test]
async fn cleanup_runs_in_the_background_every_n_session_requests() {
    use std::sync::atomic::Ordering;
    let counting = CountingCleanups {
        inner: filesystem_store(),
        done: Default::default(),
    };
    let store = std::sync::Arc::new(RecordingStore::new(counting));
    assert!(!store.has_native_ttl());
    let mut config = SessionConfig::default();
    config.cleanup_n_requests = Some(3);
    let interface = ServerSideSessionInterface::from_arc(store.clone(), config).unwrap();
    let app = test::init_service(
        Session::new(interface).init_app(
            App::new()
                .route("/get", web::get().to(get))
                .route("/hello", web::get().to(|| async { "hi" })),
        ),
    )
    .await;
    let mut started = 0;
    for round in 1..=7 {
        // Requests that do not use the session do not count.
        test::call_service(&app, test::TestRequest::get().uri("/hello").to_request()).await;
        test::call_service(&app, test::TestRequest::get().uri("/get").to_request()).await;
        let expected = round / 3;
        // The decision is taken in the request; the task itself runs in the background.
        // Wait (bounded) until the expected cleanups have started and finished.
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            started += store
                .take_ops()
                .iter()
                .filter(|op| **op == Op::DeleteExpired)
                .count();
            let done = store.inner().done.load(Ordering::SeqCst);
            if (started >= expected && done >= started) || Instant::now() > deadline {
                break;
            }
            actix_web::rt::time::sleep(Duration::from_millis(5)).await;
        }
        assert_eq!(started, expected, "after {round} session requests");
        assert_eq!(store.inner().done.load(Ordering::SeqCst), expected);
    }
}

#[actix_web::test]
async fn session_from_figment_builds_the_configured_store() {
    use figment::{
        Figment,
        providers::{Format, Toml},
    };
    let dir = tempfile::tempdir().unwrap();
    let toml = format!(
        "SESSION_TYPE = \"FileSystem\"\nSESSION_FILE_DIR = {:?}\nPERMANENT_SESSION_LIFETIME = \"1h\"\n",
        dir.path().display().to_string()
    );
    let session = Session::from_figment(&Figment::from(Toml::string(&toml)))
        .await
        .unwrap();
    assert_eq!(session.interface().store().name(), "filesystem");
    assert_eq!(
        session.interface().config().lifetime,
        Duration::from_secs(3600)
    );
    let app =
        test::init_service(session.init_app(App::new().route("/set", web::post().to(set)))).await;
    let res = test::call_service(&app, test::TestRequest::post().uri("/set").to_request()).await;
    assert_eq!(res.status(), 200);
    let sessions = std::fs::read_dir(dir.path())
        .unwrap()
        .filter(|e| {
            !e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with('.')
        })
        .count();
    assert_eq!(sessions, 1);

    let bad = Figment::from(Toml::string(
        "SESSION_TYPE = \"filesystem\"\nSESSION_TPYE = \"redis\"\n",
    ));
    let error = Session::from_figment(&bad).await.unwrap_err().to_string();
    assert!(
        error.contains("SESSION_TPYE") && error.contains("did you mean SESSION_TYPE"),
        "{error}"
    );
}

/// A store whose `load` fails with the error `kind` makes (and that records deletes).
#[derive(Debug)]
struct LoadFails {
    kind: &'static str,
    deleted: std::sync::Mutex<Vec<String>>,
}

#[async_trait::async_trait]
impl SessionStore for LoadFails {
    async fn load(&self, _: &str, _: Option<Duration>) -> Result<Option<Vec<u8>>, StoreError> {
        Err(match self.kind {
            "bad-data" => StoreError::BadData {
                backend: "test",
                message: "a list, not a session".to_owned(),
            },
            "backend" => StoreError::backend("test", "ERR something odd"),
            _ => StoreError::InvalidInput {
                backend: "test",
                message: "odd".to_owned(),
            },
        })
    }
    async fn create(&self, _: &str, _: &[u8], _: Duration) -> Result<bool, StoreError> {
        Ok(true)
    }
    async fn update(&self, _: &str, _: &[u8], _: Duration) -> Result<bool, StoreError> {
        Ok(true)
    }
    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.deleted.lock().unwrap().push(key.to_owned());
        Ok(())
    }
}

/// Data that is not a session is a miss (deleted, fresh session); an error that is
/// neither an outage nor bad data is an opaque 500.
#[actix_web::test]
async fn bad_data_is_a_fresh_session_and_other_store_errors_are_500() {
    for (kind, status, body) in [
        ("bad-data", 200, ""),
        ("backend", 500, "Internal Server Error"),
        ("invalid-input", 500, "Internal Server Error"),
    ] {
        let store = std::sync::Arc::new(LoadFails {
            kind,
            deleted: Default::default(),
        });
        let interface =
            ServerSideSessionInterface::from_arc(store.clone(), SessionConfig::default()).unwrap();
        let app = test::init_service(
            Session::new(interface).init_app(App::new().route("/get", web::get().to(get))),
        )
        .await;
        let res = test::call_service(
            &app,
            test::TestRequest::get()
                .uri("/get")
                .insert_header(sid_cookie())
                .to_request(),
        )
        .await;
        assert_eq!(res.status(), status, "{kind}");
        assert!(res.headers().get(header::SET_COOKIE).is_none(), "{kind}");
        assert_eq!(test::read_body(res).await, body, "{kind}");
        let expected: &[&str] = if kind == "bad-data" {
            &["session:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"]
        } else {
            &[]
        };
        assert_eq!(*store.deleted.lock().unwrap(), expected, "{kind}");
    }
}

#[actix_web::test]
async fn session_taken_in_a_wrap_fn_call_is_saved() {
    use actix_web::FromRequest;
    use actix_web::dev::Service;
    let store = std::sync::Arc::new(RecordingStore::new(filesystem_store()));
    let interface =
        ServerSideSessionInterface::from_arc(store.clone(), SessionConfig::default()).unwrap();
    // The extraction starts in the closure itself (the inner service's `call`, after
    // routing), not in a future: the middleware's interface must be current there too.
    let app = test::init_service(
        Session::new(interface).init_app(
            App::new().service(
                web::resource("/hello")
                    .wrap_fn(|req, srv| {
                        let session = ServerSideSession::extract(req.request());
                        let response = srv.call(req);
                        async move {
                            session.await?.insert("seen", true)?;
                            response.await
                        }
                    })
                    .route(web::get().to(|| async { "hello" })),
            ),
        ),
    )
    .await;
    let res = test::call_service(&app, test::TestRequest::get().uri("/hello").to_request()).await;
    assert_eq!(res.status(), 200);
    let cookie = res
        .headers()
        .get(header::SET_COOKIE)
        .expect("session cookie")
        .to_str()
        .unwrap()
        .to_owned();
    let sid = cookie
        .strip_prefix("session=")
        .and_then(|rest| rest.split(';').next())
        .expect("session cookie");
    assert_eq!(
        store.take_ops(),
        vec![Op::Create {
            key: format!("session:{sid}"),
            created: true
        }]
    );
}

#[actix_web::test]
async fn routes_that_do_not_take_the_session_touch_nothing() {
    let store = std::sync::Arc::new(RecordingStore::new(filesystem_store()));
    let interface =
        ServerSideSessionInterface::from_arc(store.clone(), SessionConfig::default()).unwrap();
    let app = test::init_service(
        Session::new(interface).init_app(
            App::new()
                .route("/hello", web::get().to(|| async { "hello" }))
                .route("/get", web::get().to(get)),
        ),
    )
    .await;
    for _ in 0..3 {
        let res = test::call_service(
            &app,
            test::TestRequest::get()
                .uri("/hello")
                .insert_header(sid_cookie())
                .to_request(),
        )
        .await;
        assert_eq!(res.status(), 200);
        assert!(res.headers().get(header::SET_COOKIE).is_none());
        assert!(res.headers().get(header::VARY).is_none());
        assert_eq!(test::read_body(res).await, "hello");
    }
    assert_eq!(store.take_ops(), vec![]);
    // The next request that takes it still finds the middleware's store.
    let res = test::call_service(
        &app,
        test::TestRequest::get()
            .uri("/get")
            .insert_header(sid_cookie())
            .to_request(),
    )
    .await;
    assert_eq!(res.status(), 200);
    assert_eq!(store.take_ops().len(), 1);
}
