mod cas;
pub mod migrate;
mod naming;
mod ops;
mod pool;
mod query;
mod sweep;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use figment::Figment;

use crate::config::{
    SessionConfig, extract_key, extract_pool_size_key, extract_string_key, extract_timeout_key,
};
use crate::error::{ConfigError, StoreError};
use crate::store::{RenameOutcome, SessionStore, SwapOutcome, Versioned};

pub use naming::{Identifier, SqlTable};
use ops::Statements;
use pool::{PoolKind, RunError};
pub use pool::{PoolOptions, SqlPool};

/// The database behind a [`SqlPool`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dialect {
    /// PostgreSQL (feature `postgres`).
    Postgres,
    /// MySQL or MariaDB (feature `mysql`).
    MySql,
    /// SQLite (feature `sqlite`).
    Sqlite,
}

impl Dialect {
    /// `"postgres"`, `"mysql"` or `"sqlite"`: the store's name in logs and errors.
    pub fn name(self) -> &'static str {
        match self {
            Dialect::Postgres => "postgres",
            Dialect::MySql => "mysql",
            Dialect::Sqlite => "sqlite",
        }
    }

    /// The cargo feature that enables this database: `"postgres"`, `"mysql"` or `"sqlite"`.
    pub fn feature(self) -> &'static str {
        self.name()
    }

    /// The crate's own migration folder for the default table, relative to the crate
    /// root (embedded in [`migrate`]; an application emits its own with
    /// [`migrate::DieselMigration`]).
    pub fn migration_dir(self) -> &'static str {
        match self {
            Dialect::Postgres => "migrations/postgres",
            Dialect::MySql => "migrations/mysql",
            Dialect::Sqlite => "migrations/sqlite",
        }
    }
}

/// The size of Flask-Session's `session_id VARCHAR(255)` column.
const MAX_SESSION_ID_CHARS: usize = 255;

/// Runs `op` with the pool on tokio's blocking pool.
pub(crate) async fn run_blocking<T: Send + 'static>(
    pool: &SqlPool,
    op: impl FnOnce(&PoolKind) -> Result<T, RunError> + Send + 'static,
) -> Result<T, StoreError> {
    let backend = pool.dialect().name();
    let kind = pool.kind.clone();
    match tokio::task::spawn_blocking(move || op(&kind)).await {
        Ok(result) => result.map_err(|e| e.into_store_error(backend)),
        Err(join) => Err(StoreError::backend(backend, join)),
    }
}

/// Where the SQL store's settings come from: the `SESSION_SQLALCHEMY*` keys.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SqlSettings {
    /// The database URL (SQLAlchemy's form). Never printed: it may hold a password.
    pub url: String,
    /// The key the URL came from, for messages.
    pub url_key: &'static str,
    /// `SESSION_SQLALCHEMY_TABLE`, `_SCHEMA`, `_SEQUENCE`.
    pub table: SqlTable,
    /// `SESSION_SQLALCHEMY_POOL_SIZE`, `SESSION_SQLALCHEMY_POOL_TIMEOUT`.
    pub pool: PoolOptions,
}

impl std::fmt::Debug for SqlSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlSettings")
            .field("url", &"<redacted>")
            .field("url_key", &self.url_key)
            .field("table", &self.table)
            .field("pool", &self.pool)
            .finish()
    }
}

/// A `SQLALCHEMY_BINDS` entry: a URL, or Flask-SQLAlchemy's engine options with `url`.
#[derive(serde::Deserialize)]
#[serde(untagged)]
enum BindEntry {
    Url(String),
    Options { url: String },
}

impl SqlSettings {
    /// Reads the SQL keys. The URL is, in this order: `SESSION_SQLALCHEMY`;
    /// `SQLALCHEMY_BINDS[SESSION_SQLALCHEMY_BIND_KEY]` when a bind key is set (the entry
    /// is a URL or a table with `url`, as in Flask-SQLAlchemy); `SQLALCHEMY_DATABASE_URI`.
    ///
    /// ```
    /// use actix_flask_session::backends::sql::SqlSettings;
    /// use figment::{Figment, providers::{Format, Toml}};
    ///
    /// let figment = Figment::from(Toml::string(r#"
    ///     SQLALCHEMY_DATABASE_URI = "postgresql://app@db/main"
    ///     SQLALCHEMY_BINDS = { sessions = "postgresql://app@db/sessions" }
    ///     SESSION_SQLALCHEMY_BIND_KEY = "sessions"
    ///     SESSION_SQLALCHEMY_TABLE = "flask_sessions"
    /// "#));
    /// let settings = SqlSettings::from_figment(&figment)?;
    /// assert_eq!(settings.url, "postgresql://app@db/sessions");
    /// assert_eq!(settings.table.table().as_str(), "flask_sessions");
    /// assert_eq!(settings.pool.max_size, 10);
    /// # Ok::<(), actix_flask_session::ConfigError>(())
    /// ```
    pub fn from_figment(figment: &Figment) -> Result<Self, ConfigError> {
        let (url_key, url) = if let Some(url) = extract_string_key(figment, "SESSION_SQLALCHEMY")? {
            ("SESSION_SQLALCHEMY", url)
        } else if let Some(bind) = extract_string_key(figment, "SESSION_SQLALCHEMY_BIND_KEY")? {
            let binds = extract_key::<BTreeMap<String, BindEntry>>(figment, "SQLALCHEMY_BINDS")?
                .ok_or_else(|| ConfigError::Missing {
                    key: "SQLALCHEMY_BINDS",
                    hint: format!(
                        "SESSION_SQLALCHEMY_BIND_KEY = {bind:?} names an entry of SQLALCHEMY_BINDS"
                    ),
                })?;
            let entry = binds.get(&bind).ok_or_else(|| ConfigError::Invalid {
                key: "SESSION_SQLALCHEMY_BIND_KEY",
                value: format!("{bind:?}"),
                allowed: format!(
                    "one of the keys of SQLALCHEMY_BINDS: {}",
                    binds.keys().cloned().collect::<Vec<_>>().join(", ")
                ),
            })?;
            let url = match entry {
                BindEntry::Url(url) | BindEntry::Options { url } => url.clone(),
            };
            ("SQLALCHEMY_BINDS", url)
        } else if let Some(url) = extract_string_key(figment, "SQLALCHEMY_DATABASE_URI")? {
            ("SQLALCHEMY_DATABASE_URI", url)
        } else {
            return Err(ConfigError::Missing {
                key: "SESSION_SQLALCHEMY",
                hint: "set it (or SQLALCHEMY_DATABASE_URI) to the database URL, e.g. \
                       postgresql://user@host/db, mysql://user@host/db or sqlite:///sessions.db"
                    .to_owned(),
            });
        };
        let dialect = pool::parse_url(url_key, &url)?.dialect;
        let mut table = match extract_string_key(figment, "SESSION_SQLALCHEMY_TABLE")? {
            Some(name) => SqlTable::new(&name)?,
            None => SqlTable::default(),
        };
        if let Some(schema) = extract_string_key(figment, "SESSION_SQLALCHEMY_SCHEMA")? {
            table = table.with_schema(&schema)?;
        }
        if let Some(sequence) = extract_string_key(figment, "SESSION_SQLALCHEMY_SEQUENCE")? {
            table = table.with_sequence(&sequence)?;
        }
        let mut pool = PoolOptions::for_dialect(dialect);
        if let Some(size) = extract_pool_size_key(figment, "SESSION_SQLALCHEMY_POOL_SIZE")? {
            pool.max_size = u32::try_from(size).map_err(|_| ConfigError::Invalid {
                key: "SESSION_SQLALCHEMY_POOL_SIZE",
                value: size.to_string(),
                allowed: format!("expected at most {} connections", u32::MAX),
            })?;
        }
        if let Some(timeout) = extract_timeout_key(figment, "SESSION_SQLALCHEMY_POOL_TIMEOUT")? {
            pool.timeout = timeout;
        }
        Ok(SqlSettings {
            url,
            url_key,
            table,
            pool,
        })
    }

    /// The database the URL names, found without connecting.
    pub fn dialect(&self) -> Result<Dialect, ConfigError> {
        pool::parse_url(self.url_key, &self.url).map(|url| url.dialect)
    }

    /// Opens the pool these settings describe.
    pub async fn connect(&self) -> Result<SqlPool, ConfigError> {
        SqlPool::connect_for_key(self.url_key, &self.url, &self.pool).await
    }
}

/// Flask-Session's `SqlStore`: the [`SessionStore`] on a SQL table
/// (see the [module docs](super) for the setup and the exact SQL). Cheap to clone.
///
/// ```no_run
/// use actix_flask_session::backends::sql::{PoolOptions, SqlStore, SqlPool, SqlTable};
/// use actix_flask_session::{ServerSideSessionInterface, Session, SessionConfig};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let pool = SqlPool::connect("postgresql://app@127.0.0.1/app", &PoolOptions::default()).await?;
/// let store = SqlStore::new(pool, SqlTable::default()).await?;
/// let session = Session::new(ServerSideSessionInterface::new(store, SessionConfig::default())?);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct SqlStore {
    pool: SqlPool,
    table: SqlTable,
    statements: Arc<Statements>,
}

impl std::fmt::Debug for SqlStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlStore")
            .field("pool", &self.pool)
            .field("table", &self.table.display_name())
            .finish()
    }
}

impl SqlStore {
    /// The store on `table` through `pool` (a [`SqlPool`], or an application's Diesel
    /// r2d2 pool: Diesel's pool types are in this API only so that an application can hand
    /// over a pool it built itself, see [`SqlPool`]'s `From` impls). Checks that the table and its columns exist: if not, the error says how
    /// to create them.
    pub async fn new(pool: impl Into<SqlPool>, table: SqlTable) -> Result<Self, ConfigError> {
        let pool = pool.into();
        let dialect = pool.dialect();
        let statements = Arc::new(Statements::new(dialect, &table));
        tracing::debug!(
            load = statements.select.sql(),
            load_refresh = statements.load_refresh.sql(),
            create = statements.create.sql(),
            update = statements.update.sql(),
            "SQL session store statements"
        );
        let store = SqlStore {
            pool,
            table,
            statements,
        };
        store.check_table().await?;
        Ok(store)
    }

    /// Builds the store from the `SESSION_SQLALCHEMY*` keys ([`SqlSettings::from_figment`]);
    /// what [`Session::from_figment`](crate::Session::from_figment) calls for
    /// `SESSION_TYPE = "sqlalchemy"`.
    pub async fn from_figment(
        config: &SessionConfig,
        figment: &Figment,
    ) -> Result<Self, ConfigError> {
        let settings = SqlSettings::from_figment(figment)?;
        let pool = settings.connect().await?;
        let store = Self::new(pool, settings.table).await?;
        if config.user_key.is_some() {
            store.check_users_table().await?;
        }
        tracing::info!(
            dialect = store.dialect().name(),
            table = %store.table.display_name(),
            cleanup_every = ?config.cleanup_n_requests,
            "SQL session store ready"
        );
        Ok(store)
    }

    /// The pool.
    pub fn pool(&self) -> &SqlPool {
        &self.pool
    }

    /// The table.
    pub fn table(&self) -> &SqlTable {
        &self.table
    }

    /// The database.
    pub fn dialect(&self) -> Dialect {
        self.pool.dialect()
    }

    /// Creates the table if it is missing: [`migrate::migrate`] on this store's pool and table.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        migrate::migrate(&self.pool, &self.table).await
    }

    async fn check_table(&self) -> Result<(), ConfigError> {
        let statements = Arc::clone(&self.statements);
        let probe = run_blocking(&self.pool, move |pool| match pool {
            #[cfg(feature = "postgres")]
            PoolKind::Postgres(p) => p.run(|c| Ok(statements.probe(c))),
            #[cfg(feature = "mysql")]
            PoolKind::MySql(p) => p.run(|c| Ok(statements.probe(c))),
            #[cfg(feature = "sqlite")]
            PoolKind::Sqlite(p) => p.run(|c| Ok(statements.probe(c))),
        })
        .await;
        let dialect = self.dialect();
        let missing = |source: Option<crate::error::BoxError>| ConfigError::Backend {
            backend: dialect.name(),
            message: format!(
                "the session table {} (columns id, session_id, data, expiry) is missing or \
                 incomplete; create it with `actix-flask-session migrate` run with the same \
                 SESSION_* configuration (install the tool with `cargo install \
                 actix-flask-session --features cli,{}`, or with `--path` to the crate's \
                 source before it is published; `migrate --emit migrations` writes a \
                 Diesel migration instead), or call backends::sql::migrate::migrate",
                self.table.display_name(),
                dialect.feature()
            ),
            source,
        };
        match probe {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(missing(Some(Box::new(e)))),
            Err(e) => {
                return Err(ConfigError::Backend {
                    backend: dialect.name(),
                    message: "cannot reach the database".to_owned(),
                    source: Some(Box::new(e)),
                });
            }
        }
        self.check_sequence().await
    }
}

/// Runs `$body` with `$conn` bound to a connection of whichever database `$store` uses.
macro_rules! with_conn {
    ($store:expr, |$stmts:ident, $conn:ident| $body:expr) => {{
        let $stmts = Arc::clone(&$store.statements);
        run_blocking(&$store.pool, move |pool| match pool {
            #[cfg(feature = "postgres")]
            PoolKind::Postgres(p) => p.run(|$conn| $body),
            #[cfg(feature = "mysql")]
            PoolKind::MySql(p) => p.run(|$conn| $body),
            #[cfg(feature = "sqlite")]
            PoolKind::Sqlite(p) => p.run(|$conn| $body),
        })
        .await
    }};
}

mod users;

impl SqlStore {
    /// With `SESSION_SQLALCHEMY_SEQUENCE` on PostgreSQL: the sequence must exist now, not
    /// at the first new session (every create would fail).
    async fn check_sequence(&self) -> Result<(), ConfigError> {
        let Some(sequence) = self
            .table
            .sequence()
            .filter(|_| self.statements.probe_sequence.is_some())
        else {
            return Ok(());
        };
        let probe = with_conn!(self, |statements, c| Ok(statements.probe_sequence(c)));
        match probe {
            Ok(Ok(())) => Ok(()),
            Ok(Err(error)) => Err(ConfigError::Invalid {
                key: "SESSION_SQLALCHEMY_SEQUENCE",
                value: format!("{:?}", sequence.as_str()),
                allowed: format!(
                    "the name of an existing sequence on the search path that the app's user \
                     may use ({error}); create it (`CREATE SEQUENCE {}`), or remove the key to \
                     let the id column's own default number the rows",
                    sequence.quoted(Dialect::Postgres)
                ),
            }),
            Err(e) => Err(ConfigError::Backend {
                backend: self.dialect().name(),
                message: "cannot reach the database".to_owned(),
                source: Some(Box::new(e)),
            }),
        }
    }
}

#[async_trait]
impl SessionStore for SqlStore {
    async fn load(
        &self,
        key: &str,
        refresh: Option<Duration>,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let key = key.to_owned();
        with_conn!(self, |s, conn| s.load(conn, &key, refresh))
    }

    async fn create(&self, key: &str, value: &[u8], ttl: Duration) -> Result<bool, StoreError> {
        let (key, value) = (key.to_owned(), value.to_vec());
        with_conn!(self, |s, conn| s.create(conn, &key, &value, ttl))
    }

    async fn update(&self, key: &str, value: &[u8], ttl: Duration) -> Result<bool, StoreError> {
        let (key, value) = (key.to_owned(), value.to_vec());
        with_conn!(self, |s, conn| s.update(conn, &key, &value, ttl))
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        let key = key.to_owned();
        with_conn!(self, |s, conn| s.delete(conn, &key))
    }

    async fn rename(
        &self,
        from: &str,
        to: &str,
        value: &[u8],
        ttl: Duration,
    ) -> Result<RenameOutcome, StoreError> {
        let (from, to, value) = (from.to_owned(), to.to_owned(), value.to_vec());
        with_conn!(self, |s, conn| s.rename(conn, &from, &to, &value, ttl))
    }

    /// One sweep at a time across every instance on the table, in batches of 1000 rows
    /// (see [Cleanup](super#cleanup)); `0` when another instance is sweeping.
    async fn delete_expired(&self) -> Result<u64, StoreError> {
        let sweep = Arc::new(sweep::Sweep::new(self.statements.dialect, &self.table));
        let outcome = with_conn!(self, |s, conn| sweep.run(&s, conn))?;
        match outcome {
            Some(count) => {
                tracing::debug!(count, table = %self.table.display_name(), "expired sessions deleted");
                Ok(count)
            }
            None => {
                tracing::debug!(table = %self.table.display_name(), "another instance is sweeping: sweep skipped");
                Ok(0)
            }
        }
    }

    fn has_native_ttl(&self) -> bool {
        false
    }

    /// `UPDATE ... WHERE session_id = ? AND expiry > ? AND data = ?`, then, only when it
    /// matched nothing, the `SELECT` of the current row.
    async fn compare_and_swap(
        &self,
        key: &str,
        expected: &Versioned,
        value: &[u8],
        ttl: Duration,
    ) -> Result<SwapOutcome, StoreError> {
        let (key, expected, value) = (key.to_owned(), expected.bytes().to_vec(), value.to_vec());
        with_conn!(self, |s, conn| s.compare_and_swap(conn, &key, &expected, &value, ttl))
    }

    fn supports_compare_and_swap(&self) -> bool {
        true
    }

    /// Flask-Session's `session_id` column is `VARCHAR(255)`: longer keys would fail
    /// (PostgreSQL, strict MySQL) or be cut short (non-strict MySQL).
    fn check_key_shape(&self, sample: &str) -> Result<(), String> {
        let chars = sample.chars().count();
        if chars > MAX_SESSION_ID_CHARS {
            return Err(format!(
                "keys are {chars} characters long; the session_id column is \
                 VARCHAR({MAX_SESSION_ID_CHARS})"
            ));
        }
        Ok(())
    }

    fn name(&self) -> &'static str {
        self.dialect().name()
    }

    fn supports_user_index(&self) -> bool {
        true
    }

    async fn index_put(
        &self,
        index: &str,
        entry: &crate::IndexEntry,
        replace: bool,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        self.put_index_entry(index, entry, replace, ttl).await
    }

    async fn index_remove(
        &self,
        index: &str,
        handles: &[String],
        _ttl: Duration,
    ) -> Result<(), StoreError> {
        self.remove_index_entries(index, handles).await
    }

    async fn index_list(&self, index: &str) -> Result<Vec<crate::IndexEntry>, StoreError> {
        self.list_index(index).await
    }

    async fn live_keys(&self, keys: &[String]) -> Result<Vec<bool>, StoreError> {
        self.live(keys).await
    }
}
