//! The SQL of each store operation, per dialect, and the blocking code that runs it.
//!
//! Everything here runs on a blocking thread (see [`super::pool`]); nothing is async.

use std::time::Duration;

use diesel::connection::LoadConnection;
use diesel::r2d2::R2D2Connection;
use diesel::result::{DatabaseErrorKind, Error as DieselError, OptionalExtension, QueryResult};
use diesel::{Connection, QueryableByName, RunQueryDsl};
use time::{OffsetDateTime, PrimitiveDateTime, macros::format_description};

use super::Dialect;
use super::naming::SqlTable;
use super::query::{Bind, BindBackend, DataRow, Template};
use crate::store::RenameOutcome;

/// A Diesel connection this store can drive.
pub(crate) trait SqlConnection:
    Connection<Backend: BindBackend> + LoadConnection + R2D2Connection + Send + 'static
{
}

impl<C> SqlConnection for C where
    C: Connection<Backend: BindBackend> + LoadConnection + R2D2Connection + Send + 'static
{
}

/// The statements of one store, built once from the validated, quoted table name.
#[derive(Debug, Clone)]
pub(crate) struct Statements {
    pub(crate) dialect: Dialect,
    /// `SELECT data FROM T WHERE session_id = ? AND expiry > ?`
    pub(crate) select: Template,
    /// PostgreSQL/SQLite: `UPDATE T SET expiry = ? WHERE session_id = ? AND expiry > ? RETURNING data`.
    /// MySQL (no `RETURNING`): the same without it; [`select`](Self::select) then reads the
    /// data when it matched a row.
    pub(crate) load_refresh: Template,
    /// PostgreSQL/SQLite: `INSERT ... ON CONFLICT (session_id) DO UPDATE ... WHERE <expired>`.
    /// MySQL: `INSERT INTO T (session_id, data, expiry) VALUES (?, ?, ?)`.
    pub(crate) create: Template,
    /// MySQL only: `UPDATE T SET data = ?, expiry = ? WHERE session_id = ? AND (expiry IS NULL OR expiry <= ?)`.
    pub(crate) replace_expired: Template,
    /// `UPDATE T SET data = ?, expiry = ? WHERE session_id = ? AND expiry > ?`
    pub(crate) update: Template,
    /// The same, `AND data = ?` (see [`super::cas`]).
    pub(crate) swap: Template,
    /// `DELETE FROM T WHERE session_id = ?`
    pub(crate) delete: Template,
    /// `UPDATE T SET session_id = ?, data = ?, expiry = ? WHERE session_id = ? AND expiry > ?`
    pub(crate) rename: Template,
    /// `DELETE FROM T WHERE session_id = ? AND (expiry IS NULL OR expiry <= ?)`
    pub(crate) delete_if_expired: Template,
    /// `SELECT id, session_id, data, expiry FROM T WHERE 1 = 0`
    pub(crate) probe: Template,
    /// PostgreSQL with `SESSION_SQLALCHEMY_SEQUENCE`:
    /// `SELECT pg_catalog.pg_sequence_last_value('"seq"'::regclass)`, which fails unless
    /// the sequence `nextval` will use exists, is a sequence and may be used by this user.
    pub(crate) probe_sequence: Option<Template>,
    /// The statements on the per-user index table.
    pub(crate) users: super::users::UserStatements,
}

impl Statements {
    pub(crate) fn new(dialect: Dialect, table: &SqlTable) -> Self {
        let t = table.qualified(dialect);
        let select = format!("SELECT data FROM {t} WHERE session_id = ? AND expiry > ?");
        let refresh = format!("UPDATE {t} SET expiry = ? WHERE session_id = ? AND expiry > ?");
        let (load_refresh, create) = match dialect {
            Dialect::MySql => (
                refresh,
                format!("INSERT INTO {t} (session_id, data, expiry) VALUES (?, ?, ?)"),
            ),
            Dialect::Postgres | Dialect::Sqlite => {
                let (columns, values) =
                    match table.nextval().filter(|_| dialect == Dialect::Postgres) {
                        Some(nextval) => (
                            "id, session_id, data, expiry",
                            format!("{nextval}, ?, ?, ?"),
                        ),
                        None => ("session_id, data, expiry", "?, ?, ?".to_owned()),
                    };
                (
                    format!("{refresh} RETURNING data"),
                    format!(
                        "INSERT INTO {t} ({columns}) VALUES ({values}) ON CONFLICT (session_id) \
                         DO UPDATE SET data = excluded.data, expiry = excluded.expiry \
                         WHERE {t}.expiry IS NULL OR {t}.expiry <= ?"
                    ),
                )
            }
        };
        Statements {
            dialect,
            select: Template::new(select),
            load_refresh: Template::new(load_refresh),
            create: Template::new(create),
            replace_expired: Template::new(format!(
                "UPDATE {t} SET data = ?, expiry = ? WHERE session_id = ? AND (expiry IS NULL OR expiry <= ?)"
            )),
            update: Template::new(format!(
                "UPDATE {t} SET data = ?, expiry = ? WHERE session_id = ? AND expiry > ?"
            )),
            swap: super::cas::swap_template(&t),
            delete: Template::new(format!("DELETE FROM {t} WHERE session_id = ?")),
            rename: Template::new(format!(
                "UPDATE {t} SET session_id = ?, data = ?, expiry = ? WHERE session_id = ? AND expiry > ?"
            )),
            delete_if_expired: Template::new(format!(
                "DELETE FROM {t} WHERE session_id = ? AND (expiry IS NULL OR expiry <= ?)"
            )),
            probe: Template::new(format!(
                "SELECT id, session_id, data, expiry FROM {t} WHERE 1 = 0"
            )),
            probe_sequence: table
                .sequence()
                .filter(|_| dialect == Dialect::Postgres)
                .map(|seq| {
                    Template::new(format!(
                        "SELECT pg_catalog.pg_sequence_last_value('{}'::regclass)",
                        seq.quoted(Dialect::Postgres)
                    ))
                }),
            users: super::users::UserStatements::new(dialect, table),
        }
    }

    /// The current UTC time at the column's precision: microseconds, whole seconds on
    /// MySQL (`DATETIME` without fractional digits, as Flask-Session's table has it).
    pub(crate) fn now(&self) -> PrimitiveDateTime {
        let now = OffsetDateTime::now_utc();
        let nanos = match self.dialect {
            Dialect::MySql => 0,
            Dialect::Postgres | Dialect::Sqlite => now.nanosecond() / 1_000 * 1_000,
        };
        let time = now.time().replace_nanosecond(nanos).unwrap_or(now.time());
        PrimitiveDateTime::new(now.date(), time)
    }

    /// `now + ttl`, at the column's precision.
    pub(crate) fn expiry(
        &self,
        now: PrimitiveDateTime,
        ttl: Duration,
    ) -> Result<PrimitiveDateTime, String> {
        let ttl =
            time::Duration::try_from(ttl).map_err(|e| format!("time to live {ttl:?}: {e}"))?;
        let expiry = now
            .checked_add(ttl)
            .ok_or_else(|| format!("time to live {ttl} puts the expiry out of range"))?;
        let nanos = match self.dialect {
            Dialect::MySql => 0,
            Dialect::Postgres | Dialect::Sqlite => expiry.nanosecond() / 1_000 * 1_000,
        };
        Ok(expiry.replace_nanosecond(nanos).unwrap_or(expiry))
    }

    /// A time as this dialect binds it: a timestamp, or on SQLite the text SQLAlchemy
    /// writes (`YYYY-MM-DD HH:MM:SS.ffffff`), so that text comparisons order correctly.
    pub(crate) fn time(&self, t: PrimitiveDateTime) -> Bind<'static> {
        match self.dialect {
            Dialect::Sqlite => Bind::TimeText(format_sqlite_time(t)),
            Dialect::Postgres | Dialect::MySql => Bind::Time(t),
        }
    }
}

/// SQLAlchemy's SQLite `DATETIME` storage format.
pub(crate) fn format_sqlite_time(t: PrimitiveDateTime) -> String {
    let format =
        format_description!("[year]-[month]-[day] [hour]:[minute]:[second].[subsecond digits:6]");
    t.format(&format).unwrap_or_else(|_| t.to_string())
}

/// A failed operation: a database error, or a value the store cannot take.
#[derive(Debug)]
pub(crate) enum OpError {
    Db(DieselError),
    Input(String),
    /// The row is not a session (e.g. its `data` is NULL).
    BadData(String),
}

impl From<DieselError> for OpError {
    fn from(e: DieselError) -> Self {
        OpError::Db(e)
    }
}

pub(crate) type OpResult<T> = Result<T, OpError>;

impl Statements {
    pub(crate) fn load<C>(
        &self,
        conn: &mut C,
        key: &str,
        refresh: Option<Duration>,
    ) -> OpResult<Option<Vec<u8>>>
    where
        C: SqlConnection,
        DataRow: QueryableByName<C::Backend>,
    {
        let now = self.now();
        let row = match refresh {
            None => self
                .select
                .bind(vec![Bind::Text(key), self.time(now)])
                .get_result::<DataRow>(conn)
                .optional()?,
            Some(ttl) => {
                let expiry = self.expiry(now, ttl).map_err(OpError::Input)?;
                match self.dialect {
                    Dialect::Postgres | Dialect::Sqlite => self
                        .load_refresh
                        .bind(vec![self.time(expiry), Bind::Text(key), self.time(now)])
                        .get_result::<DataRow>(conn)
                        .optional()?,
                    // Two statements and no transaction (a transaction costs diesel four
                    // more round trips on MySQL, and held the row lock across three):
                    // move the expiry of a live row, then read it. A write landing
                    // between the two is read (what a load a moment later would see); a
                    // delete or rename makes it a miss. Diesel connects with
                    // `CLIENT_FOUND_ROWS`, so a row whose expiry is already the new value
                    // still counts as matched.
                    Dialect::MySql => {
                        let moved = self
                            .load_refresh
                            .bind(vec![self.time(expiry), Bind::Text(key), self.time(now)])
                            .execute(conn)?;
                        if moved == 0 {
                            None
                        } else {
                            self.select
                                .bind(vec![Bind::Text(key), self.time(now)])
                                .get_result::<DataRow>(conn)
                                .optional()?
                        }
                    }
                }
            }
        };
        match row {
            None => Ok(None),
            Some(DataRow { data: Some(data) }) => Ok(Some(data)),
            Some(DataRow { data: None }) => Err(OpError::BadData(
                "the session row's data is NULL".to_owned(),
            )),
        }
    }

    pub(crate) fn create<C>(
        &self,
        conn: &mut C,
        key: &str,
        value: &[u8],
        ttl: Duration,
    ) -> OpResult<bool>
    where
        C: SqlConnection,
    {
        let now = self.now();
        let expiry = self.expiry(now, ttl).map_err(OpError::Input)?;
        match self.dialect {
            Dialect::Postgres | Dialect::Sqlite => {
                let rows = self
                    .create
                    .bind(vec![
                        Bind::Text(key),
                        Bind::Bytes(value),
                        self.time(expiry),
                        self.time(now),
                    ])
                    .execute(conn)?;
                Ok(rows == 1)
            }
            Dialect::MySql => {
                let inserted = self
                    .create
                    .bind(vec![Bind::Text(key), Bind::Bytes(value), self.time(expiry)])
                    .execute(conn);
                match inserted {
                    Ok(rows) => Ok(rows == 1),
                    Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
                        // The key exists: take it over only if its row has expired. Diesel
                        // connects with CLIENT_FOUND_ROWS, so this counts matched rows.
                        let rows = self
                            .replace_expired
                            .bind(vec![
                                Bind::Bytes(value),
                                self.time(expiry),
                                Bind::Text(key),
                                self.time(now),
                            ])
                            .execute(conn)?;
                        Ok(rows == 1)
                    }
                    Err(e) => Err(e.into()),
                }
            }
        }
    }

    pub(crate) fn update<C>(
        &self,
        conn: &mut C,
        key: &str,
        value: &[u8],
        ttl: Duration,
    ) -> OpResult<bool>
    where
        C: SqlConnection,
    {
        let now = self.now();
        let expiry = self.expiry(now, ttl).map_err(OpError::Input)?;
        let rows = self
            .update
            .bind(vec![
                Bind::Bytes(value),
                self.time(expiry),
                Bind::Text(key),
                self.time(now),
            ])
            .execute(conn)?;
        Ok(rows == 1)
    }

    pub(crate) fn delete<C>(&self, conn: &mut C, key: &str) -> OpResult<()>
    where
        C: SqlConnection,
    {
        self.delete.bind(vec![Bind::Text(key)]).execute(conn)?;
        Ok(())
    }

    /// Moves the row of `from` to `to` in place, in one statement: the `UPDATE` matches
    /// only a live row of `from` (none: `SourceGone`), and the unique constraint on
    /// `session_id` refuses a `to` that exists (`TargetExists`, unless that row has
    /// expired: then it is deleted and the move tried once more).
    pub(crate) fn rename<C>(
        &self,
        conn: &mut C,
        from: &str,
        to: &str,
        value: &[u8],
        ttl: Duration,
    ) -> OpResult<RenameOutcome>
    where
        C: SqlConnection,
    {
        let now = self.now();
        let expiry = self.expiry(now, ttl).map_err(OpError::Input)?;
        for attempt in 0..2 {
            let moved = self
                .rename
                .bind(vec![
                    Bind::Text(to),
                    Bind::Bytes(value),
                    self.time(expiry),
                    Bind::Text(from),
                    self.time(now),
                ])
                .execute(conn);
            match moved {
                Ok(1) => return Ok(RenameOutcome::Moved),
                Ok(_) => return Ok(RenameOutcome::SourceGone),
                Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _))
                    if attempt == 0 =>
                {
                    let freed = self
                        .delete_if_expired
                        .bind(vec![Bind::Text(to), self.time(now)])
                        .execute(conn)?;
                    if freed == 0 {
                        return Ok(RenameOutcome::TargetExists);
                    }
                }
                Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
                    return Ok(RenameOutcome::TargetExists);
                }
                Err(e) => return Err(e.into()),
            }
        }
        Ok(RenameOutcome::TargetExists)
    }

    /// Fails when the table or one of its columns is missing.
    pub(crate) fn probe<C>(&self, conn: &mut C) -> QueryResult<()>
    where
        C: SqlConnection,
    {
        self.probe.bind(Vec::new()).execute(conn).map(|_| ())
    }

    /// Runs [`probe_sequence`](Self::probe_sequence), if there is one.
    pub(crate) fn probe_sequence<C>(&self, conn: &mut C) -> QueryResult<()>
    where
        C: SqlConnection,
    {
        match &self.probe_sequence {
            Some(probe) => probe.bind(Vec::new()).execute(conn).map(|_| ()),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_per_dialect() {
        let table = SqlTable::new("sessions")
            .unwrap()
            .with_sequence("sid_seq")
            .unwrap();
        let pg = Statements::new(Dialect::Postgres, &table);
        assert_eq!(
            pg.load_refresh.sql(),
            "UPDATE \"sessions\" SET expiry = ? WHERE session_id = ? AND expiry > ? RETURNING data"
        );
        assert_eq!(
            pg.create.sql(),
            "INSERT INTO \"sessions\" (id, session_id, data, expiry) VALUES (nextval('\"sid_seq\"'), ?, ?, ?) \
             ON CONFLICT (session_id) DO UPDATE SET data = excluded.data, expiry = excluded.expiry \
             WHERE \"sessions\".expiry IS NULL OR \"sessions\".expiry <= ?"
        );
        let sqlite = Statements::new(Dialect::Sqlite, &table);
        assert!(
            sqlite.create.sql().starts_with(
                "INSERT INTO \"sessions\" (session_id, data, expiry) VALUES (?, ?, ?)"
            )
        );
        let my = Statements::new(
            Dialect::MySql,
            &SqlTable::default().with_schema("app").unwrap(),
        );
        assert_eq!(
            my.load_refresh.sql(),
            "UPDATE `app`.`sessions` SET expiry = ? WHERE session_id = ? AND expiry > ?"
        );
        assert_eq!(
            my.create.sql(),
            "INSERT INTO `app`.`sessions` (session_id, data, expiry) VALUES (?, ?, ?)"
        );
    }

    #[test]
    fn times_have_the_column_precision() {
        let t = time::macros::datetime!(2024-01-02 03:04:05.123_456_789);
        let pg = Statements::new(Dialect::Postgres, &SqlTable::default());
        let my = Statements::new(Dialect::MySql, &SqlTable::default());
        assert_eq!(
            pg.expiry(t, Duration::from_secs(10)).unwrap(),
            time::macros::datetime!(2024-01-02 03:04:15.123_456)
        );
        assert_eq!(
            my.expiry(t, Duration::from_secs(10)).unwrap(),
            time::macros::datetime!(2024-01-02 03:04:15)
        );
        assert!(pg.expiry(t, Duration::from_secs(u64::MAX)).is_err());
        assert_eq!(
            format_sqlite_time(time::macros::datetime!(2024-01-02 03:04:05)),
            "2024-01-02 03:04:05.000000"
        );
        assert_eq!(
            format_sqlite_time(time::macros::datetime!(2024-01-02 03:04:05.5)),
            "2024-01-02 03:04:05.500000"
        );
    }
}
