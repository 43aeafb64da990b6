//! The session cookie: reading it from a request and writing it the way Flask does, with
//! the attributes of `SESSION_COOKIE_*`.
//!
//! Headers are formatted by the `cookie` crate, so attributes come in its order rather
//! than Werkzeug's; browsers do not care about the order. Unlike Flask-Session, the
//! deletion cookie carries the same `Path`, `Domain`, `Secure`, `SameSite` and
//! `Partitioned` as the session cookie (browsers refuse to delete a `Secure` or
//! `SameSite=None` cookie otherwise), and `Partitioned` is honoured.

use std::borrow::Cow;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::http::header::{COOKIE, HeaderMap};
use cookie::{Cookie, CookieBuilder};
use time::OffsetDateTime;

use crate::config::{SameSite, SessionConfig};

/// The cookie attributes of one session configuration.
///
/// Formatting a cookie (attributes and the `Expires` date) is a noticeable share of a
/// request's CPU, and for a given second the result differs only by its value. So the
/// `cookie` crate formats an empty-valued cookie once per second (once for good for
/// browser-session cookies) and each response splices its value in after `name=`.
#[derive(Debug, Clone)]
pub struct CookieSettings {
    name: String,
    domain: Option<String>,
    path: String,
    http_only: bool,
    secure: bool,
    same_site: Option<SameSite>,
    partitioned: bool,
    lifetime: Duration,
    /// `name=; <attributes>` without `Expires`, for browser-session cookies.
    browser_template: Arc<str>,
    /// `name=; <attributes>; Expires=...` for permanent cookies, and the Unix second whose
    /// `now + lifetime` it carries.
    permanent_template: Arc<Mutex<(i64, Arc<str>)>>,
}

impl CookieSettings {
    /// Takes the `SESSION_COOKIE_*` keys and the lifetime from a configuration.
    pub fn from_config(config: &SessionConfig) -> Self {
        let mut settings = CookieSettings {
            name: config.cookie_name.clone(),
            domain: config.cookie_domain.clone(),
            path: config.cookie_path.clone(),
            http_only: config.cookie_httponly,
            secure: config.cookie_secure,
            same_site: config.cookie_samesite,
            partitioned: config.cookie_partitioned,
            lifetime: config.lifetime,
            browser_template: Arc::from(""),
            permanent_template: Arc::new(Mutex::new((i64::MIN, Arc::from("")))),
        };
        settings.browser_template = Arc::from(settings.format_cookie("", None));
        settings
    }

    /// The value of the first cookie with the session cookie's name, as Flask reads it,
    /// borrowed from the request when it is valid UTF-8 (the norm), else read lossily.
    /// Headers are searched as bytes, so a stray byte elsewhere in the header does not
    /// hide the session cookie.
    pub fn read<'h>(&self, headers: &'h HeaderMap) -> Option<Cow<'h, str>> {
        let value = headers
            .get_all(COOKIE)
            .find_map(|header| self.find_in(header.as_bytes()))?;
        Some(match std::str::from_utf8(value) {
            Ok(text) => Cow::Borrowed(text),
            Err(_) => String::from_utf8_lossy(value),
        })
    }

    /// The value of the first `name=value` pair of a `Cookie` header (pairs separated by
    /// `;`, ASCII whitespace around names and values ignored, pairs without `=` skipped).
    /// The request header is only split here, never formatted, so the cookie crate's full
    /// `Set-Cookie` parser is not needed for it.
    fn find_in<'h>(&self, header: &'h [u8]) -> Option<&'h [u8]> {
        let name = self.name.as_bytes();
        let mut rest = header;
        loop {
            let (pair, next) = match memchr::memchr(b';', rest) {
                Some(end) => (&rest[..end], Some(&rest[end + 1..])),
                None => (rest, None),
            };
            if let Some(eq) = memchr::memchr(b'=', pair)
                && pair[..eq].trim_ascii() == name
            {
                return Some(pair[eq + 1..].trim_ascii());
            }
            rest = next?;
        }
    }

    /// The `Set-Cookie` value that stores `value`; permanent sessions get
    /// `Expires = now + PERMANENT_SESSION_LIFETIME`, others are browser-session cookies.
    pub fn session_cookie(&self, value: &str, permanent: bool) -> String {
        let template = if permanent {
            self.permanent_template(unix_now())
        } else {
            Arc::clone(&self.browser_template)
        };
        // The template starts with `name=` and its value is empty.
        let (head, tail) = template.split_at(self.name.len() + 1);
        let mut cookie = String::with_capacity(template.len() + value.len());
        cookie.push_str(head);
        cookie.push_str(value);
        cookie.push_str(tail);
        cookie
    }

    /// [`session_cookie`](Self::session_cookie) for an entry that lives `ttl` more: a
    /// permanent cookie expires then when that is sooner than the lifetime.
    pub(crate) fn session_cookie_within(
        &self,
        value: &str,
        permanent: bool,
        ttl: Duration,
    ) -> String {
        if !permanent || ttl >= self.lifetime {
            return self.session_cookie(value, permanent);
        }
        let expires = OffsetDateTime::from_unix_timestamp(unix_now())
            .unwrap_or(OffsetDateTime::UNIX_EPOCH)
            + ttl;
        self.format_cookie(value, Some(expires))
    }

    /// The permanent-cookie template for the Unix second `now`, formatted at most once a
    /// second.
    fn permanent_template(&self, now: i64) -> Arc<str> {
        let mut cached = self
            .permanent_template
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if cached.0 != now {
            let expires = OffsetDateTime::from_unix_timestamp(now)
                .unwrap_or(OffsetDateTime::UNIX_EPOCH)
                + self.lifetime;
            *cached = (now, Arc::from(self.format_cookie("", Some(expires))));
        }
        Arc::clone(&cached.1)
    }

    /// Formats a session cookie with the `cookie` crate.
    fn format_cookie(&self, value: &str, expires: Option<OffsetDateTime>) -> String {
        let mut builder = self.with_scope(Cookie::build((self.name.as_str(), value)));
        if self.http_only {
            builder = builder.http_only(true);
        }
        if let Some(expires) = expires {
            builder = builder.expires(expires);
        }
        builder.build().to_string()
    }

    /// The `Set-Cookie` value that deletes the session cookie: empty value, `Expires` in
    /// 1970, `Max-Age=0`, and the same scope attributes as the session cookie.
    pub(crate) fn deletion_cookie(&self) -> String {
        self.with_scope(Cookie::build((self.name.as_str(), "")))
            .expires(OffsetDateTime::UNIX_EPOCH)
            .max_age(time::Duration::ZERO)
            .build()
            .to_string()
    }

    fn with_scope<'c>(&self, mut builder: CookieBuilder<'c>) -> CookieBuilder<'c> {
        builder = builder.path(self.path.clone());
        if let Some(domain) = &self.domain {
            builder = builder.domain(domain.clone());
        }
        if self.secure {
            builder = builder.secure(true);
        }
        if let Some(same_site) = self.same_site {
            builder = builder.same_site(match same_site {
                SameSite::Strict => cookie::SameSite::Strict,
                SameSite::Lax => cookie::SameSite::Lax,
                SameSite::None => cookie::SameSite::None,
            });
        }
        if self.partitioned {
            builder = builder.partitioned(true);
        }
        builder
    }
}

/// The current Unix second (the clock read once, without a calendar conversion: the
/// cached template is only reformatted when the second changes).
fn unix_now() -> i64 {
    i64::try_from(crate::clock::since_epoch().as_secs()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::HeaderValue;

    fn settings(f: impl FnOnce(&mut SessionConfig)) -> CookieSettings {
        let mut config = SessionConfig::default();
        f(&mut config);
        CookieSettings::from_config(&config)
    }

    #[test]
    fn default_cookie_has_flask_attributes() {
        let c = settings(|_| {}).session_cookie("abc", true);
        assert!(
            c.starts_with("session=abc; HttpOnly; Path=/; Expires="),
            "{c}"
        );
        assert!(c.ends_with(" GMT"), "{c}");
        let c = settings(|_| {}).session_cookie("abc", false);
        assert_eq!(c, "session=abc; HttpOnly; Path=/");
    }

    #[test]
    fn spliced_cookies_equal_the_cookie_crates_output() {
        let variants: [fn(&mut SessionConfig); 3] = [
            |_| {},
            |c| {
                c.cookie_name = "__Host-sid".into();
                c.cookie_secure = true;
                c.cookie_samesite = Some(SameSite::Strict);
                c.cookie_httponly = false;
            },
            |c| {
                c.cookie_domain = Some("example.com".into());
                c.cookie_path = "/app".into();
                c.cookie_secure = true;
                c.cookie_samesite = Some(SameSite::None);
                c.cookie_partitioned = true;
            },
        ];
        let value = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8.epC2RSSJLkP1L6dqmDdFEcE3xr8";
        for change in variants {
            let s = settings(change);
            assert_eq!(s.session_cookie(value, false), s.format_cookie(value, None));
            let now = OffsetDateTime::now_utc();
            let spliced = s.session_cookie(value, true);
            let expected =
                s.format_cookie(value, Some(now.replace_nanosecond(0).unwrap() + s.lifetime));
            let next = s.format_cookie(
                value,
                Some(now.replace_nanosecond(0).unwrap() + s.lifetime + time::Duration::SECOND),
            );
            assert!(
                spliced == expected || spliced == next,
                "{spliced}\n{expected}"
            );
        }
    }

    #[test]
    fn permanent_template_follows_the_clock() {
        let s = settings(|_| {});
        let t0 = 1_798_304_422 - 31 * 24 * 3600;
        assert!(
            s.permanent_template(t0)
                .ends_with("Expires=Sat, 26 Dec 2026 17:00:22 GMT")
        );
        assert!(
            s.permanent_template(t0)
                .ends_with("Expires=Sat, 26 Dec 2026 17:00:22 GMT")
        );
        assert!(
            s.permanent_template(t0 + 1)
                .ends_with("Expires=Sat, 26 Dec 2026 17:00:23 GMT")
        );
        let (before, now) = (unix_now(), OffsetDateTime::now_utc().unix_timestamp());
        assert!(now == before || now == before + 1, "{before} vs {now}");
    }

    #[test]
    fn deletion_cookie_keeps_scope() {
        let c = settings(|_| {}).deletion_cookie();
        assert_eq!(
            c,
            "session=; Path=/; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT"
        );
        let c = settings(|c| {
            c.cookie_domain = Some("example.com".into());
            c.cookie_path = "/app".into();
            c.cookie_secure = true;
            c.cookie_samesite = Some(SameSite::None);
            c.cookie_partitioned = true;
        })
        .deletion_cookie();
        assert_eq!(
            c,
            "session=; SameSite=None; Partitioned; Secure; Path=/app; Domain=example.com; \
             Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT"
        );
    }

    #[test]
    fn reads_first_matching_cookie() {
        let s = settings(|_| {});
        let mut headers = HeaderMap::new();
        headers.append(
            COOKIE,
            HeaderValue::from_static("other=1; session=first; session=second"),
        );
        assert_eq!(s.read(&headers).as_deref(), Some("first"));
        let mut headers = HeaderMap::new();
        headers.append(
            COOKIE,
            HeaderValue::from_bytes(b"x=\xff\xfe; session=abc").unwrap(),
        );
        assert_eq!(s.read(&headers).as_deref(), Some("abc"));
        let mut headers = HeaderMap::new();
        headers.append(COOKIE, HeaderValue::from_bytes(b"session=a\xffb").unwrap());
        assert_eq!(s.read(&headers).as_deref(), Some("a\u{fffd}b"));
        assert_eq!(s.read(&HeaderMap::new()), None);
    }

    #[test]
    fn reads_the_first_pair_with_the_cookie_name() {
        let s = settings(|_| {});
        let read = |header: &'static str| {
            let mut headers = HeaderMap::new();
            headers.append(COOKIE, HeaderValue::from_static(header));
            s.read(&headers).map(Cow::into_owned)
        };
        assert_eq!(read(" session = abc ;x=1").as_deref(), Some("abc"));
        assert_eq!(read("flag; session=a=b=").as_deref(), Some("a=b="));
        assert_eq!(read("sessionx=1; xsession=2").as_deref(), None);
        assert_eq!(read("session=").as_deref(), Some(""));
        assert_eq!(read("a=1;;session=z").as_deref(), Some("z"));
        let mut headers = HeaderMap::new();
        headers.append(COOKIE, HeaderValue::from_static("a=1"));
        headers.append(COOKIE, HeaderValue::from_static("session=second-header"));
        assert_eq!(s.read(&headers).as_deref(), Some("second-header"));
    }
}
