//! The routes and server shared by the `afs` (Redis), `afs-sql` (SQL) and other crate
//! peers: `/read` reads `n` from the session, `/incr` reads, increments and writes it
//! back, `/hello` does not touch the session. One actix worker.

use actix_flask_session::{
    ServerSideSession, ServerSideSessionInterface, Session, SessionConfig, SessionStore,
};
use actix_web::{App, HttpResponse, HttpServer, web};

// The answers are built like the raw peer's (a body, no content type), so that the
// responses differ only by what the session layer adds.
async fn read(session: ServerSideSession) -> actix_web::Result<HttpResponse> {
    let n = session.get::<i64>("n")?.unwrap_or(0);
    Ok(HttpResponse::Ok().body(n.to_string()))
}

async fn incr(session: ServerSideSession) -> actix_web::Result<HttpResponse> {
    let n = session.get::<i64>("n")?.unwrap_or(0) + 1;
    session.insert("n", n)?;
    Ok(HttpResponse::Ok().body(n.to_string()))
}

async fn hello() -> &'static str {
    "hello"
}

/// The first two arguments: the port (default `default_port`) and the store URL.
pub fn args(default_port: u16, default_url: &str) -> (u16, String) {
    let mut args = std::env::args().skip(1);
    let port = args
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap_or(default_port);
    let url = args.next().unwrap_or_else(|| default_url.to_owned());
    (port, url)
}

/// With the `metrics` feature: a Prometheus recorder (latency buckets as an application
/// would set them, upkeep every 5 s as its exporter would run it) installed before the
/// session is built, and its rendering on `/metrics`.
#[cfg(feature = "metrics")]
fn prometheus() -> std::io::Result<metrics_exporter_prometheus::PrometheusHandle> {
    use metrics_exporter_prometheus::{Matcher, PrometheusBuilder};
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(
            Matcher::Suffix("_duration_seconds".to_owned()),
            &[
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0,
            ],
        )
        .map_err(std::io::Error::other)?
        .install_recorder()
        .map_err(std::io::Error::other)?;
    let upkeep = handle.clone();
    actix_web::rt::spawn(async move {
        let mut every = actix_web::rt::time::interval(std::time::Duration::from_secs(5));
        loop {
            every.tick().await;
            upkeep.run_upkeep();
        }
    });
    Ok(handle)
}

/// Serves the three routes over `store` with Flask-Session's default configuration
/// (permanent, refresh each request, msgpack, unsigned cookie). `AFS_REFRESH=0` turns
/// `SESSION_REFRESH_EACH_REQUEST` off, to see what the refresh costs.
#[allow(dead_code)] // `afs-sql` calls `serve_with` only
pub async fn serve(store: impl SessionStore, port: u16) -> std::io::Result<()> {
    serve_with(store, port, |_| {}).await
}

/// [`serve`], with the routes `extra` adds (routes that do not take the session, e.g.
/// `afs-sql`'s `/stats`).
pub async fn serve_with(
    store: impl SessionStore,
    port: u16,
    extra: fn(&mut web::ServiceConfig),
) -> std::io::Result<()> {
    #[cfg(feature = "metrics")]
    let prometheus = prometheus()?;
    let mut config = SessionConfig::default();
    config.refresh_each_request = std::env::var("AFS_REFRESH").map_or(true, |v| v != "0");
    let interface =
        ServerSideSessionInterface::new(store, config).map_err(std::io::Error::other)?;
    let session = Session::new(interface);
    HttpServer::new(move || {
        let app = App::new()
            .route("/read", web::get().to(read))
            .route("/incr", web::get().to(incr))
            .route("/hello", web::get().to(hello))
            .configure(extra);
        #[cfg(feature = "metrics")]
        let app = {
            let prometheus = prometheus.clone();
            app.route(
                "/metrics",
                web::get().to(move || {
                    let body = prometheus.render();
                    async move { HttpResponse::Ok().body(body) }
                }),
            )
        };
        session.init_app(app)
    })
    .workers(1)
    .bind(("127.0.0.1", port))?
    .run()
    .await
}
