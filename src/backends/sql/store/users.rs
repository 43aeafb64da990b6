//! The per-user index on SQL (`SESSION_USER_KEY`): a table of its own beside the session
//! table, `<table>_users` in the same schema, one row per indexed session. The session
//! table stays Flask-Session's, so a Flask-Session app writing it keeps working (it never
//! reads the index table).
//!
//! | column        | PostgreSQL / MySQL, MariaDB / SQLite            | holds                              |
//! |---------------|--------------------------------------------------|------------------------------------|
//! | `user_index`  | `VARCHAR(255)`                                  | the user's index name (a digest of the user id, never the id) |
//! | `handle`      | `VARCHAR(64)`                                   | the opaque handle listings show    |
//! | `session_id`  | `VARCHAR(255)`                                  | the session's `session_id` (never shown) |
//! | `created_us`  | `BIGINT`                                        | login time, Unix microseconds      |
//! | `last_seen`   | `BIGINT`                                        | last seen, Unix seconds            |
//! | `client_addr` | `VARCHAR(256)`, nullable                        | `SESSION_TRACK_CLIENT` address     |
//! | `user_agent`  | `VARCHAR(256)`, nullable                        | `SESSION_TRACK_CLIENT` user agent  |
//! | `expiry`      | `TIMESTAMP WITHOUT TIME ZONE` / `DATETIME`      | when the row stops counting        |
//!
//! The primary key is `(user_index, handle)`, so a listing is one range read of the
//! key, and every write is one statement: an upsert (`ON CONFLICT` / `ON DUPLICATE KEY`),
//! a `DELETE ... IN`, and liveness one `SELECT ... IN` on the session table.

use std::time::Duration;

use diesel::{QueryableByName, RunQueryDsl};

use std::sync::Arc;

use super::pool::PoolKind;
use super::{Dialect, run_blocking};
use crate::error::StoreError;
use super::naming::SqlTable;
use super::ops::{OpError, OpResult, SqlConnection, Statements};
use super::query::{Bind, Template};
use super::sweep::SWEEP_BATCH;
use crate::users::IndexEntry;

/// The most values bound in one `IN` list (SQLite's old limit is 999 parameters).
const IN_CHUNK: usize = 500;

/// The DDL of the index table for `table`: `IF NOT EXISTS` (`keep`) or plain `CREATE`
/// (a Diesel migration that owns what it creates). The table's schema must exist (the
/// session table's DDL creates it).
pub(crate) fn users_ddl(dialect: Dialect, table: &SqlTable, keep: bool) -> Vec<String> {
    let users = table.users();
    let u = users.qualified(dialect);
    let index = users.expiry_index().quoted(dialect);
    let if_not_exists = if keep { "IF NOT EXISTS " } else { "" };
    let (int, time) = match dialect {
        Dialect::Postgres => ("BIGINT", "TIMESTAMP WITHOUT TIME ZONE"),
        Dialect::MySql | Dialect::Sqlite => ("BIGINT", "DATETIME"),
    };
    let columns = format!(
        "    user_index VARCHAR(255) NOT NULL,\n    handle VARCHAR(64) NOT NULL,\n    \
         session_id VARCHAR(255) NOT NULL,\n    created_us {int} NOT NULL,\n    \
         last_seen {int} NOT NULL,\n    client_addr VARCHAR(256),\n    \
         user_agent VARCHAR(256),\n    expiry {time} NOT NULL,\n    \
         PRIMARY KEY (user_index, handle)"
    );
    match dialect {
        Dialect::Postgres => vec![
            format!("CREATE TABLE {if_not_exists}{u} (\n{columns}\n)"),
            format!("CREATE INDEX {if_not_exists}{index} ON {u} (expiry)"),
        ],
        Dialect::MySql => vec![format!(
            "CREATE TABLE {if_not_exists}{u} (\n{columns},\n    INDEX {index} (expiry)\n) \
             DEFAULT CHARSET = utf8mb4"
        )],
        Dialect::Sqlite => {
            let index = match users.schema() {
                Some(schema) => format!("{}.{index}", schema.quoted(dialect)),
                None => index,
            };
            vec![
                format!("CREATE TABLE {if_not_exists}{u} (\n{columns}\n)"),
                format!(
                    "CREATE INDEX {if_not_exists}{index} ON {} (expiry)",
                    users.table().quoted(dialect)
                ),
            ]
        }
    }
}

/// The statements on the index table, built once per store.
#[derive(Debug, Clone)]
pub(crate) struct UserStatements {
    /// The quoted index table.
    users: String,
    /// The quoted session table.
    sessions: String,
    /// Upsert replacing every column of an existing row.
    put_replace: Template,
    /// Upsert keeping an existing row's creation and client, raising its `last_seen`.
    put_touch: Template,
    list: Template,
    purge_expired: Template,
    /// One batch of the sweep of expired rows (every user).
    sweep_batch: Template,
    probe: Template,
}

/// One row of the index table.
#[derive(Debug, QueryableByName)]
pub(crate) struct EntryRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    handle: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    session_id: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    created_us: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    last_seen: i64,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    client_addr: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    user_agent: Option<String>,
}

/// One live `session_id`.
#[derive(Debug, QueryableByName)]
pub(crate) struct KeyRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    session_id: String,
}

const COLUMNS: &str =
    "user_index, handle, session_id, created_us, last_seen, client_addr, user_agent, expiry";

impl UserStatements {
    pub(crate) fn new(dialect: Dialect, table: &SqlTable) -> Self {
        let u = table.users().qualified(dialect);
        let insert = format!("INSERT INTO {u} ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
        let (replace, touch) = match dialect {
            Dialect::MySql => (
                format!(
                    "{insert} ON DUPLICATE KEY UPDATE session_id = VALUES(session_id), \
                     created_us = VALUES(created_us), last_seen = VALUES(last_seen), \
                     client_addr = VALUES(client_addr), user_agent = VALUES(user_agent), \
                     expiry = VALUES(expiry)"
                ),
                format!(
                    "{insert} ON DUPLICATE KEY UPDATE \
                     last_seen = GREATEST(last_seen, VALUES(last_seen)), expiry = VALUES(expiry)"
                ),
            ),
            Dialect::Postgres | Dialect::Sqlite => {
                let greatest = if dialect == Dialect::Postgres {
                    "GREATEST"
                } else {
                    "MAX"
                };
                (
                    format!(
                        "{insert} ON CONFLICT (user_index, handle) DO UPDATE SET \
                         session_id = excluded.session_id, created_us = excluded.created_us, \
                         last_seen = excluded.last_seen, client_addr = excluded.client_addr, \
                         user_agent = excluded.user_agent, expiry = excluded.expiry"
                    ),
                    format!(
                        "{insert} ON CONFLICT (user_index, handle) DO UPDATE SET \
                         last_seen = {greatest}({u}.last_seen, excluded.last_seen), \
                         expiry = excluded.expiry"
                    ),
                )
            }
        };
        UserStatements {
            sessions: table.qualified(dialect),
            put_replace: Template::new(replace),
            put_touch: Template::new(touch),
            list: Template::new(format!(
                "SELECT handle, session_id, created_us, last_seen, client_addr, user_agent \
                 FROM {u} WHERE user_index = ? AND expiry > ? ORDER BY created_us"
            )),
            purge_expired: Template::new(format!(
                "DELETE FROM {u} WHERE user_index = ? AND expiry <= ?"
            )),
            probe: Template::new(format!("SELECT {COLUMNS} FROM {u} WHERE 1 = 0")),
            sweep_batch: Template::new(match dialect {
                Dialect::MySql => {
                    format!("DELETE FROM {u} WHERE expiry <= ? LIMIT {SWEEP_BATCH}")
                }
                Dialect::Postgres => format!(
                    "DELETE FROM {u} WHERE ctid IN (SELECT ctid FROM {u} WHERE expiry <= ? LIMIT {SWEEP_BATCH})"
                ),
                Dialect::Sqlite => format!(
                    "DELETE FROM {u} WHERE rowid IN (SELECT rowid FROM {u} WHERE expiry <= ? LIMIT {SWEEP_BATCH})"
                ),
            }),
            users: u,
        }
    }

    /// Fails unless the index table and its columns exist.
    pub(crate) fn probe<C: SqlConnection>(&self, conn: &mut C) -> diesel::QueryResult<()> {
        self.probe.bind(Vec::new()).execute(conn).map(drop)
    }

    /// Part of the session sweep, under its lock: deletes the expired index rows in
    /// batches, when the index table exists (a store without `SESSION_USER_KEY` may have
    /// none). Failures are logged, never the sweep's: the session rows went already.
    pub(crate) fn sweep<C: SqlConnection>(&self, s: &Statements, conn: &mut C) {
        if self.probe(conn).is_err() {
            return;
        }
        let mut deleted = 0u64;
        loop {
            match self.sweep_batch.bind(vec![s.time(s.now())]).execute(conn) {
                Ok(rows) => {
                    deleted += rows as u64;
                    if (rows as u64) < SWEEP_BATCH {
                        break;
                    }
                }
                Err(error) => {
                    tracing::warn!(%error, table = %self.users, "sweeping the per-user index failed");
                    break;
                }
            }
        }
        tracing::debug!(deleted, table = %self.users, "expired per-user index rows deleted");
    }

    pub(crate) fn put<C: SqlConnection>(
        &self,
        s: &Statements,
        conn: &mut C,
        index: &str,
        entry: &IndexEntry,
        replace: bool,
        ttl: Duration,
    ) -> OpResult<()> {
        let expiry = s.expiry(s.now(), ttl).map_err(OpError::Input)?;
        let template = if replace {
            &self.put_replace
        } else {
            &self.put_touch
        };
        let int = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        template
            .bind(vec![
                Bind::Text(index),
                Bind::Text(&entry.handle),
                Bind::Text(&entry.key),
                Bind::BigInt(int(entry.created_us)),
                Bind::BigInt(int(entry.last_seen)),
                Bind::OptText(entry.addr.as_deref()),
                Bind::OptText(entry.user_agent.as_deref()),
                s.time(expiry),
            ])
            .execute(conn)?;
        Ok(())
    }

    pub(crate) fn remove<C: SqlConnection>(
        &self,
        conn: &mut C,
        index: &str,
        handles: &[String],
    ) -> OpResult<()> {
        for chunk in handles.chunks(IN_CHUNK) {
            let template = Template::once(format!(
                "DELETE FROM {} WHERE user_index = ? AND handle IN ({})",
                self.users,
                placeholders(chunk.len())
            ));
            let mut binds = vec![Bind::Text(index)];
            binds.extend(chunk.iter().map(|h| Bind::Text(h)));
            template.bind(binds).execute(conn)?;
        }
        Ok(())
    }

    /// The live entries of `index`; its expired rows are deleted first.
    pub(crate) fn list<C>(
        &self,
        s: &Statements,
        conn: &mut C,
        index: &str,
    ) -> OpResult<Vec<IndexEntry>>
    where
        C: SqlConnection,
        EntryRow: QueryableByName<C::Backend>,
    {
        let now = s.now();
        self.purge_expired
            .bind(vec![Bind::Text(index), s.time(now)])
            .execute(conn)?;
        let rows: Vec<EntryRow> = self
            .list
            .bind(vec![Bind::Text(index), s.time(now)])
            .load(conn)?;
        let uint = |n: i64| u64::try_from(n).unwrap_or(0);
        Ok(rows
            .into_iter()
            .map(|row| {
                let mut entry = IndexEntry::new(&row.session_id, uint(row.created_us), None);
                entry.handle = row.handle;
                entry.last_seen = uint(row.last_seen);
                entry.addr = row.client_addr;
                entry.user_agent = row.user_agent;
                entry
            })
            .collect())
    }

    /// For each key, whether the session table has a live row for it.
    pub(crate) fn live<C>(&self, s: &Statements, conn: &mut C, keys: &[String]) -> OpResult<Vec<bool>>
    where
        C: SqlConnection,
        KeyRow: QueryableByName<C::Backend>,
    {
        let now = s.now();
        let mut live = std::collections::HashSet::new();
        for chunk in keys.chunks(IN_CHUNK) {
            let template = Template::once(format!(
                "SELECT session_id FROM {} WHERE session_id IN ({}) AND expiry > ?",
                self.sessions,
                placeholders(chunk.len())
            ));
            let mut binds: Vec<Bind<'_>> = chunk.iter().map(|k| Bind::Text(k)).collect();
            binds.push(s.time(now));
            let rows: Vec<KeyRow> = template.bind(binds).load(conn)?;
            live.extend(rows.into_iter().map(|r| r.session_id));
        }
        Ok(keys.iter().map(|k| live.contains(k)).collect())
    }
}

/// `?, ?, ?` for `n` values.
fn placeholders(n: usize) -> String {
    vec!["?"; n].join(", ")
}

impl super::SqlStore {
    /// With `SESSION_USER_KEY`: the index table must exist now, not at the first login.
    pub(crate) async fn check_users_table(&self) -> Result<(), crate::error::ConfigError> {
        let probe = with_conn!(self, |s, c| Ok(s.users.probe(c)));
        let dialect = self.dialect();
        let error = |source: crate::error::BoxError| crate::error::ConfigError::Backend {
            backend: dialect.name(),
            message: format!(
                "SESSION_USER_KEY is set and the per-user index table {} is missing or \
                 incomplete; create it with `actix-flask-session migrate` run with the same \
                 SESSION_* configuration (`migrate --emit migrations` writes a Diesel \
                 migration for it), or call backends::sql::migrate::migrate_users",
                self.table.users().display_name()
            ),
            source: Some(source),
        };
        match probe {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(error(Box::new(e))),
            Err(e) => Err(error(Box::new(e))),
        }
    }

    pub(crate) async fn put_index_entry(
        &self,
        index: &str,
        entry: &IndexEntry,
        replace: bool,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        let (index, entry) = (index.to_owned(), entry.clone());
        with_conn!(self, |s, c| s.users.put(&s, c, &index, &entry, replace, ttl))
    }

    pub(crate) async fn remove_index_entries(
        &self,
        index: &str,
        handles: &[String],
    ) -> Result<(), StoreError> {
        if handles.is_empty() {
            return Ok(());
        }
        let (index, handles) = (index.to_owned(), handles.to_vec());
        with_conn!(self, |s, c| s.users.remove(c, &index, &handles))
    }

    pub(crate) async fn list_index(&self, index: &str) -> Result<Vec<IndexEntry>, StoreError> {
        let index = index.to_owned();
        with_conn!(self, |s, c| s.users.list(&s, c, &index))
    }

    pub(crate) async fn live(&self, keys: &[String]) -> Result<Vec<bool>, StoreError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let keys = keys.to_vec();
        with_conn!(self, |s, c| s.users.live(&s, c, &keys))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_table_sits_beside_the_session_table() {
        let table = SqlTable::new("s").unwrap().with_schema("app").unwrap();
        assert_eq!(
            users_ddl(Dialect::Postgres, &table, true),
            [
                "CREATE TABLE IF NOT EXISTS \"app\".\"s_users\" (\n    user_index VARCHAR(255) NOT NULL,\n    handle VARCHAR(64) NOT NULL,\n    session_id VARCHAR(255) NOT NULL,\n    created_us BIGINT NOT NULL,\n    last_seen BIGINT NOT NULL,\n    client_addr VARCHAR(256),\n    user_agent VARCHAR(256),\n    expiry TIMESTAMP WITHOUT TIME ZONE NOT NULL,\n    PRIMARY KEY (user_index, handle)\n)",
                "CREATE INDEX IF NOT EXISTS \"s_users_expiry_idx\" ON \"app\".\"s_users\" (expiry)",
            ]
        );
        let mysql = users_ddl(Dialect::MySql, &table, false);
        assert_eq!(mysql.len(), 1);
        assert!(mysql[0].starts_with("CREATE TABLE `app`.`s_users` ("), "{}", mysql[0]);
        assert!(mysql[0].ends_with("INDEX `s_users_expiry_idx` (expiry)\n) DEFAULT CHARSET = utf8mb4"));
        assert_eq!(
            users_ddl(Dialect::Sqlite, &table, true)[1],
            "CREATE INDEX IF NOT EXISTS \"app\".\"s_users_expiry_idx\" ON \"s_users\" (expiry)"
        );
        // A 63-character table name: the index table's name is cut to fit.
        let long = SqlTable::new(&"t".repeat(63)).unwrap().users();
        assert_eq!(long.table().as_str(), format!("{}_users", "t".repeat(57)));
    }

    #[test]
    fn upserts_keep_or_replace_per_dialect() {
        let table = SqlTable::default();
        let pg = UserStatements::new(Dialect::Postgres, &table);
        assert!(pg.put_touch.sql().ends_with(
            "DO UPDATE SET last_seen = GREATEST(\"sessions_users\".last_seen, excluded.last_seen), expiry = excluded.expiry"
        ));
        let sqlite = UserStatements::new(Dialect::Sqlite, &table);
        assert!(sqlite.put_touch.sql().contains("MAX(\"sessions_users\".last_seen"));
        let mysql = UserStatements::new(Dialect::MySql, &table);
        assert!(mysql.put_replace.sql().contains("ON DUPLICATE KEY UPDATE session_id = VALUES(session_id)"));
        assert_eq!(placeholders(3), "?, ?, ?");
    }
}
