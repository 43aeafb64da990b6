//! The codec under attack: property tests of what reads untrusted input and writes the
//! store (`properties`, failures kept in `properties.proptest-regressions`), and the size
//! and nesting limits through the whole middleware (`limits`).

#[macro_use]
#[path = "../support/needs.rs"]
mod needs;

#[cfg(feature = "cachelib")]
mod limits;
mod properties;

needs!(
    limits_needs_features,
    "needs --features cachelib (a default feature)",
    "cachelib"
);
