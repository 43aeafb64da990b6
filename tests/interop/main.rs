//! Wire compatibility with Flask-Session 0.8: the recorded vectors
//! (`tests/data/vectors.json`: signatures, serialization, stored bytes) and live runs
//! against the real Flask app (`flask_app.py`, one module per backend). The codec's and
//! the signer's own vectors are unit tests in `src/serialization` and `src/signer`.

#[macro_use]
#[path = "../support/needs.rs"]
mod needs;
#[cfg(any(feature = "postgres", feature = "mysql", feature = "sqlite"))]
#[macro_use]
#[path = "../sql_support/mod.rs"]
mod sql_support;
#[path = "../support/mod.rs"]
mod support;
#[path = "../support/vectors.rs"]
mod vectors;

mod dynamodb;
mod instances;
mod memcached;
mod mongodb;
mod redis;
mod sql;

needs!(
    redis_needs_features,
    "needs --features redis (or --all-features)",
    "redis"
);
needs!(
    sql_needs_features,
    "needs --features testing,postgres (or --all-features)",
    "testing",
    "postgres"
);
needs!(
    memcached_needs_features,
    "needs --features memcached (or --all-features)",
    "memcached"
);
needs!(
    mongodb_needs_features,
    "needs --features mongodb (or --all-features)",
    "mongodb"
);
needs!(
    dynamodb_needs_features,
    "needs --features dynamodb (or --all-features)",
    "dynamodb"
);
