//! The request lifecycle independent of one store's details: error answers, scoped
//! middleware, `Vary`, cleanup, floods, the regenerate/logout race, SQL expiry cleanup.

#[macro_use]
#[path = "../support/needs.rs"]
mod needs;
#[cfg(any(feature = "postgres", feature = "mysql", feature = "sqlite"))]
#[macro_use]
#[path = "../sql_support/mod.rs"]
mod sql_support;

mod flood;
#[cfg(all(feature = "testing", feature = "filesystem", feature = "cachelib"))]
mod middleware;
#[cfg(all(feature = "metrics", feature = "cachelib"))]
mod observability;
mod regenerate_race;
mod sql;

needs!(
    middleware_needs_features,
    "needs --features testing (or --all-features)",
    "testing",
    "filesystem",
    "cachelib"
);
needs!(
    regenerate_race_needs_features,
    "needs --features testing,redis,postgres (or --all-features)",
    "testing",
    "redis",
    "postgres"
);
needs!(
    sql_needs_features,
    "needs --features testing,postgres,mysql,sqlite (or --all-features)",
    "testing",
    "postgres",
    "mysql",
    "sqlite"
);
needs!(
    observability_needs_features,
    "needs --features metrics (or --all-features)",
    "metrics",
    "cachelib"
);
