//! The request lifecycle, written once for every store: the session object handlers see,
//! the interface that opens and saves it, and the middleware that ties both to actix.

mod interface;
mod lifetime;
mod merge;
mod middleware;
mod request_ext;
mod server_side_session;
mod state;
mod users;

pub use interface::ServerSideSessionInterface;
pub use middleware::SessionMiddleware;
pub use request_ext::SessionExt;
pub use server_side_session::ServerSideSession;

#[cfg(test)]
mod tests;
