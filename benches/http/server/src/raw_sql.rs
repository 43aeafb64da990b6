//! The raw SQL peer: no session layer. The handler takes the `session` cookie as the id
//! (key `session:<id>`) and sends the statements `SqlStore` sends for a load with refresh
//! and an update, with the same SQL text, the same transaction shape, the same diesel +
//! r2d2 pool (10 connections or `SQL_POOL_SIZE`, one kept idle, no test on checkout, SQLite's `busy_timeout`
//! and WAL on each new connection) and the same hop to tokio's blocking pool per store
//! call, so that a comparison with `afs-sql` isolates the session layer:
//!
//! | route | PostgreSQL, SQLite | MariaDB/MySQL |
//! |---|---|---|
//! | `/read` | `UPDATE T SET expiry = ? WHERE session_id = ? AND expiry > ? RETURNING data` | `UPDATE T SET expiry = ? WHERE session_id = ? AND expiry > ?`, then, only when it matched the row, `SELECT data FROM T WHERE session_id = ? AND expiry > ?` (autocommit, no transaction) |
//! | `/incr` | the same, then (second hop) `UPDATE T SET data = ?, expiry = ? WHERE session_id = ? AND expiry > ?` with the value's last byte changed | the same |
//! | `/hello` | nothing | nothing |
//!
//! `T` is the crate's default table, `"sessions"` (`` `sessions` `` on MySQL). A missing or
//! expired row answers 503 (so a broken seed shows up as non-2xx). `GET /stats`: the
//! statements sent so far (see `sql_stats`).
//!
//! With `RAW_SQL_MYSQL_LOAD=transaction`, the MySQL load is instead the store's earlier
//! form: `BEGIN`; `SELECT data FROM T WHERE session_id = ? AND expiry > ? FOR UPDATE`;
//! `UPDATE T SET expiry = ? WHERE session_id = ?`; `COMMIT` (diesel sends each `BEGIN`
//! and `COMMIT` between two `COM_SET_OPTION`s: eight round trips).
//!
//! `raw-sql <port> <database-url>` (`postgresql://...`, `mysql://...`,
//! `sqlite:////absolute/path.db`, as `afs-sql` takes them); one worker.

mod sql_stats;

mod raw_peer;
use raw_peer::key;

use std::sync::Arc;
use std::time::Duration;

use actix_web::{HttpRequest, HttpResponse, web};
use diesel::backend::Backend;
use diesel::connection::{LoadConnection, SimpleConnection};
use diesel::mysql::{Mysql, MysqlConnection};
use diesel::pg::{Pg, PgConnection};
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool, R2D2Connection};
use diesel::result::{OptionalExtension, QueryResult};
use diesel::sql_types::{Binary, Nullable, Text, Timestamp, Untyped};
use diesel::sqlite::{Sqlite, SqliteConnection};
use diesel::{Connection, QueryableByName, RunQueryDsl};
use time::{OffsetDateTime, PrimitiveDateTime, macros::format_description};

/// Flask's default `PERMANENT_SESSION_LIFETIME`, the crate peer's.
const TTL: time::Duration = time::Duration::days(31);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Db {
    Postgres,
    MySql,
    Sqlite,
}

/// How a MySQL load with refresh is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MyLoad {
    /// The store's earlier form: a transaction around `SELECT ... FOR UPDATE` and the
    /// expiry update.
    Transaction,
    /// The store's: the expiry update of a live row, then a plain `SELECT`.
    UpdateSelect,
}

/// SQL text cut at its `?` placeholders; the values are bound in order.
struct Sql {
    parts: Vec<String>,
}

impl Sql {
    fn new(text: String) -> Self {
        Sql {
            parts: text.split('?').map(str::to_owned).collect(),
        }
    }

    fn bind<'a>(&'a self, values: Vec<Val<'a>>) -> Bound<'a> {
        debug_assert_eq!(values.len() + 1, self.parts.len());
        Bound { sql: self, values }
    }
}

/// One bound value.
enum Val<'a> {
    Text(&'a str),
    Bytes(&'a [u8]),
    /// `TIMESTAMP` / `DATETIME` (PostgreSQL, MySQL).
    Time(PrimitiveDateTime),
    /// SQLite: the text SQLAlchemy stores.
    TimeText(String),
}

/// A statement with its values. Its query id is not static, so diesel caches it as a
/// prepared statement keyed by its SQL text, as it does the store's.
struct Bound<'a> {
    sql: &'a Sql,
    values: Vec<Val<'a>>,
}

trait RawBackend: Backend {
    fn push_value<'b>(out: &mut AstPass<'_, 'b, Self>, value: &'b Val<'_>) -> QueryResult<()>;
}

macro_rules! raw_backend {
    ($db:ty) => {
        impl RawBackend for $db {
            fn push_value<'b>(
                out: &mut AstPass<'_, 'b, Self>,
                value: &'b Val<'_>,
            ) -> QueryResult<()> {
                match value {
                    Val::Text(v) => out.push_bind_param::<Text, str>(v),
                    Val::Bytes(v) => out.push_bind_param::<Binary, [u8]>(v),
                    Val::Time(v) => out.push_bind_param::<Timestamp, PrimitiveDateTime>(v),
                    Val::TimeText(v) => out.push_bind_param::<Text, String>(v),
                }
            }
        }
    };
}

raw_backend!(Pg);
raw_backend!(Mysql);
raw_backend!(Sqlite);

impl<DB: RawBackend> QueryFragment<DB> for Bound<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        let mut values = self.values.iter();
        for (i, part) in self.sql.parts.iter().enumerate() {
            if i > 0 {
                let value = values.next().ok_or_else(|| {
                    diesel::result::Error::QueryBuilderError("missing bind value".into())
                })?;
                DB::push_value(&mut out, value)?;
            }
            out.push_sql(part);
        }
        Ok(())
    }
}

impl QueryId for Bound<'_> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl Query for Bound<'_> {
    type SqlType = Untyped;
}

impl<C> RunQueryDsl<C> for Bound<'_> {}

#[derive(QueryableByName)]
struct DataRow {
    #[diesel(sql_type = Nullable<Binary>)]
    data: Option<Vec<u8>>,
}

/// A diesel connection the peer can drive.
trait Conn: Connection<Backend: RawBackend> + LoadConnection + R2D2Connection + Send + 'static {}

impl<C> Conn for C where
    C: Connection<Backend: RawBackend> + LoadConnection + R2D2Connection + Send + 'static
{
}

/// The statements, built once for the default table.
struct Statements {
    db: Db,
    my_load: MyLoad,
    /// PostgreSQL/SQLite: the `UPDATE ... RETURNING data`; MySQL: the `SELECT ... FOR UPDATE`.
    load_refresh: Sql,
    /// MySQL: `UPDATE T SET expiry = ? WHERE session_id = ?`.
    touch: Sql,
    /// MySQL, `update-select`: `UPDATE T SET expiry = ? WHERE session_id = ? AND expiry > ?`.
    touch_live: Sql,
    /// `SELECT data FROM T WHERE session_id = ? AND expiry > ?`.
    select: Sql,
    /// `UPDATE T SET data = ?, expiry = ? WHERE session_id = ? AND expiry > ?`.
    update: Sql,
}

impl Statements {
    fn new(db: Db, my_load: MyLoad) -> Self {
        let t = match db {
            Db::MySql => "`sessions`",
            Db::Postgres | Db::Sqlite => "\"sessions\"",
        };
        let select = format!("SELECT data FROM {t} WHERE session_id = ? AND expiry > ?");
        let load_refresh = match db {
            Db::MySql => format!("{select} FOR UPDATE"),
            Db::Postgres | Db::Sqlite => format!(
                "UPDATE {t} SET expiry = ? WHERE session_id = ? AND expiry > ? RETURNING data"
            ),
        };
        Statements {
            db,
            my_load,
            load_refresh: Sql::new(load_refresh),
            touch: Sql::new(format!("UPDATE {t} SET expiry = ? WHERE session_id = ?")),
            touch_live: Sql::new(format!(
                "UPDATE {t} SET expiry = ? WHERE session_id = ? AND expiry > ?"
            )),
            select: Sql::new(select),
            update: Sql::new(format!(
                "UPDATE {t} SET data = ?, expiry = ? WHERE session_id = ? AND expiry > ?"
            )),
        }
    }

    /// Now (UTC), at the column's precision: microseconds, whole seconds on MySQL.
    fn now(&self) -> PrimitiveDateTime {
        let now = OffsetDateTime::now_utc();
        let nanos = match self.db {
            Db::MySql => 0,
            Db::Postgres | Db::Sqlite => now.nanosecond() / 1_000 * 1_000,
        };
        let time = now.time().replace_nanosecond(nanos).unwrap_or(now.time());
        PrimitiveDateTime::new(now.date(), time)
    }

    fn time(&self, t: PrimitiveDateTime) -> Val<'static> {
        match self.db {
            Db::Sqlite => {
                let format = format_description!(
                    "[year]-[month]-[day] [hour]:[minute]:[second].[subsecond digits:6]"
                );
                Val::TimeText(t.format(&format).unwrap_or_else(|_| t.to_string()))
            }
            Db::Postgres | Db::MySql => Val::Time(t),
        }
    }

    /// The store's load with refresh: the live row's data, its expiry moved to now + TTL.
    fn load<C: Conn>(&self, conn: &mut C, key: &str) -> QueryResult<Option<Vec<u8>>>
    where
        DataRow: QueryableByName<C::Backend>,
    {
        let now = self.now();
        let expiry = now + TTL;
        let row = match (self.db, self.my_load) {
            (Db::Postgres | Db::Sqlite, _) => self
                .load_refresh
                .bind(vec![self.time(expiry), Val::Text(key), self.time(now)])
                .get_result::<DataRow>(conn)
                .optional()?,
            (Db::MySql, MyLoad::Transaction) => conn.transaction(|conn| {
                let row = self
                    .load_refresh
                    .bind(vec![Val::Text(key), self.time(now)])
                    .get_result::<DataRow>(conn)
                    .optional()?;
                if row.is_some() {
                    self.touch
                        .bind(vec![self.time(expiry), Val::Text(key)])
                        .execute(conn)?;
                }
                QueryResult::Ok(row)
            })?,
            (Db::MySql, MyLoad::UpdateSelect) => {
                let touched = self
                    .touch_live
                    .bind(vec![self.time(expiry), Val::Text(key), self.time(now)])
                    .execute(conn)?;
                if touched == 1 {
                    self.select
                        .bind(vec![Val::Text(key), self.time(now)])
                        .get_result::<DataRow>(conn)
                        .optional()?
                } else {
                    None
                }
            }
        };
        Ok(row.and_then(|r| r.data))
    }

    /// The store's update: writes a live row; `false` when there is none.
    fn update<C: Conn>(&self, conn: &mut C, key: &str, value: &[u8]) -> QueryResult<bool> {
        let now = self.now();
        let rows = self
            .update
            .bind(vec![
                Val::Bytes(value),
                self.time(now + TTL),
                Val::Text(key),
                self.time(now),
            ])
            .execute(conn)?;
        Ok(rows == 1)
    }
}

/// SQLite: what the store's pool runs on every new connection.
#[derive(Debug)]
struct SqliteTuning;

impl CustomizeConnection<SqliteConnection, diesel::r2d2::Error> for SqliteTuning {
    fn on_acquire(&self, conn: &mut SqliteConnection) -> Result<(), diesel::r2d2::Error> {
        conn.batch_execute("PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL;")
            .map_err(diesel::r2d2::Error::QueryError)
    }
}

#[derive(Clone)]
enum Pools {
    Postgres(Pool<ConnectionManager<PgConnection>>),
    MySql(Pool<ConnectionManager<MysqlConnection>>),
    Sqlite(Pool<ConnectionManager<SqliteConnection>>),
}

/// The store's pool settings (`PoolOptions::default()` and `SqlPool::connect`'s builder).
fn pool<C: R2D2Connection + 'static>(
    url: &str,
    customize: Option<Box<dyn CustomizeConnection<C, diesel::r2d2::Error>>>,
) -> std::io::Result<Pool<ConnectionManager<C>>> {
    let mut builder = Pool::builder()
        .max_size(sql_stats::pool_size()?.unwrap_or(10))
        .min_idle(Some(1))
        .connection_timeout(Duration::from_secs(5))
        .test_on_check_out(false);
    if let Some(customize) = customize {
        builder = builder.connection_customizer(customize);
    }
    builder
        .build(ConnectionManager::new(url))
        .map_err(std::io::Error::other)
}

/// The database and its pool, from a URL of the forms `afs-sql` takes.
fn connect(url: &str) -> std::io::Result<(Db, Pools)> {
    if url.starts_with("postgresql://") || url.starts_with("postgres://") {
        Ok((Db::Postgres, Pools::Postgres(pool(url, None)?)))
    } else if url.starts_with("mysql://") {
        Ok((Db::MySql, Pools::MySql(pool(url, None)?)))
    } else if let Some(path) = url
        .strip_prefix("sqlite:///")
        .or_else(|| url.strip_prefix("sqlite://"))
    {
        let tuning: Box<dyn CustomizeConnection<SqliteConnection, diesel::r2d2::Error>> =
            Box::new(SqliteTuning);
        Ok((Db::Sqlite, Pools::Sqlite(pool(path, Some(tuning))?)))
    } else {
        Err(std::io::Error::other(format!(
            "unsupported database URL {url:?}: postgresql://, mysql:// or sqlite://"
        )))
    }
}

#[derive(Clone)]
struct State {
    pools: Pools,
    statements: Arc<Statements>,
}

/// Runs `$body` on the blocking pool with `$conn` a pooled connection of whichever
/// database `$state` uses: one hop and one checkout per call, as the store makes.
macro_rules! with_conn {
    ($state:expr, |$s:ident, $conn:ident| $body:expr) => {{
        let $s = Arc::clone(&$state.statements);
        let pools = $state.pools.clone();
        let done = actix_web::rt::task::spawn_blocking(move || -> Result<_, String> {
            match &pools {
                Pools::Postgres(p) => {
                    let mut c = p.get().map_err(|e| e.to_string())?;
                    let $conn = &mut *c;
                    $body.map_err(|e| e.to_string())
                }
                Pools::MySql(p) => {
                    let mut c = p.get().map_err(|e| e.to_string())?;
                    let $conn = &mut *c;
                    $body.map_err(|e| e.to_string())
                }
                Pools::Sqlite(p) => {
                    let mut c = p.get().map_err(|e| e.to_string())?;
                    let $conn = &mut *c;
                    $body.map_err(|e| e.to_string())
                }
            }
        })
        .await;
        done.map_err(|e| e.to_string()).and_then(|r| r)
    }};
}

async fn load(state: &State, key: String) -> Option<Vec<u8>> {
    match with_conn!(state, |s, conn| s.load(conn, &key)) {
        Ok(data) => data,
        Err(e) => {
            eprintln!("load: {e}");
            None
        }
    }
}

async fn read(req: HttpRequest, state: web::Data<State>) -> HttpResponse {
    let Some(key) = key(&req) else {
        return HttpResponse::Ok().body("0");
    };
    match load(&state, key).await {
        Some(data) => HttpResponse::Ok().body(data.len().to_string()),
        None => HttpResponse::ServiceUnavailable().finish(),
    }
}

async fn incr(req: HttpRequest, state: web::Data<State>) -> HttpResponse {
    let Some(key) = key(&req) else {
        return HttpResponse::Ok().body("0");
    };
    let Some(mut value) = load(&state, key.clone()).await else {
        return HttpResponse::ServiceUnavailable().finish();
    };
    // The seeded sessions end with `n` as a positive fixint: keep it one.
    if let Some(last) = value.last_mut() {
        *last = last.wrapping_add(1) & 0x7f;
    }
    let len = value.len();
    match with_conn!(state, |s, conn| s.update(conn, &key, &value)) {
        Ok(true) => HttpResponse::Ok().body(len.to_string()),
        Ok(false) => HttpResponse::ServiceUnavailable().finish(),
        Err(e) => {
            eprintln!("update: {e}");
            HttpResponse::ServiceUnavailable().finish()
        }
    }
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    sql_stats::install()?;
    let mut args = std::env::args().skip(1);
    let port: u16 = args.next().and_then(|p| p.parse().ok()).unwrap_or(8088);
    let url = args
        .next()
        .unwrap_or_else(|| "postgresql://root@127.0.0.1/afs_bench?sslmode=disable".to_owned());
    let my_load = match std::env::var("RAW_SQL_MYSQL_LOAD").as_deref() {
        Err(_) | Ok("" | "update-select") => MyLoad::UpdateSelect,
        Ok("transaction") => MyLoad::Transaction,
        Ok(other) => {
            return Err(std::io::Error::other(format!(
                "RAW_SQL_MYSQL_LOAD={other:?}: expected transaction or update-select"
            )));
        }
    };
    let (db, pools) = connect(&url)?;
    let state = State {
        pools,
        statements: Arc::new(Statements::new(db, my_load)),
    };
    raw_peer::serve(port, state, |cfg| {
        cfg.route("/read", web::get().to(read))
            .route("/incr", web::get().to(incr))
            .route("/stats", web::get().to(sql_stats::stats));
    })
    .await
}
