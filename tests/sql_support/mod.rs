//! Fixtures for the SQL store tests: a table of its own per test, on each database.
//!
//! - PostgreSQL: database `afs_test` (created if missing), one schema per test, named
//!   after the test plus a random suffix ([`unique`]) and dropped when the fixture is.
//!   Never the shared `test` database, which may hold someone else's `sessions` table.
//! - MariaDB/MySQL: database `afs_test` (created if missing), one table per test, named
//!   the same way.
//! - SQLite: a file in a temporary directory per test.
//!
//! So two runs of the suite on one machine (two checkouts, two CI jobs) never share a
//! database object.
//!
//! Servers: `AFS_PG_URL` (default `postgresql://root@127.0.0.1:5432`) and
//! `AFS_MYSQL_URL` (default `mysql://root@127.0.0.1:3306`), without a database name.
#![allow(dead_code)]

use std::time::Duration;

use actix_flask_session::backends::sql::{
    Dialect, PoolOptions, SqlAlchemySessionInterface, SqlPool, SqlTable, migrate::migrate,
};
use diesel::connection::SimpleConnection;
use diesel::{Connection, QueryableByName, RunQueryDsl};
use time::PrimitiveDateTime;

pub const TEST_DB: &str = "afs_test";

/// `name` followed by `_` and 8 random hex digits: a database object name no other run
/// uses (lowercase, so it needs no quoting; at most 63 bytes for `name` up to 54).
pub fn unique(name: &str) -> String {
    format!("{name}_{:08x}", rand::random::<u32>())
}

pub fn pg_server() -> String {
    std::env::var("AFS_PG_URL").unwrap_or_else(|_| "postgresql://root@127.0.0.1:5432".to_owned())
}

/// The URL of database `db` on the PostgreSQL server: libpq's default `sslmode=prefer`,
/// so the suite talks TLS when the server offers it (the pool's clean shutdown makes
/// that safe at process exit, see `tests/stores/sql_shutdown.rs`), and no GSSAPI encryption
/// (nothing to gain on loopback; see the pool's "Clean shutdown" docs).
pub fn pg_url(db: &str) -> String {
    format!("{}/{db}?gssencmode=disable", pg_server())
}

pub fn mysql_server() -> String {
    std::env::var("AFS_MYSQL_URL").unwrap_or_else(|_| "mysql://root@127.0.0.1:3306".to_owned())
}

/// Creates database `name` on the PostgreSQL server if it does not exist (safe to race).
#[cfg(feature = "postgres")]
pub fn ensure_pg_database(name: &str) {
    let mut conn = diesel::PgConnection::establish(&pg_url("postgres"))
        .or_else(|_| diesel::PgConnection::establish(&pg_url("test")))
        .expect("connect to PostgreSQL");
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let exists = |conn: &mut diesel::PgConnection| {
        diesel::sql_query("SELECT count(*) AS n FROM pg_database WHERE datname = $1")
            .bind::<diesel::sql_types::Text, _>(name)
            .get_result::<N>(conn)
            .expect("pg_database")
            .n
            > 0
    };
    if exists(&mut conn) {
        return;
    }
    if let Err(e) = conn.batch_execute(&format!("CREATE DATABASE \"{name}\"")) {
        assert!(exists(&mut conn), "create database {name}: {e}");
    }
}

#[cfg(feature = "mysql")]
pub fn ensure_mysql_database(name: &str) {
    let mut conn = diesel::MysqlConnection::establish(&format!("{}/test", mysql_server()))
        .expect("connect to MariaDB");
    conn.batch_execute(&format!("CREATE DATABASE IF NOT EXISTS `{name}`"))
        .expect("create database");
}

/// One row of a session table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub session_id: String,
    pub data: Vec<u8>,
    pub expiry: PrimitiveDateTime,
}

#[derive(QueryableByName)]
struct TimeRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    session_id: String,
    #[diesel(sql_type = diesel::sql_types::Binary)]
    data: Vec<u8>,
    #[diesel(sql_type = diesel::sql_types::Timestamp)]
    expiry: PrimitiveDateTime,
}

#[derive(QueryableByName)]
struct TextRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    session_id: String,
    #[diesel(sql_type = diesel::sql_types::Binary)]
    data: Vec<u8>,
    #[diesel(sql_type = diesel::sql_types::Text)]
    expiry: String,
}

/// A table of its own on one database.
pub struct Fixture {
    pub dialect: Dialect,
    /// SQLAlchemy-style URL of the database holding the table.
    pub url: String,
    /// Diesel driver URL of the same database.
    pub driver_url: String,
    pub table: SqlTable,
    _dir: Option<tempfile::TempDir>,
    /// Drops the test's schema (PostgreSQL) or table (MySQL) with the fixture (not with
    /// its handles).
    _drop: Option<DropOnExit>,
}

/// Drops one schema or table when dropped.
struct DropOnExit {
    dialect: Dialect,
    driver_url: String,
    sql: String,
}

impl Drop for DropOnExit {
    fn drop(&mut self) {
        let handle = Fixture {
            dialect: self.dialect,
            url: String::new(),
            driver_url: self.driver_url.clone(),
            table: SqlTable::default(),
            _dir: None,
            _drop: None,
        };
        let sql = std::mem::take(&mut self.sql);
        // Best effort, off the async runtime's threads; a failure leaves a uniquely
        // named object behind, harmless to other runs.
        let _ = std::thread::spawn(move || handle.try_exec(&sql)).join();
    }
}

impl Fixture {
    /// A fresh, empty session table named after `name` (unique per test), created with
    /// the library's `migrate`.
    pub async fn new(dialect: Dialect, name: &str) -> Fixture {
        let fixture = Self::empty(dialect, name).await;
        let pool = fixture.pool().await;
        migrate(&pool, &fixture.table).await.expect("migrate");
        fixture
    }

    /// Like [`new`](Self::new) without creating the table (the schema exists, empty).
    pub async fn empty(dialect: Dialect, name: &str) -> Fixture {
        let name = name.to_owned();
        tokio::task::spawn_blocking(move || Self::prepare(dialect, &name))
            .await
            .expect("prepare")
    }

    fn prepare(dialect: Dialect, name: &str) -> Fixture {
        let name = &unique(name);
        match dialect {
            Dialect::Postgres => {
                #[cfg(feature = "postgres")]
                ensure_pg_database(TEST_DB);
                let fixture = Fixture {
                    dialect,
                    url: pg_url(TEST_DB),
                    driver_url: pg_url(TEST_DB),
                    table: SqlTable::default().with_schema(name).expect("schema name"),
                    _dir: None,
                    _drop: Some(DropOnExit {
                        dialect,
                        driver_url: pg_url(TEST_DB),
                        sql: format!("DROP SCHEMA IF EXISTS \"{name}\" CASCADE"),
                    }),
                };
                fixture.exec(&format!("CREATE SCHEMA \"{name}\""));
                fixture
            }
            Dialect::MySql => {
                #[cfg(feature = "mysql")]
                ensure_mysql_database(TEST_DB);
                Fixture {
                    dialect,
                    url: format!("{}/{TEST_DB}", mysql_server()),
                    driver_url: format!("{}/{TEST_DB}", mysql_server()),
                    table: SqlTable::new(name).expect("table name"),
                    _dir: None,
                    _drop: Some(DropOnExit {
                        dialect,
                        driver_url: format!("{}/{TEST_DB}", mysql_server()),
                        sql: format!("DROP TABLE IF EXISTS `{name}`"),
                    }),
                }
            }
            Dialect::Sqlite => {
                let dir = tempfile::tempdir().expect("tempdir");
                let path = dir.path().join("sessions.db");
                let path = path.to_str().expect("utf-8 path").to_owned();
                Fixture {
                    dialect,
                    url: format!("sqlite:///{path}"),
                    driver_url: path,
                    table: SqlTable::default(),
                    _dir: Some(dir),
                    _drop: None,
                }
            }
        }
    }

    /// The same table, without owning the temporary directory (for blocking tasks).
    pub fn handle(&self) -> Fixture {
        Fixture {
            dialect: self.dialect,
            url: self.url.clone(),
            driver_url: self.driver_url.clone(),
            table: self.table.clone(),
            _dir: None,
            _drop: None,
        }
    }

    /// Runs `f` with a handle on the blocking pool.
    pub async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Fixture) -> T + Send + 'static,
    ) -> T {
        let handle = self.handle();
        tokio::task::spawn_blocking(move || f(&handle))
            .await
            .expect("blocking task")
    }

    /// Every row, ordered by `session_id`.
    pub async fn rows_now(&self) -> Vec<Row> {
        self.blocking(|f| f.rows()).await
    }

    pub fn options() -> PoolOptions {
        let mut options = PoolOptions::default();
        options.max_size = 4;
        options.timeout = Duration::from_secs(5);
        options
    }

    pub async fn pool(&self) -> SqlPool {
        SqlPool::connect(&self.url, &Self::options())
            .await
            .expect("connect")
    }

    pub async fn store(&self) -> SqlAlchemySessionInterface {
        SqlAlchemySessionInterface::new(self.pool().await, self.table.clone())
            .await
            .expect("store")
    }

    /// The table name as written in SQL (quoted, qualified).
    pub fn qualified(&self) -> String {
        let q = |s: &str| match self.dialect {
            Dialect::MySql => format!("`{s}`"),
            _ => format!("\"{s}\""),
        };
        match self.table.schema() {
            Some(schema) => format!("{}.{}", q(schema.as_str()), q(self.table.table().as_str())),
            None => q(self.table.table().as_str()),
        }
    }

    /// Runs SQL on a connection of its own (blocking).
    pub fn exec(&self, sql: &str) {
        self.try_exec(sql).expect(sql);
    }

    /// The schema (PostgreSQL) or table (MySQL) name of this fixture: the test's name
    /// plus its random suffix.
    pub fn object_name(&self) -> String {
        match self.table.schema() {
            Some(schema) => schema.as_str().to_owned(),
            None => self.table.table().as_str().to_owned(),
        }
    }

    /// Runs SQL on a connection of its own (blocking); the error, if any.
    pub fn try_exec(&self, sql: &str) -> Result<(), String> {
        let result = match self.dialect {
            #[cfg(feature = "postgres")]
            Dialect::Postgres => self.pg().batch_execute(sql),
            #[cfg(feature = "mysql")]
            Dialect::MySql => self.mysql().batch_execute(sql),
            #[cfg(feature = "sqlite")]
            Dialect::Sqlite => self.sqlite().batch_execute(sql),
            #[allow(unreachable_patterns)]
            _ => unreachable!("feature off"),
        };
        result.map_err(|e| e.to_string())
    }

    #[cfg(feature = "postgres")]
    pub fn pg(&self) -> diesel::PgConnection {
        diesel::PgConnection::establish(&self.driver_url).expect("connect")
    }

    #[cfg(feature = "mysql")]
    pub fn mysql(&self) -> diesel::MysqlConnection {
        diesel::MysqlConnection::establish(&self.driver_url).expect("connect")
    }

    #[cfg(feature = "sqlite")]
    pub fn sqlite(&self) -> diesel::SqliteConnection {
        let mut conn = diesel::SqliteConnection::establish(&self.driver_url).expect("connect");
        conn.batch_execute("PRAGMA busy_timeout = 5000")
            .expect("busy_timeout");
        conn
    }

    /// Every row, ordered by `session_id` (blocking).
    pub fn rows(&self) -> Vec<Row> {
        let sql = format!(
            "SELECT session_id, data, expiry FROM {} ORDER BY session_id",
            self.qualified()
        );
        let convert = |rows: Vec<TimeRow>| {
            rows.into_iter()
                .map(|r| Row {
                    session_id: r.session_id,
                    data: r.data,
                    expiry: r.expiry,
                })
                .collect()
        };
        match self.dialect {
            #[cfg(feature = "postgres")]
            Dialect::Postgres => {
                convert(diesel::sql_query(&sql).load(&mut self.pg()).expect("rows"))
            }
            #[cfg(feature = "mysql")]
            Dialect::MySql => convert(
                diesel::sql_query(&sql)
                    .load(&mut self.mysql())
                    .expect("rows"),
            ),
            #[cfg(feature = "sqlite")]
            Dialect::Sqlite => {
                let rows: Vec<TextRow> = diesel::sql_query(&sql)
                    .load(&mut self.sqlite())
                    .expect("rows");
                rows.into_iter()
                    .map(|r| Row {
                        expiry: parse_sqlite_time(&r.expiry),
                        session_id: r.session_id,
                        data: r.data,
                    })
                    .collect()
            }
            #[allow(unreachable_patterns)]
            _ => unreachable!("feature off"),
        }
    }

    /// Sets the expiry of `key` to `seconds` from now (negative: in the past).
    pub fn set_expiry(&self, key: &str, seconds: i64) {
        let t = self.now_at_precision() + time::Duration::seconds(seconds);
        self.exec(&format!(
            "UPDATE {} SET expiry = '{}' WHERE session_id = '{key}'",
            self.qualified(),
            sqlite_time(t)
        ));
    }

    /// Inserts a raw row, as another application would.
    pub fn insert_raw(&self, key: &str, data_hex: &str, expiry_seconds: i64) {
        let t = self.now_at_precision() + time::Duration::seconds(expiry_seconds);
        let data = match self.dialect {
            Dialect::Postgres => format!("'\\x{data_hex}'::bytea"),
            Dialect::MySql | Dialect::Sqlite => format!("X'{data_hex}'"),
        };
        self.exec(&format!(
            "INSERT INTO {} (session_id, data, expiry) VALUES ('{key}', {data}, '{}')",
            self.qualified(),
            sqlite_time(t)
        ));
    }

    /// Now (UTC) at the column's precision.
    pub fn now_at_precision(&self) -> PrimitiveDateTime {
        let now = time::OffsetDateTime::now_utc();
        let now = PrimitiveDateTime::new(now.date(), now.time());
        match self.dialect {
            Dialect::MySql => now.replace_nanosecond(0).expect("ns"),
            _ => now
                .replace_nanosecond(now.nanosecond() / 1000 * 1000)
                .expect("ns"),
        }
    }
}

pub fn sqlite_time(t: PrimitiveDateTime) -> String {
    let format = time::macros::format_description!(
        "[year]-[month]-[day] [hour]:[minute]:[second].[subsecond digits:6]"
    );
    t.format(&format).expect("format")
}

pub fn parse_sqlite_time(s: &str) -> PrimitiveDateTime {
    let format = time::macros::format_description!(
        "[year]-[month]-[day] [hour]:[minute]:[second].[subsecond]"
    );
    PrimitiveDateTime::parse(s, &format).unwrap_or_else(|e| panic!("{s}: {e}"))
}

/// Generates one test per enabled database: `mod $name { fn postgres, fn mysql, fn sqlite }`,
/// each calling `$body(Fixture)` on a table named after the test.
#[macro_export]
macro_rules! for_each_db {
    ($name:ident, $body:path) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[cfg(feature = "postgres")]
            #[actix_rt::test]
            async fn postgres() {
                let fixture = $crate::sql_support::Fixture::new(
                    actix_flask_session::backends::sql::Dialect::Postgres,
                    concat!("afs_", stringify!($name)),
                )
                .await;
                $body(fixture).await;
            }
            #[cfg(feature = "mysql")]
            #[actix_rt::test]
            async fn mysql() {
                let fixture = $crate::sql_support::Fixture::new(
                    actix_flask_session::backends::sql::Dialect::MySql,
                    concat!("afs_", stringify!($name)),
                )
                .await;
                $body(fixture).await;
            }
            #[cfg(feature = "sqlite")]
            #[actix_rt::test]
            async fn sqlite() {
                let fixture = $crate::sql_support::Fixture::new(
                    actix_flask_session::backends::sql::Dialect::Sqlite,
                    concat!("afs_", stringify!($name)),
                )
                .await;
                $body(fixture).await;
            }
        }
    };
}
