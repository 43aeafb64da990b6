//! The store-agnostic acceptance suite on PostgreSQL, MariaDB and SQLite. Every case gets
//! its own random key prefix from the suite, so the cases of one database share a table
//! (created idempotently by `migrate()`) that no other test file, and no other run of
//! this one, uses: its name carries a random suffix chosen once per run.
#![cfg(all(
    feature = "testing",
    any(feature = "postgres", feature = "mysql", feature = "sqlite")
))]

use crate::sql_support;

use actix_flask_session::backends::sql::{SqlAlchemySessionInterface, SqlPool, SqlTable, migrate};
use sql_support::Fixture;

/// `afs_acceptance_<random>`: this run's schema (PostgreSQL) or table (MySQL) name.
#[allow(dead_code)]
fn run_name() -> &'static str {
    static NAME: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    NAME.get_or_init(|| sql_support::unique("afs_acceptance"))
}

/// A store on `table` in the database at `url`, creating the table if needed.
async fn store(url: String, table: SqlTable) -> SqlAlchemySessionInterface {
    let pool = match SqlPool::connect(&url, &Fixture::options()).await {
        Ok(pool) => pool,
        Err(e) => panic!(
            "the database is not reachable: {e}; start the services with scripts/services.sh"
        ),
    };
    migrate::migrate(&pool, &table).await.expect("migrate");
    migrate::migrate_users(&pool, &table)
        .await
        .expect("migrate the per-user index");
    SqlAlchemySessionInterface::new(pool, table)
        .await
        .expect("store")
}

#[cfg(feature = "postgres")]
mod postgres {
    use super::*;

    actix_flask_session::acceptance_suite!(|| async {
        tokio::task::spawn_blocking(|| sql_support::ensure_pg_database(sql_support::TEST_DB))
            .await
            .expect("database");
        let table = SqlTable::default().with_schema(run_name()).expect("schema");
        store(sql_support::pg_url(sql_support::TEST_DB), table).await
    });
}

#[cfg(feature = "mysql")]
mod mysql {
    use super::*;

    actix_flask_session::acceptance_suite!(|| async {
        let server = sql_support::mysql_server();
        tokio::task::spawn_blocking(|| sql_support::ensure_mysql_database(sql_support::TEST_DB))
            .await
            .expect("database");
        let table = SqlTable::new(run_name()).expect("table");
        store(format!("{server}/{}", sql_support::TEST_DB), table).await
    });
}

#[cfg(feature = "sqlite")]
mod sqlite {
    use super::*;

    actix_flask_session::acceptance_suite!(|| async {
        // One file per case; kept until the process ends.
        let dir = tempfile::tempdir().expect("temp dir").keep();
        let url = format!("sqlite:///{}", dir.join("sessions.db").display());
        store(url, SqlTable::default()).await
    });
}
