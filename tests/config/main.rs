//! Configuration: keys, sources (files, environment), SQL settings (the key table against
//! README and `Session.toml.example` is a unit test, in `src/config/tests`). Its own binary: `figment::Jail` changes the
//! process's working directory and environment while a test runs, which tests of other
//! areas must not see.

#[macro_use]
#[path = "../support/needs.rs"]
mod needs;

mod settings;
mod sources;
mod sql;
mod users;

needs!(
    sql_needs_features,
    "needs --features sqlite (or --all-features)",
    "sqlite"
);
