//! Each store against its real server: the exact stored bytes, TTLs, races, outages
//! (private servers killed mid-test), migrations and server version checks. One module
//! per backend (and per outage scenario); one test binary for all of them.

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

mod drill;
mod dynamodb;
mod dynamodb_outage;
mod embedded;
mod filesystem_sweep;
mod memcached;
mod memcached_outage;
mod mongodb;
mod mongodb_outage;
mod redis;
mod redis_cluster_drill;
mod redis_outage;
mod redis_sentinel;
mod redis_sentinel_drill;
mod server_versions;
mod sql;
mod sql_migrations;
mod sql_restart_drill;
/// Re-runs this binary as a child (`--exact sql_shutdown::shutdown_child`).
mod sql_shutdown;
mod sql_sweep;

needs!(
    redis_needs_features,
    "needs --features redis (or --all-features)",
    "redis"
);
needs!(
    redis_rename_script_needs_features,
    "needs --features redis,testing (or --all-features)",
    "redis",
    "testing"
);
needs!(
    sql_needs_features,
    "needs --features postgres,mysql,sqlite (or --all-features)",
    "postgres",
    "mysql",
    "sqlite"
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
needs!(
    server_versions_needs_features,
    "needs --features redis-cluster,memcached (or --all-features)",
    "redis-cluster",
    "memcached"
);
