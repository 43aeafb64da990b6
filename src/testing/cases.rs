//! The acceptance cases. Each takes a fresh store and panics on the first broken promise.

use std::time::{Duration, Instant};

use actix_web::http::header::{COOKIE, HeaderValue};
use actix_web::test::TestRequest;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc2822;

use super::harness::{Harness, Reply, request, send};
use super::recording::Op;
use crate::config::{SameSite, SerializationFormat};
use crate::signer::Signer;
use crate::store::{RenameOutcome, SessionStore};

/// The list of every case below, the only one: [`acceptance_suite!`](crate::acceptance_suite)
/// expands it into one `#[test]` per case and [`CASES`](super::CASES) into their names. A
/// `pub async fn` case defined in this file but missing here fails the unit test
/// `every_case_is_listed`, so no store's suite can leave a case out (the cases of merge
/// mode are in `merge.rs`).
#[doc(hidden)]
#[macro_export]
macro_rules! __acceptance_cases {
    ($($mode:tt)*) => {
        $crate::acceptance_suite! { @expand [$($mode)*]
            upstream_session_flow,
            upstream_stored_value,
            default_write_matches_flask,
            read_only_request_refreshes_without_writing,
            untouched_handler_costs_nothing,
            refresh_off_sends_no_cookie,
            non_permanent_config,
            set_permanent_false,
            clear_deletes_entry_and_cookie,
            set_then_delete_on_fresh_session,
            unknown_sid_is_never_adopted,
            regenerate_moves_data,
            signed_cookies,
            secret_key_fallbacks,
            id_length_and_key_prefix,
            cookie_attributes_and_scoped_deletion,
            lifetime_in_cookie,
            reads_either_format_and_rewrites_configured,
            corrupt_data_is_a_miss,
            bad_cookies_never_reach_the_store,
            vary_on_any_access,
            unencodable_insert_fails_at_the_call,
            concurrent_logout_is_not_undone,
            concurrent_read_does_not_resurrect,
            concurrent_regenerate_is_not_undone,
            logout_during_regenerate_is_not_undone,
            concurrent_regenerates_leave_one_copy,
            expiry_is_enforced,
            store_contract,
            rename_contract,
            rename_needs_a_live_source,
            concurrent_renames_leave_one_copy,
            absolute_lifetime_ends_active_sessions,
            absolute_lifetime_covers_flask_sessions,
            user_index_follows_the_session,
            user_sessions_are_revoked,
            user_limit_revokes_the_oldest,
            logout_and_revoke_at_once,
            merge_mode_needs_compare_and_swap,
            compare_and_swap_contract,
            merge_without_conflict_is_one_write,
            merge_keeps_both_requests_keys,
            merge_same_key_later_save_wins,
            merge_replays_remove_and_permanent,
            merge_clear_wins_over_concurrent_keys,
            merge_never_recreates_a_deleted_session,
            merge_reapplies_update_with,
            merge_parallel_requests_keep_every_key,
            merge_parallel_increments_add_up,
        }
    };
}

/// `{'_permanent': True, 'a': 1, 'b': 'x'}` as msgspec writes it.
const PERMANENT_AB: &str = "83aa5f7065726d616e656e74c3a16101a162a178";
/// `{'a': 1, 'b': 'x'}` as msgspec writes it.
const NON_PERMANENT_AB: &str = "82a16101a162a178";
/// `{'_permanent': False, 'a': 1, 'b': 'x'}`.
const NOT_PERMANENT_AB: &str = "83aa5f7065726d616e656e74c2a16101a162a178";
/// The deletion cookie for the default configuration.
const DELETION: &str = "session=; Path=/; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT";

pub(super) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub(super) fn session_cookie(reply: &Reply) -> String {
    match reply.cookie("session") {
        Some(value) if !value.is_empty() => value,
        _ => panic!("expected a session cookie, got {reply:?}"),
    }
}

/// Asserts `Expires` is now + `lifetime` (to the second, with slack for slow machines).
pub(super) fn assert_expires_in(set_cookie: &str, lifetime: Duration) {
    let date = set_cookie
        .split("; ")
        .find_map(|attr| attr.strip_prefix("Expires="))
        .unwrap_or_else(|| panic!("no Expires in {set_cookie}"));
    let parsed = OffsetDateTime::parse(&date.replace("GMT", "+0000"), &Rfc2822)
        .unwrap_or_else(|e| panic!("bad Expires {date}: {e}"));
    let expected = OffsetDateTime::now_utc() + lifetime;
    let off = (parsed - expected).whole_seconds().abs();
    assert!(
        off <= 5,
        "Expires {date} is {off}s away from now + {lifetime:?}"
    );
}

async fn stored_hex<S: SessionStore>(h: &Harness<S>, sid: &str) -> Option<String> {
    h.raw(sid).await.map(|b| hex(&b))
}

/// Flask-Session's upstream `test_session` helper (JSON, non-permanent, as its conftest
/// forces): isolation, no `Vary` on an untouched route, set/get/modify/delete.
pub async fn upstream_session_flow<S: SessionStore>(store: S) {
    let h = Harness::new(store).configure(|c| {
        c.serialization_format = SerializationFormat::Json;
        c.permanent = false;
    });
    let app = h.app().await;
    let r = send(&app, request("GET", "/get", None)).await;
    assert_eq!(r.body, "no value set");
    let r = send(&app, request("GET", "/", None)).await;
    assert_eq!(
        (r.status, r.body.as_str(), r.vary.as_deref()),
        (200, "hello world", None)
    );
    let r = send(&app, request("POST", "/set?value=42", None)).await;
    assert_eq!(r.body, "value set");
    let cookie = session_cookie(&r);
    let r = send(&app, request("GET", "/get", Some(&cookie))).await;
    assert_eq!(r.body, "42");
    let r = send(&app, request("GET", "/get", Some(&cookie))).await;
    assert_eq!(r.vary.as_deref(), Some("Cookie"));
    let r = send(&app, request("POST", "/modify?value=43", Some(&cookie))).await;
    assert_eq!(r.body, "value set");
    let r = send(&app, request("GET", "/get", Some(&cookie))).await;
    assert_eq!(r.body, "43");
    let r = send(&app, request("POST", "/delete", Some(&cookie))).await;
    assert_eq!(r.body, "value deleted");
    let r = send(&app, request("GET", "/get", Some(&cookie))).await;
    assert_eq!(r.body, "no value set");
}

/// Upstream's raw-storage check: the value under `prefix + sid` is the JSON the session
/// holds, byte for byte.
pub async fn upstream_stored_value<S: SessionStore>(store: S) {
    let h = Harness::new(store).configure(|c| {
        c.serialization_format = SerializationFormat::Json;
        c.permanent = false;
    });
    let app = h.app().await;
    let r = send(&app, request("POST", "/set?value=44", None)).await;
    assert!(
        r.set_cookies[0].starts_with("session="),
        "{:?}",
        r.set_cookies
    );
    let sid = session_cookie(&r);
    assert_eq!(
        h.raw(&sid).await.as_deref(),
        Some(&b"{\"value\":\"44\"}"[..])
    );
}

/// Acceptance 1: default config, a view writes `a=1, b='x'`: 43-char sid cookie with
/// `Expires` = now + 31 days, `HttpOnly`, `Path=/`, `Vary: Cookie`, msgspec bytes, and a
/// single store call (create).
pub async fn default_write_matches_flask<S: SessionStore>(store: S) {
    let h = Harness::new(store);
    let app = h.app().await;
    let r = send(&app, request("POST", "/ab", None)).await;
    let sid = session_cookie(&r);
    assert!(crate::sid::is_well_formed(&sid, 32), "{sid}");
    assert_eq!(r.set_cookies.len(), 1);
    assert!(
        r.set_cookies[0].starts_with(&format!("session={sid}; HttpOnly; Path=/; Expires=")),
        "{}",
        r.set_cookies[0]
    );
    assert_expires_in(&r.set_cookies[0], Duration::from_secs(31 * 24 * 3600));
    assert_eq!(r.vary.as_deref(), Some("Cookie"));
    assert_eq!(stored_hex(&h, &sid).await.as_deref(), Some(PERMANENT_AB));
    assert_eq!(
        h.store.take_ops(),
        vec![Op::Create {
            key: h.key(&sid),
            created: true
        }]
    );
}

/// A read-only request is one store call (load with refresh); nothing is written back;
/// the permanent cookie is re-sent with a new `Expires`.
pub async fn read_only_request_refreshes_without_writing<S: SessionStore>(store: S) {
    let h = Harness::new(store);
    let app = h.app().await;
    let sid = session_cookie(&send(&app, request("POST", "/ab", None)).await);
    h.store.take_ops();
    let r = send(&app, request("GET", "/contains", Some(&sid))).await;
    assert_eq!(r.body, "false");
    assert_eq!(
        h.store.take_ops(),
        vec![Op::Load {
            key: h.key(&sid),
            refresh: Some(h.config.lifetime)
        }]
    );
    assert_eq!(r.cookie("session").as_deref(), Some(sid.as_str()));
    assert_expires_in(&r.set_cookies[0], h.config.lifetime);
    assert_eq!(r.vary.as_deref(), Some("Cookie"));
    assert_eq!(stored_hex(&h, &sid).await.as_deref(), Some(PERMANENT_AB));
}

/// Lazy sessions: a handler that does not take the session costs no store call and gets
/// no session headers, even with a valid cookie.
pub async fn untouched_handler_costs_nothing<S: SessionStore>(store: S) {
    let h = Harness::new(store);
    let app = h.app().await;
    let sid = session_cookie(&send(&app, request("POST", "/ab", None)).await);
    h.store.take_ops();
    let r = send(&app, request("GET", "/", Some(&sid))).await;
    assert_eq!(r.body, "hello world");
    assert!(r.set_cookies.is_empty(), "{:?}", r.set_cookies);
    assert_eq!(r.vary, None);
    assert_eq!(h.store.take_ops(), vec![]);
}

/// Acceptance 3: `SESSION_REFRESH_EACH_REQUEST = false`: a read loads without refresh and
/// sends no cookie.
pub async fn refresh_off_sends_no_cookie<S: SessionStore>(store: S) {
    let h = Harness::new(store).configure(|c| c.refresh_each_request = false);
    let app = h.app().await;
    let sid = session_cookie(&send(&app, request("POST", "/ab", None)).await);
    h.store.take_ops();
    let r = send(&app, request("GET", "/contains", Some(&sid))).await;
    assert_eq!(
        h.store.take_ops(),
        vec![Op::Load {
            key: h.key(&sid),
            refresh: None
        }]
    );
    assert!(r.set_cookies.is_empty(), "{:?}", r.set_cookies);
    assert_eq!(r.vary.as_deref(), Some("Cookie"));
}

/// Acceptance 4: `SESSION_PERMANENT = false`: browser-session cookie, no `_permanent` in
/// the stored map, the store entry still refreshed on reads, no cookie re-sent.
pub async fn non_permanent_config<S: SessionStore>(store: S) {
    let h = Harness::new(store).configure(|c| c.permanent = false);
    let app = h.app().await;
    let r = send(&app, request("POST", "/ab", None)).await;
    let sid = session_cookie(&r);
    assert_eq!(
        r.set_cookies,
        vec![format!("session={sid}; HttpOnly; Path=/")]
    );
    assert_eq!(
        stored_hex(&h, &sid).await.as_deref(),
        Some(NON_PERMANENT_AB)
    );
    h.store.take_ops();
    let r = send(&app, request("GET", "/contains", Some(&sid))).await;
    assert!(r.set_cookies.is_empty(), "{:?}", r.set_cookies);
    assert_eq!(
        h.store.take_ops(),
        vec![Op::Load {
            key: h.key(&sid),
            refresh: Some(h.config.lifetime)
        }]
    );
}

/// Acceptance 5: `session.permanent = False` in a view: cookie without `Expires`, stored
/// `_permanent: false`.
pub async fn set_permanent_false<S: SessionStore>(store: S) {
    let h = Harness::new(store);
    let app = h.app().await;
    let sid = session_cookie(&send(&app, request("POST", "/ab", None)).await);
    let r = send(&app, request("POST", "/permanent/0", Some(&sid))).await;
    assert_eq!(
        r.set_cookies,
        vec![format!("session={sid}; HttpOnly; Path=/")]
    );
    assert_eq!(
        stored_hex(&h, &sid).await.as_deref(),
        Some(NOT_PERMANENT_AB)
    );
}

/// Acceptance 6: `clear()` deletes the entry and sends the deletion cookie.
pub async fn clear_deletes_entry_and_cookie<S: SessionStore>(store: S) {
    let h = Harness::new(store);
    let app = h.app().await;
    let sid = session_cookie(&send(&app, request("POST", "/ab", None)).await);
    let r = send(&app, request("POST", "/clear", Some(&sid))).await;
    assert_eq!(r.set_cookies, vec![DELETION.to_owned()]);
    assert_eq!(r.vary.as_deref(), Some("Cookie"));
    assert_eq!(h.raw(&sid).await, None);
    let r = send(&app, request("GET", "/contains", Some(&sid))).await;
    assert_eq!(r.body, "false");
}

/// Acceptance 7: setting then deleting a key on a fresh session sends a deletion cookie
/// and writes nothing.
pub async fn set_then_delete_on_fresh_session<S: SessionStore>(store: S) {
    let h = Harness::new(store);
    let app = h.app().await;
    let r = send(&app, request("POST", "/set_then_delete", None)).await;
    assert_eq!(r.set_cookies, vec![DELETION.to_owned()]);
    assert_eq!(h.store.take_ops(), vec![]);
}

/// Acceptance 8: an unknown id is never adopted: a read sends no cookie, a write gets a
/// fresh id.
pub async fn unknown_sid_is_never_adopted<S: SessionStore>(store: S) {
    let h = Harness::new(store);
    let app = h.app().await;
    let unknown = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";
    let r = send(&app, request("GET", "/contains", Some(unknown))).await;
    assert_eq!((r.body.as_str(), r.set_cookies.len()), ("false", 0));
    let r = send(&app, request("POST", "/set?value=1", Some(unknown))).await;
    let sid = session_cookie(&r);
    assert_ne!(sid, unknown);
    assert_eq!(h.raw(unknown).await, None);
    assert!(h.raw(&sid).await.is_some());
}

/// Acceptance 9: `regenerate()` moves the data to a new id (old key gone, same bytes
/// under the new key, new cookie) with a single rename.
pub async fn regenerate_moves_data<S: SessionStore>(store: S) {
    let h = Harness::new(store);
    let app = h.app().await;
    let old = session_cookie(&send(&app, request("POST", "/ab", None)).await);
    h.store.take_ops();
    let r = send(&app, request("POST", "/regenerate", Some(&old))).await;
    let new = session_cookie(&r);
    assert_eq!(r.body, new);
    assert_ne!(new, old);
    assert_eq!(
        h.store.take_ops(),
        vec![
            Op::Load {
                key: h.key(&old),
                refresh: Some(h.config.lifetime)
            },
            Op::Rename {
                from: h.key(&old),
                to: h.key(&new)
            },
        ]
    );
    assert_eq!(h.raw(&old).await, None);
    assert_eq!(stored_hex(&h, &new).await.as_deref(), Some(PERMANENT_AB));
}

/// Acceptance 10: signed cookies are `sid.SIG` (71 characters, itsdangerous' format);
/// unsigned or badly signed cookies get a fresh session without touching the store.
pub async fn signed_cookies<S: SessionStore>(store: S) {
    let h = Harness::new(store).configure(|c| {
        c.use_signer = true;
        c.secret_key = Some("test-secret".to_owned());
    });
    let app = h.app().await;
    let signed = session_cookie(&send(&app, request("POST", "/ab", None)).await);
    assert_eq!(signed.len(), 71, "{signed}");
    let sid = &signed[..43];
    assert_eq!(Signer::new("test-secret", &[] as &[&str]).sign(sid), signed);
    assert_eq!(stored_hex(&h, sid).await.as_deref(), Some(PERMANENT_AB));
    let r = send(&app, request("GET", "/sid", Some(&signed))).await;
    assert_eq!(r.body, sid);
    h.store.take_ops();
    let other = Signer::new("other-secret", &[] as &[&str]).sign(sid);
    // Change a character in the middle of the signature (the last one has unused bits).
    let flipped = if &signed[60..61] == "A" { "B" } else { "A" };
    let tampered = format!("{}{flipped}{}", &signed[..60], &signed[61..]);
    for bad in [sid.to_owned(), other, tampered] {
        let r = send(&app, request("GET", "/sid", Some(&bad))).await;
        assert_eq!(r.status, 200);
        assert_ne!(r.body, sid, "{bad} was accepted");
        assert_eq!(h.store.take_ops(), vec![], "{bad} reached the store");
    }
}

/// `SECRET_KEY_FALLBACKS`: a cookie signed with an old key is accepted, and the re-sent
/// cookie is signed with the newest key.
pub async fn secret_key_fallbacks<S: SessionStore>(store: S) {
    let h = Harness::new(store).configure(|c| {
        c.use_signer = true;
        c.secret_key = Some("old-secret".to_owned());
    });
    let old_app = h.app().await;
    let signed = session_cookie(&send(&old_app, request("POST", "/ab", None)).await);
    let sid = signed[..43].to_owned();
    let mut rotated = h.config.clone();
    rotated.secret_key = Some("new-secret".to_owned());
    rotated.secret_key_fallbacks = vec!["old-secret".to_owned()];
    let new_app = h.app_with(rotated).await;
    let r = send(&new_app, request("GET", "/sid", Some(&signed))).await;
    assert_eq!(r.body, sid);
    let resigned = Signer::new("new-secret", &[] as &[&str]).sign(&sid);
    assert_eq!(r.cookie("session"), Some(resigned));
}

/// Acceptance 11: `SESSION_ID_LENGTH = 16` gives 22-character ids; the storage key is
/// `SESSION_KEY_PREFIX + sid`.
pub async fn id_length_and_key_prefix<S: SessionStore>(store: S) {
    let h = Harness::new(store);
    let prefix = format!("myapp:{}", h.config.key_prefix);
    let h = h.configure(|c| {
        c.id_length = 16;
        c.key_prefix = prefix.clone();
    });
    let app = h.app().await;
    let sid = session_cookie(&send(&app, request("POST", "/ab", None)).await);
    assert_eq!(sid.len(), 22);
    assert_eq!(
        h.store.take_ops(),
        vec![Op::Create {
            key: format!("{prefix}{sid}"),
            created: true
        }]
    );
    assert_eq!(stored_hex(&h, &sid).await.as_deref(), Some(PERMANENT_AB));
}

/// Acceptance 12, improved: cookie attributes as configured, `Partitioned` honoured, and a
/// deletion cookie with the same scope (Path, Domain, Secure, SameSite, Partitioned).
pub async fn cookie_attributes_and_scoped_deletion<S: SessionStore>(store: S) {
    let h = Harness::new(store).configure(|c| {
        c.cookie_domain = Some("example.com".to_owned());
        c.cookie_path = "/app".to_owned();
        c.cookie_secure = true;
        c.cookie_samesite = Some(SameSite::Lax);
        c.cookie_partitioned = true;
    });
    let app = h.app().await;
    let r = send(&app, request("POST", "/ab", None)).await;
    let sid = session_cookie(&r);
    assert!(
        r.set_cookies[0].starts_with(&format!(
            "session={sid}; HttpOnly; SameSite=Lax; Partitioned; Secure; Path=/app; \
             Domain=example.com; Expires="
        )),
        "{}",
        r.set_cookies[0]
    );
    let r = send(&app, request("POST", "/clear", Some(&sid))).await;
    assert_eq!(
        r.set_cookies,
        vec![
            "session=; SameSite=Lax; Partitioned; Secure; Path=/app; Domain=example.com; \
             Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT"
                .to_owned()
        ]
    );
}

/// Acceptance 13: `PERMANENT_SESSION_LIFETIME = 45` gives `Expires` = now + 45 s.
pub async fn lifetime_in_cookie<S: SessionStore>(store: S) {
    let h = Harness::new(store).configure(|c| c.lifetime = Duration::from_secs(45));
    let app = h.app().await;
    let r = send(&app, request("POST", "/ab", None)).await;
    assert_expires_in(&r.set_cookies[0], Duration::from_secs(45));
}

/// Data in the other format is read, and rewritten in the configured format on the next
/// write (Flask-Session's migration path; pickle is never read).
pub async fn reads_either_format_and_rewrites_configured<S: SessionStore>(store: S) {
    let h = Harness::new(store);
    let app = h.app().await;
    let sid = crate::sid::generate(32).unwrap_or_default();
    h.put_raw(&sid, b"{\"_permanent\":true,\"value\":\"j\"}")
        .await;
    let r = send(&app, request("GET", "/get", Some(&sid))).await;
    assert_eq!(r.body, "j");
    send(&app, request("POST", "/modify?value=m", Some(&sid))).await;
    assert_eq!(
        stored_hex(&h, &sid).await.as_deref(),
        Some("82aa5f7065726d616e656e74c3a576616c7565a16d")
    );
    let mut json = h.config.clone();
    json.serialization_format = SerializationFormat::Json;
    let json_app = h.app_with(json).await;
    let r = send(&json_app, request("GET", "/get", Some(&sid))).await;
    assert_eq!(r.body, "m");
    send(&json_app, request("POST", "/modify?value=n", Some(&sid))).await;
    assert_eq!(
        h.raw(&sid).await.as_deref(),
        Some(&b"{\"_permanent\":true,\"value\":\"n\"}"[..])
    );
}

/// Corrupt stored data (neither format, a JSON array, truncated msgpack) is a miss: the
/// request gets a fresh session, never a 500, and the entry is deleted.
pub async fn corrupt_data_is_a_miss<S: SessionStore>(store: S) {
    let h = Harness::new(store);
    let app = h.app().await;
    let truncated = {
        let mut bytes: Vec<u8> = (0..PERMANENT_AB.len())
            .step_by(2)
            .filter_map(|i| u8::from_str_radix(&PERMANENT_AB[i..i + 2], 16).ok())
            .collect();
        bytes.pop();
        bytes
    };
    for bad in [b"\xc1garbage\x00".to_vec(), b"[1,2]".to_vec(), truncated] {
        let sid = crate::sid::generate(32).unwrap_or_default();
        h.put_raw(&sid, &bad).await;
        let r = send(&app, request("GET", "/get", Some(&sid))).await;
        assert_eq!(
            (r.status, r.body.as_str()),
            (200, "no value set"),
            "{}",
            hex(&bad)
        );
        assert_eq!(
            h.raw(&sid).await,
            None,
            "corrupt entry {} was kept",
            hex(&bad)
        );
    }
}

/// Bad cookies (empty, 10 KB, non-ASCII, wrong alphabet, wrong length) get a fresh session
/// and never reach the store.
pub async fn bad_cookies_never_reach_the_store<S: SessionStore>(store: S) {
    let h = Harness::new(store);
    let app = h.app().await;
    let good = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";
    let bad: Vec<Vec<u8>> = vec![
        b"session=".to_vec(),
        format!("session={}", "A".repeat(10 * 1024)).into_bytes(),
        format!("session={}", good.replacen('A', "é", 1)).into_bytes(),
        b"session=\xff\xfe\xfd".to_vec(),
        format!("session={}", good.replace('A', "+")).into_bytes(),
        format!("session={}", &good[..42]).into_bytes(),
        format!("session={good}A").into_bytes(),
        format!("session={}", "../../etc/passwd").into_bytes(),
    ];
    for header in bad {
        let Ok(value) = HeaderValue::from_bytes(&header) else {
            continue;
        };
        let req = TestRequest::get()
            .uri("/contains")
            .insert_header((COOKIE, value))
            .to_request();
        let r = send(&app, req).await;
        assert_eq!(
            (r.status, r.body.as_str()),
            (200, "false"),
            "{}",
            String::from_utf8_lossy(&header)
        );
        assert!(r.set_cookies.is_empty());
        assert_eq!(
            h.store.take_ops(),
            vec![],
            "{} reached the store",
            String::from_utf8_lossy(&header)
        );
    }
}

/// Any access to the session adds `Vary: Cookie` (`contains_key`, reading the id).
pub async fn vary_on_any_access<S: SessionStore>(store: S) {
    let h = Harness::new(store);
    let app = h.app().await;
    let sid = session_cookie(&send(&app, request("POST", "/ab", None)).await);
    let r = send(&app, request("GET", "/contains", Some(&sid))).await;
    assert_eq!(r.vary.as_deref(), Some("Cookie"));
    let r = send(&app, request("GET", "/sid", None)).await;
    assert_eq!(r.vary.as_deref(), Some("Cookie"));
    assert!(r.set_cookies.is_empty());
}

/// A value the configured format cannot hold is refused at `insert`, so the handler can
/// answer; nothing fails after the handler ran.
pub async fn unencodable_insert_fails_at_the_call<S: SessionStore>(store: S) {
    let h = Harness::new(store).configure(|c| c.serialization_format = SerializationFormat::Json);
    let app = h.app().await;
    let r = send(&app, request("POST", "/insert_ext", None)).await;
    assert_eq!(r.status, 400);
    assert!(r.body.starts_with("rejected: "), "{}", r.body);
    assert!(r.set_cookies.is_empty());
    assert_eq!(h.store.take_ops(), vec![]);
    let msgpack_app = h
        .app_with({
            let mut c = h.config.clone();
            c.serialization_format = SerializationFormat::MsgPack;
            c
        })
        .await;
    let r = send(&msgpack_app, request("POST", "/insert_ext", None)).await;
    assert_eq!(r.status, 200);
    let sid = session_cookie(&r);
    assert_eq!(
        stored_hex(&h, &sid).await.as_deref(),
        Some("82aa5f7065726d616e656e74c3a3657874c70305010203")
    );
}

/// Runs `held` until it has loaded its session, then `other` to completion, then lets
/// `held` finish. Returns both replies.
async fn interleave<S: SessionStore>(
    h: &Harness<S>,
    held: actix_http::Request,
    other: actix_http::Request,
) -> (Reply, Reply) {
    let app = h.app().await;
    let gate = h.gate.clone();
    let first = send(&app, held);
    let second = async {
        gate.wait_entered().await;
        let reply = send(&app, other).await;
        gate.release();
        reply
    };
    futures_util::future::join(first, second).await
}

/// A request that loaded the session before a concurrent logout and then modifies it
/// must not bring the session back.
pub async fn concurrent_logout_is_not_undone<S: SessionStore>(store: S) {
    let h = Harness::new(store);
    let app = h.app().await;
    let sid = session_cookie(&send(&app, request("POST", "/set?value=in", None)).await);
    let (late, logout) = interleave(
        &h,
        request("POST", "/hold/set?value=late", Some(&sid)),
        request("POST", "/clear", Some(&sid)),
    )
    .await;
    assert_eq!(logout.set_cookies, vec![DELETION.to_owned()]);
    assert_eq!(late.status, 200);
    assert!(late.set_cookies.is_empty(), "{:?}", late.set_cookies);
    assert_eq!(h.raw(&sid).await, None);
    let r = send(&app, request("GET", "/get", Some(&sid))).await;
    assert_eq!(r.body, "no value set");
}

/// A read-only request in flight during a logout does not write the session back.
pub async fn concurrent_read_does_not_resurrect<S: SessionStore>(store: S) {
    let h = Harness::new(store);
    let app = h.app().await;
    let sid = session_cookie(&send(&app, request("POST", "/set?value=in", None)).await);
    let (read, _) = interleave(
        &h,
        request("GET", "/hold/get", Some(&sid)),
        request("POST", "/clear", Some(&sid)),
    )
    .await;
    assert_eq!(read.body, "in");
    assert_eq!(h.raw(&sid).await, None);
    let r = send(&app, request("GET", "/get", Some(&sid))).await;
    assert_eq!(r.body, "no value set");
}

/// A request holding the pre-login id cannot recreate it after `regenerate()`.
pub async fn concurrent_regenerate_is_not_undone<S: SessionStore>(store: S) {
    let h = Harness::new(store);
    let app = h.app().await;
    let old = session_cookie(&send(&app, request("POST", "/set?value=v", None)).await);
    let (late, regen) = interleave(
        &h,
        request("POST", "/hold/set?value=late", Some(&old)),
        request("POST", "/regenerate", Some(&old)),
    )
    .await;
    let new = session_cookie(&regen);
    assert!(late.set_cookies.is_empty(), "{:?}", late.set_cookies);
    assert_eq!(h.raw(&old).await, None);
    let r = send(&app, request("GET", "/get", Some(&new))).await;
    assert_eq!(r.body, "v");
}

/// A logout with the old cookie while a request that called `regenerate()` is still
/// running is not undone when that request saves: the move finds the old entry gone,
/// nothing is stored under the new id, and the regenerating request sends no cookie.
pub async fn logout_during_regenerate_is_not_undone<S: SessionStore>(store: S) {
    let h = Harness::new(store);
    let app = h.app().await;
    let old = session_cookie(&send(&app, request("POST", "/set?value=in", None)).await);
    let (regen, logout) = interleave(
        &h,
        request("POST", "/hold/regenerate", Some(&old)),
        request("POST", "/clear", Some(&old)),
    )
    .await;
    assert_eq!(logout.set_cookies, vec![DELETION.to_owned()]);
    let new = regen.body.clone();
    assert_eq!(regen.status, 200);
    assert_ne!(new, old);
    assert!(
        regen.set_cookies.is_empty(),
        "the logged-out session was handed out under a new id: {:?}",
        regen.set_cookies
    );
    assert_eq!(h.raw(&old).await, None);
    assert_eq!(
        h.raw(&new).await,
        None,
        "the logged-out session is alive under its new id"
    );
    let r = send(&app, request("GET", "/get", Some(&new))).await;
    assert_eq!(r.body, "no value set");
}

/// Two concurrent `regenerate()` calls on one session: the first to save moves it; the
/// second finds the old entry gone, stores no second copy and sends no cookie.
pub async fn concurrent_regenerates_leave_one_copy<S: SessionStore>(store: S) {
    let h = Harness::new(store);
    let app = h.app().await;
    let old = session_cookie(&send(&app, request("POST", "/set?value=v", None)).await);
    let (late, first) = interleave(
        &h,
        request("POST", "/hold/regenerate", Some(&old)),
        request("POST", "/regenerate", Some(&old)),
    )
    .await;
    let winner = session_cookie(&first);
    assert_eq!(first.body, winner);
    let loser = late.body.clone();
    assert_ne!(loser, winner);
    assert_ne!(loser, old);
    assert!(
        late.set_cookies.is_empty(),
        "the second regenerate handed out a copy: {:?}",
        late.set_cookies
    );
    assert_eq!(h.raw(&old).await, None);
    assert_eq!(h.raw(&loser).await, None, "two live copies of one session");
    let r = send(&app, request("GET", "/get", Some(&winner))).await;
    assert_eq!(r.body, "v");
}

/// Expired entries are never returned (by native TTL or by the check on read), and an
/// expired id gets a fresh session.
pub async fn expiry_is_enforced<S: SessionStore>(store: S) {
    let h = Harness::new(store).configure(|c| c.lifetime = Duration::from_secs(1));
    let app = h.app().await;
    let sid = session_cookie(&send(&app, request("POST", "/set?value=x", None)).await);
    let deadline = Instant::now() + Duration::from_secs(30);
    while h.raw(&sid).await.is_some() {
        assert!(
            Instant::now() < deadline,
            "entry still readable 30 s after a 1 s lifetime"
        );
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    let r = send(&app, request("GET", "/get", Some(&sid))).await;
    assert_eq!(r.body, "no value set");
    let r = send(&app, request("POST", "/modify?value=y", Some(&sid))).await;
    assert_ne!(session_cookie(&r), sid);
}

/// The store contract itself: create only if absent, update only if present, delete is
/// idempotent, rename moves without overwriting (see also [`rename_contract`]).
pub async fn store_contract<S: SessionStore>(store: S) {
    let h = Harness::new(store);
    let s = h.store.inner();
    let ttl = Duration::from_secs(60);
    let (a, b, c) = (
        h.key("contract-a"),
        h.key("contract-b"),
        h.key("contract-c"),
    );
    assert_eq!(s.load(&a, None).await.ok(), Some(None));
    assert!(
        !s.update(&a, b"1", ttl).await.unwrap_or(true),
        "update created an entry"
    );
    assert_eq!(s.load(&a, None).await.ok(), Some(None));
    assert!(s.create(&a, b"1", ttl).await.unwrap_or(false));
    assert!(
        !s.create(&a, b"2", ttl).await.unwrap_or(true),
        "create overwrote"
    );
    assert_eq!(s.load(&a, Some(ttl)).await.ok(), Some(Some(b"1".to_vec())));
    assert!(s.update(&a, b"3", ttl).await.unwrap_or(false));
    assert_eq!(s.load(&a, None).await.ok(), Some(Some(b"3".to_vec())));
    assert_eq!(
        s.rename(&a, &b, b"4", ttl).await.ok(),
        Some(RenameOutcome::Moved)
    );
    assert_eq!(s.load(&a, None).await.ok(), Some(None));
    assert_eq!(s.load(&b, None).await.ok(), Some(Some(b"4".to_vec())));
    assert!(s.create(&c, b"5", ttl).await.unwrap_or(false));
    assert_eq!(
        s.rename(&b, &c, b"6", ttl).await.ok(),
        Some(RenameOutcome::TargetExists),
        "rename overwrote"
    );
    assert_eq!(s.load(&c, None).await.ok(), Some(Some(b"5".to_vec())));
    assert_eq!(s.load(&b, None).await.ok(), Some(Some(b"4".to_vec())));
    for key in [&a, &b, &c, &a] {
        assert!(s.delete(key).await.is_ok());
    }
    assert_eq!(s.load(&b, None).await.ok(), Some(None));
    assert!(
        !s.update(&b, b"7", ttl).await.unwrap_or(true),
        "update resurrected"
    );
    assert_eq!(s.load(&b, None).await.ok(), Some(None));
}

/// `rename` moves only a live entry onto a free key, and says which condition failed:
/// from a key that is gone it writes nothing (`SourceGone`), onto a live key it changes
/// nothing (`TargetExists`), and a key already moved cannot be moved a second time.
pub async fn rename_contract<S: SessionStore>(store: S) {
    let h = Harness::new(store);
    let s = h.store.inner();
    let ttl = Duration::from_secs(60);
    let [from, to, taken, again] = ["from", "to", "taken", "again"].map(|k| h.key(k));
    assert_eq!(
        s.rename(&from, &to, b"1", ttl).await.ok(),
        Some(RenameOutcome::SourceGone),
        "rename of an absent key"
    );
    assert_eq!(
        s.load(&to, None).await.ok(),
        Some(None),
        "rename of an absent key wrote the new key"
    );
    assert!(s.create(&from, b"a", ttl).await.unwrap_or(false));
    assert!(s.create(&taken, b"t", ttl).await.unwrap_or(false));
    assert_eq!(
        s.rename(&from, &taken, b"b", ttl).await.ok(),
        Some(RenameOutcome::TargetExists)
    );
    assert_eq!(s.load(&from, None).await.ok(), Some(Some(b"a".to_vec())));
    assert_eq!(s.load(&taken, None).await.ok(), Some(Some(b"t".to_vec())));
    assert_eq!(
        s.rename(&from, &to, b"b", ttl).await.ok(),
        Some(RenameOutcome::Moved)
    );
    assert_eq!(s.load(&from, None).await.ok(), Some(None));
    assert_eq!(s.load(&to, None).await.ok(), Some(Some(b"b".to_vec())));
    assert_eq!(
        s.rename(&from, &again, b"c", ttl).await.ok(),
        Some(RenameOutcome::SourceGone),
        "a moved key was moved again"
    );
    assert_eq!(s.load(&again, None).await.ok(), Some(None));
    assert_eq!(s.load(&to, None).await.ok(), Some(Some(b"b".to_vec())));
    for key in [&from, &to, &taken, &again] {
        assert!(s.delete(key).await.is_ok());
    }
}

/// An expired entry cannot be moved: `rename` from it is `SourceGone` and writes nothing
/// (on stores that remove expired entries lazily, the entry may still be on disk).
pub async fn rename_needs_a_live_source<S: SessionStore>(store: S) {
    let h = Harness::new(store);
    let s = h.store.inner();
    let [from, to] = ["expiring", "moved"].map(|k| h.key(k));
    assert!(
        s.create(&from, b"x", Duration::from_secs(1))
            .await
            .unwrap_or(false)
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while s.load(&from, None).await.ok() != Some(None) {
        assert!(
            Instant::now() < deadline,
            "entry still readable 30 s after a 1 s lifetime"
        );
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        s.rename(&from, &to, b"y", Duration::from_secs(60))
            .await
            .ok(),
        Some(RenameOutcome::SourceGone)
    );
    assert_eq!(s.load(&to, None).await.ok(), Some(None));
    let _ = s.delete(&from).await;
}

/// Two renames of one key to two new keys at the same time (20 rounds): exactly one
/// moves it, the other finds it gone, and exactly one copy is live.
pub async fn concurrent_renames_leave_one_copy<S: SessionStore>(store: S) {
    let h = Harness::new(store);
    let s = h.store.inner();
    let ttl = Duration::from_secs(60);
    for round in 0..20 {
        let [from, a, b] = ["from", "a", "b"].map(|k| h.key(&format!("{k}{round}")));
        assert!(s.create(&from, b"v", ttl).await.unwrap_or(false));
        let (ra, rb) = futures_util::future::join(
            s.rename(&from, &a, b"va", ttl),
            s.rename(&from, &b, b"vb", ttl),
        )
        .await;
        let (ra, rb) = (ra.ok(), rb.ok());
        let (la, lb) = (
            s.load(&a, None).await.ok().flatten(),
            s.load(&b, None).await.ok().flatten(),
        );
        match (ra, rb) {
            (Some(RenameOutcome::Moved), Some(RenameOutcome::SourceGone)) => {
                assert_eq!(
                    (la.as_deref(), lb),
                    (Some(&b"va"[..]), None),
                    "round {round}"
                );
            }
            (Some(RenameOutcome::SourceGone), Some(RenameOutcome::Moved)) => {
                assert_eq!(
                    (la, lb.as_deref()),
                    (None, Some(&b"vb"[..])),
                    "round {round}"
                );
            }
            other => panic!("round {round}: renames answered {other:?}; copies {la:?} {lb:?}"),
        }
        assert_eq!(s.load(&from, None).await.ok(), Some(None), "round {round}");
        for key in [&from, &a, &b] {
            assert!(s.delete(key).await.is_ok());
        }
    }
}

#[cfg(test)]
mod tests {
    /// Every `pub async fn` in this file and in `users.rs` is a case: each must be in the list the suite
    /// expands, once, and the list must name nothing else.
    #[test]
    fn every_case_is_listed() {
        let defined: Vec<&str> = [
            include_str!("cases.rs"),
            include_str!("users.rs"),
            include_str!("merge.rs"),
        ]
        .into_iter()
        .flat_map(str::lines)
        .filter_map(|line| line.strip_prefix("pub async fn "))
        .map(|rest| rest.split(['<', '(']).next().unwrap_or(rest))
        .collect();
        assert!(defined.len() > 30, "found only {defined:?}");
        let mut listed = super::super::CASES.to_vec();
        assert_eq!(
            listed, defined,
            "the case list and the cases defined differ"
        );
        listed.sort_unstable();
        listed.dedup();
        assert_eq!(listed.len(), defined.len(), "a case is listed twice");
    }
}
