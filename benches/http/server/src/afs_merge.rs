//! The `SESSION_CONCURRENCY` load peer: `afs-merge <port> <store> <mode>` with
//! `<store>` a `redis://` or `postgresql://` URL or `fs:<dir>`, `<mode>` `last-write-wins`
//! or `merge`; one worker.
//!
//! Routes: `/read` (reads `n`), `/incr` (get + insert of `n`), `/incr_with` (`n` through
//! `update_with`), `/own` (sets a key of its own, `k<unique number>`), `/count` (the
//! session's `n` and how many `k*` keys it has), `/stats` (what the store answered so far:
//! successful writes, and compare-and-swap conflicts).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use actix_flask_session::backends::filesystem::FileSystemStore;
use actix_flask_session::backends::redis::{RedisOptions, RedisStore};
use actix_flask_session::backends::sql::{PoolOptions, SqlPool, SqlStore, SqlTable, migrate};
use actix_flask_session::{
    ServerSideSession, ServerSideSessionInterface, Session, SessionConfig, SessionStore,
    StoreError, async_trait,
};
use actix_flask_session::{SwapOutcome, Versioned};
use actix_web::{App, HttpResponse, HttpServer, web};

/// What the wrapped store answered: writes that stored, compare-and-swaps that met a
/// newer entry, and those that found it gone.
#[derive(Debug, Default)]
struct Counts {
    stored: AtomicU64,
    changed: AtomicU64,
    gone: AtomicU64,
}

#[derive(Debug)]
struct Counting {
    inner: Box<dyn SessionStore>,
    counts: Arc<Counts>,
}

impl Counting {
    fn count(&self, stored: bool) {
        if stored {
            self.counts.stored.fetch_add(1, Ordering::Relaxed);
        }
    }
}

#[async_trait]
impl SessionStore for Counting {
    async fn load(
        &self,
        key: &str,
        refresh: Option<Duration>,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner.load(key, refresh).await
    }
    async fn create(&self, key: &str, value: &[u8], ttl: Duration) -> Result<bool, StoreError> {
        let created = self.inner.create(key, value, ttl).await?;
        self.count(created);
        Ok(created)
    }
    async fn update(&self, key: &str, value: &[u8], ttl: Duration) -> Result<bool, StoreError> {
        let updated = self.inner.update(key, value, ttl).await?;
        self.count(updated);
        Ok(updated)
    }
    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.inner.delete(key).await
    }
    async fn load_versioned(
        &self,
        key: &str,
        refresh: Option<Duration>,
    ) -> Result<Option<Versioned>, StoreError> {
        self.inner.load_versioned(key, refresh).await
    }
    async fn compare_and_swap(
        &self,
        key: &str,
        expected: &Versioned,
        value: &[u8],
        ttl: Duration,
    ) -> Result<SwapOutcome, StoreError> {
        let outcome = self
            .inner
            .compare_and_swap(key, expected, value, ttl)
            .await?;
        let counter = match outcome {
            SwapOutcome::Swapped => &self.counts.stored,
            SwapOutcome::Changed(_) => &self.counts.changed,
            SwapOutcome::Gone => &self.counts.gone,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        Ok(outcome)
    }
    fn supports_compare_and_swap(&self) -> bool {
        self.inner.supports_compare_and_swap()
    }
    fn has_native_ttl(&self) -> bool {
        self.inner.has_native_ttl()
    }
    fn name(&self) -> &'static str {
        self.inner.name()
    }
}

static NEXT_KEY: AtomicU64 = AtomicU64::new(0);

async fn read(session: ServerSideSession) -> actix_web::Result<HttpResponse> {
    let n = session.get::<i64>("n")?.unwrap_or(0);
    Ok(HttpResponse::Ok().body(n.to_string()))
}

async fn incr(session: ServerSideSession) -> actix_web::Result<HttpResponse> {
    let n = session.get::<i64>("n")?.unwrap_or(0) + 1;
    session.insert("n", n)?;
    Ok(HttpResponse::Ok().body(n.to_string()))
}

async fn incr_with(session: ServerSideSession) -> actix_web::Result<HttpResponse> {
    let n = session.update_with("n", |n: Option<i64>| n.unwrap_or(0) + 1)?;
    Ok(HttpResponse::Ok().body(n.to_string()))
}

async fn own(session: ServerSideSession) -> actix_web::Result<HttpResponse> {
    let k = NEXT_KEY.fetch_add(1, Ordering::Relaxed);
    session.insert(format!("k{k}"), 1)?;
    Ok(HttpResponse::Ok().body("ok"))
}

async fn count(session: ServerSideSession) -> actix_web::Result<HttpResponse> {
    let n = session.get::<i64>("n")?.unwrap_or(0);
    let keys = session.keys().iter().filter(|k| k.starts_with('k')).count();
    Ok(HttpResponse::Ok().body(format!("n={n} keys={keys}")))
}

async fn stats(counts: web::Data<Counts>) -> HttpResponse {
    HttpResponse::Ok().body(format!(
        "stored={} changed={} gone={}",
        counts.stored.load(Ordering::Relaxed),
        counts.changed.load(Ordering::Relaxed),
        counts.gone.load(Ordering::Relaxed)
    ))
}

async fn hello() -> &'static str {
    "hello"
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let port: u16 = args.next().and_then(|p| p.parse().ok()).unwrap_or(8095);
    let target = args
        .next()
        .unwrap_or_else(|| "redis://127.0.0.1:6379".to_owned());
    let mode = args.next().unwrap_or_else(|| "last-write-wins".to_owned());
    fn io(e: impl std::error::Error + Send + Sync + 'static) -> std::io::Error {
        std::io::Error::other(e)
    }
    let inner: Box<dyn SessionStore> = if let Some(dir) = target.strip_prefix("fs:") {
        Box::new(FileSystemStore::new(dir, 0, 0o600).map_err(io)?)
    } else if target.starts_with("postgres") {
        let pool = SqlPool::connect(&target, &PoolOptions::default())
            .await
            .map_err(io)?;
        let table = SqlTable::default();
        migrate::migrate(&pool, &table).await.map_err(io)?;
        Box::new(SqlStore::new(pool, table).await.map_err(io)?)
    } else {
        Box::new(
            RedisStore::connect(&target, &RedisOptions::default())
                .await
                .map_err(io)?,
        )
    };
    let counts = Arc::new(Counts::default());
    let store = Counting {
        inner,
        counts: Arc::clone(&counts),
    };
    let mut config = SessionConfig::default();
    config.concurrency = mode.parse().map_err(io)?;
    let session = Session::new(ServerSideSessionInterface::new(store, config).map_err(io)?);
    HttpServer::new(move || {
        session.init_app(
            App::new()
                .app_data(web::Data::from(Arc::clone(&counts)))
                .route("/read", web::get().to(read))
                .route("/incr", web::get().to(incr))
                .route("/incr_with", web::get().to(incr_with))
                .route("/own", web::get().to(own))
                .route("/count", web::get().to(count))
                .route("/stats", web::get().to(stats))
                .route("/hello", web::get().to(hello)),
        )
    })
    .workers(1)
    .bind(("127.0.0.1", port))?
    .run()
    .await
}
