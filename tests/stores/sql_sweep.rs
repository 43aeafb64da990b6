//! The expired-row sweep with several app instances on one table: one sweep at a time
//! (PostgreSQL advisory lock, MariaDB `GET_LOCK`, a lock file next to the SQLite
//! database), skipped rather than queued when another instance holds the lock, and
//! deleting in batches of 1000 rows until every expired row is gone.
#![cfg(any(feature = "postgres", feature = "mysql", feature = "sqlite"))]

use crate::sql_support;

use actix_flask_session::SessionStore;
use actix_flask_session::backends::sql::Dialect;
use sql_support::Fixture;

/// Inserts `expired` rows that expired an hour ago and `live` rows valid for an hour,
/// in multi-row `INSERT`s of 500.
fn fill(f: &Fixture, expired: usize, live: usize) {
    let now = f.now_at_precision();
    let rows: Vec<(String, time::PrimitiveDateTime)> = (0..expired)
        .map(|i| {
            (
                format!("session:dead-{i:07}"),
                now - time::Duration::hours(1),
            )
        })
        .chain((0..live).map(|i| {
            (
                format!("session:live-{i:07}"),
                now + time::Duration::hours(1),
            )
        }))
        .collect();
    let data = match f.dialect {
        Dialect::Postgres => "'\\x80'::bytea",
        Dialect::MySql | Dialect::Sqlite => "X'80'",
    };
    for chunk in rows.chunks(500) {
        let values = chunk
            .iter()
            .map(|(key, t)| format!("('{key}', {data}, '{}')", sql_support::sqlite_time(*t)))
            .collect::<Vec<_>>()
            .join(", ");
        f.exec(&format!(
            "INSERT INTO {} (session_id, data, expiry) VALUES {values}",
            f.qualified()
        ));
    }
}

async fn count(f: &Fixture, prefix: &'static str) -> usize {
    f.rows_now()
        .await
        .into_iter()
        .filter(|r| r.session_id.starts_with(prefix))
        .count()
}

/// 2,500 expired rows are three batches (1000, 1000, 500): the sweep goes on until all
/// are gone and touches no live row.
async fn batches_delete_every_expired_row(f: Fixture) {
    let store = f.store().await;
    f.blocking(|f| fill(f, 2_500, 3)).await;
    assert_eq!(store.delete_expired().await.expect("sweep"), 2_500);
    assert_eq!(count(&f, "session:dead-").await, 0);
    assert_eq!(count(&f, "session:live-").await, 3);
    assert_eq!(store.delete_expired().await.expect("sweep"), 0);

    // Exactly one batch's worth: the sweep runs one more (empty) batch and stops.
    f.blocking(|f| fill(f, 1_000, 0)).await;
    assert_eq!(store.delete_expired().await.expect("sweep"), 1_000);
    assert_eq!(count(&f, "session:dead-").await, 0);
}

/// Another instance holding the sweep lock (taken here by hand, exactly as a sweeping
/// instance takes it): this instance's sweep is skipped at once, deletes nothing and
/// reports 0; once the lock is released, the next sweep deletes every expired row.
async fn a_held_lock_skips_the_sweep(f: Fixture) {
    let store = f.store().await;
    f.blocking(|f| fill(f, 1_200, 2)).await;
    let name = match f.table.schema() {
        Some(schema) => format!("{}.{}", schema.as_str(), f.table.table().as_str()),
        None => f.table.table().as_str().to_owned(),
    };
    let holder = f.blocking(move |f| SweepLockHolder::take(f, &name)).await;
    assert_eq!(store.delete_expired().await.expect("skipped sweep"), 0);
    assert_eq!(count(&f, "session:dead-").await, 1_200);
    drop(holder);
    assert_eq!(store.delete_expired().await.expect("sweep"), 1_200);
    assert_eq!(count(&f, "session:dead-").await, 0);
    assert_eq!(count(&f, "session:live-").await, 2);
}

/// Two app instances (two stores, two pools) sweep the same 5,000 expired rows at the
/// same moment: one sweep deletes all 5,000, the other deletes none (it found the lock
/// held, or, if it came after, nothing left). Without the lock the two would share the
/// rows between them.
async fn two_concurrent_sweeps_one_runs(f: Fixture) {
    let (a, b) = (f.store().await, f.store().await);
    f.blocking(|f| fill(f, 5_000, 1)).await;
    let (ra, rb) = tokio::join!(a.delete_expired(), b.delete_expired());
    let mut counts = [ra.expect("sweep a"), rb.expect("sweep b")];
    counts.sort_unstable();
    assert_eq!(counts, [0, 5_000]);
    assert_eq!(count(&f, "session:dead-").await, 0);
    assert_eq!(count(&f, "session:live-").await, 1);
}

/// The lock a sweeping instance holds, taken on a connection of its own and released
/// when dropped.
enum SweepLockHolder {
    #[cfg(feature = "postgres")]
    Pg(diesel::PgConnection, String),
    #[cfg(feature = "mysql")]
    MySql(diesel::MysqlConnection, String),
    #[cfg(feature = "sqlite")]
    File(std::fs::File),
}

#[cfg(feature = "postgres")]
fn pg_key(name: &str) -> String {
    format!(
        "CAST(CAST(('x' || substr(md5('actix-flask-session sweep ' || '{name}'), 1, 16)) AS BIT(64)) AS BIGINT)"
    )
}

#[cfg(feature = "mysql")]
fn mysql_name(name: &str) -> String {
    format!("LEFT(CONCAT('afs-sweep:', DATABASE(), '.', '{name}'), 64)")
}

impl SweepLockHolder {
    fn take(f: &Fixture, name: &str) -> Self {
        use diesel::connection::SimpleConnection;
        match f.dialect {
            #[cfg(feature = "postgres")]
            Dialect::Postgres => {
                let mut conn = f.pg();
                conn.batch_execute(&format!("SELECT pg_advisory_lock({})", pg_key(name)))
                    .expect("advisory lock");
                SweepLockHolder::Pg(conn, name.to_owned())
            }
            #[cfg(feature = "mysql")]
            Dialect::MySql => {
                let mut conn = f.mysql();
                conn.batch_execute(&format!("DO GET_LOCK({}, 10)", mysql_name(name)))
                    .expect("GET_LOCK");
                SweepLockHolder::MySql(conn, name.to_owned())
            }
            #[cfg(feature = "sqlite")]
            Dialect::Sqlite => {
                let file = std::fs::OpenOptions::new()
                    .create(true)
                    .truncate(false)
                    .write(true)
                    .open(format!("{}.afs-sweep.lock", f.driver_url))
                    .expect("lock file");
                file.lock().expect("flock");
                SweepLockHolder::File(file)
            }
            #[allow(unreachable_patterns)]
            _ => unreachable!("feature off"),
        }
    }
}

impl Drop for SweepLockHolder {
    fn drop(&mut self) {
        use diesel::connection::SimpleConnection;
        match self {
            #[cfg(feature = "postgres")]
            SweepLockHolder::Pg(conn, name) => conn
                .batch_execute(&format!("SELECT pg_advisory_unlock({})", pg_key(name)))
                .expect("unlock"),
            #[cfg(feature = "mysql")]
            SweepLockHolder::MySql(conn, name) => conn
                .batch_execute(&format!("DO RELEASE_LOCK({})", mysql_name(name)))
                .expect("RELEASE_LOCK"),
            #[cfg(feature = "sqlite")]
            SweepLockHolder::File(file) => file.unlock().expect("unlock"),
        }
    }
}

for_each_db!(sweep_batches, batches_delete_every_expired_row);
for_each_db!(sweep_lock_held, a_held_lock_skips_the_sweep);
for_each_db!(sweep_two_instances, two_concurrent_sweeps_one_runs);
