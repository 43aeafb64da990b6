//! Key rotation completes: a cookie verified with a `SECRET_KEY_FALLBACKS` key is sent
//! again, signed with the newest key, on the response of any request that takes the
//! session, whatever `SESSION_PERMANENT` and `SESSION_REFRESH_EACH_REQUEST` say. So after
//! one lifetime no live cookie needs the fallback and the operator can drop it.

use std::sync::Arc;

use crate::cookie::CookieSettings;
use crate::signer::Signer;
use crate::{
    CacheLibSessionInterface, ServerSideSession, ServerSideSessionInterface, Session,
    SessionConfig, SessionStore, SimpleCache,
};
use actix_web::{App, http::header, test, web};

async fn get(s: ServerSideSession) -> actix_web::Result<String> {
    Ok(s.get::<String>("v")?.unwrap_or_default())
}

async fn set(s: ServerSideSession) -> actix_web::Result<&'static str> {
    s.insert("v", "x")?;
    Ok("set")
}

fn config(secret: &str, fallbacks: &[&str], permanent: bool, refresh: bool) -> SessionConfig {
    SessionConfig {
        use_signer: true,
        secret_key: Some(secret.to_owned()),
        secret_key_fallbacks: fallbacks.iter().map(|s| (*s).to_owned()).collect(),
        permanent,
        refresh_each_request: refresh,
        ..SessionConfig::default()
    }
}

/// The `name=value` pair of a `Set-Cookie` header.
fn cookie_pair(set_cookie: &str) -> &str {
    set_cookie.split(';').next().unwrap()
}

/// Sends `cookie` to `/get` of an app over `store` configured by `config`; returns the
/// body and the `Set-Cookie` headers.
async fn visit(
    store: &Arc<dyn SessionStore>,
    config: SessionConfig,
    path: &str,
    cookie: Option<&str>,
) -> (String, Vec<String>, ServerSideSessionInterface) {
    let interface = ServerSideSessionInterface::from_arc(Arc::clone(store), config).unwrap();
    let app = test::init_service(
        Session::new(interface.clone()).init_app(
            App::new()
                .route("/get", web::get().to(get))
                .route("/set", web::get().to(set)),
        ),
    )
    .await;
    let mut req = test::TestRequest::get().uri(path);
    if let Some(cookie) = cookie {
        req = req.insert_header((header::COOKIE, cookie.to_owned()));
    }
    let res = test::call_service(&app, req.to_request()).await;
    assert_eq!(res.status(), 200);
    let cookies = res
        .headers()
        .get_all(header::SET_COOKIE)
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    let body = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
    (body, cookies, interface)
}

#[actix_web::test]
async fn a_fallback_signed_cookie_is_resigned_with_the_newest_key() {
    for permanent in [false, true] {
        for refresh in [false, true] {
            let case = format!("permanent={permanent} refresh={refresh}");
            let store: Arc<dyn SessionStore> =
                Arc::new(CacheLibSessionInterface::new(SimpleCache::new(0)));
            // The session is made while "old-secret" is the app's key.
            let (_, cookies, _) = visit(
                &store,
                config("old-secret", &[], permanent, refresh),
                "/set",
                None,
            )
            .await;
            assert_eq!(cookies.len(), 1, "{case}");
            let old_cookie = cookie_pair(&cookies[0]).to_owned();
            let old_value = old_cookie.strip_prefix("session=").unwrap();
            let sid = Signer::new("old-secret", &[] as &[&str])
                .unsign(old_value)
                .unwrap()
                .to_owned();

            // The key is rotated: "new-secret" signs, "old-secret" is a fallback.
            let rotated = config("new-secret", &["old-secret"], permanent, refresh);
            let new_value = Signer::new("new-secret", &[] as &[&str]).sign(&sid);
            // Exact bytes: the cookie the app sends for this session (a permanent one's
            // Expires is formatted just before and just after the request, whose second
            // is one of the two).
            let settings = CookieSettings::from_config(&rotated);
            let before = settings.session_cookie(&new_value, permanent);
            let (body, cookies, interface) =
                visit(&store, rotated.clone(), "/get", Some(&old_cookie)).await;
            let after = settings.session_cookie(&new_value, permanent);
            assert_eq!(
                body, "x",
                "{case}: the session is found through the fallback"
            );
            assert_eq!(cookies.len(), 1, "{case}: {cookies:?}");
            assert_eq!(interface.cookie_value(&sid), new_value);
            assert!(
                cookies[0] == before || cookies[0] == after,
                "{case}: {:?} vs {before:?}",
                cookies[0]
            );
            if !permanent {
                assert_eq!(
                    cookies[0],
                    format!("session={new_value}; HttpOnly; Path=/"),
                    "{case}"
                );
            }

            // With the fallback dropped, the re-sent cookie still opens the session, and
            // is not re-sent again unless the settings ask for it.
            let newest_only = config("new-secret", &[], permanent, refresh);
            let new_cookie = format!("session={new_value}");
            let (body, cookies, _) = visit(&store, newest_only, "/get", Some(&new_cookie)).await;
            assert_eq!(body, "x", "{case}");
            assert_eq!(cookies.len(), usize::from(permanent && refresh), "{case}");

            // A cookie signed with the newest key while the fallback is still configured
            // is not re-sent either (only fallback-signed ones are).
            let (body, cookies, _) = visit(&store, rotated, "/get", Some(&new_cookie)).await;
            assert_eq!(body, "x", "{case}");
            assert_eq!(cookies.len(), usize::from(permanent && refresh), "{case}");
        }
    }
}

#[actix_web::test]
async fn a_fallback_signed_cookie_for_a_missing_session_gets_no_cookie() {
    let store: Arc<dyn SessionStore> = Arc::new(CacheLibSessionInterface::new(SimpleCache::new(0)));
    let old = Signer::new("old-secret", &[] as &[&str]);
    let cookie = format!(
        "session={}",
        old.sign("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8")
    );
    let (body, cookies, _) = visit(
        &store,
        config("new-secret", &["old-secret"], true, true),
        "/get",
        Some(&cookie),
    )
    .await;
    assert_eq!(body, "");
    assert!(cookies.is_empty(), "{cookies:?}");
}
