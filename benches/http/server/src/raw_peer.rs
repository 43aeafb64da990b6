//! What the raw peers (`raw`, `raw-memcached`, `raw-mongo`, `raw-sql`) share: the session
//! key read from the cookie, the `/hello` route and a one-worker server.
// Each binary includes this module and uses a part of it.
#![allow(dead_code)]

use actix_web::web::{self, ServiceConfig};
use actix_web::{App, HttpRequest, HttpServer};

/// The session id of the `session` cookie, unchecked (the raw peers trust it).
pub fn sid(req: &HttpRequest) -> Option<&str> {
    let header = req.headers().get("cookie")?.to_str().ok()?;
    header
        .split(';')
        .find_map(|c| c.trim().strip_prefix("session="))
}

/// The store key of the request's session: `session:<sid>`.
pub fn key(req: &HttpRequest) -> Option<String> {
    Some(format!("session:{}", sid(req)?))
}

/// The route that never touches the session.
pub async fn hello() -> &'static str {
    "hello"
}

/// Serves `routes` (plus `/hello`) on 127.0.0.1:`port` with one worker, `state` as
/// `web::Data`.
pub async fn serve<T: Clone + Send + 'static>(
    port: u16,
    state: T,
    routes: fn(&mut ServiceConfig),
) -> std::io::Result<()> {
    HttpServer::new(move || {
        App::new()
            .app_data(web::Data::new(state.clone()))
            .configure(routes)
            .route("/hello", web::get().to(hello))
    })
    .workers(1)
    .bind(("127.0.0.1", port))?
    .run()
    .await
}
