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
//! // The names of the cases the macro expands to, in order:
//! assert!(testing::CASES.contains(&"store_contract"));
//! # }
//! ```
//!
//! The macro expands to one `#[test]` per case, each running on its own actix system with
//! a fresh store from the factory and its own random key prefix, so cases can share one
//! server. The cases port Flask-Session's upstream tests, the acceptance cases verified
//! against the real Flask-Session 0.8, and one case per improvement this crate
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
mod users;

// The cases and the HTTP harness they drive are public only so that the macro's expansion
// (in the store author's crate) and this crate's own integration tests can name them.
#[doc(hidden)]
pub use cases::*;
#[doc(hidden)]
pub use harness::{Gate, Harness, Reply, request, routes, send};
#[doc(hidden)]
pub use merge::*;
pub use recording::{Op, RecordingStore};
pub use users::*;

/// The codec, the signer, the session ids and the Redis store's script, for this crate's
/// benchmarks (`benches/`) and the tests that check those internals, which are built
/// against the public API with this feature. Not part of the API.
#[doc(hidden)]
pub mod internals {
    /// The Redis store.
    #[cfg(feature = "redis")]
    pub mod redis {
        /// The Lua script of a rename on a single Redis.
        pub const RENAME_SCRIPT: &str = crate::backends::redis::RENAME_SCRIPT;
    }
    /// Session ids.
    pub mod sid {
        pub use crate::sid::{generate, is_well_formed};
    }
    /// itsdangerous' signer.
    pub mod signer {
        pub use crate::signer::Signer;
    }
    /// The codec.
    pub mod serialization {
        pub use crate::serialization::{
            SessionMap, decode, encode, encoded_len, from_value, to_value,
        };
    }
}

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
