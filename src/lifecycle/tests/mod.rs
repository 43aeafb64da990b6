//! The lifecycle through the whole middleware on the in-memory cache store: key rotation
//! (fallback-signed cookies re-signed with the newest key) and the size and nesting limits.

#[cfg(feature = "cachelib")]
mod key_rotation;
#[cfg(feature = "cachelib")]
mod limits;

needs!(
    lifecycle_tests_need_features,
    "needs --features cachelib (a default feature)",
    "cachelib"
);
