//! Creates the SQL session table described by the `SESSION_*` configuration
//! (`Session.toml` or the file in `ACTIX_FLASK_SESSION_CONFIG`, plus environment
//! variables): table, schema, sequence, unique constraint and `expiry` index. Idempotent.
//!
//! ```text
//! SESSION_SQLALCHEMY=postgresql://app@127.0.0.1/app SESSION_SQLALCHEMY_SCHEMA=web \
//!     cargo run --example sql_migrate --features postgres
//! cargo run --example sql_migrate --features postgres -- --print   # show the DDL only
//! ```
//!
//! For the default table the Diesel CLI does the same:
//! `diesel migration run --migration-dir migrations/postgres` (or `mysql`, `sqlite`).

#[cfg(any(feature = "postgres", feature = "mysql", feature = "sqlite"))]
use actix_flask_session::SessionConfig;
#[cfg(any(feature = "postgres", feature = "mysql", feature = "sqlite"))]
use actix_flask_session::backends::sql::{SqlSettings, migrate};

#[cfg(not(any(feature = "postgres", feature = "mysql", feature = "sqlite")))]
fn main() {
    eprintln!("sql_migrate needs a SQL feature: --features postgres, mysql or sqlite");
    std::process::exit(2);
}

#[cfg(any(feature = "postgres", feature = "mysql", feature = "sqlite"))]
#[actix_rt::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let print_only = std::env::args().any(|a| a == "--print");
    let settings = SqlSettings::from_figment(&SessionConfig::figment())?;
    let pool = settings.connect().await?;
    let statements = migrate::ddl(pool.dialect(), &settings.table);
    for sql in &statements {
        println!("{sql};");
    }
    if print_only {
        return Ok(());
    }
    migrate::migrate(&pool, &settings.table).await?;
    eprintln!(
        "session table {} ready on {} (from {})",
        settings.table.table(),
        pool.dialect().name(),
        settings.url_key
    );
    Ok(())
}
