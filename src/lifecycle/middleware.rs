//! `SessionMiddleware`: makes its interface the current one while the inner service runs,
//! and saves the session after it, when the handler took it (also for error responses
//! produced by handlers and extractors).

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, ready};

use actix_service::{Service, Transform};
use actix_web::{
    Error, HttpMessage, ResponseError,
    body::{EitherBody, MessageBody},
    dev::{ServiceRequest, ServiceResponse, forward_ready},
};
use futures_util::future::{LocalBoxFuture, Ready, ready as ready_future};
use pin_project_lite::pin_project;

use super::interface::{Pending, ServerSideSessionInterface};
use super::server_side_session::ServerSideSession;
use crate::error::SessionUnavailable;

thread_local! {
    /// The interface of the innermost session middleware around the code that runs now on
    /// this thread: set while the middleware calls the inner service and while it polls
    /// the response future (the extractor runs inside one of the two), so that the
    /// extractor finds it without anything stored in requests that never take the session.
    static CURRENT: Cell<Option<Rc<ServerSideSessionInterface>>> = const { Cell::new(None) };
}

/// The interface of the session middleware the current code runs in, if any.
pub(crate) fn current_interface() -> Option<ServerSideSessionInterface> {
    CURRENT.with(|current| {
        let interface = current.take();
        let clone = interface.as_deref().cloned();
        current.set(interface);
        clone
    })
}

/// Makes `interface` the current one until dropped, then restores the previous one (also
/// when the inner service panics).
struct Scope(Option<Rc<ServerSideSessionInterface>>);

impl Scope {
    fn enter(interface: &Rc<ServerSideSessionInterface>) -> Self {
        Scope(CURRENT.with(|current| current.replace(Some(Rc::clone(interface)))))
    }
}

impl Drop for Scope {
    fn drop(&mut self) {
        let previous = self.0.take();
        CURRENT.with(|current| current.set(previous));
    }
}

/// The per-request slot (a request extension) the first extraction inserts and the
/// middleware takes out after the handler: requests that never take the session have
/// none.
pub(crate) struct RequestSession(pub ServerSideSession);

impl RequestSession {
    /// The request's session, once loaded.
    pub fn loaded(self) -> Option<ServerSideSession> {
        Some(self.0).filter(ServerSideSession::is_loaded)
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
            interface: Rc::new(self.interface.clone()),
        }))
    }
}

/// The service [`SessionMiddleware`] wraps around the next one.
#[derive(Debug)]
pub struct SessionMiddlewareService<S> {
    service: S,
    interface: Rc<ServerSideSessionInterface>,
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
        // A service that extracts the session in `call` itself, not in its future, finds
        // the interface too.
        let handler = {
            let _scope = Scope::enter(&self.interface);
            self.service.call(req)
        };
        SessionResponse {
            handler,
            interface: Rc::clone(&self.interface),
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
        interface: Rc<ServerSideSessionInterface>,
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
        let res = {
            let _scope = Scope::enter(this.interface);
            ready!(this.handler.poll(cx))?
        };
        // Only a request whose handler took the session has the slot.
        let slot = res.request().extensions_mut().remove::<RequestSession>();
        let Some(session) = slot.and_then(RequestSession::loaded) else {
            return Poll::Ready(Ok(res.map_into_left_body()));
        };
        let mut res = res;
        let interface = session.interface();
        // Most saves (a session read, its cookie refreshed) need no store call: done here,
        // without a future.
        match session.start_save(res.headers_mut()) {
            Ok(outcome) => Poll::Ready(finish(res, interface.saved(Ok(outcome)))),
            Err(pending) => {
                let save = this.save.insert(Box::pin(save(session, pending, res)));
                save.as_mut().poll(cx)
            }
        }
    }
}

/// The response after a save: the handler's, or the error's (an opaque 503) when the store
/// failed.
fn finish<B: MessageBody + 'static>(
    res: ServiceResponse<B>,
    saved: Result<(), SessionUnavailable>,
) -> Result<ServiceResponse<EitherBody<B>>, Error> {
    match saved {
        Ok(()) => Ok(res.map_into_left_body()),
        Err(error) => {
            let response = error.error_response();
            Ok(res.into_response(response).map_into_right_body())
        }
    }
}

/// Finishes a save that needs the store (writes, deletes, the user index) into the store
/// and the response headers; a store failure replaces the response by the error's.
async fn save<B: MessageBody + 'static>(
    session: ServerSideSession,
    pending: Pending,
    mut res: ServiceResponse<B>,
) -> Result<ServiceResponse<EitherBody<B>>, Error> {
    let interface = session.interface();
    let result = interface
        .save_finish(session.take_state(), pending, res.headers_mut())
        .await;
    finish(res, interface.saved(result))
}
