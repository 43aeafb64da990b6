//! Acceptance cases for sessions as something to manage: the absolute lifetime, and the
//! per-user index with listing, revoking and the limit per user.

use std::time::{Duration, Instant};

use actix_http::Request;
use actix_service::Service;
use actix_web::body::MessageBody;
use actix_web::dev::ServiceResponse;
use actix_web::http::header;
use actix_web::test::TestRequest;
use actix_web::web;
use rmpv::Value;

use super::cases::{assert_expires_in, hex, session_cookie};
use super::harness::{Harness, request, send};
use super::recording::Op;
use crate::config::SerializationFormat;
use crate::error::ConfigError;
use crate::lifecycle::{ServerSideSession, ServerSideSessionInterface};
use crate::store::SessionStore;

/// The key the creation time is kept under, as a Flask app sees it.
const CREATED: &str = "_session_created";

fn unix_now() -> u64 {
    crate::clock::since_epoch().as_secs()
}

/// The stored session of `sid`, decoded.
async fn stored_map<S: SessionStore>(h: &Harness<S>, sid: &str) -> Vec<(Value, Value)> {
    let bytes = h
        .raw(sid)
        .await
        .unwrap_or_else(|| panic!("no entry for {sid}"));
    crate::serialization::decode(&bytes, SerializationFormat::MsgPack)
        .unwrap_or_else(|e| panic!("stored entry of {sid} does not decode: {e}"))
}

/// Asserts the last key of a stored session is the creation time, within `range`.
fn assert_created_in(map: &[(Value, Value)], range: std::ops::RangeInclusive<u64>) {
    match map.last() {
        Some((k, Value::Integer(n))) if k.as_str() == Some(CREATED) => {
            let created = n.as_u64().unwrap_or_default();
            assert!(
                range.contains(&created),
                "creation time {created} not in {range:?}"
            );
        }
        other => panic!("the last stored key is not {CREATED}: {other:?}"),
    }
}

/// Polls until `done` holds, for at most 30 s.
async fn poll(what: &str, mut done: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done().await {
        assert!(Instant::now() < deadline, "{what}: not after 30 s");
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
}

/// `SESSION_ABSOLUTE_LIFETIME`: the creation time is stored after Flask's keys (the rest of
/// the bytes stay Flask-Session's) and hidden from handlers; reads cost one store command
/// and do not move the expiry (an absolute lifetime under the idle one already bounds it);
/// the cookie and the entry expire at the absolute end however active the session is; the
/// ended session is deleted and its id never adopted again.
pub async fn absolute_lifetime_ends_active_sessions<S: SessionStore>(store: S) {
    let absolute = Duration::from_secs(3);
    let h = Harness::new(store).configure(|c| c.absolute_lifetime = Some(absolute));
    let app = h.app().await;
    let before = unix_now();
    let r = send(&app, request("POST", "/set?value=x", None)).await;
    let sid = session_cookie(&r);
    assert_expires_in(&r.set_cookies[0], absolute);
    let idle = session_cookie(&send(&app, request("POST", "/set?value=y", None)).await);
    let after = unix_now();
    let bytes = h.raw(&sid).await.unwrap_or_default();
    assert!(
        hex(&bytes).starts_with(
            // {'_permanent': True, 'value': 'x', '_session_created': ...}
            "83aa5f7065726d616e656e74c3a576616c7565a178b05f73657373696f6e5f63726561746564"
        ),
        "stored {}",
        hex(&bytes)
    );
    assert_created_in(&stored_map(&h, &sid).await, before..=after);

    h.store.take_ops();
    let r = send(&app, request("GET", "/keys", Some(&sid))).await;
    assert_eq!(r.body, "_permanent,value", "the creation time is hidden");
    assert_eq!(
        h.store.take_ops(),
        vec![Op::Load {
            key: h.key(&sid),
            refresh: None
        }]
    );
    assert_expires_in(&r.set_cookies[0], absolute);

    // Activity does not keep it alive: it ends, and its entry goes with it.
    let mut reads = 0;
    poll("an active session ends", async || {
        let r = send(&app, request("GET", "/get", Some(&sid))).await;
        reads += 1;
        match r.body.as_str() {
            "x" => false,
            "no value set" => true,
            other => panic!("read {other:?}"),
        }
    })
    .await;
    assert!(reads > 1, "the session ended at its first read");
    assert_eq!(
        h.raw(&sid).await,
        None,
        "the ended session's entry is deleted"
    );
    let r = send(&app, request("POST", "/set?value=z", Some(&sid))).await;
    assert_ne!(session_cookie(&r), sid, "an ended id is never adopted");

    // The untouched one expires in the store by itself (its TTL was the absolute end).
    poll("the store entry expires at the absolute end", async || {
        h.raw(&idle).await.is_none()
    })
    .await;
}

/// Sessions a Flask app created (no creation time) get one the first time they are read,
/// written once, after Flask's keys; a creation time a Flask app wrote back (an integer,
/// or a float from `time.time()`) is honoured, and a session past it has ended.
pub async fn absolute_lifetime_covers_flask_sessions<S: SessionStore>(store: S) {
    let h = Harness::new(store).configure(|c| c.absolute_lifetime = Some(Duration::from_secs(60)));
    let app = h.app().await;

    let flask = crate::sid::generate(32).unwrap_or_default();
    // {'_permanent': True, 'a': 1, 'b': 'x'}, as Flask-Session writes it.
    h.put_raw(
        &flask,
        &hex_bytes("83aa5f7065726d616e656e74c3a16101a162a178"),
    )
    .await;
    h.store.take_ops();
    let before = unix_now();
    let r = send(&app, request("GET", "/keys", Some(&flask))).await;
    assert_eq!(r.body, "_permanent,a,b");
    assert_eq!(
        h.store.take_ops(),
        vec![
            Op::Load {
                key: h.key(&flask),
                refresh: None
            },
            Op::Update {
                key: h.key(&flask),
                updated: true
            },
        ],
        "stamped once, in the same request"
    );
    let map = stored_map(&h, &flask).await;
    let stored = hex(&h.raw(&flask).await.unwrap_or_default());
    assert!(
        stored.starts_with("84aa5f7065726d616e656e74c3a16101a162a178b05f"),
        "Flask's keys first, unchanged: {stored}"
    );
    assert_created_in(&map, before..=unix_now());
    send(&app, request("GET", "/keys", Some(&flask))).await;
    assert_eq!(
        h.store.take_ops().len(),
        1,
        "a stamped session is not written again"
    );

    // Written back by Flask with a float creation time: honoured, not rewritten.
    let float = crate::sid::generate(32).unwrap_or_default();
    let json = format!(
        "{{\"_permanent\":true,\"value\":\"j\",\"{CREATED}\":{}.5}}",
        unix_now() - 1
    );
    h.put_raw(&float, json.as_bytes()).await;
    h.store.take_ops();
    let r = send(&app, request("GET", "/get", Some(&float))).await;
    assert_eq!(r.body, "j");
    assert_eq!(h.store.take_ops().len(), 1, "nothing to write");

    // Past its absolute end: ended and deleted.
    let old = crate::sid::generate(32).unwrap_or_default();
    let json = format!(
        "{{\"_permanent\":true,\"value\":\"o\",\"{CREATED}\":{}}}",
        unix_now() - 61
    );
    h.put_raw(&old, json.as_bytes()).await;
    let r = send(&app, request("GET", "/get", Some(&old))).await;
    assert_eq!(r.body, "no value set");
    assert_eq!(h.raw(&old).await, None);
}

fn hex_bytes(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .filter_map(|i| u8::from_str_radix(&hex[i..i + 2], 16).ok())
        .collect()
}

// ---- sessions per user ------------------------------------------------------------------

/// The routes the per-user cases use (mounted by [`routes`](super::routes)).
pub(super) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/login", web::post().to(login))
        .route("/whoami", web::get().to(whoami))
        .route("/sessions", web::get().to(sessions))
        .route("/revoke/{handle}", web::post().to(revoke))
        .route("/revoke_others", web::post().to(revoke_others));
}

#[derive(serde::Deserialize)]
struct LoginQuery {
    user: String,
}

/// Logs in as `user` (Flask-Login's `_user_id`) and regenerates the id, as a login should.
async fn login(s: ServerSideSession, q: web::Query<LoginQuery>) -> actix_web::Result<String> {
    s.insert(USER_KEY, &q.user)?;
    s.regenerate()?;
    Ok(s.sid())
}

async fn whoami(s: ServerSideSession) -> actix_web::Result<String> {
    Ok(s.get::<String>(USER_KEY)?
        .unwrap_or_else(|| "nobody".to_owned()))
}

/// One line per session: `handle created_ms current|other addr|- agent|-`.
async fn sessions(s: ServerSideSession) -> actix_web::Result<String> {
    let lines: Vec<String> = s
        .user_sessions()
        .await?
        .into_iter()
        .map(|u| {
            let created = u
                .created
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis());
            format!(
                "{} {created} {} {} {}",
                u.handle,
                if u.current { "current" } else { "other" },
                u.addr.as_deref().unwrap_or("-"),
                u.user_agent.as_deref().unwrap_or("-"),
            )
        })
        .collect();
    Ok(lines.join("\n"))
}

async fn revoke(s: ServerSideSession, handle: web::Path<String>) -> actix_web::Result<String> {
    Ok(s.revoke_session(&handle).await?.to_string())
}

async fn revoke_others(s: ServerSideSession) -> actix_web::Result<String> {
    Ok(s.revoke_other_sessions().await?.to_string())
}

/// The user key the cases configure (Flask-Login's).
const USER_KEY: &str = "_user_id";

/// A harness with `SESSION_USER_KEY = "_user_id"` and `change`, if the store keeps a
/// per-user index. A store that does not must refuse the configuration at startup with a
/// reason (memcached cannot enumerate): that is asserted, and the case has nothing more
/// to check.
fn indexed<S: SessionStore>(
    store: S,
    change: impl FnOnce(&mut crate::config::SessionConfig),
) -> Option<Harness<S>> {
    let h = Harness::new(store).configure(|c| {
        c.user_key = Some(USER_KEY.to_owned());
        change(c);
    });
    if h.store.supports_user_index() {
        return Some(h);
    }
    let store: std::sync::Arc<dyn SessionStore> = h.store.clone();
    match ServerSideSessionInterface::from_arc(store, h.config.clone()) {
        Err(ConfigError::Invalid { key, allowed, .. }) => {
            assert_eq!(key, "SESSION_USER_KEY");
            assert!(
                allowed.contains("cannot enumerate"),
                "the startup error says why: {allowed}"
            );
        }
        other => panic!("a store without a per-user index accepted SESSION_USER_KEY: {other:?}"),
    }
    None
}

/// A request with the session cookie (if any), a client address and a user agent.
fn client_request(method: &str, uri: &str, cookie: Option<&str>, agent: &str) -> Request {
    let mut req = match method {
        "POST" => TestRequest::post(),
        _ => TestRequest::get(),
    }
    .uri(uri)
    .insert_header(("x-forwarded-for", "203.0.113.9"))
    .insert_header((header::USER_AGENT, agent));
    if let Some(value) = cookie {
        req = req.insert_header((header::COOKIE, format!("session={value}")));
    }
    req.to_request()
}

/// Logs in as `user` from `agent`; returns the session id.
async fn log_in<T, B>(app: &T, user: &str, agent: &str) -> String
where
    T: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let r = send(
        app,
        client_request("POST", &format!("/login?user={user}"), None, agent),
    )
    .await;
    assert_eq!(r.status, 200, "{r:?}");
    session_cookie(&r)
}

/// The `/sessions` lines seen by `sid`, split into fields.
async fn listing<T, B>(app: &T, sid: &str) -> Vec<Vec<String>>
where
    T: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let r = send(app, request("GET", "/sessions", Some(sid))).await;
    assert_eq!(r.status, 200, "{r:?}");
    r.body
        .lines()
        .map(|l| l.splitn(5, ' ').map(str::to_owned).collect())
        .collect()
}

/// `SESSION_USER_KEY`: a login indexes the session beside its data (the stored bytes stay
/// Flask's), with an opaque handle, its creation time and the client seen at login; a
/// plain read costs one store command; a `regenerate` keeps the entry (new handle, same
/// creation time and client); a logout removes it; a session whose user key another app
/// set is indexed the first time it is seen.
pub async fn user_index_follows_the_session<S: SessionStore>(store: S) {
    let Some(h) = indexed(store, |c| c.track_client = true) else {
        return;
    };
    let app = h.app().await;
    let a = log_in(&app, "alice", "Browser A").await;
    assert_eq!(
        hex(&h.raw(&a).await.unwrap_or_default()),
        // {'_permanent': True, '_user_id': 'alice'}: nothing of the index inside.
        "82aa5f7065726d616e656e74c3a85f757365725f6964a5616c696365"
    );
    let index = crate::users::index_name(&h.config.key_prefix, "alice");
    assert!(
        h.store.take_ops().contains(&Op::IndexPut {
            index: index.clone(),
            handle: crate::users::handle_of(&h.key(&a)),
            replace: true
        }),
        "the login wrote the index"
    );

    let r = send(&app, request("GET", "/whoami", Some(&a))).await;
    assert_eq!(r.body, "alice");
    assert_eq!(
        h.store.take_ops(),
        vec![Op::Load {
            key: h.key(&a),
            refresh: Some(h.config.lifetime)
        }],
        "a read within SESSION_LAST_SEEN_INTERVAL is one store command"
    );

    let b = log_in(&app, "alice", "Browser B").await;
    let list = listing(&app, &a).await;
    assert_eq!(list.len(), 2, "{list:?}");
    for line in &list {
        assert!(
            !line[0].contains(&a) && !line[0].contains(&b),
            "a handle is not an id"
        );
    }
    let mine: Vec<_> = list.iter().filter(|l| l[2] == "current").collect();
    assert_eq!(mine.len(), 1);
    assert_eq!(
        (mine[0][3].as_str(), mine[0][4].as_str()),
        ("203.0.113.9", "Browser A")
    );

    let r = send(
        &app,
        client_request("POST", "/regenerate", Some(&a), "Browser A2"),
    )
    .await;
    let a2 = session_cookie(&r);
    assert_ne!(a2, a);
    let after = listing(&app, &a2).await;
    assert_eq!(after.len(), 2, "{after:?}");
    let moved: Vec<_> = after.iter().filter(|l| l[2] == "current").collect();
    assert_eq!(moved.len(), 1);
    assert_ne!(moved[0][0], mine[0][0], "a new id gets a new handle");
    assert_eq!(
        (&moved[0][1], &moved[0][4]),
        (&mine[0][1], &mine[0][4]),
        "same creation time and client"
    );

    send(&app, request("POST", "/clear", Some(&a2))).await;
    let left = listing(&app, &b).await;
    assert_eq!(left.len(), 1, "{left:?}");
    assert_eq!(left[0][2], "current");

    // Logged in by another app (Flask-Login's `_user_id`), then seen here.
    let flask = crate::sid::generate(32).unwrap_or_default();
    h.put_raw(
        &flask,
        &hex_bytes("82aa5f7065726d616e656e74c3a85f757365725f6964a5616c696365"),
    )
    .await;
    assert_eq!(
        send(&app, request("GET", "/whoami", Some(&flask)))
            .await
            .body,
        "alice"
    );
    assert_eq!(listing(&app, &b).await.len(), 2);
}

/// Revoking: one session by its handle (its next request has no session), all others
/// ("log out everywhere else"), all of them from outside a request, and this one (a
/// logout). A listing only shows live sessions: an entry whose session is gone is
/// removed from the index when listed.
pub async fn user_sessions_are_revoked<S: SessionStore>(store: S) {
    let Some(h) = indexed(store, |_| {}) else {
        return;
    };
    let app = h.app().await;
    let sids: Vec<String> = futures_util::future::join_all(
        ["A", "B", "C", "D"].map(|agent| log_in(&app, "bob", agent)),
    )
    .await;
    let list = listing(&app, &sids[0]).await;
    assert_eq!(list.len(), 4);
    let handle_b = crate::users::handle_of(&h.key(&sids[1]));
    let r = send(
        &app,
        request("POST", &format!("/revoke/{handle_b}"), Some(&sids[0])),
    )
    .await;
    assert_eq!(r.body, "true");
    assert_eq!(h.raw(&sids[1]).await, None);
    assert_eq!(
        send(&app, request("GET", "/whoami", Some(&sids[1])))
            .await
            .body,
        "nobody"
    );

    // An entry whose session went away behind the index's back is not listed, and goes.
    assert!(h.store.inner().delete(&h.key(&sids[2])).await.is_ok());
    assert_eq!(listing(&app, &sids[0]).await.len(), 2);
    let index = crate::users::index_name(&h.config.key_prefix, "bob");
    assert_eq!(
        h.store
            .inner()
            .index_list(&index)
            .await
            .map(|l| l.len())
            .ok(),
        Some(2)
    );

    let e = log_in(&app, "bob", "E").await;
    let r = send(&app, request("POST", "/revoke_others", Some(&sids[0]))).await;
    assert_eq!(r.body, "2");
    assert_eq!(
        send(&app, request("GET", "/whoami", Some(&e))).await.body,
        "nobody"
    );
    assert_eq!(
        send(&app, request("GET", "/whoami", Some(&sids[0])))
            .await
            .body,
        "bob"
    );
    assert_eq!(listing(&app, &sids[0]).await.len(), 1);

    // From outside a request (an admin page, a password change).
    let f = log_in(&app, "bob", "F").await;
    let admin = crate::Session::new(h.interface()).users();
    assert_eq!(admin.list("bob").await.map(|l| l.len()).ok(), Some(2));
    assert_eq!(admin.revoke_all("bob").await.ok(), Some(2));
    for sid in [&sids[0], &f] {
        assert_eq!(
            send(&app, request("GET", "/whoami", Some(sid))).await.body,
            "nobody"
        );
    }
    assert_eq!(admin.list("bob").await.map(|l| l.len()).ok(), Some(0));

    // Revoking this session is a logout.
    let g = log_in(&app, "bob", "G").await;
    let own = crate::users::handle_of(&h.key(&g));
    let r = send(&app, request("POST", &format!("/revoke/{own}"), Some(&g))).await;
    assert_eq!(r.body, "true");
    assert_eq!(r.cookie("session").as_deref(), Some(""));
    assert_eq!(h.raw(&g).await, None);
    assert_eq!(admin.list("bob").await.map(|l| l.len()).ok(), Some(0));
}

/// `SESSION_MAX_PER_USER`: a login past the limit revokes the oldest sessions in the same
/// save; two logins past the limit at the same time leave exactly the limit (the newest).
pub async fn user_limit_revokes_the_oldest<S: SessionStore>(store: S) {
    let Some(h) = indexed(store, |c| c.max_per_user = Some(2)) else {
        return;
    };
    let app = h.app().await;
    let first = log_in(&app, "carol", "1").await;
    let second = log_in(&app, "carol", "2").await;
    let third = log_in(&app, "carol", "3").await;
    assert_eq!(h.raw(&first).await, None, "the oldest was revoked");
    assert_eq!(
        send(&app, request("GET", "/whoami", Some(&first)))
            .await
            .body,
        "nobody"
    );
    assert_eq!(listing(&app, &third).await.len(), 2);

    let (fourth, fifth) =
        futures_util::future::join(log_in(&app, "carol", "4"), log_in(&app, "carol", "5")).await;
    for old in [&second, &third] {
        assert_eq!(h.raw(old).await, None, "older sessions revoked");
    }
    let admin = crate::Session::new(h.interface()).users();
    let left = admin.list("carol").await.unwrap_or_default();
    let mut handles: Vec<String> = left.into_iter().map(|s| s.handle).collect();
    handles.sort();
    let mut newest = vec![
        crate::users::handle_of(&h.key(&fourth)),
        crate::users::handle_of(&h.key(&fifth)),
    ];
    newest.sort();
    assert_eq!(handles, newest, "the two newest stay");
    assert!(h.raw(&fourth).await.is_some() && h.raw(&fifth).await.is_some());
}

/// A logout and a revocation of the same session at the same time: the session is gone,
/// the index holds only the other session, and both requests succeed.
pub async fn logout_and_revoke_at_once<S: SessionStore>(store: S) {
    let Some(h) = indexed(store, |_| {}) else {
        return;
    };
    let app = h.app().await;
    let a = log_in(&app, "dave", "A").await;
    let b = log_in(&app, "dave", "B").await;
    let handle_a = crate::users::handle_of(&h.key(&a));
    let revoke_uri = format!("/revoke/{handle_a}");
    let (logout, revoke) = futures_util::future::join(
        send(&app, request("POST", "/clear", Some(&a))),
        send(&app, request("POST", &revoke_uri, Some(&b))),
    )
    .await;
    assert_eq!((logout.status, revoke.status), (200, 200));
    assert_eq!(h.raw(&a).await, None);
    let index = crate::users::index_name(&h.config.key_prefix, "dave");
    let entries = h.store.inner().index_list(&index).await.unwrap_or_default();
    assert_eq!(
        entries.into_iter().map(|e| e.handle).collect::<Vec<_>>(),
        vec![crate::users::handle_of(&h.key(&b))]
    );
    assert_eq!(
        send(&app, request("GET", "/whoami", Some(&a))).await.body,
        "nobody"
    );
}
