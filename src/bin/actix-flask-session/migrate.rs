//! `migrate`: the SQL session table, created here or written as a Diesel migration.

use std::path::PathBuf;

use actix_flask_session::config::{SessionConfig, SessionType};
use figment::Figment;

use crate::BoxError;

/// `migrate [--print | --emit DIR]`.
pub async fn run(figment: &Figment, print: bool, emit: Option<PathBuf>) -> Result<(), BoxError> {
    // The whole configuration is validated, as at the application's start.
    let config = SessionConfig::from_figment(figment)?;
    if config.session_type.map(SessionType::as_str) != Some("sqlalchemy") {
        let session_type = config
            .session_type
            .map_or_else(|| "not set".to_owned(), |t| format!("\"{t}\""));
        return Err(format!(
            "`migrate` creates the SQL session table, for SESSION_TYPE = \"sqlalchemy\"; \
             SESSION_TYPE is {session_type} (the other stores need no migration)"
        )
        .into());
    }
    sql(figment, print, emit, config.user_key.is_some()).await
}

#[cfg(any(feature = "postgres", feature = "mysql", feature = "sqlite"))]
async fn sql(
    figment: &Figment,
    print: bool,
    emit: Option<PathBuf>,
    users: bool,
) -> Result<(), BoxError> {
    use actix_flask_session::backends::sql::SqlSettings;
    use actix_flask_session::backends::sql::migrate::{self, DieselMigration};

    let mut settings = SqlSettings::from_figment(figment)?;
    // One statement at a time: one connection, and no pool thread still connecting when
    // the process exits.
    settings.pool.max_size = 1;
    let dialect = settings.dialect()?;
    if print {
        for sql in migrate::ddl(dialect, &settings.table) {
            println!("{sql};");
        }
        if users {
            for sql in migrate::users_ddl(dialect, &settings.table) {
                println!("{sql};");
            }
        }
        return Ok(());
    }
    if let Some(dir) = emit {
        let sessions = DieselMigration::new(dialect, &settings.table)?;
        let mut migrations = Vec::new();
        // With SESSION_USER_KEY, a folder that already holds the session table's
        // migration gets only the index table's.
        if !(users && holds(&dir, sessions.name())) {
            migrations.push(sessions);
        }
        if users {
            migrations.push(DieselMigration::users(dialect, &settings.table)?);
        }
        for migration in migrations {
            let folder = migration
                .write_to(&dir)
                .map_err(|e| format!("cannot write the migration into {}: {e}", dir.display()))?;
            println!("{}", folder.display());
            eprintln!(
                "wrote {}/up.sql and down.sql; apply it with `diesel migration run --migration-dir {}`",
                folder.display(),
                dir.display()
            );
        }
        return Ok(());
    }
    let pool = settings.connect().await?;
    migrate::migrate(&pool, &settings.table).await?;
    if users {
        migrate::migrate_users(&pool, &settings.table).await?;
    }
    let table = &settings.table;
    let name = match table.schema() {
        Some(schema) => format!("{schema}.{}", table.table()),
        None => table.table().to_string(),
    };
    println!(
        "session table {name} ready on {} (database from {})",
        dialect.name(),
        settings.url_key
    );
    if users {
        println!("per-user index table (SESSION_USER_KEY) ready beside it");
    }
    Ok(())
}

/// Whether `dir` holds a migration folder named `<version>_<name>`.
#[cfg(any(feature = "postgres", feature = "mysql", feature = "sqlite"))]
fn holds(dir: &std::path::Path, name: &str) -> bool {
    let suffix = format!("_{name}");
    std::fs::read_dir(dir).is_ok_and(|entries| {
        entries
            .filter_map(Result::ok)
            .any(|e| e.file_name().to_string_lossy().ends_with(&suffix))
    })
}

#[cfg(not(any(feature = "postgres", feature = "mysql", feature = "sqlite")))]
async fn sql(_: &Figment, _: bool, _: Option<PathBuf>, _: bool) -> Result<(), BoxError> {
    Err(
        "this actix-flask-session was built without SQL support; install it with the \
         database's feature: cargo install actix-flask-session --features cli,postgres (or \
         mysql, sqlite)"
            .into(),
    )
}
