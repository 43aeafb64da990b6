//! [`needs!`]: what a test binary leaves out for a missing cargo feature, said out loud.
//!
//! Cargo skips a test target whose `required-features` are missing without a word, and a
//! module behind `#[cfg(feature = ...)]` simply vanishes. So each area's `main.rs` states,
//! for each module it only compiles with some features, `needs!(name, "why", features..)`:
//! without those features it becomes an ignored test named `name` whose reason cargo
//! prints (`test redis_needs_features ... ignored, needs --features redis`), and the
//! summary's `ignored` count shows something did not run. With the features it is nothing.

/// `needs!(name, "reason", "feature", ...)`: an ignored test `name` unless every listed
/// feature is on.
macro_rules! needs {
    ($name:ident, $why:literal, $($feature:literal),+ $(,)?) => {
        #[cfg(not(all($(feature = $feature),+)))]
        #[test]
        #[ignore = $why]
        fn $name() {}
    };
}
