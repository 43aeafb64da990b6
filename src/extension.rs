//! [`Session`], Flask-Session's extension object: configuration in, middleware out.

use std::sync::Arc;

use actix_web::{
    App, Error,
    body::{EitherBody, MessageBody},
    dev::{ServiceFactory, ServiceRequest, ServiceResponse},
};
use figment::Figment;

use crate::config::{SessionConfig, SessionType};
use crate::error::ConfigError;
use crate::lifecycle::{ServerSideSessionInterface, SessionMiddleware};
use crate::observability::StoreHealth;
use crate::store::SessionStore;

/// Flask-Session's `Session` extension: reads the `SESSION_*` configuration, builds the
/// matching store and installs the middleware in an actix `App`.
///
/// ```no_run
/// use actix_flask_session::{ServerSideSession, Session};
/// use actix_web::{App, HttpServer, get};
///
/// #[get("/")]
/// async fn index(session: ServerSideSession) -> actix_web::Result<String> {
///     let visits: u64 = session.get("visits")?.unwrap_or(0);
///     session.insert("visits", visits + 1)?;
///     Ok(format!("visit {}", visits + 1))
/// }
///
/// #[actix_web::main]
/// async fn main() -> Result<(), Box<dyn std::error::Error>> {
///     // Session.toml (or the environment) holds SESSION_TYPE = "filesystem", ...
///     let session = Session::from_config().await?;
///     HttpServer::new(move || session.init_app(App::new().service(index)))
///         .bind(("127.0.0.1", 8080))?
///         .run()
///         .await?;
///     Ok(())
/// }
/// ```
#[derive(Debug, Clone)]
pub struct Session {
    interface: ServerSideSessionInterface,
}

impl Session {
    /// Reads the default configuration sources ([`SessionConfig::figment`]) and builds the
    /// store `SESSION_TYPE` selects:
    ///
    /// - `Session.toml` in the current directory of the process (where the server is
    ///   started, not where `Cargo.toml` or the binary is), or the file named by the
    ///   environment variable `ACTIX_FLASK_SESSION_CONFIG` (which must exist). This file
    ///   holds session keys only: any other key in it is an error.
    /// - environment variables named exactly like the keys, which override the file.
    ///
    /// Errors name the key, the value and what is allowed, or the file, the line and the
    /// reason; when `SESSION_TYPE` is set nowhere, the error says where `Session.toml` was
    /// looked for.
    pub async fn from_config() -> Result<Self, ConfigError> {
        Self::from_figment(&SessionConfig::figment()).await
    }

    /// Same as [`from_config`](Self::from_config) with any Figment, typically the whole
    /// application's configuration: the session keys are read from it, the application's
    /// own keys (`DATABASE_URL`, `DEBUG`, ...) are left alone. Keys that look like session
    /// keys (starting with `SESSION_`, or close to a known key) must be known, and an
    /// unknown one is an error with a did-you-mean.
    ///
    /// One flat configuration for the app, as Flask's `app.config`:
    ///
    /// ```
    /// # use figment::Jail;
    /// use actix_flask_session::{Session, config::SessionEnv};
    /// use figment::{Figment, providers::{Format, Toml}};
    ///
    /// # Jail::expect_with(|jail| {
    /// # jail.clear_env();
    /// jail.create_file("App.toml", r#"
    ///     DATABASE_URL = "postgres://app@db/app"
    ///     DEBUG = true
    ///     SESSION_TYPE = "filesystem"
    ///     SESSION_FILE_DIR = "sessions"
    /// "#)?;
    /// # actix_web::rt::System::new().block_on(async {
    /// let figment = Figment::from(Toml::file("App.toml")).merge(SessionEnv::new());
    /// let session = Session::from_figment(&figment).await?;
    /// let database_url: String = figment.extract_inner("DATABASE_URL")?;
    /// # assert_eq!(database_url, "postgres://app@db/app");
    /// # let _ = session;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).map_err(|e| e.to_string())?;
    /// # Ok(())
    /// # });
    /// ```
    ///
    /// Or a `[session]` table in the app's file, selected with [`Figment::focus`]
    /// (merge [`SessionEnv`](crate::config::SessionEnv) after focusing, so that
    /// `SESSION_TYPE=...` in the environment still overrides the file):
    ///
    /// ```
    /// # use figment::Jail;
    /// use actix_flask_session::{Session, config::SessionEnv};
    /// use figment::{Figment, providers::{Format, Toml}};
    ///
    /// # Jail::expect_with(|jail| {
    /// # jail.clear_env();
    /// jail.create_file("App.toml", r#"
    ///     database_url = "postgres://app@db/app"
    ///
    ///     [session]
    ///     SESSION_TYPE = "filesystem"
    ///     SESSION_FILE_DIR = "sessions"
    /// "#)?;
    /// # actix_web::rt::System::new().block_on(async {
    /// let figment = Figment::from(Toml::file("App.toml"));
    /// let session = Session::from_figment(&figment.focus("session").merge(SessionEnv::new())).await?;
    /// # let _ = session;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).map_err(|e| e.to_string())?;
    /// # Ok(())
    /// # });
    /// ```
    pub async fn from_figment(figment: &Figment) -> Result<Self, ConfigError> {
        let config = SessionConfig::from_figment(figment)?;
        let store = build_store(&config, figment).await?;
        tracing::info!(
            session_type = ?config.session_type,
            store = store.name(),
            "server-side sessions configured"
        );
        Ok(Session::new(ServerSideSessionInterface::from_arc(
            store, config,
        )?))
    }

    /// A session extension over an interface built in code.
    pub fn new(interface: ServerSideSessionInterface) -> Self {
        Session { interface }
    }

    /// The interface (store, configuration, lifecycle).
    pub fn interface(&self) -> &ServerSideSessionInterface {
        &self.interface
    }

    /// Lists and revokes the sessions of any user, outside a request too (needs
    /// `SESSION_USER_KEY`; see [`UserSessions`](crate::UserSessions)).
    pub fn users(&self) -> crate::UserSessions {
        crate::UserSessions::new(self.interface.clone())
    }

    /// Pings the store, for a readiness probe: reads a key that never holds a session
    /// (the key prefix followed by `.health-check`, outside the id alphabet) without
    /// refreshing anything, so it costs one round trip on every store and writes nothing.
    /// It waits as long as the store's own timeouts allow (`SESSION_REDIS_RESPONSE_TIMEOUT`,
    /// the pool's wait, ...).
    ///
    /// ```
    /// use actix_flask_session::Session;
    /// use actix_web::{HttpResponse, web};
    ///
    /// // `web::Data<Session>`: `App::new().app_data(web::Data::new(session.clone()))`.
    /// async fn ready(session: web::Data<Session>) -> HttpResponse {
    ///     let health = session.health().await;
    ///     let body = format!("{} {}µs", health.backend, health.latency.as_micros());
    ///     if health.answers {
    ///         HttpResponse::Ok().body(body)
    ///     } else {
    ///         tracing::warn!(error = ?health.error, "session store does not answer");
    ///         HttpResponse::ServiceUnavailable().body(body)
    ///     }
    /// }
    /// # use actix_flask_session::{CacheLibStore, ServerSideSessionInterface, SessionConfig, SimpleCache};
    /// # actix_web::rt::System::new().block_on(async {
    /// # let session = Session::new(ServerSideSessionInterface::new(
    /// #     CacheLibStore::new(SimpleCache::new(10)), SessionConfig::default()).unwrap());
    /// # let app = actix_web::test::init_service(actix_web::App::new()
    /// #     .app_data(web::Data::new(session.clone()))
    /// #     .route("/ready", web::get().to(ready))).await;
    /// # let res = actix_web::test::call_service(&app, actix_web::test::TestRequest::get().uri("/ready").to_request()).await;
    /// # assert_eq!(res.status(), 200);
    /// # let body = actix_web::test::read_body(res).await;
    /// # assert!(body.starts_with(b"cachelib "), "{body:?}");
    /// # });
    /// ```
    pub async fn health(&self) -> StoreHealth {
        crate::observability::check(&self.interface).await
    }

    /// The middleware, for `App::wrap` or a `Scope`.
    pub fn middleware(&self) -> SessionMiddleware {
        SessionMiddleware::new(self.interface.clone())
    }

    /// Flask's `init_app`: returns `app` with the session middleware installed. actix's
    /// `App` is a by-value builder, so this is how `init_app(app)` is spelled here.
    pub fn init_app<T, B>(
        &self,
        app: App<T>,
    ) -> App<
        impl ServiceFactory<
            ServiceRequest,
            Config = (),
            Response = ServiceResponse<EitherBody<B>>,
            Error = Error,
            InitError = (),
        > + use<T, B>,
    >
    where
        T: ServiceFactory<
                ServiceRequest,
                Config = (),
                Response = ServiceResponse<B>,
                Error = Error,
                InitError = (),
            >,
        T::Service: 'static,
        B: MessageBody + 'static,
    {
        app.wrap(self.middleware())
    }
}

/// Builds the store `SESSION_TYPE` names (its backend's declaration), or says which
/// feature is missing.
async fn build_store(
    config: &SessionConfig,
    figment: &Figment,
) -> Result<Arc<dyn SessionStore>, ConfigError> {
    let Some(session_type) = config.session_type else {
        return Err(ConfigError::Missing {
            key: "SESSION_TYPE",
            hint: format!("it selects the session store; {}", SessionType::allowed()),
        });
    };
    (session_type.backend().build)(config, figment).await
}
