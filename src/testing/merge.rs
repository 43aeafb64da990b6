//! The acceptance cases of `SESSION_CONCURRENCY = "merge"` and of the store's
//! compare-and-swap. A store without compare-and-swap passes them by refusing merge mode
//! at startup (the first case checks that refusal; the others then have nothing to run).

use std::sync::Arc;
use std::time::Duration;

use actix_http::Request;
use actix_service::Service;
use actix_web::{App, Error, body::MessageBody, dev::ServiceResponse, test, web};
use rmpv::Value;
use tokio::sync::{Barrier, Notify};

use super::harness::{Harness, Reply, request, send};
use super::recording::Op;
use crate::Session;
use crate::config::{Concurrency, SerializationFormat};
use crate::lifecycle::{ServerSideSession, ServerSideSessionInterface};
use crate::serialization;
use crate::store::{SessionStore, SwapOutcome, Versioned};

/// How many parallel requests the parallel cases send.
const PARALLEL: usize = 16;

/// What the merge routes share: a gate that holds one request after its load, and a
/// barrier that holds [`PARALLEL`] requests until all of them have loaded.
struct Signals {
    entered: Notify,
    release: Notify,
    barrier: Barrier,
}

impl Signals {
    async fn hold(&self) {
        self.entered.notify_one();
        self.release.notified().await;
    }
}

/// A harness in merge mode with its own app; `None` when the store has no
/// compare-and-swap (the refusal is checked by
/// [`merge_mode_needs_compare_and_swap`]).
struct MergeApp<S: SessionStore> {
    h: Harness<S>,
    sync: Arc<Signals>,
}

impl<S: SessionStore> MergeApp<S> {
    fn new(store: S) -> Option<Self> {
        if !store.supports_compare_and_swap() {
            return None;
        }
        let h = Harness::new(store).configure(|c| c.concurrency = Concurrency::Merge);
        Some(MergeApp {
            h,
            sync: Arc::new(Signals {
                entered: Notify::new(),
                release: Notify::new(),
                barrier: Barrier::new(PARALLEL),
            }),
        })
    }

    async fn app(
        &self,
    ) -> impl Service<Request, Response = ServiceResponse<impl MessageBody>, Error = Error> {
        let session = Session::new(self.h.interface());
        test::init_service(
            session.init_app(
                App::new()
                    .app_data(web::Data::from(self.sync.clone()))
                    .configure(routes),
            ),
        )
        .await
    }

    /// Sends `held` (a `/hold/...` route), and once it has loaded its session, `other`;
    /// then lets `held` change the session and save.
    async fn interleave(&self, held: Request, other: Request) -> (Reply, Reply) {
        let app = self.app().await;
        let first = send(&app, held);
        let second = async {
            self.sync.entered.notified().await;
            let reply = send(&app, other).await;
            self.sync.release.notify_one();
            reply
        };
        futures_util::future::join(first, second).await
    }

    /// The stored entries of `sid`, decoded (keys as strings).
    async fn entries(&self, sid: &str) -> Vec<(String, Value)> {
        let Some(bytes) = self.h.raw(sid).await else {
            panic!("no entry for {sid}");
        };
        let map = serialization::decode(&bytes, SerializationFormat::MsgPack)
            .unwrap_or_else(|e| panic!("stored bytes are not a session: {e}"));
        map.into_iter()
            .map(|(k, v)| (k.as_str().unwrap_or("<non-string>").to_owned(), v))
            .collect()
    }

    /// A new session with `a = 1`, `b = "x"`; its id.
    async fn session_ab(&self) -> String {
        let app = self.app().await;
        let reply = send(&app, request("POST", "/m/ab", None)).await;
        let sid = reply
            .cookie("session")
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| panic!("expected a session cookie, got {reply:?}"));
        self.h.store.take_ops();
        sid
    }

    /// The answers of the recorded compare-and-swaps, in order.
    fn swaps(&self) -> Vec<&'static str> {
        self.h
            .store
            .take_ops()
            .into_iter()
            .filter_map(|op| match op {
                Op::Swap { outcome, .. } => Some(outcome),
                _ => None,
            })
            .collect()
    }
}

fn entry(key: &str, value: impl Into<Value>) -> (String, Value) {
    (key.to_owned(), value.into())
}

/// `(_permanent, true)`, `(a, 1)`, `(b, "x")`: the session [`MergeApp::session_ab`] makes.
fn ab() -> Vec<(String, Value)> {
    vec![entry("_permanent", true), entry("a", 1), entry("b", "x")]
}

fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/m/ab", web::post().to(set_ab))
        .route("/m/set/{key}", web::post().to(set_key))
        .route("/m/hold/set/{key}", web::post().to(hold_set_key))
        .route("/m/incr", web::post().to(incr))
        .route("/m/hold/incr", web::post().to(hold_incr))
        .route("/m/hold/drop_a", web::post().to(hold_drop_a))
        .route("/m/hold/clear_flash", web::post().to(hold_clear_flash))
        .route("/m/clear", web::post().to(clear))
        .route("/m/barrier/set/{key}", web::post().to(barrier_set_key))
        .route("/m/barrier/incr", web::post().to(barrier_incr));
}

#[derive(serde::Deserialize)]
struct ValueQuery {
    value: String,
}

async fn set_ab(s: ServerSideSession) -> actix_web::Result<&'static str> {
    s.insert("a", 1)?;
    s.insert("b", "x")?;
    Ok("ok")
}

async fn set_key(
    s: ServerSideSession,
    key: web::Path<String>,
    q: web::Query<ValueQuery>,
) -> actix_web::Result<&'static str> {
    s.insert(key.as_str(), &q.value)?;
    Ok("ok")
}

async fn hold_set_key(
    s: ServerSideSession,
    sync: web::Data<Signals>,
    key: web::Path<String>,
    q: web::Query<ValueQuery>,
) -> actix_web::Result<&'static str> {
    sync.hold().await;
    s.insert(key.as_str(), &q.value)?;
    Ok("ok")
}

fn add_one(n: Option<u64>) -> u64 {
    n.unwrap_or(0) + 1
}

async fn incr(s: ServerSideSession) -> actix_web::Result<String> {
    Ok(s.update_with("n", add_one)?.to_string())
}

async fn hold_incr(s: ServerSideSession, sync: web::Data<Signals>) -> actix_web::Result<String> {
    sync.hold().await;
    Ok(s.update_with("n", add_one)?.to_string())
}

async fn hold_drop_a(s: ServerSideSession, sync: web::Data<Signals>) -> &'static str {
    sync.hold().await;
    s.remove("a");
    s.set_permanent(false);
    "ok"
}

async fn hold_clear_flash(
    s: ServerSideSession,
    sync: web::Data<Signals>,
) -> actix_web::Result<&'static str> {
    sync.hold().await;
    s.clear();
    s.insert("flash", "bye")?;
    Ok("ok")
}

async fn clear(s: ServerSideSession) -> &'static str {
    s.clear();
    "cleared"
}

async fn barrier_set_key(
    s: ServerSideSession,
    sync: web::Data<Signals>,
    key: web::Path<String>,
) -> actix_web::Result<&'static str> {
    sync.barrier.wait().await;
    s.insert(key.as_str(), key.as_str())?;
    Ok("ok")
}

async fn barrier_incr(s: ServerSideSession, sync: web::Data<Signals>) -> actix_web::Result<String> {
    sync.barrier.wait().await;
    Ok(s.update_with("n", add_one)?.to_string())
}

/// Merge mode starts only over a store with compare-and-swap; otherwise startup fails
/// with an error naming `SESSION_CONCURRENCY` and the store.
pub async fn merge_mode_needs_compare_and_swap<S: SessionStore>(store: S) {
    let supported = store.supports_compare_and_swap();
    let name = store.name();
    let h = Harness::new(store);
    let mut config = h.config.clone();
    config.concurrency = Concurrency::Merge;
    let store: Arc<dyn SessionStore> = h.store.clone();
    match (
        ServerSideSessionInterface::from_arc(store, config),
        supported,
    ) {
        (Ok(_), true) => {}
        (Err(error), false) => {
            let message = error.to_string();
            assert!(
                message.contains("SESSION_CONCURRENCY")
                    && message.contains(&format!("the {name} store has no compare-and-swap")),
                "{message}"
            );
        }
        (Ok(_), false) => panic!("merge mode accepted a store without compare-and-swap"),
        (Err(error), true) => panic!("merge mode refused a store with compare-and-swap: {error}"),
    }
}

/// `compare_and_swap` writes only over the expected version, reports the current one
/// otherwise, and never creates an entry.
pub async fn compare_and_swap_contract<S: SessionStore>(store: S) {
    if !store.supports_compare_and_swap() {
        return;
    }
    let h = Harness::new(store);
    let s = h.store.inner();
    let ttl = Duration::from_secs(60);
    let (a, b) = (h.key("cas-a"), h.key("cas-b"));
    let load = |key: String| async move {
        match s.load(&key, None).await {
            Ok(found) => found,
            Err(error) => panic!("load failed: {error}"),
        }
    };
    let swap = |key: String, expected: Versioned, value: &'static [u8]| async move {
        match s.compare_and_swap(&key, &expected, value, ttl).await {
            Ok(outcome) => outcome,
            Err(error) => panic!("compare_and_swap failed: {error}"),
        }
    };
    assert!(s.create(&a, b"1", ttl).await.unwrap_or(false));
    let Ok(Some(v1)) = s.load_versioned(&a, None).await else {
        panic!("load_versioned found nothing");
    };
    assert_eq!(v1.bytes(), b"1");
    assert_eq!(
        swap(a.clone(), v1.clone(), b"2").await,
        SwapOutcome::Swapped
    );
    assert_eq!(load(a.clone()).await.as_deref(), Some(&b"2"[..]));

    let SwapOutcome::Changed(current) = swap(a.clone(), v1, b"3").await else {
        panic!("a stale version swapped");
    };
    assert_eq!(current.bytes(), b"2", "Changed carries the current entry");
    assert_eq!(load(a.clone()).await.as_deref(), Some(&b"2"[..]));
    assert_eq!(swap(a.clone(), current, b"3").await, SwapOutcome::Swapped);
    assert_eq!(load(a.clone()).await.as_deref(), Some(&b"3"[..]));

    // A refreshing load hands out a version that is still current.
    let Ok(Some(v3)) = s.load_versioned(&a, Some(ttl)).await else {
        panic!("load_versioned with refresh found nothing");
    };
    assert_eq!(v3.bytes(), b"3");
    assert_eq!(
        swap(a.clone(), v3.clone(), b"4").await,
        SwapOutcome::Swapped
    );

    // A version built from bytes alone is compared by its bytes.
    let SwapOutcome::Changed(current) = swap(a.clone(), Versioned::new(b"3".to_vec()), b"5").await
    else {
        panic!("stale bytes swapped");
    };
    assert_eq!(current.bytes(), b"4");

    // Deleted meanwhile: nothing is written, nothing is created.
    assert!(s.delete(&a).await.is_ok());
    assert_eq!(swap(a.clone(), v3, b"6").await, SwapOutcome::Gone);
    assert_eq!(load(a).await, None);
    assert_eq!(
        swap(b.clone(), Versioned::new(b"1".to_vec()), b"2").await,
        SwapOutcome::Gone
    );
    assert_eq!(load(b).await, None);
}

/// Unchanged since the load, a save costs one compare-and-swap; a read-only request none.
pub async fn merge_without_conflict_is_one_write<S: SessionStore>(store: S) {
    let Some(m) = MergeApp::new(store) else {
        return;
    };
    let sid = m.session_ab().await;
    let app = m.app().await;
    let r = send(&app, request("POST", "/m/set/c?value=y", Some(&sid))).await;
    assert_eq!(r.status, 200);
    let ops = m.h.store.take_ops();
    let key = m.h.key(&sid);
    assert_eq!(
        ops,
        vec![
            Op::Load {
                key: key.clone(),
                refresh: Some(m.h.config.lifetime)
            },
            Op::Swap {
                key,
                outcome: "swapped"
            }
        ]
    );
    let mut expected = ab();
    expected.push(entry("c", "y"));
    assert_eq!(m.entries(&sid).await, expected);
}

/// Two requests that set different keys both keep their change: the later save merges
/// onto the earlier one (one conflict, one retry).
pub async fn merge_keeps_both_requests_keys<S: SessionStore>(store: S) {
    let Some(m) = MergeApp::new(store) else {
        return;
    };
    let sid = m.session_ab().await;
    let (held, other) = m
        .interleave(
            request("POST", "/m/hold/set/c?value=held", Some(&sid)),
            request("POST", "/m/set/d?value=other", Some(&sid)),
        )
        .await;
    assert_eq!((held.status, other.status), (200, 200));
    assert_eq!(m.swaps(), ["swapped", "changed", "swapped"]);
    let mut expected = ab();
    expected.push(entry("d", "other"));
    expected.push(entry("c", "held"));
    assert_eq!(m.entries(&sid).await, expected);
}

/// Two requests that set the same key: the later save's value stands.
pub async fn merge_same_key_later_save_wins<S: SessionStore>(store: S) {
    let Some(m) = MergeApp::new(store) else {
        return;
    };
    let sid = m.session_ab().await;
    m.interleave(
        request("POST", "/m/hold/set/a?value=later", Some(&sid)),
        request("POST", "/m/set/a?value=earlier", Some(&sid)),
    )
    .await;
    assert_eq!(
        m.entries(&sid).await,
        vec![
            entry("_permanent", true),
            entry("a", "later"),
            entry("b", "x")
        ]
    );
}

/// A removed key and the permanent flag are replayed onto the newer entry.
pub async fn merge_replays_remove_and_permanent<S: SessionStore>(store: S) {
    let Some(m) = MergeApp::new(store) else {
        return;
    };
    let sid = m.session_ab().await;
    let (held, _) = m
        .interleave(
            request("POST", "/m/hold/drop_a", Some(&sid)),
            request("POST", "/m/set/d?value=other", Some(&sid)),
        )
        .await;
    assert_eq!(held.status, 200);
    assert_eq!(
        m.entries(&sid).await,
        vec![
            entry("_permanent", false),
            entry("b", "x"),
            entry("d", "other")
        ]
    );
    // Not permanent any more: a browser-session cookie, without Expires.
    let cookie = held
        .set_cookies
        .first()
        .unwrap_or_else(|| panic!("no cookie in {held:?}"));
    assert!(!cookie.contains("Expires="), "{cookie}");
}

/// `clear()` then a new key: the clear wins over the concurrent request's key too.
pub async fn merge_clear_wins_over_concurrent_keys<S: SessionStore>(store: S) {
    let Some(m) = MergeApp::new(store) else {
        return;
    };
    let sid = m.session_ab().await;
    m.interleave(
        request("POST", "/m/hold/clear_flash", Some(&sid)),
        request("POST", "/m/set/d?value=other", Some(&sid)),
    )
    .await;
    assert_eq!(
        m.entries(&sid).await,
        vec![entry("_permanent", true), entry("flash", "bye")]
    );
}

/// A logout while a request is in flight: that request's merge finds the session gone
/// and writes nothing, so the logout stands.
pub async fn merge_never_recreates_a_deleted_session<S: SessionStore>(store: S) {
    let Some(m) = MergeApp::new(store) else {
        return;
    };
    let sid = m.session_ab().await;
    let (late, logout) = m
        .interleave(
            request("POST", "/m/hold/set/c?value=late", Some(&sid)),
            request("POST", "/m/clear", Some(&sid)),
        )
        .await;
    assert_eq!(logout.status, 200);
    assert_eq!(late.status, 200);
    assert!(late.set_cookies.is_empty(), "{:?}", late.set_cookies);
    assert_eq!(m.swaps(), ["gone"]);
    assert_eq!(m.h.raw(&sid).await, None);
}

/// `update_with` runs its closure again on the value a concurrent request stored.
pub async fn merge_reapplies_update_with<S: SessionStore>(store: S) {
    let Some(m) = MergeApp::new(store) else {
        return;
    };
    let sid = m.session_ab().await;
    let (held, other) = m
        .interleave(
            request("POST", "/m/hold/incr", Some(&sid)),
            request("POST", "/m/incr", Some(&sid)),
        )
        .await;
    // Both saw n absent and answered 1; the held one was re-applied to the stored 1.
    assert_eq!((held.body.as_str(), other.body.as_str()), ("1", "1"));
    let mut expected = ab();
    expected.push(entry("n", 2));
    assert_eq!(m.entries(&sid).await, expected);
}

/// Parallel requests that all loaded the same version, each setting its own key: every
/// key survives, and within one process each save retries at most once.
pub async fn merge_parallel_requests_keep_every_key<S: SessionStore>(store: S) {
    let Some(m) = MergeApp::new(store) else {
        return;
    };
    let sid = m.session_ab().await;
    let app = m.app().await;
    let replies = futures_util::future::join_all((0..PARALLEL).map(|i| {
        send(
            &app,
            request("POST", &format!("/m/barrier/set/k{i:02}"), Some(&sid)),
        )
    }))
    .await;
    assert!(replies.iter().all(|r| r.status == 200), "{replies:?}");
    let swaps = m.swaps();
    let changed = swaps.iter().filter(|s| **s == "changed").count();
    let swapped = swaps.iter().filter(|s| **s == "swapped").count();
    assert_eq!((swapped, changed), (PARALLEL, PARALLEL - 1), "{swaps:?}");
    let mut stored: Vec<String> = m.entries(&sid).await.into_iter().map(|(k, _)| k).collect();
    stored.sort_unstable();
    let mut expected: Vec<String> = ["_permanent", "a", "b"]
        .into_iter()
        .map(str::to_owned)
        .chain((0..PARALLEL).map(|i| format!("k{i:02}")))
        .collect();
    expected.sort_unstable();
    assert_eq!(stored, expected);
}

/// Parallel `update_with` increments from the same loaded version add up.
pub async fn merge_parallel_increments_add_up<S: SessionStore>(store: S) {
    let Some(m) = MergeApp::new(store) else {
        return;
    };
    let sid = m.session_ab().await;
    let app = m.app().await;
    let replies = futures_util::future::join_all(
        (0..PARALLEL).map(|_| send(&app, request("POST", "/m/barrier/incr", Some(&sid)))),
    )
    .await;
    assert!(replies.iter().all(|r| r.status == 200), "{replies:?}");
    let mut expected = ab();
    expected.push(entry("n", PARALLEL as u64));
    assert_eq!(m.entries(&sid).await, expected);
}
