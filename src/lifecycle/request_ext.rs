//! [`SessionExt`]: the request's session outside handlers (middleware, `from_fn`).

use std::future::Future;

use actix_web::dev::ServiceRequest;
use actix_web::{FromRequest, HttpRequest};

use super::server_side_session::ServerSideSession;
use crate::error::SessionUnavailable;

/// The request's session from an [`HttpRequest`] or a [`ServiceRequest`], as actix-session's
/// `SessionExt`, for middleware that runs inside the session middleware (a `from_fn`
/// middleware, a `wrap_fn`, a handler holding the request).
///
/// The session loads lazily: the first access in a request reads the store (one round trip)
/// and every later access, here or through the [`ServerSideSession`] extractor, shares it.
/// That is why the method is `async`, and why actix's guards, which are synchronous, cannot
/// read a session: check it in a middleware instead.
///
/// ```
/// use actix_flask_session::{
///     CacheLibStore, ServerSideSessionInterface, Session, SessionConfig, SessionExt, SimpleCache,
/// };
/// use actix_web::body::MessageBody;
/// use actix_web::dev::{ServiceRequest, ServiceResponse};
/// use actix_web::middleware::{Next, from_fn};
/// use actix_web::{App, Error, error, test, web};
///
/// /// Answers 401 unless the session holds a user.
/// async fn require_login(
///     req: ServiceRequest,
///     next: Next<impl MessageBody>,
/// ) -> Result<ServiceResponse<impl MessageBody>, Error> {
///     let session = req.get_session().await?;
///     if session.get::<String>("user")?.is_none() {
///         return Err(error::ErrorUnauthorized("log in first"));
///     }
///     next.call(req).await
/// }
///
/// # actix_web::rt::System::new().block_on(async {
/// let interface = ServerSideSessionInterface::new(
///     CacheLibStore::new(SimpleCache::new(100)),
///     SessionConfig::default(),
/// )?;
/// let session = Session::new(interface);
/// let app = test::init_service(session.init_app(
///     App::new().service(
///         web::scope("/account")
///             .wrap(from_fn(require_login))
///             .route("", web::get().to(|| async { "yours" })),
///     ),
/// ))
/// .await;
/// let req = test::TestRequest::get().uri("/account").to_request();
/// let err = test::try_call_service(&app, req).await.err().expect("no user: refused");
/// assert_eq!(err.as_response_error().status_code(), 401);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait SessionExt {
    /// The request's session, loaded on first use. Fails as the extractor does: without the
    /// session middleware, or when the store cannot be read (`503`).
    fn get_session(
        &self,
    ) -> impl Future<Output = Result<ServerSideSession, SessionUnavailable>> + 'static;
}

impl SessionExt for HttpRequest {
    fn get_session(
        &self,
    ) -> impl Future<Output = Result<ServerSideSession, SessionUnavailable>> + 'static {
        ServerSideSession::extract(self)
    }
}

impl SessionExt for ServiceRequest {
    fn get_session(
        &self,
    ) -> impl Future<Output = Result<ServerSideSession, SessionUnavailable>> + 'static {
        self.request().get_session()
    }
}
