//! A small but real page on the embedded filesystem store: log in with a name, count
//! visits, regenerate the session id, log out, and see where you are logged in ("Your
//! sessions": every session of your name with its browser and address, revoke one, log
//! out everywhere else). No server and no config file needed.
//!
//! ```text
//! cargo run --example quickstart                 # then open http://127.0.0.1:8080
//! curl -c jar -b jar -d name=alice http://127.0.0.1:8080/login
//! curl -c jar -b jar http://127.0.0.1:8080/      # "visits: 1", "visits: 2", ...
//! curl -c jar -b jar -X POST http://127.0.0.1:8080/regenerate
//! curl -c jar -b jar -X POST http://127.0.0.1:8080/logout
//! curl -c jar -b jar http://127.0.0.1:8080/sessions
//! curl http://127.0.0.1:8080/metrics             # Prometheus text format
//! ```
//!
//! `/metrics` shows the session layer's counters and store-call latencies with the crate's
//! `metrics` feature: `cargo run --example quickstart --features metrics`.
//!
//! `Session.toml` (or `ACTIX_FLASK_SESSION_CONFIG`) and `SESSION_*` environment variables
//! are honoured when present; otherwise the example uses `SESSION_TYPE = "filesystem"`,
//! `SESSION_USER_KEY = "user"` and `SESSION_TRACK_CLIENT = true` (set
//! `SESSION_USER_KEY = ""` for a store that keeps no per-user index, such as memcached).
//! The log says which store it uses. `PORT` changes the port (`0`: any free port; the log
//! says which, once it is bound); a `PORT` that is not a port number is an error.

use std::path::Path;

use actix_flask_session::{ServerSideSession, Session, SessionConfig};
use actix_web::{App, HttpResponse, HttpServer, http::header, web};
use figment::{Figment, providers::Serialized};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

#[derive(serde::Deserialize)]
struct Login {
    name: String,
}

fn page(body: &str) -> HttpResponse {
    HttpResponse::Ok().content_type("text/html; charset=utf-8").body(format!(
        "<!doctype html><html><head><meta charset=utf-8><title>actix-flask-session quickstart</title>\
         <style>body {{ font-family: sans-serif; max-width: 48em; margin: 3em auto }} \
         table {{ border-collapse: collapse; margin-bottom: 1em }} \
         th, td {{ border: 1px solid #999; padding: .4em .6em; text-align: left }} \
         td.when, button {{ white-space: nowrap }}</style></head>\
         <body><h1>actix-flask-session</h1>{body}</body></html>\n"
    ))
}

fn see_home() -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/"))
        .finish()
}

async fn index(session: ServerSideSession) -> actix_web::Result<HttpResponse> {
    let Some(name) = session.get::<String>("user")? else {
        return Ok(page(&format!("<p>You are not logged in.</p>{LOGIN_FORM}")));
    };
    let visits = session.get::<u64>("visits")?.unwrap_or(0) + 1;
    session.insert("visits", visits)?;
    let sid = session.sid();
    Ok(page(&format!(
        "<p>Hello, <b>{}</b>. visits: {visits}</p>\
         <p>session id: <code>{}…</code></p>\
         <p><a href=/sessions>Your sessions</a></p>\
         <form method=post action=/regenerate><button>Regenerate session id</button></form>\
         <form method=post action=/logout><button>Log out</button></form>",
        html_escape::encode_text(&name),
        &sid[..8.min(sid.len())],
    )))
}

const LOGIN_FORM: &str = "<form method=post action=/login><input name=name placeholder=\"your name\" \
                          required> <button>Log in</button></form>";

async fn login(
    session: ServerSideSession,
    form: web::Form<Login>,
) -> actix_web::Result<HttpResponse> {
    let name = form.into_inner().name;
    let name = name.trim();
    if name.is_empty() {
        // The form again, with what to fix (a bare error text would be a dead end).
        let mut response = page(&format!(
            "<p><b>Please enter a name</b> (it cannot be empty or only spaces).</p>{LOGIN_FORM}"
        ));
        *response.status_mut() = actix_web::http::StatusCode::BAD_REQUEST;
        return Ok(response);
    }
    session.insert("user", name)?;
    session.insert("visits", 0u64)?;
    // A new id at login defeats session fixation.
    session.regenerate()?;
    Ok(see_home())
}

async fn regenerate(session: ServerSideSession) -> actix_web::Result<HttpResponse> {
    session.regenerate()?;
    Ok(see_home())
}

async fn logout(session: ServerSideSession) -> HttpResponse {
    session.clear();
    see_home()
}

fn when(t: std::time::SystemTime) -> String {
    let t = time::OffsetDateTime::from(t);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// "Your sessions": where this user is logged in, with a revoke button per session.
async fn sessions(session: ServerSideSession) -> actix_web::Result<HttpResponse> {
    let Some(name) = session.get::<String>("user")? else {
        return Ok(page(&format!("<p>You are not logged in.</p>{LOGIN_FORM}")));
    };
    let mut rows = String::new();
    let list = session.user_sessions().await?;
    for s in &list {
        let this = if s.current { " <b>(this one)</b>" } else { "" };
        let revoke = if s.current {
            "<form method=post action=/logout><button>Log out</button></form>".to_owned()
        } else {
            format!(
                "<form method=post action=/sessions/{}/revoke><button>Revoke</button></form>",
                html_escape::encode_double_quoted_attribute(&s.handle)
            )
        };
        rows.push_str(&format!(
            "<tr class=session data-current={}><td>{}{this}</td><td>{}</td><td class=when>{}</td><td class=when>{}</td><td>{revoke}</td></tr>",
            s.current,
            html_escape::encode_text(s.user_agent.as_deref().unwrap_or("unknown browser")),
            html_escape::encode_text(s.addr.as_deref().unwrap_or("-")),
            when(s.created),
            when(s.last_seen),
        ));
    }
    Ok(page(&format!(
        "<h2>Your sessions, {}</h2><p id=count>{} {}</p>\
         <table>\
         <tr><th>Browser</th><th>Address</th><th>Logged in</th><th>Last seen</th><th></th></tr>{rows}</table>\
         <form method=post action=/sessions/revoke-others><button id=others>Log out everywhere else</button></form>\
         <p><a href=/>Home</a></p>",
        html_escape::encode_text(&name),
        list.len(),
        if list.len() == 1 {
            "session"
        } else {
            "sessions"
        },
    )))
}

async fn revoke(
    session: ServerSideSession,
    handle: web::Path<String>,
) -> actix_web::Result<HttpResponse> {
    session.revoke_session(&handle).await?;
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/sessions"))
        .finish())
}

async fn revoke_others(session: ServerSideSession) -> actix_web::Result<HttpResponse> {
    session.revoke_other_sessions().await?;
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/sessions"))
        .finish())
}

/// Every metric recorded so far, in Prometheus' text format.
async fn metrics(prometheus: web::Data<PrometheusHandle>) -> HttpResponse {
    let mut body = prometheus.render();
    if !cfg!(feature = "metrics") {
        body.push_str(
            "# actix-flask-session was built without its `metrics` feature: \
             cargo run --example quickstart --features metrics\n",
        );
    }
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(body)
}

/// Store-call latency buckets, in seconds.
const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0,
];

#[actix_web::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,actix_flask_session=debug".into()),
        )
        .init();

    // A bad PORT is an error, not silently 8080.
    let port: u16 = match std::env::var("PORT") {
        Err(_) => 8080,
        Ok(text) => text.trim().parse().unwrap_or_else(|_| {
            eprintln!(
                "Error: PORT must be a port number from 0 to 65535 (0: any free port), not {text:?}"
            );
            std::process::exit(2)
        }),
    };

    // The recorder goes in before the session is built (which describes the metrics).
    let prometheus = PrometheusBuilder::new()
        .set_buckets_for_metric(
            Matcher::Suffix("_duration_seconds".to_owned()),
            LATENCY_BUCKETS,
        )?
        .install_recorder()?;
    let upkeep = prometheus.clone();
    actix_web::rt::spawn(async move {
        let mut every = actix_web::rt::time::interval(std::time::Duration::from_secs(5));
        loop {
            every.tick().await;
            upkeep.run_upkeep();
        }
    });
    let prometheus = web::Data::new(prometheus);

    let config_path =
        std::env::var("ACTIX_FLASK_SESSION_CONFIG").unwrap_or_else(|_| "Session.toml".to_owned());
    if Path::new(&config_path).exists() {
        tracing::info!(path = %config_path, "using the session configuration file");
    } else {
        tracing::info!(path = %config_path, "no configuration file; using the environment and the example's defaults");
    }
    // Built-in default first, then Session.toml and the environment on top of it.
    let figment = Figment::from(Serialized::default("SESSION_TYPE", "filesystem"))
        .merge(Serialized::default("SESSION_USER_KEY", "user"))
        .merge(Serialized::default("SESSION_TRACK_CLIENT", true))
        .merge(SessionConfig::figment());
    // `ConfigError`'s Debug is its message: main prints it as it is.
    let session = Session::from_figment(&figment).await?;
    let config = session.interface().config();
    let store = session.interface().store().name();
    if store == "filesystem" {
        let dir: String = figment
            .extract_inner("SESSION_FILE_DIR")
            .unwrap_or_else(|_| "flask_session".to_owned());
        tracing::info!(
            store,
            directory = %std::path::absolute(&dir).unwrap_or_else(|_| dir.clone().into()).display(),
            lifetime_secs = config.lifetime.as_secs(),
            "sessions are stored in files"
        );
    } else {
        tracing::info!(
            store,
            lifetime_secs = config.lifetime.as_secs(),
            "sessions are stored in {store}"
        );
    }

    let server = HttpServer::new(move || {
        session.init_app(
            App::new()
                .route("/", web::get().to(index))
                .route("/login", web::post().to(login))
                .route("/regenerate", web::post().to(regenerate))
                .route("/logout", web::post().to(logout))
                .route("/sessions", web::get().to(sessions))
                .route("/sessions/revoke-others", web::post().to(revoke_others))
                .route("/sessions/{handle}/revoke", web::post().to(revoke))
                .app_data(prometheus.clone())
                .route("/metrics", web::get().to(metrics)),
        )
    })
    .bind(("127.0.0.1", port))
    .unwrap_or_else(|e| {
        eprintln!("Error: cannot listen on 127.0.0.1:{port}: {e}");
        std::process::exit(1)
    });
    // Bound: the address is real (PORT=0 picks a free port).
    for addr in server.addrs() {
        tracing::info!("serving http://{addr}/");
    }
    server.run().await?;
    Ok(())
}
