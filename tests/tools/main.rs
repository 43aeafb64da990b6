//! What a user runs besides the library: the `actix-flask-session` command (built by cargo
//! for this test binary when the `cli` feature is on), the README's example program, and
//! the quickstart example in a real browser.

#[macro_use]
#[path = "../support/needs.rs"]
mod needs;
#[cfg(any(feature = "postgres", feature = "mysql", feature = "sqlite"))]
#[macro_use]
#[path = "../sql_support/mod.rs"]
mod sql_support;

#[cfg(feature = "filesystem")]
mod browser;
mod cli;
mod examples;
mod readme;

needs!(
    cli_needs_features,
    "needs --features cli,postgres,mysql,sqlite (or --all-features)",
    "cli",
    "postgres",
    "mysql",
    "sqlite"
);

needs!(
    browser_needs_features,
    "needs --features filesystem (the quickstart's store)",
    "filesystem"
);
