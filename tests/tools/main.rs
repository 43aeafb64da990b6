//! What a user runs besides the library: the `actix-flask-session` command (built by cargo
//! for this test binary when the `cli` feature is on) and the README's example program.

#[macro_use]
#[path = "../support/needs.rs"]
mod needs;
#[cfg(any(feature = "postgres", feature = "mysql", feature = "sqlite"))]
#[macro_use]
#[path = "../sql_support/mod.rs"]
mod sql_support;

mod cli;
mod readme;

needs!(
    cli_needs_features,
    "needs --features cli,postgres,mysql,sqlite (or --all-features)",
    "cli",
    "postgres",
    "mysql",
    "sqlite"
);
