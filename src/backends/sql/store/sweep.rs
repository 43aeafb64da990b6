//! The expired-row sweep, made to scale out: one sweep at a time across every app
//! instance that shares the table, and deletes in bounded batches.
//!
//! See the [Cleanup](crate::backends::sql#cleanup) section of the backend.
//!
//! An instance that finds the lock held skips its sweep (it is not queued): the other
//! instance is already deleting the same rows. A sweep stops at the first batch that
//! deletes fewer than [`SWEEP_BATCH`] rows. Each batch is its own statement and
//! transaction, so no statement holds row locks on more than 1000 rows (a few
//! milliseconds) and concurrent session requests interleave with the sweep instead of
//! waiting for one long `DELETE` over every expired row. An instance that dies mid-sweep
//! loses its connection (or its process), which releases the lock.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::PathBuf;

use diesel::sql_types::{BigInt, Nullable, Text};
use diesel::{QueryableByName, RunQueryDsl};

use super::Dialect;
use super::naming::SqlTable;
use super::ops::{OpResult, SqlConnection, Statements};
use super::query::{Bind, Template};

/// Rows deleted per statement by the sweep.
pub(crate) const SWEEP_BATCH: u64 = 1000;

/// The answer of a lock query: 1 when taken, 0 when held elsewhere.
#[derive(Debug, QueryableByName)]
pub(crate) struct LockRow {
    #[diesel(sql_type = Nullable<BigInt>)]
    got: Option<i64>,
}

/// The file behind SQLite's `main` database (empty for an in-memory database).
#[derive(Debug, QueryableByName)]
pub(crate) struct FileRow {
    #[diesel(sql_type = Nullable<Text>)]
    file: Option<String>,
}

/// The lock and batch statements of one table.
pub(crate) struct Sweep {
    dialect: Dialect,
    name: String,
    batch: Template,
}

/// What held the sweep lock: released when dropped (SQLite's lock file) or by
/// [`Sweep::unlock`].
enum Held {
    Server,
    File {
        _lock: File,
    },
    Nothing,
}

impl Sweep {
    pub(crate) fn new(dialect: Dialect, table: &SqlTable) -> Self {
        let t = table.qualified(dialect);
        let batch = match dialect {
            Dialect::MySql => format!(
                "DELETE FROM {t} WHERE expiry <= ? OR expiry IS NULL LIMIT {SWEEP_BATCH}"
            ),
            Dialect::Postgres | Dialect::Sqlite => format!(
                "DELETE FROM {t} WHERE id IN (SELECT id FROM {t} WHERE expiry <= ? OR expiry IS NULL LIMIT {SWEEP_BATCH})"
            ),
        };
        Sweep {
            dialect,
            name: table.display_name(),
            batch: Template::new(batch),
        }
    }

    /// Sweeps unless another instance is sweeping: `Some(deleted)`, or `None` when skipped.
    pub(crate) fn run<C>(&self, statements: &Statements, conn: &mut C) -> OpResult<Option<u64>>
    where
        C: SqlConnection,
        LockRow: QueryableByName<C::Backend>,
        FileRow: QueryableByName<C::Backend>,
    {
        let Some(held) = self.lock(conn)? else {
            return Ok(None);
        };
        let swept = self.batches(statements, conn);
        if swept.is_ok() {
            statements.users.sweep(statements, conn);
        }
        let released = self.unlock(conn, held);
        let deleted = swept?;
        released?;
        Ok(Some(deleted))
    }

    fn batches<C: SqlConnection>(&self, statements: &Statements, conn: &mut C) -> OpResult<u64> {
        let mut deleted = 0;
        loop {
            // `now` per batch: rows that expire during a long sweep go too.
            let rows = self
                .batch
                .bind(vec![statements.time(statements.now())])
                .execute(conn)? as u64;
            deleted += rows;
            if rows < SWEEP_BATCH {
                return Ok(deleted);
            }
        }
    }

    fn lock<C>(&self, conn: &mut C) -> OpResult<Option<Held>>
    where
        C: SqlConnection,
        LockRow: QueryableByName<C::Backend>,
        FileRow: QueryableByName<C::Backend>,
    {
        let sql = match self.dialect {
            Dialect::Postgres => format!(
                "SELECT CAST(CASE WHEN pg_try_advisory_lock({}) THEN 1 ELSE 0 END AS BIGINT) AS got",
                PG_KEY
            ),
            Dialect::MySql => format!("SELECT CAST(GET_LOCK({MYSQL_NAME}, 0) AS SIGNED) AS got"),
            Dialect::Sqlite => return self.lock_file(conn),
        };
        let row = Template::new(sql)
            .bind(vec![Bind::Text(&self.name)])
            .get_result::<LockRow>(conn)?;
        Ok((row.got == Some(1)).then_some(Held::Server))
    }

    fn unlock<C>(&self, conn: &mut C, held: Held) -> OpResult<()>
    where
        C: SqlConnection,
        LockRow: QueryableByName<C::Backend>,
    {
        let sql = match (self.dialect, held) {
            (Dialect::Postgres, Held::Server) => format!(
                "SELECT CAST(CASE WHEN pg_advisory_unlock({PG_KEY}) THEN 1 ELSE 0 END AS BIGINT) AS got"
            ),
            (Dialect::MySql, Held::Server) => {
                format!("SELECT CAST(RELEASE_LOCK({MYSQL_NAME}) AS SIGNED) AS got")
            }
            // Dropping the file releases its lock.
            _ => return Ok(()),
        };
        Template::new(sql)
            .bind(vec![Bind::Text(&self.name)])
            .get_result::<LockRow>(conn)?;
        Ok(())
    }

    /// SQLite: an exclusive lock on `<database file>.afs-sweep.lock`, not waited for. An
    /// in-memory database lives in one process, which sweeps one at a time anyway.
    fn lock_file<C>(&self, conn: &mut C) -> OpResult<Option<Held>>
    where
        C: SqlConnection,
        FileRow: QueryableByName<C::Backend>,
    {
        let row = Template::new(
            "SELECT file FROM pragma_database_list WHERE name = 'main'".to_owned(),
        )
        .bind(Vec::new())
        .get_result::<FileRow>(conn)?;
        let Some(path) = row.file.filter(|f| !f.is_empty()) else {
            return Ok(Some(Held::Nothing));
        };
        let path = PathBuf::from(format!("{path}.afs-sweep.lock"));
        let file = match OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
        {
            Ok(file) => file,
            Err(error) => {
                tracing::warn!(%error, path = %path.display(), "cannot open the sweep lock file; sweeping without it");
                return Ok(Some(Held::Nothing));
            }
        };
        match file.try_lock() {
            Ok(()) => Ok(Some(Held::File { _lock: file })),
            Err(TryLockError::WouldBlock) => Ok(None),
            Err(TryLockError::Error(error)) => {
                tracing::warn!(%error, path = %path.display(), "cannot lock the sweep lock file; sweeping without it");
                Ok(Some(Held::Nothing))
            }
        }
    }
}

/// PostgreSQL's advisory-lock key for the table named by the one bound value.
const PG_KEY: &str =
    "CAST(CAST(('x' || substr(md5('actix-flask-session sweep ' || ?), 1, 16)) AS BIT(64)) AS BIGINT)";

/// MySQL's lock name for the table named by the one bound value (at most 64 characters).
const MYSQL_NAME: &str = "LEFT(CONCAT('afs-sweep:', DATABASE(), '.', ?), 64)";
