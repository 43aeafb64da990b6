//! Configuration: keys, sources (files, environment), the key table against README and
//! `Session.toml.example`, SQL settings. Its own binary: `figment::Jail` changes the
//! process's working directory and environment while a test runs, which tests of other
//! areas must not see.

#[macro_use]
#[path = "../support/needs.rs"]
mod needs;

mod docs;
mod settings;
mod sources;
mod sql;

needs!(
    sql_needs_features,
    "needs --features sqlite (or --all-features)",
    "sqlite"
);
needs!(
    docs_backend_defaults_need_features,
    "the backends' documented defaults need --features redis,postgres,mysql,sqlite,memcached,mongodb,dynamodb (or --all-features)",
    "redis",
    "postgres",
    "mysql",
    "sqlite",
    "memcached",
    "mongodb",
    "dynamodb"
);
