//! A store-agnostic acceptance suite: the behaviour every [`SessionStore`](crate::SessionStore) must show
//! through the whole HTTP lifecycle. Enable the `testing` feature and invoke
//! [`acceptance_suite!`](crate::acceptance_suite) once in a test file of your store:
//!
//! ```
//! # #[cfg(feature = "cachelib")] {
//! use actix_flask_session::backends::cachelib::{CacheLibSessionInterface, SimpleCache};
//! use actix_flask_session::testing;
//!
//! // tests/acceptance/my_store.rs: the factory builds your store (here the in-memory cache).
//! actix_flask_session::acceptance_suite!(|| async {
//!     CacheLibSessionInterface::new(SimpleCache::new(500))
//! });
//!
//! // Each case is also a public async function, to run on its own:
//! testing::run(testing::store_contract(CacheLibSessionInterface::new(
//!     SimpleCache::new(500),
//! )));
//! # }
//! ```
//!
//! The macro expands to one `#[test]` per case, each running on its own actix system with
//! a fresh store from the factory and its own random key prefix, so cases can share one
//! server. The cases port Flask-Session's upstream tests, the acceptance cases verified
//! against the real Flask-Session 0.8 (spec §8), and one case per improvement this crate
//! makes over it (lazy loading, one-round-trip reads, no write-back of unmodified data,
//! no resurrection by concurrent requests, cookie validation before any store access,
//! corrupt data as a miss, expiry checked on read, key rotation, scoped deletion cookies).
//!
//! [`RecordingStore`] wraps the store and records every call, so the cases can assert
//! exactly which store operations a request made.

mod cases;
mod harness;
mod merge;
mod recording;

pub use cases::*;
pub use harness::{Gate, Harness, Reply, request, routes, send};
pub use merge::*;
pub use recording::{Op, RecordingStore};

/// Runs a future to completion on a fresh actix system (what `#[actix_web::test]` does).
pub fn run<F: std::future::Future>(future: F) -> F::Output {
    actix_web::rt::System::new().block_on(future)
}

/// The name of every acceptance case, in the order [`acceptance_suite!`](crate::acceptance_suite)
/// runs them: the same list the macro expands (it is written once, next to the cases).
pub const CASES: &[&str] = crate::__acceptance_cases! { @names };

/// Expands to one `#[test]` per acceptance case (every name in [`CASES`]), each given a
/// fresh store made by `$factory` (a closure returning a future of a
/// [`SessionStore`](crate::SessionStore)).
#[macro_export]
macro_rules! acceptance_suite {
    ($factory:expr) => {
        $crate::__acceptance_cases! { @suite $factory }
    };
    (@expand [@suite $factory:expr] $($case:ident),* $(,)?) => {
        $(
            #[test]
            fn $case() {
                $crate::testing::run(async {
                    let factory = $factory;
                    let store = factory().await;
                    $crate::testing::$case(store).await;
                });
            }
        )*
    };
    (@expand [@names] $($case:ident),* $(,)?) => {
        &[$(stringify!($case)),*]
    };
}
