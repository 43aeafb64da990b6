//! The SQL store's promises, on PostgreSQL, MariaDB and SQLite: exact rows, conditional
//! writes, expiry checked on read, cleanup.
#![cfg(any(feature = "postgres", feature = "mysql", feature = "sqlite"))]

use crate::sql_support;

use std::time::Duration;

use actix_flask_session::{RenameOutcome, SessionStore};
use sql_support::{Fixture, Row};

const HOUR: Duration = Duration::from_secs(3600);
/// Flask-Session's stored bytes for `{'_permanent': True, 'a': 1, 'b': 'x'}` (msgpack).
fn flask_msgpack() -> &'static str {
    crate::vectors::permanent_ab_msgpack_hex()
}

fn bytes(hex_str: &str) -> Vec<u8> {
    hex::decode(hex_str).expect("hex")
}

/// Asserts that `expiry` is `ttl` after some instant in `[before, after]`.
fn assert_expiry(
    f: &Fixture,
    row: &Row,
    before: time::PrimitiveDateTime,
    after: time::PrimitiveDateTime,
    ttl: Duration,
) {
    let ttl = time::Duration::try_from(ttl).expect("ttl");
    assert!(
        row.expiry >= before + ttl && row.expiry <= after + ttl,
        "{:?}: expiry {} not within [{}, {}] + {ttl}",
        f.dialect,
        row.expiry,
        before,
        after
    );
}

async fn create_writes_the_exact_row(f: Fixture) {
    let store = f.store().await;
    let key = "session:create-exact";
    let data = bytes(flask_msgpack());
    let before = f.now_at_precision();
    assert!(store.create(key, &data, HOUR).await.unwrap());
    let after = f.now_at_precision();
    let rows = f.rows_now().await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].session_id, key);
    assert_eq!(rows[0].data, data);
    assert_expiry(&f, &rows[0], before, after, HOUR);
    // A read without refresh returns the bytes and leaves the row alone.
    assert_eq!(store.load(key, None).await.unwrap(), Some(data.clone()));
    assert_eq!(f.rows_now().await, rows);
    assert!(!store.has_native_ttl());
    assert_eq!(store.name(), f.dialect.name());
}

async fn load_with_refresh_moves_only_the_expiry(f: Fixture) {
    let store = f.store().await;
    let key = "session:refresh";
    f.blocking(move |f2| f2.insert_raw(key, flask_msgpack(), 10))
        .await;
    let before = f.now_at_precision();
    assert_eq!(
        store.load(key, Some(HOUR)).await.unwrap(),
        Some(bytes(flask_msgpack()))
    );
    let after = f.now_at_precision();
    let rows = f.rows_now().await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].data, bytes(flask_msgpack()));
    assert_expiry(&f, &rows[0], before, after, HOUR);
}

async fn expired_rows_are_never_returned_or_revived(f: Fixture) {
    let store = f.store().await;
    let key = "session:expired";
    f.blocking(move |f2| f2.insert_raw(key, flask_msgpack(), -10))
        .await;
    let stored = f.rows_now().await;
    assert_eq!(store.load(key, None).await.unwrap(), None);
    assert_eq!(store.load(key, Some(HOUR)).await.unwrap(), None);
    assert!(!store.update(key, b"\x80", HOUR).await.unwrap());
    // Neither the read with refresh nor the update touched the expired row.
    assert_eq!(f.rows_now().await, stored);
}

async fn create_only_if_absent(f: Fixture) {
    let store = f.store().await;
    let key = "session:absent";
    assert!(store.create(key, b"\x81\xa1a\x01", HOUR).await.unwrap());
    assert!(!store.create(key, b"\x81\xa1a\x02", HOUR).await.unwrap());
    let live = f.rows_now().await;
    assert_eq!(live.len(), 1);
    assert_eq!(live[0].data, b"\x81\xa1a\x01");
    // An expired row under the same key is taken over.
    f.blocking(move |f2| f2.set_expiry(key, -10)).await;
    let before = f.now_at_precision();
    assert!(store.create(key, b"\x81\xa1a\x03", HOUR).await.unwrap());
    let after = f.now_at_precision();
    let rows = f.rows_now().await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].data, b"\x81\xa1a\x03");
    assert_expiry(&f, &rows[0], before, after, HOUR);
}

async fn update_only_if_present(f: Fixture) {
    let store = f.store().await;
    let key = "session:present";
    assert!(!store.update(key, b"\x80", HOUR).await.unwrap());
    assert_eq!(f.rows_now().await, []);
    assert!(store.create(key, b"\x81\xa1a\x01", HOUR).await.unwrap());
    // Same bytes, same second: still "present" (MySQL counts matched rows, not changed).
    assert!(store.update(key, b"\x81\xa1a\x01", HOUR).await.unwrap());
    let before = f.now_at_precision();
    assert!(store.update(key, b"\x81\xa1a\x02", 2 * HOUR).await.unwrap());
    let after = f.now_at_precision();
    let rows_now = f.rows_now().await;
    assert_eq!(rows_now.len(), 1);
    assert_eq!(rows_now[0].data, b"\x81\xa1a\x02");
    assert_expiry(&f, &rows_now[0], before, after, 2 * HOUR);
    // A logout in between: the late update must not bring the session back.
    store.delete(key).await.unwrap();
    assert!(!store.update(key, b"\x81\xa1a\x03", HOUR).await.unwrap());
    assert_eq!(f.rows_now().await, []);
    // Deleting again is fine.
    store.delete(key).await.unwrap();
}

async fn foreign_rows_are_read_verbatim(f: Fixture) {
    let store = f.store().await;
    let key = "session:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";
    f.blocking(move |f2| f2.insert_raw(key, flask_msgpack(), 3600))
        .await;
    assert_eq!(
        store.load(key, None).await.unwrap(),
        Some(bytes(flask_msgpack()))
    );
    // JSON bytes too: the store never decodes.
    let json = br#"{"_permanent":true,"a":1,"b":"x"}"#;
    assert!(store.update(key, json, HOUR).await.unwrap());
    assert_eq!(
        store.load(key, Some(HOUR)).await.unwrap(),
        Some(json.to_vec())
    );
    assert_eq!(f.rows_now().await[0].data, json);
}

async fn concurrent_creates_have_one_winner(f: Fixture) {
    let store = f.store().await;
    let key = "session:race";
    let attempts = (0u8..8).map(|i| {
        let store = store.clone();
        async move {
            (
                i,
                store
                    .create(key, &[0x81, 0xa1, b'i', i], HOUR)
                    .await
                    .unwrap(),
            )
        }
    });
    let results = futures_util::future::join_all(attempts).await;
    let winners: Vec<u8> = results
        .iter()
        .filter(|(_, won)| *won)
        .map(|(i, _)| *i)
        .collect();
    assert_eq!(winners.len(), 1, "{results:?}");
    let rows = f.rows_now().await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].data, [0x81, 0xa1, b'i', winners[0]]);
}

async fn rename_moves_the_session(f: Fixture) {
    let store = f.store().await;
    assert!(
        store
            .create("session:old", b"\x81\xa1a\x01", HOUR)
            .await
            .unwrap()
    );
    assert!(
        store
            .create("session:taken", b"\x81\xa1t\x01", HOUR)
            .await
            .unwrap()
    );
    // The new id is taken: nothing changes.
    assert_eq!(
        store
            .rename("session:old", "session:taken", b"\x81\xa1a\x02", HOUR)
            .await
            .unwrap(),
        RenameOutcome::TargetExists
    );
    let keys: Vec<_> = f
        .rows_now()
        .await
        .into_iter()
        .map(|r| (r.session_id, r.data))
        .collect();
    assert_eq!(
        keys,
        [
            ("session:old".to_owned(), b"\x81\xa1a\x01".to_vec()),
            ("session:taken".to_owned(), b"\x81\xa1t\x01".to_vec())
        ]
    );
    assert_eq!(
        store
            .rename("session:old", "session:new", b"\x81\xa1a\x02", HOUR)
            .await
            .unwrap(),
        RenameOutcome::Moved
    );
    let keys: Vec<_> = f
        .rows_now()
        .await
        .into_iter()
        .map(|r| (r.session_id, r.data))
        .collect();
    assert_eq!(
        keys,
        [
            ("session:new".to_owned(), b"\x81\xa1a\x02".to_vec()),
            ("session:taken".to_owned(), b"\x81\xa1t\x01".to_vec())
        ]
    );
}

async fn delete_expired_removes_expired_rows_only(f: Fixture) {
    let store = f.store().await;
    f.blocking(|f2| {
        f2.insert_raw("session:live", "80", 3600);
        f2.insert_raw("session:gone-1", "80", -1);
        f2.insert_raw("session:gone-2", "80", -3600);
        f2.exec(&format!(
            "INSERT INTO {} (session_id, data, expiry) VALUES ('session:null', NULL, NULL)",
            f2.qualified()
        ));
    })
    .await;
    assert_eq!(store.load("session:null", Some(HOUR)).await.unwrap(), None);
    assert_eq!(store.delete_expired().await.unwrap(), 3);
    let left: Vec<_> = f
        .rows_now()
        .await
        .into_iter()
        .map(|r| r.session_id)
        .collect();
    assert_eq!(left, ["session:live"]);
    assert_eq!(store.delete_expired().await.unwrap(), 0);
}

async fn oversized_ttl_is_invalid_input(f: Fixture) {
    let store = f.store().await;
    let err = store
        .create("session:ttl", b"\x80", Duration::from_secs(u64::MAX))
        .await
        .unwrap_err();
    assert!(
        matches!(err, actix_flask_session::StoreError::InvalidInput { .. }),
        "{err:?}"
    );
    assert_eq!(f.rows_now().await, []);
}

for_each_db!(store_create_exact, create_writes_the_exact_row);
for_each_db!(store_refresh, load_with_refresh_moves_only_the_expiry);
for_each_db!(store_expired, expired_rows_are_never_returned_or_revived);
for_each_db!(store_create_absent, create_only_if_absent);
for_each_db!(store_update_present, update_only_if_present);
for_each_db!(store_foreign_rows, foreign_rows_are_read_verbatim);
for_each_db!(store_race, concurrent_creates_have_one_winner);
for_each_db!(store_rename, rename_moves_the_session);
for_each_db!(
    store_delete_expired,
    delete_expired_removes_expired_rows_only
);
for_each_db!(store_ttl_input, oversized_ttl_is_invalid_input);
for_each_db!(store_null_data, a_live_row_without_data_is_bad_data);

/// A live row whose `data` is NULL (not written by either app) is not a session: the
/// store says so, with and without a refresh, so the lifecycle deletes it.
async fn a_live_row_without_data_is_bad_data(f: Fixture) {
    let store = f.store().await;
    f.blocking(|f2| {
        f2.insert_raw("session:null-data", "80", 3600);
        f2.exec(&format!(
            "UPDATE {} SET data = NULL WHERE session_id = 'session:null-data'",
            f2.qualified()
        ));
    })
    .await;
    for refresh in [None, Some(HOUR)] {
        let err = store.load("session:null-data", refresh).await.unwrap_err();
        assert!(
            matches!(err, actix_flask_session::StoreError::BadData { .. }),
            "{:?}: {err:?}",
            f.dialect
        );
    }
    store.delete("session:null-data").await.unwrap();
    assert_eq!(f.rows_now().await, []);
}

/// A pause point between the statements of a load with refresh, without a hook in the
/// library: diesel's default instrumentation (set once for the whole test binary; new
/// connections take it) runs `between` on the store's own blocking thread right after
/// the refresh `UPDATE` of the armed table finishes, before anything else runs on that
/// connection. On MySQL that is between the `UPDATE` and the `SELECT`; on PostgreSQL and
/// SQLite the `UPDATE ... RETURNING` is the whole load.
mod pause {
    use std::sync::{Mutex, Once};

    use diesel::connection::{Instrumentation, InstrumentationEvent, set_default_instrumentation};

    type Between = Box<dyn FnOnce() + Send>;

    /// The armed table (its quoted name) and what to run.
    static ARMED: Mutex<Option<(String, Between)>> = Mutex::new(None);

    fn instrumentation() -> Option<Box<dyn Instrumentation>> {
        Some(Box::new(|event: InstrumentationEvent<'_>| {
            let InstrumentationEvent::FinishQuery {
                query, error: None, ..
            } = event
            else {
                return;
            };
            let mut armed = ARMED.lock().unwrap_or_else(|e| e.into_inner());
            let Some((table, _)) = armed.as_ref() else {
                return;
            };
            let sql = query.to_string();
            if sql.starts_with(&format!("UPDATE {table} SET expiry = ")) {
                let (_, between) = armed.take().expect("armed");
                drop(armed);
                between();
            }
        }))
    }

    /// Installs the instrumentation (before the store's pool connects).
    pub fn install() {
        static ONCE: Once = Once::new();
        ONCE.call_once(|| set_default_instrumentation(instrumentation).expect("instrumentation"));
    }

    /// Runs `between` after the next refresh `UPDATE` on `table`.
    pub fn arm(table: String, between: impl FnOnce() + Send + 'static) {
        *ARMED.lock().unwrap_or_else(|e| e.into_inner()) = Some((table, Box::new(between)));
    }

    /// Whether the armed statement ran (the pause point was reached).
    pub fn fired() -> bool {
        ARMED.lock().unwrap_or_else(|e| e.into_inner()).is_none()
    }
}

/// Another connection writes, deletes or renames the row at the worst moment of a load
/// with refresh: between MySQL's two statements. The documented outcome (module docs,
/// "SQL per operation"): a write landing between them is read, a delete or a rename
/// makes the load a miss; nothing is resurrected and the other writer's row stands.
/// PostgreSQL and SQLite load in one statement, so they return what it read.
async fn a_write_between_the_refresh_and_the_read(f: Fixture) {
    pause::install();
    let store = f.store().await;
    let table = f.qualified();
    let mysql = f.dialect == actix_flask_session::backends::sql::Dialect::MySql;
    let (old, new) = ("81a16101", "81a16102");
    for (case, key) in [
        ("write", "session:p-write"),
        ("delete", "session:p-delete"),
        ("rename", "session:p-rename"),
    ] {
        f.blocking(move |f2| f2.insert_raw(key, old, 600)).await;
        let handle = f.handle();
        let sql = match case {
            "write" => format!("UPDATE {table} SET data = X'{new}' WHERE session_id = '{key}'"),
            "delete" => format!("DELETE FROM {table} WHERE session_id = '{key}'"),
            _ => format!(
                "UPDATE {table} SET session_id = 'session:p-moved' WHERE session_id = '{key}'"
            ),
        };
        let sql = if f.dialect == actix_flask_session::backends::sql::Dialect::Postgres {
            sql.replace(&format!("X'{new}'"), &format!("'\\x{new}'::bytea"))
        } else {
            sql
        };
        pause::arm(table.clone(), move || handle.exec(&sql));
        let loaded = store.load(key, Some(HOUR)).await.unwrap();
        assert!(
            pause::fired(),
            "{:?} {case}: the pause point was not reached",
            f.dialect
        );
        let expected = match (mysql, case) {
            (true, "write") => Some(bytes(new)),
            (true, _) => None,
            (false, _) => Some(bytes(old)),
        };
        assert_eq!(loaded, expected, "{:?} {case}", f.dialect);
        let rows = f.rows_now().await;
        match case {
            "write" => {
                let row = rows
                    .iter()
                    .find(|r| r.session_id == key)
                    .expect("the row stands");
                assert_eq!(row.data, bytes(new), "{:?}", f.dialect);
            }
            "delete" => assert!(
                rows.iter().all(|r| r.session_id != key),
                "{:?}: resurrected",
                f.dialect
            ),
            _ => {
                assert!(rows.iter().all(|r| r.session_id != key), "{:?}", f.dialect);
                let moved = rows
                    .iter()
                    .find(|r| r.session_id == "session:p-moved")
                    .expect("moved");
                assert_eq!(moved.data, bytes(old), "{:?}", f.dialect);
                store.delete("session:p-moved").await.unwrap();
            }
        }
    }
}

for_each_db!(
    store_load_interleaved,
    a_write_between_the_refresh_and_the_read
);
