//! `SessionMiddleware`: registers the lazy session slot before the handler and saves the
//! session after it (also for error responses produced by handlers and extractors).

use std::cell::RefCell;
use std::rc::Rc;

use actix_service::{Service, Transform};
use actix_web::{
    Error, HttpMessage, ResponseError,
    body::{EitherBody, MessageBody},
    dev::{ServiceRequest, ServiceResponse, forward_ready},
};
use futures_util::future::{LocalBoxFuture, Ready, ready};

use super::interface::ServerSideSessionInterface;
use super::session::ServerSideSession;

/// The per-request slot the extractor fills on first use.
pub(crate) struct RequestSession {
    pub interface: ServerSideSessionInterface,
    session: RefCell<Option<ServerSideSession>>,
}

impl RequestSession {
    pub fn session(&self) -> Option<ServerSideSession> {
        self.session.borrow().clone()
    }

    /// Keeps the first session installed in this request and returns it.
    pub fn install(&self, session: ServerSideSession) -> ServerSideSession {
        self.session.borrow_mut().get_or_insert(session).clone()
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
        ready(Ok(SessionMiddlewareService {
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
    type Future = LocalBoxFuture<'static, Result<Self::Response, Self::Error>>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let slot = Rc::new(RequestSession {
            interface: self.interface.clone(),
            session: RefCell::new(None),
        });
        req.extensions_mut().insert(Rc::clone(&slot));
        let response = self.service.call(req);
        Box::pin(async move {
            let mut res = response.await?;
            let Some(session) = slot.session.borrow_mut().take() else {
                return Ok(res.map_into_left_body());
            };
            match slot
                .interface
                .save(session.take_state(), res.headers_mut())
                .await
            {
                Ok(()) => Ok(res.map_into_left_body()),
                Err(error) => {
                    let response = error.error_response();
                    Ok(res.into_response(response).map_into_right_body())
                }
            }
        })
    }
}
