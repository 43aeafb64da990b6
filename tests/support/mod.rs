//! Shared helpers for the live interop tests with the real Flask-Session 0.8 (all
//! backends): the Flask app as a child process ([`FlaskApp`]), the actix mirror app with
//! the same routes ([`MirrorApp`]), and an HTTP client with one cookie jar for both
//! ([`Browser`]); the interop flows every backend shares ([`flows`]); and the outage
//! scenario of the `*_outage` tests with its child-process helpers ([`outage`]); raw
//! clients of the backends ([`raw`]).
//!
//! Use it from a test file with `mod support;`. Nothing here is backend-specific: a
//! backend's test passes its `SESSION_*` settings (the same for both apps) and, for the
//! mirror, a [`Session`] built from them.
//!
//! The Flask app needs the venv made by `scripts/interop-venv.sh` (`scripts/test.sh` runs
//! it). A missing venv or a Flask app that does not start is a panic that says so, never
//! a skipped test.
#![allow(dead_code)]

mod flask;
pub mod flows;
mod mirror;
pub mod outage;
pub mod proxy;
pub mod raw;

#[allow(unused_imports)]
pub use flask::FlaskApp;
#[allow(unused_imports)]
pub use mirror::{MirrorApp, routes, tag};

use std::fmt::Write as _;

use actix_flask_session::Session;
use figment::Figment;
use figment::providers::{Format, Toml};
use serde_json::Value as Json;

/// One configuration for both apps: `SESSION_*` keys and their values, passed to Flask as
/// environment variables and to the mirror as a TOML Figment.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    entries: Vec<(String, Setting)>,
}

/// A configuration value.
#[derive(Debug, Clone)]
pub enum Setting {
    /// A string.
    Str(String),
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
}

impl Settings {
    /// Adds (or replaces) a string setting.
    pub fn str(mut self, key: &str, value: impl Into<String>) -> Self {
        self.set(key, Setting::Str(value.into()));
        self
    }

    /// Adds (or replaces) a boolean setting.
    pub fn bool(mut self, key: &str, value: bool) -> Self {
        self.set(key, Setting::Bool(value));
        self
    }

    /// Adds (or replaces) an integer setting.
    pub fn int(mut self, key: &str, value: i64) -> Self {
        self.set(key, Setting::Int(value));
        self
    }

    fn set(&mut self, key: &str, value: Setting) {
        self.entries.retain(|(k, _)| k != key);
        self.entries.push((key.to_owned(), value));
    }

    /// The string value of `key`, if set.
    pub fn get_str(&self, key: &str) -> Option<&str> {
        self.entries.iter().find_map(|(k, v)| match v {
            Setting::Str(s) if k == key => Some(s.as_str()),
            _ => None,
        })
    }

    /// The settings as environment variables (booleans as `true`/`false`).
    pub fn env(&self) -> Vec<(String, String)> {
        self.entries
            .iter()
            .map(|(k, v)| {
                let value = match v {
                    Setting::Str(s) => s.clone(),
                    Setting::Bool(b) => b.to_string(),
                    Setting::Int(i) => i.to_string(),
                };
                (k.clone(), value)
            })
            .collect()
    }

    /// The settings as a Figment (a TOML document).
    pub fn figment(&self) -> Figment {
        let mut toml = String::new();
        for (k, v) in &self.entries {
            let value = match v {
                Setting::Str(s) => Json::String(s.clone()).to_string(),
                Setting::Bool(b) => b.to_string(),
                Setting::Int(i) => i.to_string(),
            };
            let _ = writeln!(toml, "{k} = {value}");
        }
        Figment::from(Toml::string(&toml))
    }

    /// The mirror's [`Session`], built from these settings as an app would.
    pub async fn session(&self) -> Session {
        match Session::from_figment(&self.figment()).await {
            Ok(session) => session,
            Err(e) => panic!("the mirror app's configuration failed: {e} ({self:?})"),
        }
    }
}

/// An HTTP client with one cookie jar, shared by the Flask app and the mirror (cookies do
/// not depend on the port, so both apps on 127.0.0.1 see the same cookies).
#[derive(Clone)]
pub struct Browser {
    client: reqwest::Client,
}

/// One answer.
#[derive(Debug)]
pub struct Reply {
    /// The status code.
    pub status: u16,
    /// Every `Set-Cookie` header.
    pub set_cookies: Vec<String>,
    /// The body.
    pub body: String,
}

impl Reply {
    /// The body as JSON.
    pub fn json(&self) -> Json {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.body))
    }

    /// The value of the `Set-Cookie` for `name`, if any.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.set_cookies.iter().find_map(|c| {
            let value = c.strip_prefix(name)?.strip_prefix('=')?;
            Some(value.split(';').next().unwrap_or("").to_owned())
        })
    }
}

impl Default for Browser {
    fn default() -> Self {
        Self::new()
    }
}

impl Browser {
    /// A client with an empty cookie jar.
    pub fn new() -> Self {
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .no_proxy()
            .build()
            .expect("an HTTP client");
        Browser { client }
    }

    /// A client without a cookie jar that sends `cookie` as the `Cookie` header: to replay
    /// an old cookie after a logout.
    pub async fn send_with_cookie(method: &str, url: &str, cookie: &str) -> Reply {
        let client = reqwest::Client::builder()
            .no_proxy()
            .build()
            .expect("an HTTP client");
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("a method");
        let res = client
            .request(method, url)
            .header("cookie", cookie)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{url}: {e}"));
        reply(res).await
    }

    /// `GET url`.
    pub async fn get(&self, url: &str) -> Reply {
        let res = self
            .client
            .get(url)
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {url}: {e}"));
        reply(res).await
    }

    /// `POST url` without a body.
    pub async fn post(&self, url: &str) -> Reply {
        let res = self
            .client
            .post(url)
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST {url}: {e}"));
        reply(res).await
    }

    /// `POST url` with a JSON body.
    pub async fn post_json(&self, url: &str, body: &Json) -> Reply {
        let res = self
            .client
            .post(url)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST {url}: {e}"));
        reply(res).await
    }
}

async fn reply(res: reqwest::Response) -> Reply {
    let status = res.status().as_u16();
    let set_cookies = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(str::to_owned)
        .collect();
    let body = res
        .text()
        .await
        .unwrap_or_else(|e| panic!("reading a body: {e}"));
    Reply {
        status,
        set_cookies,
        body,
    }
}

/// A random key prefix, so that concurrent tests never see each other's sessions.
pub fn random_prefix(tag: &str) -> String {
    format!(
        "interop-{tag}-{:012x}:",
        rand::random::<u64>() & 0xffff_ffff_ffff
    )
}

/// `bytes` random bytes in the session ids' alphabet (URL-safe base64 without padding, as
/// Python's `secrets.token_urlsafe`): for unique names and for ids made outside the app.
pub fn random_token(bytes: usize) -> String {
    use base64::Engine as _;
    let data: Vec<u8> = (0..bytes).map(|_| rand::random::<u8>()).collect();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(data)
}
