//! The codec's limits through the whole lifecycle, on the in-memory cachelib store: nesting
//! at the limit of each format survives a store-and-read round trip and one level more is
//! refused at `insert`; `SESSION_MAX_SIZE` is exact at the call and on load; sessions large
//! enough to be decoded and encoded off the worker round-trip.

use std::sync::Arc;
use std::time::Duration;

use crate::backends::cachelib::{CacheLibSessionInterface, SimpleCache};
use crate::serialization::{self, MAX_DEPTH};
use crate::{
    SerializationError, SerializationFormat, ServerSideSession, ServerSideSessionInterface,
    Session, SessionConfig, SessionError, SessionStore, Value,
};
use actix_web::{App, HttpResponse, http::header, test, web};

const SID: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";
const FORMATS: [SerializationFormat; 2] = [SerializationFormat::MsgPack, SerializationFormat::Json];

fn key() -> String {
    format!("session:{SID}")
}

fn cookie() -> (header::HeaderName, String) {
    (header::COOKIE, format!("session={SID}"))
}

/// The store and an interface over it.
fn setup(change: impl FnOnce(&mut SessionConfig)) -> (Arc<dyn SessionStore>, Session) {
    let store: Arc<dyn SessionStore> =
        Arc::new(CacheLibSessionInterface::new(SimpleCache::new(500)));
    let mut config = SessionConfig::default();
    change(&mut config);
    let interface = ServerSideSessionInterface::from_arc(Arc::clone(&store), config).unwrap();
    (store, Session::new(interface))
}

async fn stored(store: &Arc<dyn SessionStore>) -> Option<Vec<u8>> {
    store.load(&key(), None).await.unwrap()
}

/// Writes a session straight into the store under the test cookie's id.
async fn put(store: &Arc<dyn SessionStore>, bytes: &[u8]) {
    store.delete(&key()).await.unwrap();
    assert!(
        store
            .create(&key(), bytes, Duration::from_secs(3600))
            .await
            .unwrap()
    );
}

/// `depth` arrays around `leaf`.
fn nested(depth: usize, leaf: Value) -> Value {
    (0..depth).fold(leaf, |v, _| Value::Array(vec![v]))
}

/// The same nesting as a serde value, to go through `insert::<T>`.
fn nested_serde(depth: usize) -> serde_json::Value {
    (0..depth).fold(serde_json::Value::from("leaf"), |v, _| {
        serde_json::Value::Array(vec![v])
    })
}

/// The answer a handler gives for an insert: `ok`, or the error's source.
fn outcome(result: Result<(), SessionError>) -> HttpResponse {
    match result {
        Ok(()) => HttpResponse::Ok().body("ok"),
        Err(SessionError::Value { source, .. }) => {
            HttpResponse::BadRequest().body(format!("{source:?}"))
        }
        Err(other) => HttpResponse::InternalServerError().body(other.to_string()),
    }
}

#[actix_web::test]
async fn nesting_at_the_limit_round_trips_and_one_more_level_is_refused_at_insert() {
    for format in FORMATS {
        let limit = MAX_DEPTH;
        let (store, session) = setup(|c| c.serialization_format = format);
        let app = test::init_service(
            session.init_app(
                App::new()
                    .route(
                        "/value/{depth}",
                        web::post().to(
                            |s: ServerSideSession, depth: web::Path<usize>| async move {
                                outcome(s.insert_value("v", nested(*depth, Value::from("leaf"))))
                            },
                        ),
                    )
                    .route(
                        "/serde/{depth}",
                        web::post().to(
                            |s: ServerSideSession, depth: web::Path<usize>| async move {
                                outcome(s.insert("v", nested_serde(*depth)))
                            },
                        ),
                    )
                    .route(
                        "/get",
                        web::get().to(move |s: ServerSideSession| async move {
                            let same = s.get_value("v") == Some(nested(limit, Value::from("leaf")));
                            format!("{same} {}", s.len())
                        }),
                    ),
            ),
        )
        .await;
        for path in ["value", "serde"] {
            put(&store, &serialization::encode(&[], format).unwrap()).await;
            // One past the limit: refused at the call, nothing stored.
            let res = test::call_service(
                &app,
                test::TestRequest::post()
                    .uri(&format!("/{path}/{}", limit + 1))
                    .insert_header(cookie())
                    .to_request(),
            )
            .await;
            assert_eq!(res.status(), 400, "{format} {path}");
            let body = test::read_body(res).await;
            let body = String::from_utf8_lossy(&body);
            assert!(
                body.contains(&format!("deeper than {limit} levels")),
                "{format} {path}: {body}"
            );
            assert_eq!(
                stored(&store).await.unwrap(),
                serialization::encode(&[], format).unwrap()
            );
            // At the limit: stored, and the next request reads it back whole.
            let res = test::call_service(
                &app,
                test::TestRequest::post()
                    .uri(&format!("/{path}/{limit}"))
                    .insert_header(cookie())
                    .to_request(),
            )
            .await;
            assert_eq!(res.status(), 200, "{format} {path}");
            let bytes = stored(&store).await.unwrap();
            assert_eq!(
                serialization::decode(&bytes, format).unwrap(),
                vec![(Value::from("v"), nested(limit, Value::from("leaf")))],
                "{format} {path}"
            );
            let res = test::call_service(
                &app,
                test::TestRequest::get()
                    .uri("/get")
                    .insert_header(cookie())
                    .to_request(),
            )
            .await;
            assert_eq!(test::read_body(res).await, "true 1", "{format} {path}");
        }
    }
}

#[actix_web::test]
async fn stored_nesting_one_past_the_limit_is_a_miss() {
    for format in FORMATS {
        let limit = MAX_DEPTH;
        let (store, session) = setup(|c| c.serialization_format = format);
        let app = test::init_service(session.init_app(App::new().route(
            "/len",
            web::get().to(|s: ServerSideSession| async move { s.len().to_string() }),
        )))
        .await;
        // Written by hand (the encoder refuses it): `{"v": [[...nil...]]}`.
        let bytes = match format {
            SerializationFormat::MsgPack => {
                let mut b = vec![0x81, 0xa1, b'v'];
                b.extend(std::iter::repeat_n(0x91, limit + 1));
                b.push(0xc0);
                b
            }
            SerializationFormat::Json => format!(
                "{{\"v\":{}null{}}}",
                "[".repeat(limit + 1),
                "]".repeat(limit + 1)
            )
            .into_bytes(),
        };
        put(&store, &bytes).await;
        let res = test::call_service(
            &app,
            test::TestRequest::get()
                .uri("/len")
                .insert_header(cookie())
                .to_request(),
        )
        .await;
        assert_eq!(res.status(), 200);
        // A fresh session (`_permanent` only), and the entry is gone.
        assert_eq!(test::read_body(res).await, "1", "{format}");
        assert_eq!(stored(&store).await, None, "{format}");
    }
}

/// The length of the string that makes `{"_permanent": true, "v": "xx..x"}` exactly `size`
/// bytes long.
fn filler_for(size: usize, format: SerializationFormat) -> usize {
    (0..size)
        .find(|&n| {
            let map = [
                (Value::from("_permanent"), Value::Boolean(true)),
                (Value::from("v"), Value::from("x".repeat(n))),
            ];
            serialization::encoded_len(&map, format).unwrap() == size
        })
        .expect("some length fits exactly")
}

#[actix_web::test]
async fn inserts_fail_at_the_call_one_byte_over_the_max_size() {
    const MAX: usize = 2048;
    for format in FORMATS {
        let (store, session) = setup(|c| {
            c.serialization_format = format;
            c.max_size = MAX;
        });
        let app = test::init_service(
            session.init_app(
                App::new()
                    .route(
                        "/set/{key}/{len}",
                        web::post().to(
                            |s: ServerSideSession, path: web::Path<(String, usize)>| async move {
                                let (key, len) = path.into_inner();
                                outcome(s.insert(key, "x".repeat(len)))
                            },
                        ),
                    )
                    .route(
                        // Two changes in one request: the size is tracked through both.
                        "/swap/{len}",
                        web::post().to(|s: ServerSideSession, len: web::Path<usize>| async move {
                            s.remove("v");
                            outcome(s.insert("w", "y".repeat(*len)))
                        }),
                    ),
            ),
        )
        .await;
        let fits = filler_for(MAX, format);
        let call = |uri: String| {
            test::TestRequest::post()
                .uri(&uri)
                .insert_header(cookie())
                .to_request()
        };
        // A new session: exactly at the cap is stored, byte for byte that long.
        let res = test::call_service(&app, call(format!("/set/v/{fits}"))).await;
        assert_eq!(res.status(), 200, "{format}");
        let set_cookie = res
            .headers()
            .get(header::SET_COOKIE)
            .unwrap()
            .to_str()
            .unwrap();
        let sid = set_cookie
            .strip_prefix("session=")
            .and_then(|rest| rest.split(';').next())
            .unwrap()
            .to_owned();
        let new_key = format!("session:{sid}");
        let bytes = store.load(&new_key, None).await.unwrap().unwrap();
        assert_eq!(bytes.len(), MAX, "{format}");
        // One byte more, in a new session: refused at the call.
        let res = test::call_service(&app, call(format!("/set/v/{}", fits + 1))).await;
        assert_eq!(res.status(), 400, "{format}");
        assert_eq!(
            test::read_body(res).await,
            format!("TooLarge {{ size: {}, max: {MAX} }}", MAX + 1)
        );
        // A loaded session at the cap: the size is measured on the first change.
        let stored_at_cap = store.load(&new_key, None).await.unwrap().unwrap();
        put(&store, &stored_at_cap).await;
        let res = test::call_service(&app, call(format!("/set/v/{}", fits + 1))).await;
        assert_eq!(res.status(), 400, "{format}");
        let res = test::call_service(&app, call("/set/w/0".to_owned())).await;
        assert_eq!(res.status(), 400, "{format}: a new key does not fit either");
        assert_eq!(stored(&store).await.unwrap(), stored_at_cap);
        // Removing a key and adding another within one request: the freed room is reused
        // exactly. One byte more is refused (the removal alone is saved: the session is
        // left empty, so its entry is deleted).
        let res = test::call_service(&app, call(format!("/swap/{}", fits + 1))).await;
        assert_eq!(res.status(), 400, "{format}");
        assert_eq!(stored(&store).await, None, "{format}");
        put(&store, &stored_at_cap).await;
        let res = test::call_service(&app, call(format!("/swap/{fits}"))).await;
        assert_eq!(res.status(), 200, "{format}");
        let bytes = stored(&store).await.unwrap();
        assert_eq!(bytes.len(), MAX, "{format}");
        assert_eq!(
            serialization::decode(&bytes, format).unwrap()[1],
            (Value::from("w"), Value::from("y".repeat(fits)))
        );
    }
}

#[actix_web::test]
async fn stored_sessions_over_the_max_size_are_deleted_without_decoding() {
    const MAX: usize = 4096;
    for format in FORMATS {
        let (store, session) = setup(|c| {
            c.serialization_format = format;
            c.max_size = MAX;
        });
        let app = test::init_service(session.init_app(App::new().route(
            "/len",
            web::get().to(|s: ServerSideSession| async move {
                format!(
                    "{} {}",
                    s.len(),
                    s.get::<String>("v").unwrap().map_or(0, |v| v.len())
                )
            }),
        )))
        .await;
        let fits = filler_for(MAX, format);
        for (len, expected) in [(fits, format!("2 {fits}")), (fits + 1, "1 0".to_owned())] {
            let map = [
                (Value::from("_permanent"), Value::Boolean(true)),
                (Value::from("v"), Value::from("x".repeat(len))),
            ];
            let bytes = serialization::encode(&map, format).unwrap();
            put(&store, &bytes).await;
            let res = test::call_service(
                &app,
                test::TestRequest::get()
                    .uri("/len")
                    .insert_header(cookie())
                    .to_request(),
            )
            .await;
            assert_eq!(res.status(), 200);
            assert_eq!(test::read_body(res).await, expected, "{format} {len}");
            let left = stored(&store).await;
            if len == fits {
                assert_eq!(left, Some(bytes), "{format}: kept at the cap");
            } else {
                assert_eq!(left, None, "{format}: deleted one byte over");
            }
        }
    }
}

#[actix_web::test]
async fn large_sessions_round_trip_through_the_blocking_pool() {
    for format in FORMATS {
        let (store, session) = setup(|c| c.serialization_format = format);
        let app = test::init_service(
            session.init_app(
                App::new()
                    .route(
                        "/sum",
                        web::get().to(|s: ServerSideSession| async move {
                            let big = s.get::<std::collections::BTreeMap<String, u64>>("big");
                            let big = big.unwrap().unwrap_or_default();
                            format!(
                                "{} {} {:?}",
                                big.len(),
                                big.values().sum::<u64>(),
                                s.get::<u64>("n").unwrap()
                            )
                        }),
                    )
                    .route(
                        "/n/{n}",
                        web::post().to(|s: ServerSideSession, n: web::Path<u64>| async move {
                            outcome(s.insert("n", *n))
                        }),
                    ),
            ),
        )
        .await;
        // 60 000 entries, about 900 KB in JSON: far above the off-worker threshold.
        let big: Vec<(Value, Value)> = (0..60_000u64)
            .map(|i| (Value::from(format!("k{i}")), Value::from(i)))
            .collect();
        let map = [(Value::from("big"), Value::Map(big))];
        put(&store, &serialization::encode(&map, format).unwrap()).await;
        let get = || {
            test::TestRequest::get()
                .uri("/sum")
                .insert_header(cookie())
                .to_request()
        };
        let res = test::call_service(&app, get()).await;
        assert_eq!(
            test::read_body(res).await,
            "60000 1799970000 None",
            "{format}"
        );
        let res = test::call_service(
            &app,
            test::TestRequest::post()
                .uri("/n/7")
                .insert_header(cookie())
                .to_request(),
        )
        .await;
        assert_eq!(res.status(), 200, "{format}");
        let res = test::call_service(&app, get()).await;
        assert_eq!(
            test::read_body(res).await,
            "60000 1799970000 Some(7)",
            "{format}"
        );
        let mut expected = map.to_vec();
        expected.push((Value::from("n"), Value::from(7)));
        assert_eq!(
            stored(&store).await.unwrap(),
            serialization::encode(&expected, format).unwrap(),
            "{format}"
        );
    }
}

#[actix_web::test]
async fn too_large_names_the_sizes() {
    let e = SerializationError::TooLarge {
        size: 2049,
        max: 2048,
    };
    assert_eq!(
        e.to_string(),
        "the session would take 2049 bytes encoded, over SESSION_MAX_SIZE = 2048 bytes"
    );
}
