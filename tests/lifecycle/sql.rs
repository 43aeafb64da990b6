//! The SQL store under the HTTP lifecycle: background cleanup every N requests, a slow
//! cleanup that does not hold requests up, and a database outage (503, then recovery).
#![cfg(all(
    feature = "testing",
    any(feature = "postgres", feature = "mysql", feature = "sqlite")
))]

use crate::sql_support;

use std::future::Future;
use std::time::Duration;

use actix_flask_session::testing::{Harness, Op, request, send};
use sql_support::Fixture;

/// Polls `check` until it holds (every 20 ms, at most 30 s, then fails with `what`).
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    for _ in 0..1500 {
        if check().await {
            return;
        }
        actix_rt::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("timed out waiting for: {what}");
}

fn cleanups<S: actix_flask_session::SessionStore>(h: &Harness<S>) -> usize {
    h.store
        .take_ops()
        .iter()
        .filter(|op| **op == Op::DeleteExpired)
        .count()
}

/// With `SESSION_CLEANUP_N_REQUESTS = 3`, the 3rd and 6th session-using requests start a
/// cleanup, no other request does, and the expired rows go away (live ones stay).
async fn cleanup_runs_every_nth_request(f: Fixture) {
    let h = Harness::new(f.store().await).configure(|c| c.cleanup_n_requests = Some(3));
    let app = h.app().await;
    f.blocking(|f| {
        f.insert_raw("old:1", "80", -60);
        f.insert_raw("old:2", "80", -1);
    })
    .await;
    let first = send(&app, request("POST", "/set?value=42", None)).await;
    assert_eq!(first.status, 200);
    let cookie = first.cookie("session").expect("cookie");
    // A request that does not use the session does not count.
    assert_eq!(
        send(&app, request("GET", "/", Some(&cookie))).await.status,
        200
    );
    assert_eq!(
        send(&app, request("GET", "/get", Some(&cookie))).await.body,
        "42"
    );
    assert_eq!(cleanups(&h), 0, "two session requests: no cleanup yet");
    assert_eq!(f.rows_now().await.len(), 3);
    assert_eq!(
        send(&app, request("GET", "/get", Some(&cookie))).await.body,
        "42"
    );
    let mut seen = 0;
    eventually("the cleanup after the 3rd request", || {
        seen += cleanups(&h);
        let done = seen == 1;
        async move { done }
    })
    .await;
    eventually("expired rows removed", || async {
        f.rows_now().await.len() == 1
    })
    .await;
    let live = f.rows_now().await;
    assert_eq!(live[0].session_id, h.key(&cookie));
    // Requests 4 and 5: nothing; request 6: the second cleanup.
    for _ in 0..2 {
        assert_eq!(
            send(&app, request("GET", "/get", Some(&cookie))).await.body,
            "42"
        );
    }
    assert_eq!(cleanups(&h), 0);
    f.blocking(|f| f.insert_raw("old:3", "80", -5)).await;
    assert_eq!(
        send(&app, request("GET", "/get", Some(&cookie))).await.body,
        "42"
    );
    let mut seen = 0;
    eventually("the cleanup after the 6th request", || {
        seen += cleanups(&h);
        let done = seen == 1;
        async move { done }
    })
    .await;
    eventually("the new expired row removed", || async {
        f.rows_now().await.len() == 1
    })
    .await;
}

for_each_db!(lifecycle_cleanup, cleanup_runs_every_nth_request);

/// A cleanup that blocks (another transaction holds a lock on an expired row) does not
/// delay requests, and no second cleanup starts while it runs.
#[cfg(feature = "postgres")]
#[actix_rt::test]
async fn postgres_slow_cleanup_does_not_delay_requests() {
    use diesel::Connection;
    use diesel::connection::SimpleConnection;

    let f = Fixture::new(
        actix_flask_session::backends::sql::Dialect::Postgres,
        "afs_slow_cleanup",
    )
    .await;
    let h = Harness::new(f.store().await).configure(|c| c.cleanup_n_requests = Some(1));
    let app = h.app().await;
    f.blocking(|f| f.insert_raw("old:locked", "80", -60)).await;
    // Another connection locks the expired row and keeps its transaction open.
    let (lock_tx, lock_rx) = std::sync::mpsc::channel::<()>();
    let (locked_tx, locked_rx) = tokio::sync::oneshot::channel::<()>();
    let table = f.qualified();
    let locker_url = f.driver_url.clone();
    let locker = std::thread::spawn(move || {
        let mut conn = diesel::PgConnection::establish(&locker_url).expect("connect");
        conn.batch_execute(&format!(
            "BEGIN; SELECT 1 FROM {table} WHERE session_id = 'old:locked' FOR UPDATE"
        ))
        .expect("lock");
        let _ = locked_tx.send(());
        let _ = lock_rx.recv();
        conn.batch_execute("COMMIT").expect("commit");
    });
    locked_rx.await.expect("locked");

    // Request 1 starts the cleanup, which now waits for the row lock.
    let first = send(&app, request("POST", "/set?value=slow", None)).await;
    assert_eq!(first.status, 200);
    let cookie = first.cookie("session").expect("cookie");
    let waiting = || {
        f.blocking(|f| {
            #[derive(diesel::QueryableByName)]
            struct N {
                #[diesel(sql_type = diesel::sql_types::BigInt)]
                n: i64,
            }
            use diesel::RunQueryDsl;
            diesel::sql_query(format!(
                "SELECT count(*) AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' \
                 AND query LIKE 'DELETE FROM \"{}\".\"sessions\" WHERE %'",
                f.object_name()
            ))
            .get_result::<N>(&mut f.pg())
            .expect("pg_stat_activity")
            .n
        })
    };
    eventually("the cleanup blocked on the lock", || async {
        waiting().await == 1
    })
    .await;

    // Requests keep completing while the cleanup is stuck; none starts a second cleanup.
    for i in 0..5 {
        let reply = send(
            &app,
            request("POST", &format!("/set?value=v{i}"), Some(&cookie)),
        )
        .await;
        assert_eq!(reply.status, 200);
        assert_eq!(
            send(&app, request("GET", "/get", Some(&cookie))).await.body,
            format!("v{i}")
        );
        let fresh = send(&app, request("POST", "/set?value=other", None)).await;
        assert_eq!(fresh.status, 200);
    }
    assert_eq!(waiting().await, 1, "still blocked, and only one cleanup");
    assert_eq!(cleanups(&h), 1);
    assert!(
        f.rows_now()
            .await
            .iter()
            .any(|r| r.session_id == "old:locked")
    );

    // Release the lock: the cleanup finishes and removes the expired row.
    lock_tx.send(()).expect("release");
    locker.join().expect("locker");
    eventually("the expired row removed", || async {
        !f.rows_now()
            .await
            .iter()
            .any(|r| r.session_id == "old:locked")
    })
    .await;
    assert_eq!(f.rows_now().await.len(), 6, "the live sessions stay");
}

/// A database outage: requests that need the session answer 503, and the store recovers
/// by itself when the database is back (dead pooled connections are replaced).
#[cfg(feature = "postgres")]
#[actix_rt::test]
async fn postgres_outage_is_503_then_recovers() {
    use actix_flask_session::backends::sql::{
        PoolOptions, SqlAlchemySessionInterface, SqlPool, SqlTable, migrate,
    };
    use diesel::Connection;
    use diesel::connection::SimpleConnection;

    // A database of this run's own: the test closes it to connections.
    let db = sql_support::unique("afs_outage");
    let admin = |sql: String| {
        tokio::task::spawn_blocking(move || {
            let mut conn =
                diesel::PgConnection::establish(&sql_support::pg_url("postgres")).expect("connect");
            conn.batch_execute(&sql).expect("admin sql");
        })
    };
    let name = db.clone();
    tokio::task::spawn_blocking(move || sql_support::ensure_pg_database(&name))
        .await
        .unwrap();
    admin(format!("ALTER DATABASE {db} ALLOW_CONNECTIONS true"))
        .await
        .unwrap();
    let mut options = PoolOptions::default();
    options.max_size = 3;
    options.timeout = Duration::from_secs(1);
    let pool = SqlPool::connect(&sql_support::pg_url(&db), &options)
        .await
        .expect("pool");
    let table = SqlTable::new("outage_sessions").unwrap();
    migrate::migrate(&pool, &table).await.expect("migrate");
    let h = Harness::new(
        SqlAlchemySessionInterface::new(pool, table)
            .await
            .expect("store"),
    );
    let app = h.app().await;

    let first = send(&app, request("POST", "/set?value=kept", None)).await;
    assert_eq!(first.status, 200);
    let cookie = first.cookie("session").expect("cookie");
    assert_eq!(
        send(&app, request("GET", "/get", Some(&cookie))).await.body,
        "kept"
    );

    // Outage: no new connections, existing ones killed.
    admin(format!(
        "ALTER DATABASE {db} ALLOW_CONNECTIONS false; \
         SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{db}'"
    ))
    .await
    .unwrap();
    for _ in 0..2 {
        let reply = send(&app, request("GET", "/get", Some(&cookie))).await;
        assert_eq!(reply.status, 503, "{reply:?}");
        assert_eq!(reply.body, "Service Unavailable");
    }
    // A route that does not use the session is unaffected.
    assert_eq!(
        send(&app, request("GET", "/", Some(&cookie))).await.status,
        200
    );

    // Back: the very next request succeeds, with the data intact.
    admin(format!("ALTER DATABASE {db} ALLOW_CONNECTIONS true"))
        .await
        .unwrap();
    let reply = send(&app, request("GET", "/get", Some(&cookie))).await;
    assert_eq!((reply.status, reply.body.as_str()), (200, "kept"));
    let reply = send(&app, request("POST", "/set?value=after", Some(&cookie))).await;
    assert_eq!(reply.status, 200);
    assert_eq!(
        send(&app, request("GET", "/get", Some(&cookie))).await.body,
        "after"
    );
    drop(app);
    drop(h);
    admin(format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"))
        .await
        .unwrap();
}
