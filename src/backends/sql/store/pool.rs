//! Connection pools: r2d2 over Diesel, with dead connections detected and dropped.
//!
//! Diesel's r2d2 manager only notices a dead connection when r2d2 tests it on checkout
//! (one `SELECT 1` round trip per checkout). Pools made by [`SqlPool::connect`] skip
//! that test and instead check a connection only after a statement failed: if it no
//! longer answers a ping it is marked broken (r2d2 then drops it) and the operation is
//! retried on another connection, so the store recovers by itself after an outage without
//! paying a ping on every request.
//!
//! # Clean shutdown
//!
//! r2d2 opens connections on background threads of its own, which nobody joins. A
//! process that ends while one of them is inside libpq's connect (a TLS handshake, a
//! GSSAPI credential lookup) used to crash: at exit, OpenSSL's `atexit` cleanup and the
//! Kerberos library's finalizer tear down state that thread is using (seen as `SIGSEGV`
//! and as a `k5_mutex_lock` assertion). So, for pools made by [`SqlPool::connect`]:
//!
//! - OpenSSL is initialised by this crate before libpq first uses it, without its
//!   exit-time cleanup (`openssl_sys::init`, i.e. `OPENSSL_INIT_NO_ATEXIT`): a plain exit
//!   (`std::process::exit`, or returning from `main`) with TLS connections open or being
//!   made no longer tears OpenSSL down under them;
//! - when the last handle of the pool is dropped (an actix app's graceful shutdown drops
//!   the app, hence the store, before `main` returns), no new connection is started and
//!   the drop waits for those being made (at most the pool timeout), so no libpq connect
//!   is running when the process exits.
//!
//! - a PostgreSQL URL that does not choose a `gssencmode` (and no `PGGSSENCMODE` in the
//!   environment) gets `gssencmode=disable`: libpq's default, `prefer`, enters the
//!   Kerberos library on every connect to look for credentials, and a plain exit while a
//!   pool thread is in there meets that library's finalizer (a `k5_mutex_lock`
//!   assertion, seen about once in 50 plain exits under load). Deployments that do use
//!   GSSAPI encryption say so in the URL (`gssencmode=prefer` or `require`), and then that
//!   case remains theirs: end the process through a graceful shutdown.
//!
//! A pool built by the application and passed in with `From` gets none of this;
//! initialise OpenSSL the same way (`openssl_sys::init()`) before its first connection.

use std::fmt;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

use diesel::r2d2::{
    ConnectionManager, CustomizeConnection, ManageConnection, Pool, R2D2Connection,
};
use diesel::result::Error as DieselError;

use super::Dialect;
use super::ops::{OpError, OpResult};
use crate::config::redact_url;
use crate::error::{ConfigError, StoreError};

/// Pool settings for [`SqlPool::connect`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PoolOptions {
    /// Most connections open at once (`SESSION_SQLALCHEMY_POOL_SIZE`, default 10, and 1
    /// for SQLite: see [`PoolOptions::for_dialect`]).
    pub max_size: u32,
    /// How long a request waits for a connection before the store reports itself
    /// unavailable (`SESSION_SQLALCHEMY_POOL_TIMEOUT`, default 5 s).
    pub timeout: Duration,
}

impl Default for PoolOptions {
    /// 10 connections, 5 s timeout (the server databases' defaults).
    fn default() -> Self {
        PoolOptions {
            max_size: 10,
            timeout: Duration::from_secs(5),
        }
    }
}

impl PoolOptions {
    /// The defaults for `dialect`: as [`PoolOptions::default`], except one connection
    /// for SQLite, which takes one writer at a time (with refresh on, every load writes):
    /// more connections only make writers wait in SQLite's busy handler, where under load
    /// they time out (`database is locked`, a `503`) instead of queueing for the pool.
    ///
    /// ```
    /// use actix_flask_session::backends::sql::{Dialect, PoolOptions};
    ///
    /// assert_eq!(PoolOptions::for_dialect(Dialect::Sqlite).max_size, 1);
    /// assert_eq!(PoolOptions::for_dialect(Dialect::Postgres).max_size, 10);
    /// ```
    pub fn for_dialect(dialect: Dialect) -> Self {
        match dialect {
            Dialect::Sqlite => PoolOptions {
                max_size: 1,
                ..PoolOptions::default()
            },
            _ => PoolOptions::default(),
        }
    }
}

/// A pooled connection that remembers whether it was found dead.
pub(crate) struct Tracked<C> {
    conn: C,
    broken: bool,
}

/// Diesel's [`ConnectionManager`] plus the "found dead" mark, and the gate that stops
/// connecting when the pool is dropped.
pub(crate) struct TrackingManager<C: R2D2Connection + 'static> {
    inner: ConnectionManager<C>,
    gate: Arc<ConnectGate>,
}

/// Counts the connections being made on r2d2's threads; closed when the pool's last
/// handle is dropped (see [Clean shutdown](self#clean-shutdown)).
#[derive(Debug, Default)]
pub(crate) struct ConnectGate {
    /// `(closed, connects in progress)`.
    state: Mutex<(bool, usize)>,
    idle: Condvar,
}

impl ConnectGate {
    /// Registers a connect, unless the gate is closed.
    fn enter(self: &Arc<Self>) -> Option<ConnectPass> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if state.0 {
            return None;
        }
        state.1 += 1;
        Some(ConnectPass(Arc::clone(self)))
    }

    /// Closes the gate and waits, at most `limit`, for the connects in progress.
    fn close_and_wait(&self, limit: Duration) {
        let deadline = Instant::now() + limit;
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.0 = true;
        while state.1 > 0 {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                tracing::warn!(
                    connecting = state.1,
                    "database pool dropped while connections were still being made"
                );
                return;
            }
            state = self
                .idle
                .wait_timeout(state, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }
}

/// One connect in progress; ends it when dropped.
struct ConnectPass(Arc<ConnectGate>);

impl Drop for ConnectPass {
    fn drop(&mut self) {
        let mut state = self.0.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.1 -= 1;
        if state.1 == 0 {
            self.0.idle.notify_all();
        }
    }
}

/// Closes a pool's [`ConnectGate`] when the last [`SqlPool`] handle goes.
pub(crate) struct GateCloser {
    gate: Arc<ConnectGate>,
    limit: Duration,
}

impl Drop for GateCloser {
    fn drop(&mut self) {
        self.gate.close_and_wait(self.limit);
    }
}

impl<C: R2D2Connection + Send + 'static> ManageConnection for TrackingManager<C> {
    type Connection = Tracked<C>;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<Tracked<C>, Self::Error> {
        let Some(_pass) = self.gate.enter() else {
            return Err(diesel::r2d2::Error::ConnectionError(
                diesel::ConnectionError::BadConnection(
                    "the session store's pool is shut down".to_owned(),
                ),
            ));
        };
        self.inner.connect().map(|conn| Tracked {
            conn,
            broken: false,
        })
    }

    fn is_valid(&self, conn: &mut Tracked<C>) -> Result<(), Self::Error> {
        self.inner.is_valid(&mut conn.conn)
    }

    fn has_broken(&self, conn: &mut Tracked<C>) -> bool {
        conn.broken || self.inner.has_broken(&mut conn.conn)
    }
}

/// SQLite: wait for locks instead of failing at once, and let readers run beside the
/// writer (WAL). Applied to every new connection.
#[cfg(feature = "sqlite")]
#[derive(Debug)]
struct SqliteTuning;

#[cfg(feature = "sqlite")]
impl CustomizeConnection<Tracked<diesel::SqliteConnection>, diesel::r2d2::Error> for SqliteTuning {
    fn on_acquire(
        &self,
        conn: &mut Tracked<diesel::SqliteConnection>,
    ) -> Result<(), diesel::r2d2::Error> {
        use diesel::connection::SimpleConnection;
        conn.conn
            .batch_execute("PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL;")
            .map_err(diesel::r2d2::Error::QueryError)
    }
}

/// One pool for one connection type: ours (tracked) or one the application built.
pub(crate) enum ConnPool<C: R2D2Connection + 'static> {
    Tracked(Pool<TrackingManager<C>>),
    Diesel(Pool<ConnectionManager<C>>),
}

impl<C: R2D2Connection + 'static> Clone for ConnPool<C> {
    fn clone(&self) -> Self {
        match self {
            ConnPool::Tracked(p) => ConnPool::Tracked(p.clone()),
            ConnPool::Diesel(p) => ConnPool::Diesel(p.clone()),
        }
    }
}

/// Why a pooled operation failed.
#[derive(Debug)]
pub(crate) enum RunError {
    /// No connection could be had (the database is down or the pool exhausted).
    Pool(diesel::r2d2::PoolError),
    /// The connection died under the statement.
    Lost(DieselError),
    /// The database answered with an error.
    Db(DieselError),
    /// The input cannot be stored.
    Input(String),
    /// The row is not a session.
    BadData(String),
}

impl RunError {
    pub(crate) fn into_store_error(self, backend: &'static str) -> StoreError {
        match self {
            RunError::Pool(e) => StoreError::unavailable(backend, e),
            RunError::Lost(e) => StoreError::unavailable(backend, e),
            RunError::Db(e) => StoreError::backend(backend, e),
            RunError::Input(message) => StoreError::InvalidInput { backend, message },
            RunError::BadData(message) => StoreError::BadData { backend, message },
        }
    }
}

impl<C: R2D2Connection + Send + 'static> ConnPool<C> {
    /// Runs `op` on a pooled connection (blocking). A failed statement on a connection
    /// that no longer answers a ping is retried on another connection, at most once per
    /// connection the pool can hold.
    pub(crate) fn run<T>(&self, mut op: impl FnMut(&mut C) -> OpResult<T>) -> Result<T, RunError> {
        match self {
            ConnPool::Tracked(pool) => {
                let attempts = pool.max_size() + 1;
                let mut attempt = 0;
                loop {
                    attempt += 1;
                    let mut conn = pool.get().map_err(RunError::Pool)?;
                    match op(&mut conn.conn) {
                        Ok(value) => return Ok(value),
                        Err(OpError::Input(message)) => return Err(RunError::Input(message)),
                        Err(OpError::BadData(message)) => return Err(RunError::BadData(message)),
                        Err(OpError::Db(error)) => {
                            if conn.conn.ping().is_ok() {
                                return Err(RunError::Db(error));
                            }
                            conn.broken = true;
                            tracing::warn!(%error, attempt, "database connection lost; dropped from the pool");
                            if attempt >= attempts {
                                return Err(RunError::Lost(error));
                            }
                        }
                    }
                }
            }
            ConnPool::Diesel(pool) => {
                let mut conn = pool.get().map_err(RunError::Pool)?;
                match op(&mut conn) {
                    Ok(value) => Ok(value),
                    Err(OpError::Input(message)) => Err(RunError::Input(message)),
                    Err(OpError::BadData(message)) => Err(RunError::BadData(message)),
                    Err(OpError::Db(error)) if conn.ping().is_ok() => Err(RunError::Db(error)),
                    Err(OpError::Db(error)) => Err(RunError::Lost(error)),
                }
            }
        }
    }

    fn state(&self) -> diesel::r2d2::State {
        match self {
            ConnPool::Tracked(p) => p.state(),
            ConnPool::Diesel(p) => p.state(),
        }
    }

    fn build(
        url: &str,
        options: &PoolOptions,
        customize: Option<Box<dyn CustomizeConnection<Tracked<C>, diesel::r2d2::Error>>>,
        gate: &Arc<ConnectGate>,
    ) -> Result<Self, diesel::r2d2::PoolError> {
        let mut builder = Pool::builder()
            .max_size(options.max_size)
            .min_idle(Some(1))
            .connection_timeout(options.timeout)
            .test_on_check_out(false);
        if let Some(customize) = customize {
            builder = builder.connection_customizer(customize);
        }
        builder
            .build(TrackingManager {
                inner: ConnectionManager::new(url),
                gate: Arc::clone(gate),
            })
            .map(ConnPool::Tracked)
    }
}

/// A pool of database connections for the session store: PostgreSQL, MySQL/MariaDB or
/// SQLite, whichever features are enabled. Cheap to clone.
///
/// Made from a URL with [`connect`](Self::connect), or from an application's own Diesel
/// r2d2 pool with `From` (e.g. `SqlPool::from(pool)` for a
/// `Pool<ConnectionManager<PgConnection>>`). An application pool should keep r2d2's
/// default `test_on_check_out(true)`: that is how it drops connections that died in a
/// database restart (pools made by `connect` handle this themselves, see the module docs).
#[derive(Clone)]
pub struct SqlPool {
    pub(crate) kind: PoolKind,
    /// Pools made by [`connect`](Self::connect): stops their background connects when the
    /// last handle goes.
    _closer: Option<Arc<GateCloser>>,
}

#[derive(Clone)]
pub(crate) enum PoolKind {
    #[cfg(feature = "postgres")]
    Postgres(ConnPool<diesel::PgConnection>),
    #[cfg(feature = "mysql")]
    MySql(ConnPool<diesel::MysqlConnection>),
    #[cfg(feature = "sqlite")]
    Sqlite(ConnPool<diesel::SqliteConnection>),
}

impl fmt::Debug for SqlPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &self.kind {
            #[cfg(feature = "postgres")]
            PoolKind::Postgres(p) => p.state(),
            #[cfg(feature = "mysql")]
            PoolKind::MySql(p) => p.state(),
            #[cfg(feature = "sqlite")]
            PoolKind::Sqlite(p) => p.state(),
        };
        f.debug_struct("SqlPool")
            .field("dialect", &self.dialect())
            .field("connections", &state.connections)
            .field("idle_connections", &state.idle_connections)
            .finish()
    }
}

#[cfg(feature = "postgres")]
impl From<Pool<ConnectionManager<diesel::PgConnection>>> for SqlPool {
    fn from(pool: Pool<ConnectionManager<diesel::PgConnection>>) -> Self {
        SqlPool {
            kind: PoolKind::Postgres(ConnPool::Diesel(pool)),
            _closer: None,
        }
    }
}

#[cfg(feature = "mysql")]
impl From<Pool<ConnectionManager<diesel::MysqlConnection>>> for SqlPool {
    fn from(pool: Pool<ConnectionManager<diesel::MysqlConnection>>) -> Self {
        SqlPool {
            kind: PoolKind::MySql(ConnPool::Diesel(pool)),
            _closer: None,
        }
    }
}

#[cfg(feature = "sqlite")]
impl From<Pool<ConnectionManager<diesel::SqliteConnection>>> for SqlPool {
    fn from(pool: Pool<ConnectionManager<diesel::SqliteConnection>>) -> Self {
        SqlPool {
            kind: PoolKind::Sqlite(ConnPool::Diesel(pool)),
            _closer: None,
        }
    }
}

/// A database URL split into its dialect and the form the driver takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DriverUrl {
    pub(crate) dialect: Dialect,
    pub(crate) url: String,
}

/// Accepts SQLAlchemy's URL forms and turns them into what the Diesel drivers take:
/// `postgresql[+driver]://...` and `postgres://...`; `mysql[+driver]://...` and
/// `mariadb[+driver]://...`; `sqlite:///relative.db`, `sqlite:////absolute.db`,
/// `sqlite://` and `sqlite:///:memory:` (in memory).
///
/// SQLite also takes the Diesel CLI's forms, so one `DATABASE_URL` serves both: a plain
/// file path ending in `.db`, `.db3`, `.sqlite` or `.sqlite3` (`sessions.db`,
/// `/var/lib/app/sessions.db`), a SQLite `file:` URI, and `sqlite://relative.db`. (Only
/// `sqlite:///x.db` means two things: SQLAlchemy's relative `x.db` here, Diesel's `/x.db`.)
pub(crate) fn parse_url(key: &'static str, url: &str) -> Result<DriverUrl, ConfigError> {
    const ALLOWED: &str = "a database URL: postgresql://user@host/db, mysql://user@host/db, \
                           sqlite:///relative/path.db or sqlite:////absolute/path.db (or, as \
                           the Diesel CLI takes it, a path ending in .db, .db3, .sqlite or \
                           .sqlite3, or a file: URI)";
    let invalid = |value: String| ConfigError::Invalid {
        key,
        value,
        allowed: ALLOWED.to_owned(),
    };
    let Some((scheme, rest)) = url.split_once("://") else {
        // A colon before the first slash is a mistyped scheme (`sqlite:/x.db`), not a path.
        let schemeless = !url.split('/').next().unwrap_or(url).contains(':');
        let is_file = schemeless
            && [".db", ".db3", ".sqlite", ".sqlite3"]
                .iter()
                .any(|ext| url.ends_with(ext));
        if url.starts_with("file:") || is_file {
            return Ok(DriverUrl {
                dialect: Dialect::Sqlite,
                url: url.to_owned(),
            });
        }
        return Err(invalid("a value without a scheme (\"...://\")".to_owned()));
    };
    let base = scheme
        .split('+')
        .next()
        .unwrap_or(scheme)
        .to_ascii_lowercase();
    let (dialect, url) = match base.as_str() {
        "postgres" | "postgresql" => (Dialect::Postgres, format!("postgresql://{rest}")),
        "mysql" | "mariadb" => (Dialect::MySql, format!("mysql://{rest}")),
        "sqlite" => {
            let path = match rest {
                "" | "/:memory:" => ":memory:".to_owned(),
                _ => match rest.strip_prefix('/') {
                    Some(path) if !path.is_empty() => path.to_owned(),
                    Some(_) => return Err(invalid(redact_url(url))),
                    // Diesel's `sqlite://relative.db` (SQLAlchemy has no such form).
                    None => rest.to_owned(),
                },
            };
            (Dialect::Sqlite, path)
        }
        _ => return Err(invalid(redact_url(url))),
    };
    Ok(DriverUrl { dialect, url })
}

/// A PostgreSQL URL with `gssencmode=disable` added unless the URL or the environment
/// (`gss_chosen`: `PGGSSENCMODE` is set) already chooses a mode (see the module docs:
/// libpq's default enters the Kerberos library on every connect).
#[cfg(feature = "postgres")]
fn without_implicit_gssapi(url: &str, gss_chosen: bool) -> std::borrow::Cow<'_, str> {
    let query = url.split_once('?').map_or("", |(_, query)| query);
    let named = query
        .split('&')
        .any(|pair| pair.split('=').next() == Some("gssencmode"));
    if gss_chosen || named {
        return std::borrow::Cow::Borrowed(url);
    }
    let separator = if url.contains('?') { '&' } else { '?' };
    std::borrow::Cow::Owned(format!("{url}{separator}gssencmode=disable"))
}

impl SqlPool {
    /// Opens a pool for a SQLAlchemy-style database URL (see [`Dialect`] for the forms),
    /// and checks that a connection can be made. Runs on the blocking pool.
    ///
    /// `key` names the configuration key the URL came from, for error messages.
    pub async fn connect(url: &str, options: &PoolOptions) -> Result<SqlPool, ConfigError> {
        Self::connect_for_key("SESSION_SQLALCHEMY", url, options).await
    }

    pub(crate) async fn connect_for_key(
        key: &'static str,
        url: &str,
        options: &PoolOptions,
    ) -> Result<SqlPool, ConfigError> {
        let DriverUrl { dialect, url } = parse_url(key, url)?;
        let options = options.clone();
        let backend = dialect.name();
        let gate = Arc::new(ConnectGate::default());
        let closer = Arc::new(GateCloser {
            gate: Arc::clone(&gate),
            limit: options.timeout,
        });
        let build = move || -> Result<SqlPool, ConfigError> {
            let fail = |e: diesel::r2d2::PoolError| ConfigError::Backend {
                backend,
                message: format!("cannot connect to the database named by {key}"),
                source: Some(Box::new(e)),
            };
            let disabled = |feature: &'static str| ConfigError::FeatureDisabled {
                session_type: "sqlalchemy",
                feature,
            };
            let kind = match dialect {
                Dialect::Postgres => {
                    #[cfg(feature = "postgres")]
                    {
                        // Before libpq's first TLS connection: no OpenSSL cleanup at exit.
                        openssl_sys::init();
                        let gss_chosen = std::env::var_os("PGGSSENCMODE").is_some();
                        let url = without_implicit_gssapi(&url, gss_chosen);
                        PoolKind::Postgres(
                            ConnPool::build(&url, &options, None, &gate).map_err(fail)?,
                        )
                    }
                    #[cfg(not(feature = "postgres"))]
                    {
                        let _ = (&url, &options, fail);
                        return Err(disabled("postgres"));
                    }
                }
                Dialect::MySql => {
                    #[cfg(feature = "mysql")]
                    {
                        PoolKind::MySql(ConnPool::build(&url, &options, None, &gate).map_err(fail)?)
                    }
                    #[cfg(not(feature = "mysql"))]
                    {
                        let _ = (&url, &options, fail);
                        return Err(disabled("mysql"));
                    }
                }
                Dialect::Sqlite => {
                    #[cfg(feature = "sqlite")]
                    {
                        PoolKind::Sqlite(
                            ConnPool::build(&url, &options, Some(Box::new(SqliteTuning)), &gate)
                                .map_err(fail)?,
                        )
                    }
                    #[cfg(not(feature = "sqlite"))]
                    {
                        let _ = (&url, &options, fail);
                        return Err(disabled("sqlite"));
                    }
                }
            };
            let _ = (disabled, &gate);
            Ok(SqlPool {
                kind,
                _closer: Some(closer),
            })
        };
        tokio::task::spawn_blocking(build)
            .await
            .map_err(|e| ConfigError::Backend {
                backend,
                message: "the connection task failed".to_owned(),
                source: Some(Box::new(e)),
            })?
    }

    /// The database this pool talks to.
    pub fn dialect(&self) -> Dialect {
        match &self.kind {
            #[cfg(feature = "postgres")]
            PoolKind::Postgres(_) => Dialect::Postgres,
            #[cfg(feature = "mysql")]
            PoolKind::MySql(_) => Dialect::MySql,
            #[cfg(feature = "sqlite")]
            PoolKind::Sqlite(_) => Dialect::Sqlite,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(feature = "postgres")]
    #[test]
    fn gssapi_is_off_unless_the_url_or_the_environment_chooses_it() {
        let url = |u, env| without_implicit_gssapi(u, env).into_owned();
        assert_eq!(
            url("postgresql://h/db", false),
            "postgresql://h/db?gssencmode=disable"
        );
        assert_eq!(
            url("postgresql://h/db?sslmode=require", false),
            "postgresql://h/db?sslmode=require&gssencmode=disable"
        );
        for chosen in [
            "postgresql://h/db?gssencmode=prefer",
            "postgresql://h/db?sslmode=require&gssencmode=require",
        ] {
            assert_eq!(url(chosen, false), chosen);
        }
        // A parameter whose name only ends like it does not count.
        assert_eq!(
            url("postgresql://h/db?xgssencmode=prefer", false),
            "postgresql://h/db?xgssencmode=prefer&gssencmode=disable"
        );
        // PGGSSENCMODE in the environment is the operator's choice.
        assert_eq!(url("postgresql://h/db", true), "postgresql://h/db");
    }

    #[test]
    fn sqlalchemy_urls_are_accepted() {
        let url = |s| parse_url("SESSION_SQLALCHEMY", s).unwrap();
        assert_eq!(
            url("postgresql+psycopg2://root@127.0.0.1/db"),
            DriverUrl {
                dialect: Dialect::Postgres,
                url: "postgresql://root@127.0.0.1/db".into()
            }
        );
        assert_eq!(
            url("postgres://u:p@h:5432/d").url,
            "postgresql://u:p@h:5432/d"
        );
        assert_eq!(
            url("mysql+pymysql://root@127.0.0.1:3306/db"),
            DriverUrl {
                dialect: Dialect::MySql,
                url: "mysql://root@127.0.0.1:3306/db".into()
            }
        );
        assert_eq!(
            url("mariadb+mariadbconnector://root@h/db").url,
            "mysql://root@h/db"
        );
        assert_eq!(
            url("sqlite:///relative.db"),
            DriverUrl {
                dialect: Dialect::Sqlite,
                url: "relative.db".into()
            }
        );
        assert_eq!(url("sqlite:////tmp/abs.db").url, "/tmp/abs.db");
        assert_eq!(url("sqlite://").url, ":memory:");
        assert_eq!(url("sqlite:///:memory:").url, ":memory:");
    }

    #[test]
    fn diesel_sqlite_urls_are_accepted() {
        let url = |s| parse_url("SESSION_SQLALCHEMY", s).unwrap();
        for (given, driver) in [
            ("sessions.db", "sessions.db"),
            (
                "/var/lib/app/sessions.sqlite3",
                "/var/lib/app/sessions.sqlite3",
            ),
            ("data/app.sqlite", "data/app.sqlite"),
            ("file:app.db?mode=rwc", "file:app.db?mode=rwc"),
            ("sqlite://relative.db", "relative.db"),
        ] {
            assert_eq!(
                url(given),
                DriverUrl {
                    dialect: Dialect::Sqlite,
                    url: driver.into()
                },
                "{given}"
            );
        }
        // SQLAlchemy's meaning wins where the two differ.
        assert_eq!(url("sqlite:///x.db").url, "x.db");
    }

    #[test]
    fn bad_urls_name_the_key_and_hide_passwords() {
        for bad in ["oracle://scott:tiger@h/db", "no-scheme", "sqlite:/x.db"] {
            let err = parse_url("SQLALCHEMY_DATABASE_URI", bad)
                .unwrap_err()
                .to_string();
            assert!(err.contains("SQLALCHEMY_DATABASE_URI"), "{err}");
            assert!(!err.contains("tiger"), "{err}");
        }
    }
}
