//! The session table's DDL, for the Diesel CLI and from the library.
//!
//! The folders `migrations/postgres`, `migrations/mysql` and `migrations/sqlite` hold one
//! Diesel migration each, for the default table `sessions`:
//!
//! ```text
//! diesel migration run --migration-dir migrations/postgres --database-url postgresql://user@host/db
//! diesel migration run --migration-dir migrations/mysql    --database-url mysql://user@host/db
//! diesel migration run --migration-dir migrations/sqlite   --database-url path/to/app.db
//! ```
//!
//! They are also embedded ([`POSTGRES_MIGRATIONS`], [`MYSQL_MIGRATIONS`],
//! [`SQLITE_MIGRATIONS`]) for `diesel_migrations::MigrationHarness::run_pending_migrations`.
//!
//! For another table, schema or sequence, [`migrate`] applies the same DDL with the
//! configured names ([`ddl`] shows it), idempotently (`IF NOT EXISTS` everywhere) and,
//! on PostgreSQL and SQLite, in one transaction (PostgreSQL also takes an advisory lock,
//! so two processes migrating at once do not race). MySQL/MariaDB DDL is not
//! transactional; each statement is idempotent on its own. `cargo run --example
//! sql_migrate` does this from the `SESSION_*` configuration.
//!
//! The table is Flask-Session's (so either side may create it), plus an index on
//! `expiry` for the cleanup:
//!
//! | column       | PostgreSQL                    | MySQL/MariaDB                   | SQLite                |
//! |--------------|-------------------------------|---------------------------------|-----------------------|
//! | `id`         | `SERIAL` (or `INTEGER DEFAULT nextval('"seq"')`) primary key | `INTEGER AUTO_INCREMENT` primary key | `INTEGER` primary key |
//! | `session_id` | `VARCHAR(255)`, unique        | `VARCHAR(255)`, unique          | `VARCHAR(255)`, unique |
//! | `data`       | `BYTEA`                       | `LONGBLOB` (Flask-Session: `BLOB`, 64 KiB) | `BLOB`     |
//! | `expiry`     | `TIMESTAMP WITHOUT TIME ZONE` | `DATETIME`                      | `DATETIME` (text)     |
//!
//! On MySQL the migration folder creates the `expiry` index inside `CREATE TABLE`, so it
//! does not add it to a table that Flask-Session created first; [`migrate`] does (MySQL
//! has no `CREATE INDEX IF NOT EXISTS`, so it looks in `information_schema` first).

#[cfg(any(feature = "postgres", feature = "sqlite"))]
use diesel::Connection;
use diesel::connection::SimpleConnection;

use super::naming::SqlTable;
use super::ops::OpResult;
use super::pool::{PoolKind, SqlPool};
use super::{Dialect, run_blocking};
use crate::error::StoreError;

/// The Diesel migration for the default table on PostgreSQL (`migrations/postgres`).
#[cfg(feature = "postgres")]
pub const POSTGRES_MIGRATIONS: diesel_migrations::EmbeddedMigrations =
    diesel_migrations::embed_migrations!("migrations/postgres");

/// The Diesel migration for the default table on MySQL/MariaDB (`migrations/mysql`).
#[cfg(feature = "mysql")]
pub const MYSQL_MIGRATIONS: diesel_migrations::EmbeddedMigrations =
    diesel_migrations::embed_migrations!("migrations/mysql");

/// The Diesel migration for the default table on SQLite (`migrations/sqlite`).
#[cfg(feature = "sqlite")]
pub const SQLITE_MIGRATIONS: diesel_migrations::EmbeddedMigrations =
    diesel_migrations::embed_migrations!("migrations/sqlite");

/// The DDL statements [`migrate`] runs for `table` on `dialect`, in order.
///
/// For the default table they are the statements of the migration folder's `up.sql`.
///
/// ```
/// use actix_flask_session::backends::sql::{Dialect, SqlTable, migrate::ddl};
///
/// let table = SqlTable::new("flask_sessions")?.with_schema("app")?;
/// let statements = ddl(Dialect::Postgres, &table);
/// assert_eq!(statements[0], r#"CREATE SCHEMA IF NOT EXISTS "app""#);
/// assert!(statements[1].starts_with(r#"CREATE TABLE IF NOT EXISTS "app"."flask_sessions""#));
/// # Ok::<(), actix_flask_session::ConfigError>(())
/// ```
pub fn ddl(dialect: Dialect, table: &SqlTable) -> Vec<String> {
    let t = table.qualified(dialect);
    let index = table.expiry_index().quoted(dialect);
    let mut statements = Vec::new();
    match dialect {
        Dialect::Postgres => {
            if let Some(schema) = table.schema() {
                statements.push(format!(
                    "CREATE SCHEMA IF NOT EXISTS {}",
                    schema.quoted(dialect)
                ));
            }
            let id = match (table.sequence(), table.nextval()) {
                (Some(sequence), Some(nextval)) => {
                    statements.push(format!(
                        "CREATE SEQUENCE IF NOT EXISTS {}",
                        sequence.quoted(dialect)
                    ));
                    format!("INTEGER NOT NULL DEFAULT {nextval}")
                }
                _ => "SERIAL NOT NULL".to_owned(),
            };
            statements.push(format!(
                "CREATE TABLE IF NOT EXISTS {t} (\n    id {id},\n    session_id VARCHAR(255),\n    \
                 data BYTEA,\n    expiry TIMESTAMP WITHOUT TIME ZONE,\n    PRIMARY KEY (id),\n    \
                 UNIQUE (session_id)\n)"
            ));
            statements.push(format!(
                "CREATE INDEX IF NOT EXISTS {index} ON {t} (expiry)"
            ));
        }
        Dialect::MySql => {
            if let Some(schema) = table.schema() {
                statements.push(format!(
                    "CREATE DATABASE IF NOT EXISTS {}",
                    schema.quoted(dialect)
                ));
            }
            statements.push(format!(
                "CREATE TABLE IF NOT EXISTS {t} (\n    id INTEGER NOT NULL AUTO_INCREMENT,\n    \
                 session_id VARCHAR(255),\n    data LONGBLOB,\n    expiry DATETIME,\n    \
                 PRIMARY KEY (id),\n    UNIQUE (session_id),\n    INDEX {index} (expiry)\n)"
            ));
        }
        Dialect::Sqlite => {
            statements.push(format!(
                "CREATE TABLE IF NOT EXISTS {t} (\n    id INTEGER NOT NULL,\n    \
                 session_id VARCHAR(255),\n    data BLOB,\n    expiry DATETIME,\n    \
                 PRIMARY KEY (id),\n    UNIQUE (session_id)\n)"
            ));
            // SQLite qualifies the index, not the table it is on.
            let index = match table.schema() {
                Some(schema) => format!("{}.{index}", schema.quoted(dialect)),
                None => index,
            };
            statements.push(format!(
                "CREATE INDEX IF NOT EXISTS {index} ON {} (expiry)",
                table.table().quoted(dialect)
            ));
        }
    }
    statements
}

/// The statements of the migration folder's `down.sql` for `table`.
pub fn down_ddl(dialect: Dialect, table: &SqlTable) -> Vec<String> {
    vec![format!("DROP TABLE IF EXISTS {}", table.qualified(dialect))]
}

/// Creates the session table for `table` if it does not exist (schema, sequence, table,
/// unique constraint and `expiry` index), see the [module docs](self). Safe to run at
/// every start and from several processes.
///
/// ```no_run
/// use actix_flask_session::backends::sql::{PoolOptions, SqlPool, SqlTable, migrate::migrate};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let pool = SqlPool::connect("postgresql://app@127.0.0.1/app", &PoolOptions::default()).await?;
/// migrate(&pool, &SqlTable::default()).await?;
/// # Ok(()) }
/// ```
pub async fn migrate(pool: &SqlPool, table: &SqlTable) -> Result<(), StoreError> {
    let dialect = pool.dialect();
    let statements = ddl(dialect, table);
    let table = table.clone();
    tracing::info!(table = %table.display_name(), ?dialect, "creating the session table if missing");
    run_blocking(pool, move |pool| match pool {
        #[cfg(feature = "postgres")]
        PoolKind::Postgres(p) => p.run(|conn| {
            conn.transaction(|conn| {
                conn.batch_execute(
                    "SELECT pg_advisory_xact_lock(hashtext('actix-flask-session migrate'))",
                )?;
                for sql in &statements {
                    conn.batch_execute(sql)?;
                }
                OpResult::Ok(())
            })
        }),
        #[cfg(feature = "mysql")]
        PoolKind::MySql(p) => p.run(|conn| {
            for sql in &statements {
                conn.batch_execute(sql)?;
            }
            add_mysql_expiry_index(conn, &table)
        }),
        #[cfg(feature = "sqlite")]
        PoolKind::Sqlite(p) => p.run(|conn| {
            conn.transaction(|conn| {
                for sql in &statements {
                    conn.batch_execute(sql)?;
                }
                OpResult::Ok(())
            })
        }),
    })
    .await
}

/// Adds the `expiry` index to a table that Flask-Session created (MySQL has no
/// `CREATE INDEX IF NOT EXISTS`, so `information_schema` is asked first).
#[cfg(feature = "mysql")]
fn add_mysql_expiry_index(conn: &mut diesel::MysqlConnection, table: &SqlTable) -> OpResult<()> {
    use super::query::{Bind, Template};
    use diesel::{QueryableByName, RunQueryDsl};

    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let schema = match table.schema() {
        Some(_) => "?",
        None => "DATABASE()",
    };
    let lookup = Template::new(format!(
        "SELECT COUNT(*) AS n FROM information_schema.statistics \
         WHERE table_schema = {schema} AND table_name = ? AND column_name = 'expiry' AND seq_in_index = 1"
    ));
    let mut binds = Vec::new();
    if let Some(s) = table.schema() {
        binds.push(Bind::Text(s.as_str()));
    }
    binds.push(Bind::Text(table.table().as_str()));
    if lookup.bind(binds).get_result::<Count>(conn)?.n == 0 {
        conn.batch_execute(&format!(
            "CREATE INDEX {} ON {} (expiry)",
            table.expiry_index().quoted(Dialect::MySql),
            table.qualified(Dialect::MySql)
        ))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The migration folders hold exactly what the library runs for the default table.
    #[test]
    fn migration_folders_match_the_library_ddl() {
        let cases = [
            (
                Dialect::Postgres,
                include_str!(
                    "../../../migrations/postgres/2025-01-01-000000_create_sessions/up.sql"
                ),
                include_str!(
                    "../../../migrations/postgres/2025-01-01-000000_create_sessions/down.sql"
                ),
            ),
            (
                Dialect::MySql,
                include_str!("../../../migrations/mysql/2025-01-01-000000_create_sessions/up.sql"),
                include_str!(
                    "../../../migrations/mysql/2025-01-01-000000_create_sessions/down.sql"
                ),
            ),
            (
                Dialect::Sqlite,
                include_str!("../../../migrations/sqlite/2025-01-01-000000_create_sessions/up.sql"),
                include_str!(
                    "../../../migrations/sqlite/2025-01-01-000000_create_sessions/down.sql"
                ),
            ),
        ];
        for (dialect, up, down) in cases {
            let strip = |sql: &str| {
                sql.lines()
                    .filter(|l| !l.trim_start().starts_with("--"))
                    .collect::<Vec<_>>()
                    .join("\n")
                    .trim()
                    .to_owned()
            };
            let expected = |statements: Vec<String>| {
                statements
                    .iter()
                    .map(|s| format!("{s};"))
                    .collect::<Vec<_>>()
                    .join("\n")
            };
            assert_eq!(
                strip(up),
                expected(ddl(dialect, &SqlTable::default())),
                "{dialect:?} up.sql"
            );
            assert_eq!(
                strip(down),
                expected(down_ddl(dialect, &SqlTable::default())),
                "{dialect:?} down.sql"
            );
        }
    }

    #[test]
    fn sequence_and_schema_are_templated() {
        let table = SqlTable::new("s")
            .unwrap()
            .with_schema("app")
            .unwrap()
            .with_sequence("s_seq")
            .unwrap();
        assert_eq!(
            ddl(Dialect::Postgres, &table),
            [
                "CREATE SCHEMA IF NOT EXISTS \"app\"".to_owned(),
                "CREATE SEQUENCE IF NOT EXISTS \"s_seq\"".to_owned(),
                "CREATE TABLE IF NOT EXISTS \"app\".\"s\" (\n    id INTEGER NOT NULL DEFAULT nextval('\"s_seq\"'),\n    session_id VARCHAR(255),\n    data BYTEA,\n    expiry TIMESTAMP WITHOUT TIME ZONE,\n    PRIMARY KEY (id),\n    UNIQUE (session_id)\n)".to_owned(),
                "CREATE INDEX IF NOT EXISTS \"s_expiry_idx\" ON \"app\".\"s\" (expiry)".to_owned(),
            ]
        );
        assert_eq!(
            ddl(Dialect::MySql, &table)[0],
            "CREATE DATABASE IF NOT EXISTS `app`"
        );
        assert_eq!(
            ddl(Dialect::Sqlite, &table)[1],
            "CREATE INDEX IF NOT EXISTS \"app\".\"s_expiry_idx\" ON \"s\" (expiry)"
        );
    }
}
