//! The request lifecycle, written once for every store: the session object handlers see,
//! the interface that opens and saves it, and the middleware that ties both to actix.

mod interface;
mod middleware;
mod session;
mod state;

pub use interface::ServerSideSessionInterface;
pub use middleware::{SessionMiddleware, SessionMiddlewareService};
pub use session::ServerSideSession;
