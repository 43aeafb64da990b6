//! `actix-flask-session`: the command-line tool of the crate (feature `cli`).
//!
//! It reads the session configuration exactly as the application does (`Session.toml`
//! in the current directory, or the file named by `ACTIX_FLASK_SESSION_CONFIG` or
//! `--config`, overridden by environment variables named like the keys) and:
//!
//! ```text
//! actix-flask-session migrate               # create (or complete) the SQL session table
//! actix-flask-session migrate --print       # only show the statements
//! actix-flask-session migrate --emit DIR    # write a Diesel migration into DIR (your `migrations`)
//! actix-flask-session cleanup               # delete expired sessions (Flask's `flask session_cleanup`), for cron
//! ```
//!
//! Install it with the store features your application uses:
//! `cargo install actix-flask-session --features cli,postgres`.

mod cleanup;
mod migrate;

use std::error::Error as StdError;
use std::path::PathBuf;
use std::process::ExitCode;

use actix_flask_session::config::{SessionConfig, SessionEnv};
use clap::{Parser, Subcommand};
use figment::Figment;
use figment::providers::{Format, Toml};

/// Sets up and maintains the session store of an actix-flask-session application, from
/// the same configuration as the application.
#[derive(Debug, Parser)]
#[command(name = "actix-flask-session", version, about, long_about = None)]
struct Cli {
    /// The configuration file [default: $ACTIX_FLASK_SESSION_CONFIG, else ./Session.toml
    /// if it exists]; environment variables named like the keys override it.
    #[arg(long, short, global = true, value_name = "FILE")]
    config: Option<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create the SQL session table (SESSION_TYPE = "sqlalchemy") with the configured
    /// table, schema and sequence, if it is missing; safe to run at every deploy.
    Migrate {
        /// Print the statements `migrate` runs, without connecting.
        #[arg(long, conflicts_with = "emit")]
        print: bool,
        /// Write a Diesel migration folder (up.sql, down.sql) into DIR, your application's
        /// migrations directory, for `diesel migration run`; no connection is made.
        #[arg(long, value_name = "DIR")]
        emit: Option<PathBuf>,
    },
    /// Delete expired sessions once (Flask-Session's `flask session_cleanup`), for cron.
    /// Stores with native expiry (Redis, memcached, MongoDB, DynamoDB) have nothing to do.
    Cleanup,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let figment = match &cli.config {
        // As `ACTIX_FLASK_SESSION_CONFIG` would: the file must exist.
        Some(path) => Figment::from(Toml::file_exact(path)).merge(SessionEnv::new()),
        None => SessionConfig::figment(),
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => return fail(&e),
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Migrate { print, emit } => migrate::run(&figment, print, emit).await,
            Command::Cleanup => cleanup::run(&figment).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(e.as_ref()),
    }
}

/// The error type of the commands.
type BoxError = Box<dyn StdError + Send + Sync>;

/// Prints `error` and its causes, one per line, and returns the failure exit code.
fn fail(error: &(dyn StdError + 'static)) -> ExitCode {
    eprintln!("error: {error}");
    let mut source = error.source();
    while let Some(cause) = source {
        eprintln!("  caused by: {cause}");
        source = cause.source();
    }
    ExitCode::FAILURE
}
