//! `SessionMiddleware`: registers the lazy session slot before the handler and saves the
//! session after it (also for error responses produced by handlers and extractors).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use actix_service::{Service, Transform};
use actix_web::{
    Error, HttpMessage, ResponseError,
    body::{EitherBody, MessageBody},
    dev::{ServiceRequest, ServiceResponse, forward_ready},
};
use futures_util::future::{LocalBoxFuture, Ready, ready as ready_future};
use pin_project_lite::pin_project;

use super::interface::ServerSideSessionInterface;
use super::server_side_session::ServerSideSession;

/// The per-request slot (a request extension) the extractor fills on first use and the
/// middleware empties after the handler.
pub(crate) struct RequestSession {
    pub interface: ServerSideSessionInterface,
    /// Created by the first extraction, which loads it (later ones share it).
    pub session: Option<ServerSideSession>,
}

impl RequestSession {
    /// The request's session, once loaded.
    pub fn loaded(self) -> Option<ServerSideSession> {
        self.session.filter(ServerSideSession::is_loaded)
    }
}

/// The session middleware. Get one from [`Session::middleware`](crate::Session::middleware)
/// to wrap an `App` or a scope; [`Session::init_app`](crate::Session::init_app) does it for
/// a whole app.
///
/// A request whose handler never takes [`ServerSideSession`] costs no store access and
/// gets no session headers. When saving fails because the store is down, the response
/// is replaced by an opaque `503 Service Unavailable` and the cause is logged.
#[derive(Debug, Clone)]
pub struct SessionMiddleware {
    interface: ServerSideSessionInterface,
}

impl SessionMiddleware {
    /// A middleware over `interface`.
    pub fn new(interface: ServerSideSessionInterface) -> Self {
        SessionMiddleware { interface }
    }
}

impl<S, B> Transform<S, ServiceRequest> for SessionMiddleware
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Transform = SessionMiddlewareService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready_future(Ok(SessionMiddlewareService {
            service,
            interface: self.interface.clone(),
        }))
    }
}

/// The service [`SessionMiddleware`] wraps around the next one.
#[derive(Debug)]
pub struct SessionMiddlewareService<S> {
    service: S,
    interface: ServerSideSessionInterface,
}

impl<S, B> Service<ServiceRequest> for SessionMiddlewareService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Future = SessionResponse<S::Future, B>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        req.extensions_mut().insert(RequestSession {
            interface: self.interface.clone(),
            session: None,
        });
        SessionResponse {
            handler: self.service.call(req),
            save: None,
        }
    }
}

type SaveFuture<B> = LocalBoxFuture<'static, Result<ServiceResponse<EitherBody<B>>, Error>>;

pin_project! {
    /// The response future of [`SessionMiddlewareService`]: the handler's response, then,
    /// only when the handler took the session, the save.
    pub struct SessionResponse<F, B> {
        #[pin]
        handler: F,
        save: Option<SaveFuture<B>>,
    }
}

impl<F, B> Future for SessionResponse<F, B>
where
    F: Future<Output = Result<ServiceResponse<B>, Error>>,
    B: MessageBody + 'static,
{
    type Output = Result<ServiceResponse<EitherBody<B>>, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if let Some(save) = this.save.as_mut() {
            return save.as_mut().poll(cx);
        }
        let res = ready!(this.handler.poll(cx))?;
        let slot = res.request().extensions_mut().remove::<RequestSession>();
        let Some(session) = slot.and_then(RequestSession::loaded) else {
            return Poll::Ready(Ok(res.map_into_left_body()));
        };
        let save = this.save.insert(Box::pin(save(session, res)));
        save.as_mut().poll(cx)
    }
}

/// Saves the session into the store and the response headers; a store failure replaces
/// the response by the error's (an opaque 503).
async fn save<B: MessageBody + 'static>(
    session: ServerSideSession,
    mut res: ServiceResponse<B>,
) -> Result<ServiceResponse<EitherBody<B>>, Error> {
    match session
        .interface()
        .save(session.take_state(), res.headers_mut())
        .await
    {
        Ok(()) => Ok(res.map_into_left_body()),
        Err(error) => {
            let response = error.error_response();
            Ok(res.into_response(response).map_into_right_body())
        }
    }
}
