//! The session table's DDL: [`migrate`] from the library or the command-line tool, a
//! [`DieselMigration`] for an application's own migrations, and the embedded folders.
//!
//! Three ways to create the table for the configured `SESSION_SQLALCHEMY_TABLE`,
//! `_SCHEMA` and `_SEQUENCE`, all from one DDL template:
//!
//! - `actix-flask-session migrate` (the `cli` feature's binary: `cargo install
//!   actix-flask-session --features cli,postgres`) runs [`migrate`] with the application's
//!   configuration; `migrate --print` shows the statements;
//! - `actix-flask-session migrate --emit migrations` writes a [`DieselMigration`] folder
//!   into the application's own `migrations` directory, for `diesel migration run`
//!   (and `redo`/`revert`) to apply and track;
//! - [`migrate`] from code, e.g. at startup.
//!
//! [`migrate`] is idempotent (`IF NOT EXISTS` everywhere) and, on PostgreSQL and SQLite,
//! runs in one transaction (PostgreSQL also takes an advisory lock, so two processes
//! migrating at once do not race). MySQL/MariaDB DDL is not transactional; each statement
//! is idempotent on its own.
//!
//! The crate's own folders `migrations/postgres`, `migrations/mysql` and
//! `migrations/sqlite` (default table `sessions`) are embedded as
//! [`POSTGRES_MIGRATIONS`], [`MYSQL_MIGRATIONS`] and [`SQLITE_MIGRATIONS`] for
//! `diesel_migrations::MigrationHarness::run_pending_migrations`.
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
use crate::error::{ConfigError, StoreError};

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

/// What the DDL does about objects that already exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Existing {
    /// `IF NOT EXISTS` everywhere: [`migrate`], safe at every start.
    Keep,
    /// Plain `CREATE`: a Diesel migration owns what it creates, so its `down.sql` can
    /// drop exactly that, and an existing table is an error rather than adopted.
    Own,
}

/// The comment an emitted PostgreSQL migration puts on a schema it created, so that its
/// `down.sql` drops that schema (when empty) and never one that existed before.
pub(crate) const SCHEMA_MARKER: &str = "created by the actix-flask-session migration";

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
    statements(dialect, table, Existing::Keep)
}

/// The DDL of both [`ddl`] and [`DieselMigration`]: one template, two treatments of
/// existing objects.
fn statements(dialect: Dialect, table: &SqlTable, existing: Existing) -> Vec<String> {
    let t = table.qualified(dialect);
    let index = table.expiry_index().quoted(dialect);
    let if_not_exists = match existing {
        Existing::Keep => "IF NOT EXISTS ",
        Existing::Own => "",
    };
    let mut statements = Vec::new();
    match dialect {
        Dialect::Postgres => {
            if let Some(schema) = table.schema() {
                statements.push(match existing {
                    Existing::Keep => {
                        format!("CREATE SCHEMA IF NOT EXISTS {}", schema.quoted(dialect))
                    }
                    // Created (and marked) only when missing: a schema that existed
                    // before is used, never owned.
                    Existing::Own => format!(
                        "DO $$\nBEGIN\n    IF NOT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = \
                         '{schema}') THEN\n        CREATE SCHEMA {q};\n        COMMENT ON SCHEMA {q} \
                         IS '{SCHEMA_MARKER}';\n    END IF;\nEND\n$$",
                        q = schema.quoted(dialect)
                    ),
                });
            }
            let id = match (table.sequence(), table.nextval()) {
                (Some(sequence), Some(nextval)) => {
                    statements.push(format!(
                        "CREATE SEQUENCE {if_not_exists}{}",
                        sequence.quoted(dialect)
                    ));
                    format!("INTEGER NOT NULL DEFAULT {nextval}")
                }
                _ => "SERIAL NOT NULL".to_owned(),
            };
            statements.push(format!(
                "CREATE TABLE {if_not_exists}{t} (\n    id {id},\n    session_id VARCHAR(255),\n    \
                 data BYTEA,\n    expiry TIMESTAMP WITHOUT TIME ZONE,\n    PRIMARY KEY (id),\n    \
                 UNIQUE (session_id)\n)"
            ));
            statements.push(format!(
                "CREATE INDEX {if_not_exists}{index} ON {t} (expiry)"
            ));
        }
        Dialect::MySql => {
            // A MySQL schema is a database of its own: `migrate` creates it; a Diesel
            // migration (which lives in another database) expects it to exist.
            if let (Some(schema), Existing::Keep) = (table.schema(), existing) {
                statements.push(format!(
                    "CREATE DATABASE IF NOT EXISTS {}",
                    schema.quoted(dialect)
                ));
            }
            statements.push(format!(
                "CREATE TABLE {if_not_exists}{t} (\n    id INTEGER NOT NULL AUTO_INCREMENT,\n    \
                 session_id VARCHAR(255),\n    data LONGBLOB,\n    expiry DATETIME,\n    \
                 PRIMARY KEY (id),\n    UNIQUE (session_id),\n    INDEX {index} (expiry)\n)"
            ));
        }
        Dialect::Sqlite => {
            statements.push(format!(
                "CREATE TABLE {if_not_exists}{t} (\n    id INTEGER NOT NULL,\n    \
                 session_id VARCHAR(255),\n    data BLOB,\n    expiry DATETIME,\n    \
                 PRIMARY KEY (id),\n    UNIQUE (session_id)\n)"
            ));
            // SQLite qualifies the index, not the table it is on.
            let index = match table.schema() {
                Some(schema) => format!("{}.{index}", schema.quoted(dialect)),
                None => index,
            };
            statements.push(format!(
                "CREATE INDEX {if_not_exists}{index} ON {} (expiry)",
                table.table().quoted(dialect)
            ));
        }
    }
    statements
}

/// The DDL statements [`migrate_users`] runs: the per-user index table `<table>_users`
/// (`SESSION_USER_KEY`) in the session table's schema, and its `expiry` index. The
/// session table itself is left as it is.
///
/// ```
/// use actix_flask_session::backends::sql::{Dialect, SqlTable, migrate::users_ddl};
///
/// let statements = users_ddl(Dialect::Postgres, &SqlTable::new("flask_sessions")?.with_schema("app")?);
/// assert!(statements[0].starts_with(r#"CREATE TABLE IF NOT EXISTS "app"."flask_sessions_users""#));
/// # Ok::<(), actix_flask_session::ConfigError>(())
/// ```
pub fn users_ddl(dialect: Dialect, table: &SqlTable) -> Vec<String> {
    super::users::users_ddl(dialect, table, true)
}

/// The statements of the migration folder's `down.sql` for `table`.
pub fn down_ddl(dialect: Dialect, table: &SqlTable) -> Vec<String> {
    vec![format!("DROP TABLE IF EXISTS {}", table.qualified(dialect))]
}

/// A Diesel migration that creates the session table for a configured table, schema and
/// sequence, for an application's own migrations directory (what `actix-flask-session
/// migrate --emit DIR` writes; `diesel migration run` then applies and tracks it).
///
/// Unlike [`ddl`], `up.sql` creates with plain `CREATE` (an existing table is an error,
/// not silently adopted: use [`migrate`] for a table Flask-Session made), so that
/// `down.sql` removes exactly what `up.sql` created: the table with its index, the
/// sequence, and on PostgreSQL the schema when `up.sql` created it (it marks the schema
/// with the comment `SCHEMA_MARKER`) and nothing else is left in it. On MySQL/MariaDB
/// the schema (a database of its own) must exist; on SQLite a schema (an attached
/// database) cannot be used, since the Diesel CLI does not attach it.
///
/// ```
/// use actix_flask_session::backends::sql::{Dialect, SqlTable, migrate::DieselMigration};
///
/// let table = SqlTable::new("sessions")?.with_schema("web")?.with_sequence("web_sessions_seq")?;
/// let migration = DieselMigration::new(Dialect::Postgres, &table)?;
/// assert_eq!(migration.name(), "create_session_table_web_sessions");
/// assert!(migration.up_sql().contains(r#"CREATE SEQUENCE "web_sessions_seq";"#));
/// assert!(migration.down_sql().starts_with("-- "));
/// assert!(migration.down_sql().contains(r#"DROP TABLE "web"."sessions";"#));
/// # Ok::<(), actix_flask_session::ConfigError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DieselMigration {
    name: String,
    up: String,
    down: String,
}

impl DieselMigration {
    /// The migration for `table` on `dialect`. Fails for a schema on SQLite (see above).
    pub fn new(dialect: Dialect, table: &SqlTable) -> Result<Self, ConfigError> {
        if let (Dialect::Sqlite, Some(schema)) = (dialect, table.schema()) {
            return Err(ConfigError::Invalid {
                key: "SESSION_SQLALCHEMY_SCHEMA",
                value: format!("{:?}", schema.as_str()),
                allowed: "no schema on SQLite for a Diesel migration: a SQLite schema is an \
                          attached database, which the Diesel CLI does not attach (run \
                          `actix-flask-session migrate` instead)"
                    .to_owned(),
            });
        }
        let name = match table.schema() {
            Some(schema) => format!("create_session_table_{schema}_{}", table.table()),
            None => format!("create_session_table_{}", table.table()),
        };
        let header = format!(
            "-- The session table of actix-flask-session (Flask-Session's table plus an index on\n\
             -- expiry) for {dialect}, table {}, written by `actix-flask-session migrate --emit`.\n",
            table.display_name(),
            dialect = dialect.name(),
        );
        let mut up = header.clone();
        if let (Dialect::MySql, Some(schema)) = (dialect, table.schema()) {
            up.push_str(&format!(
                "-- The database {schema} (SESSION_SQLALCHEMY_SCHEMA) must exist.\n"
            ));
        }
        for sql in statements(dialect, table, Existing::Own) {
            up.push_str(&sql);
            up.push_str(";\n");
        }
        let mut down = header;
        down.push_str(&format!("DROP TABLE {};\n", table.qualified(dialect)));
        if dialect == Dialect::Postgres {
            if let Some(sequence) = table.sequence() {
                down.push_str(&format!("DROP SEQUENCE {};\n", sequence.quoted(dialect)));
            }
            if let Some(schema) = table.schema() {
                let q = schema.quoted(dialect);
                down.push_str(&format!(
                    "DO $$\nBEGIN\n    IF obj_description('{q}'::regnamespace, 'pg_namespace') = \
                     '{SCHEMA_MARKER}' THEN\n        DROP SCHEMA {q};\n    END IF;\n\
                     EXCEPTION WHEN dependent_objects_still_exist THEN\n    \
                     RAISE NOTICE 'schema {schema} kept: other objects are in it';\nEND\n$$;\n"
                ));
            }
        }
        Ok(DieselMigration { name, up, down })
    }

    /// The migration that adds the per-user index table (`SESSION_USER_KEY`, see
    /// [`users_ddl`]) for `table`, named `create_session_users_[<schema>_]<table>`; it
    /// runs after the session table's migration (whose schema it uses), and its
    /// `down.sql` drops only the index table.
    ///
    /// ```
    /// use actix_flask_session::backends::sql::{Dialect, SqlTable, migrate::DieselMigration};
    ///
    /// let migration = DieselMigration::users(Dialect::MySql, &SqlTable::default())?;
    /// assert_eq!(migration.name(), "create_session_users_sessions");
    /// assert!(migration.up_sql().contains("CREATE TABLE `sessions_users`"));
    /// assert!(migration.down_sql().ends_with("DROP TABLE `sessions_users`;\n"));
    /// # Ok::<(), actix_flask_session::ConfigError>(())
    /// ```
    pub fn users(dialect: Dialect, table: &SqlTable) -> Result<Self, ConfigError> {
        // The same refusal of a schema on SQLite.
        let sessions = Self::new(dialect, table)?;
        let name = sessions.name.replacen("create_session_table_", "create_session_users_", 1);
        let users = table.users();
        let header = format!(
            "-- The per-user session index of actix-flask-session (SESSION_USER_KEY) for {dialect},\n\
             -- table {}, beside the session table {}; written by `actix-flask-session migrate --emit`.\n",
            users.display_name(),
            table.display_name(),
            dialect = dialect.name(),
        );
        let mut up = header.clone();
        for sql in super::users::users_ddl(dialect, table, false) {
            up.push_str(&sql);
            up.push_str(";\n");
        }
        let mut down = header;
        down.push_str(&format!("DROP TABLE {};\n", users.qualified(dialect)));
        Ok(DieselMigration { name, up, down })
    }

    /// The folder name without its version: `create_session_table_[<schema>_]<table>`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The contents of `up.sql`.
    pub fn up_sql(&self) -> &str {
        &self.up
    }

    /// The contents of `down.sql`.
    pub fn down_sql(&self) -> &str {
        &self.down
    }

    /// Writes `<migrations_dir>/<version>_<name>/{up.sql,down.sql}` (the directory is
    /// created if missing) and returns the new folder. `version` is the current UTC time
    /// as `diesel migration generate` names folders (`YYYY-MM-DD-HHMMSS`), so the
    /// migration sorts after the application's existing ones.
    ///
    /// Refuses (`AlreadyExists`) when `migrations_dir` already holds a migration of the
    /// same name: a second one would create the same table again.
    pub fn write_to(
        &self,
        migrations_dir: &std::path::Path,
    ) -> std::io::Result<std::path::PathBuf> {
        use std::io::{Error, ErrorKind};
        std::fs::create_dir_all(migrations_dir)?;
        let suffix = format!("_{}", self.name);
        let mut versions = Vec::new();
        for entry in std::fs::read_dir(migrations_dir)? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.ends_with(&suffix) {
                return Err(Error::new(
                    ErrorKind::AlreadyExists,
                    format!(
                        "{} already holds this migration; run it with `diesel migration run`",
                        entry.path().display()
                    ),
                ));
            }
            if let Some((version, _)) = name.split_once('_') {
                versions.push(version.to_owned());
            }
        }
        let format =
            time::macros::format_description!("[year]-[month]-[day]-[hour][minute][second]");
        // Diesel tells migrations apart by version alone: never reuse one of the folder.
        let mut at = time::OffsetDateTime::now_utc();
        let version = loop {
            let version = at.format(&format).map_err(Error::other)?;
            if !versions.contains(&version) {
                break version;
            }
            at += time::Duration::SECOND;
        };
        let folder = migrations_dir.join(format!("{version}_{}", self.name));
        std::fs::create_dir(&folder)?;
        std::fs::write(folder.join("up.sql"), &self.up)?;
        std::fs::write(folder.join("down.sql"), &self.down)?;
        Ok(folder)
    }
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

/// Creates the per-user index table for `table` if it is missing ([`users_ddl`]); what
/// `SESSION_USER_KEY` needs, after [`migrate`]. Safe to run at every start.
pub async fn migrate_users(pool: &SqlPool, table: &SqlTable) -> Result<(), StoreError> {
    let dialect = pool.dialect();
    let statements = users_ddl(dialect, table);
    tracing::info!(table = %table.users().display_name(), ?dialect, "creating the per-user index table if missing");
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
            OpResult::Ok(())
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
                    "../../../../migrations/postgres/2025-01-01-000000_create_sessions/up.sql"
                ),
                include_str!(
                    "../../../../migrations/postgres/2025-01-01-000000_create_sessions/down.sql"
                ),
            ),
            (
                Dialect::MySql,
                include_str!("../../../../migrations/mysql/2025-01-01-000000_create_sessions/up.sql"),
                include_str!(
                    "../../../../migrations/mysql/2025-01-01-000000_create_sessions/down.sql"
                ),
            ),
            (
                Dialect::Sqlite,
                include_str!("../../../../migrations/sqlite/2025-01-01-000000_create_sessions/up.sql"),
                include_str!(
                    "../../../../migrations/sqlite/2025-01-01-000000_create_sessions/down.sql"
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
    fn emitted_folders_never_share_a_version() {
        let dir = tempfile::tempdir().unwrap();
        let mut versions = Vec::new();
        for name in ["a", "b", "c"] {
            let migration =
                DieselMigration::new(Dialect::Postgres, &SqlTable::new(name).unwrap()).unwrap();
            let folder = migration.write_to(dir.path()).unwrap();
            let folder = folder.file_name().unwrap().to_string_lossy().into_owned();
            assert!(
                folder.ends_with(&format!("_create_session_table_{name}")),
                "{folder}"
            );
            versions.push(folder.split_once('_').unwrap().0.to_owned());
        }
        versions.dedup();
        assert_eq!(versions.len(), 3, "{versions:?}");
        let again = DieselMigration::new(Dialect::Postgres, &SqlTable::new("b").unwrap())
            .unwrap()
            .write_to(dir.path())
            .unwrap_err();
        assert_eq!(again.kind(), std::io::ErrorKind::AlreadyExists);
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
