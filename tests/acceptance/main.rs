//! The store-agnostic acceptance suite ([`actix_flask_session::acceptance_suite!`]) on
//! every store, one module per backend. One test binary for all of them: the library and
//! the backends are linked once.

#[macro_use]
#[path = "../support/needs.rs"]
mod needs;
#[cfg(any(feature = "postgres", feature = "mysql", feature = "sqlite"))]
#[macro_use]
#[path = "../sql_support/mod.rs"]
mod sql_support;

mod dynamodb;
#[cfg(all(feature = "testing", feature = "filesystem", feature = "cachelib"))]
mod embedded;
mod memcached;
mod mongodb;
mod redis;
mod sql;

needs!(
    embedded_needs_features,
    "needs --features testing (or --all-features)",
    "testing",
    "filesystem",
    "cachelib"
);
needs!(
    redis_needs_features,
    "needs --features testing,redis-cluster (or --all-features)",
    "testing",
    "redis",
    "redis-cluster"
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
    memcached_needs_features,
    "needs --features testing,memcached (or --all-features)",
    "testing",
    "memcached"
);
needs!(
    mongodb_needs_features,
    "needs --features testing,mongodb (or --all-features)",
    "testing",
    "mongodb"
);
needs!(
    dynamodb_needs_features,
    "needs --features testing,dynamodb (or --all-features)",
    "testing",
    "dynamodb"
);
