//! A store-agnostic acceptance suite: the behaviour every [`SessionStore`](crate::SessionStore) must show
//! through the whole HTTP lifecycle. Enable the `testing` feature and invoke
//! [`acceptance_suite!`](crate::acceptance_suite) once in a test file of your store:
//!
//! ```
//! # #[cfg(feature = "cachelib")] {
//! use actix_flask_session::backends::cachelib::{CacheLibSessionInterface, SimpleCache};
//! use actix_flask_session::testing;
//!
//! // tests/my_store_acceptance.rs: the factory builds your store (here the in-memory cache).
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
mod recording;

pub use cases::*;
pub use harness::{Gate, Harness, Reply, request, routes, send};
pub use recording::{Op, RecordingStore};

/// Runs a future to completion on a fresh actix system (what `#[actix_web::test]` does).
pub fn run<F: std::future::Future>(future: F) -> F::Output {
    actix_web::rt::System::new().block_on(future)
}

/// Expands to one `#[test]` per acceptance case, each given a fresh store made by
/// `$factory` (a closure returning a future of a [`SessionStore`](crate::SessionStore)).
#[macro_export]
macro_rules! acceptance_suite {
    ($factory:expr) => {
        $crate::acceptance_suite!(@cases $factory;
            upstream_session_flow,
            upstream_stored_value,
            default_write_matches_flask,
            read_only_request_refreshes_without_writing,
            untouched_handler_costs_nothing,
            refresh_off_sends_no_cookie,
            non_permanent_config,
            set_permanent_false,
            clear_deletes_entry_and_cookie,
            set_then_delete_on_fresh_session,
            unknown_sid_is_never_adopted,
            regenerate_moves_data,
            signed_cookies,
            secret_key_fallbacks,
            id_length_and_key_prefix,
            cookie_attributes_and_scoped_deletion,
            lifetime_in_cookie,
            reads_either_format_and_rewrites_configured,
            corrupt_data_is_a_miss,
            bad_cookies_never_reach_the_store,
            vary_on_any_access,
            unencodable_insert_fails_at_the_call,
            concurrent_logout_is_not_undone,
            concurrent_read_does_not_resurrect,
            concurrent_regenerate_is_not_undone,
            logout_during_regenerate_is_not_undone,
            concurrent_regenerates_leave_one_copy,
            expiry_is_enforced,
            store_contract,
            rename_contract,
            rename_needs_a_live_source,
            concurrent_renames_leave_one_copy,
        );
    };
    (@cases $factory:expr; $($case:ident),* $(,)?) => {
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
}
