//! The key declarations against the README's key table and `Session.toml.example`, and
//! the helpers the backends read their keys with.

mod docs;
mod helpers;

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
