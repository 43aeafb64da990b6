//! The migration folders, run through `diesel_migrations` as the Diesel CLI runs them,
//! checked from each database's catalog; the library's templated `migrate()`; the
//! startup error for a missing table.
#![cfg(any(feature = "postgres", feature = "mysql", feature = "sqlite"))]

use crate::sql_support;

use actix_flask_session::SessionStore;
use actix_flask_session::backends::sql::{Dialect, SqlAlchemySessionInterface, SqlTable, migrate};
use diesel::connection::SimpleConnection;
use diesel::{Connection, QueryableByName, RunQueryDsl};
use diesel_migrations::MigrationHarness;
use sql_support::Fixture;

/// Up to five text columns of a catalog query.
#[derive(QueryableByName, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Cat {
    #[diesel(sql_type = diesel::sql_types::Text)]
    a: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    b: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    c: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    d: String,
}

fn cat(rows: &[(&str, &str, &str, &str)]) -> Vec<Cat> {
    rows.iter()
        .map(|(a, b, c, d)| Cat {
            a: a.to_string(),
            b: b.to_string(),
            c: c.to_string(),
            d: d.to_string(),
        })
        .collect()
}

#[cfg(feature = "postgres")]
fn pg_catalog(conn: &mut diesel::PgConnection, schema: &str, table: &str) -> (Vec<Cat>, Vec<Cat>) {
    let columns = diesel::sql_query(
        "SELECT column_name::text AS a, \
                (data_type || coalesce('(' || character_maximum_length || ')', ''))::text AS b, \
                is_nullable::text AS c, coalesce(column_default, '')::text AS d \
         FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 \
         ORDER BY ordinal_position",
    )
    .bind::<diesel::sql_types::Text, _>(schema)
    .bind::<diesel::sql_types::Text, _>(table)
    .load::<Cat>(conn)
    .expect("columns");
    // Constraints and indexes: name, kind, unique, columns.
    let indexes = diesel::sql_query(
        "SELECT i.relname::text AS a, \
                CASE WHEN x.indisprimary THEN 'primary' WHEN c.contype = 'u' THEN 'unique constraint' ELSE 'index' END AS b, \
                x.indisunique::text AS c, \
                (SELECT string_agg(a.attname, ',') FROM pg_attribute a WHERE a.attrelid = t.oid AND a.attnum = ANY(x.indkey))::text AS d \
         FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid \
         JOIN pg_namespace n ON n.oid = t.relnamespace LEFT JOIN pg_constraint c ON c.conindid = x.indexrelid \
         WHERE n.nspname = $1 AND t.relname = $2 ORDER BY 1",
    )
    .bind::<diesel::sql_types::Text, _>(schema)
    .bind::<diesel::sql_types::Text, _>(table)
    .load::<Cat>(conn)
    .expect("indexes");
    (columns, indexes)
}

#[cfg(feature = "postgres")]
#[actix_rt::test]
async fn postgres_migration_folder_runs_like_the_cli() {
    let fixture = Fixture::empty(Dialect::Postgres, "afs_mig_cli").await;
    let schema = fixture.object_name();
    fixture
        .blocking(move |f| {
            // The folder creates the default table in the search path: point it at our schema.
            let url = format!("{}&options=-csearch_path%3D{schema}", f.driver_url);
            let mut conn = diesel::PgConnection::establish(&url).expect("connect");
            let applied = conn
                .run_pending_migrations(migrate::POSTGRES_MIGRATIONS)
                .expect("up");
            assert_eq!(applied.len(), 1);
            let expected_columns = cat(&[
                (
                    "id",
                    "integer",
                    "NO",
                    "nextval('sessions_id_seq'::regclass)",
                ),
                ("session_id", "character varying(255)", "YES", ""),
                ("data", "bytea", "YES", ""),
                ("expiry", "timestamp without time zone", "YES", ""),
            ]);
            let expected_indexes = cat(&[
                ("sessions_expiry_idx", "index", "false", "expiry"),
                ("sessions_pkey", "primary", "true", "id"),
                (
                    "sessions_session_id_key",
                    "unique constraint",
                    "true",
                    "session_id",
                ),
            ]);
            let (columns, indexes) = pg_catalog(&mut conn, &schema, "sessions");
            assert_eq!(columns, expected_columns);
            assert_eq!(indexes, expected_indexes);
            // down.sql removes it; up again; then the library's migrate() is a no-op on it.
            conn.revert_last_migration(migrate::POSTGRES_MIGRATIONS)
                .expect("down");
            assert_eq!(pg_catalog(&mut conn, &schema, "sessions").0, []);
            conn.run_pending_migrations(migrate::POSTGRES_MIGRATIONS)
                .expect("up again");
            assert_eq!(
                pg_catalog(&mut conn, &schema, "sessions"),
                (expected_columns, expected_indexes)
            );
        })
        .await;
    let store = SqlAlchemySessionInterface::new(fixture.pool().await, fixture.table.clone())
        .await
        .expect("store");
    store.migrate().await.expect("migrate is idempotent");
    assert!(
        store
            .create("session:x", b"\x80", std::time::Duration::from_secs(60))
            .await
            .unwrap()
    );
}

#[cfg(feature = "postgres")]
#[actix_rt::test]
async fn postgres_migrate_templates_schema_table_and_sequence() {
    let fixture = Fixture::empty(Dialect::Postgres, "afs_mig_tpl").await;
    // Names of this run's own (the sequence lives in `public`, outside the fixture's schema).
    let schema = sql_support::unique("afs_mig_tpl_s");
    let seq = sql_support::unique("afs_tpl_seq");
    let table = SqlTable::new("Flask_Sessions")
        .unwrap()
        .with_schema(&schema)
        .unwrap()
        .with_sequence(&seq)
        .unwrap();
    let pool = fixture.pool().await;
    migrate::migrate(&pool, &table).await.expect("migrate");
    migrate::migrate(&pool, &table)
        .await
        .expect("migrate twice");
    let s = schema.clone();
    let (columns, indexes) = fixture
        .blocking(move |f| pg_catalog(&mut f.pg(), &s, "Flask_Sessions"))
        .await;
    assert_eq!(
        columns[0],
        cat(&[(
            "id",
            "integer",
            "NO",
            &format!("nextval('{seq}'::regclass)")
        )])[0]
    );
    assert_eq!(
        indexes,
        cat(&[
            ("Flask_Sessions_expiry_idx", "index", "false", "expiry"),
            ("Flask_Sessions_pkey", "primary", "true", "id"),
            (
                "Flask_Sessions_session_id_key",
                "unique constraint",
                "true",
                "session_id"
            ),
        ])
    );
    let store = SqlAlchemySessionInterface::new(pool, table)
        .await
        .expect("store");
    assert!(
        store
            .create("session:a", b"\x80", std::time::Duration::from_secs(60))
            .await
            .unwrap()
    );
    assert!(
        store
            .create("session:b", b"\x80", std::time::Duration::from_secs(60))
            .await
            .unwrap()
    );
    #[derive(QueryableByName)]
    struct Ids {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        id: i32,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        last: i64,
    }
    let sql = format!(
        "SELECT id, (SELECT last_value FROM {seq}) AS last FROM {schema}.\"Flask_Sessions\" ORDER BY id"
    );
    let ids = fixture
        .blocking(move |f| {
            diesel::sql_query(sql)
                .load::<Ids>(&mut f.pg())
                .expect("ids")
                .into_iter()
                .map(|r| (r.id, r.last))
                .collect::<Vec<_>>()
        })
        .await;
    assert_eq!(
        ids,
        [(1, 2), (2, 2)],
        "ids come from the configured sequence"
    );
    fixture
        .blocking(move |f| {
            f.exec(&format!(
                "DROP SCHEMA {schema} CASCADE; DROP SEQUENCE {seq}"
            ))
        })
        .await;
}

#[cfg(feature = "mysql")]
#[actix_rt::test]
async fn mysql_migration_folder_runs_like_the_cli() {
    // A database of this run's own (the migration folder writes the default table name).
    let db = sql_support::unique("afs_mig_cli");
    sql_support::ensure_mysql_database(&db);
    let url = format!("{}/{db}", sql_support::mysql_server());
    let url2 = url.clone();
    let db2 = db.clone();
    tokio::task::spawn_blocking(move || {
        let db = db2;
        let mut conn = diesel::MysqlConnection::establish(&url2).expect("connect");
        conn.batch_execute("DROP TABLE IF EXISTS sessions; DROP TABLE IF EXISTS __diesel_schema_migrations").expect("reset");
        assert_eq!(conn.run_pending_migrations(migrate::MYSQL_MIGRATIONS).expect("up").len(), 1);
        let catalog = |conn: &mut diesel::MysqlConnection| {
            let columns = diesel::sql_query(format!(
                "SELECT CAST(column_name AS CHAR) AS a, CAST(column_type AS CHAR) AS b, CAST(is_nullable AS CHAR) AS c, CAST(extra AS CHAR) AS d \
                 FROM information_schema.columns WHERE table_schema = '{db}' AND table_name = 'sessions' ORDER BY ordinal_position",
            ))
            .load::<Cat>(conn)
            .expect("columns");
            let indexes = diesel::sql_query(format!(
                "SELECT CAST(index_name AS CHAR) AS a, CAST(IF(non_unique = 0, 'unique', 'index') AS CHAR) AS b, \
                 CAST(seq_in_index AS CHAR) AS c, CAST(column_name AS CHAR) AS d \
                 FROM information_schema.statistics WHERE table_schema = '{db}' AND table_name = 'sessions' ORDER BY 1, 3",
            ))
            .load::<Cat>(conn)
            .expect("indexes");
            let mut indexes = indexes;
            indexes.sort();
            (columns, indexes)
        };
        let expected = (
            cat(&[
                ("id", "int(11)", "NO", "auto_increment"),
                ("session_id", "varchar(255)", "YES", ""),
                ("data", "longblob", "YES", ""),
                ("expiry", "datetime", "YES", ""),
            ]),
            cat(&[
                ("PRIMARY", "unique", "1", "id"),
                ("session_id", "unique", "1", "session_id"),
                ("sessions_expiry_idx", "index", "1", "expiry"),
            ]),
        );
        assert_eq!(catalog(&mut conn), expected);
        conn.revert_last_migration(migrate::MYSQL_MIGRATIONS).expect("down");
        assert_eq!(catalog(&mut conn).0, []);
        // A table as Flask-Session creates it (no expiry index): migrate() adds the index.
        conn.batch_execute(
            "CREATE TABLE sessions (id INTEGER NOT NULL AUTO_INCREMENT, session_id VARCHAR(255), \
             data BLOB, expiry DATETIME, PRIMARY KEY (id), UNIQUE (session_id))",
        )
        .expect("flask table");
    })
    .await
    .unwrap();
    let pool = actix_flask_session::backends::sql::SqlPool::connect(&url, &Fixture::options())
        .await
        .unwrap();
    migrate::migrate(&pool, &SqlTable::default())
        .await
        .expect("migrate");
    migrate::migrate(&pool, &SqlTable::default())
        .await
        .expect("migrate twice");
    let url2 = url.clone();
    let db2 = db.clone();
    let indexes = tokio::task::spawn_blocking(move || {
        let mut conn = diesel::MysqlConnection::establish(&url2).expect("connect");
        diesel::sql_query(format!(
            "SELECT CAST(index_name AS CHAR) AS a, CAST(IF(non_unique = 0, 'unique', 'index') AS CHAR) AS b, \
             CAST(seq_in_index AS CHAR) AS c, CAST(column_name AS CHAR) AS d \
             FROM information_schema.statistics WHERE table_schema = '{db2}' AND table_name = 'sessions' ORDER BY 1, 3",
        ))
        .load::<Cat>(&mut conn)
        .map(|mut rows| {
            rows.sort();
            rows
        })
        .expect("indexes")
    })
    .await
    .unwrap();
    assert_eq!(
        indexes,
        cat(&[
            ("PRIMARY", "unique", "1", "id"),
            ("session_id", "unique", "1", "session_id"),
            ("sessions_expiry_idx", "index", "1", "expiry"),
        ])
    );
    drop(pool);
    tokio::task::spawn_blocking(move || {
        let mut conn = diesel::MysqlConnection::establish(&url).expect("connect");
        conn.batch_execute(&format!("DROP DATABASE `{db}`"))
            .expect("drop database");
    })
    .await
    .unwrap();
}

#[cfg(feature = "mysql")]
#[actix_rt::test]
async fn mysql_schema_is_a_database() {
    let fixture = Fixture::empty(Dialect::MySql, "afs_mig_schema").await;
    let db = sql_support::unique("afs_mig_schema_db");
    let table = SqlTable::new("afs_sessions")
        .unwrap()
        .with_schema(&db)
        .unwrap();
    // Connected to afs_test; the table lives in the database named by the schema.
    let pool = fixture.pool().await;
    migrate::migrate(&pool, &table).await.expect("migrate");
    let store = SqlAlchemySessionInterface::new(pool, table)
        .await
        .expect("store");
    assert!(
        store
            .create(
                "session:s",
                b"\x81\xa1a\x01",
                std::time::Duration::from_secs(60)
            )
            .await
            .unwrap()
    );
    assert_eq!(
        store.load("session:s", None).await.unwrap(),
        Some(b"\x81\xa1a\x01".to_vec())
    );
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let sql = format!("SELECT COUNT(*) AS n FROM {db}.afs_sessions WHERE session_id = 'session:s'");
    let n = fixture
        .blocking(move |f| {
            diesel::sql_query(sql)
                .get_result::<N>(&mut f.mysql())
                .expect("count")
                .n
        })
        .await;
    assert_eq!(n, 1);
    fixture
        .blocking(move |f| f.exec(&format!("DROP DATABASE {db}")))
        .await;
}

#[cfg(feature = "sqlite")]
#[actix_rt::test]
async fn sqlite_migration_folder_runs_like_the_cli() {
    let fixture = Fixture::empty(Dialect::Sqlite, "afs_mig_cli").await;
    fixture
        .blocking(|f| {
            let mut conn = f.sqlite();
            assert_eq!(conn.run_pending_migrations(migrate::SQLITE_MIGRATIONS).expect("up").len(), 1);
            let catalog = |conn: &mut diesel::SqliteConnection| {
                let columns = diesel::sql_query(
                    "SELECT name AS a, type AS b, CAST(\"notnull\" AS TEXT) AS c, CAST(pk AS TEXT) AS d \
                     FROM pragma_table_info('sessions') ORDER BY cid",
                )
                .load::<Cat>(conn)
                .expect("columns");
                let indexes = diesel::sql_query(
                    "SELECT l.name AS a, l.origin AS b, CAST(l.\"unique\" AS TEXT) AS c, i.name AS d \
                     FROM pragma_index_list('sessions') l, pragma_index_info(l.name) i ORDER BY 1",
                )
                .load::<Cat>(conn)
                .expect("indexes");
                (columns, indexes)
            };
            let expected = (
                cat(&[
                    ("id", "INTEGER", "1", "1"),
                    ("session_id", "VARCHAR(255)", "0", "0"),
                    ("data", "BLOB", "0", "0"),
                    ("expiry", "DATETIME", "0", "0"),
                ]),
                cat(&[
                    ("sessions_expiry_idx", "c", "0", "expiry"),
                    ("sqlite_autoindex_sessions_1", "u", "1", "session_id"),
                ]),
            );
            assert_eq!(catalog(&mut conn), expected);
            conn.revert_last_migration(migrate::SQLITE_MIGRATIONS).expect("down");
            assert_eq!(catalog(&mut conn).0, []);
            conn.run_pending_migrations(migrate::SQLITE_MIGRATIONS).expect("up again");
            assert_eq!(catalog(&mut conn), expected);
        })
        .await;
    let pool = fixture.pool().await;
    migrate::migrate(&pool, &SqlTable::default())
        .await
        .expect("migrate is idempotent");
    let store = SqlAlchemySessionInterface::new(pool, SqlTable::default())
        .await
        .expect("store");
    assert!(
        store
            .create("session:x", b"\x80", std::time::Duration::from_secs(60))
            .await
            .unwrap()
    );
}

/// A missing table stops the start with a message that says how to create it.
async fn missing_table_is_a_startup_error(dialect: Dialect, name: &str) {
    let fixture = Fixture::empty(dialect, name).await;
    let err = SqlAlchemySessionInterface::new(fixture.pool().await, fixture.table.clone())
        .await
        .expect_err("no table yet");
    let message = err.to_string();
    // tests/tools/cli.rs runs the named command and starts the app after it.
    assert!(
        message.contains("create it with `actix-flask-session migrate` run with the same"),
        "{message}"
    );
    assert!(
        message.contains(&format!(
            "`cargo install actix-flask-session --features cli,{}`",
            dialect.feature()
        )),
        "{message}"
    );
    assert!(matches!(
        err,
        actix_flask_session::ConfigError::Backend { .. }
    ));
}

/// A configured `SESSION_SQLALCHEMY_SEQUENCE` that does not exist stops the start with
/// an error naming the key (it used to start, then answer 503 to every new session).
#[cfg(feature = "postgres")]
#[actix_rt::test]
async fn postgres_missing_sequence_is_a_startup_error() {
    let fixture = Fixture::new(Dialect::Postgres, "afs_mig_noseq").await;
    let seq = sql_support::unique("afs_missing_seq");
    let table = fixture.table.clone().with_sequence(&seq).unwrap();
    let err = SqlAlchemySessionInterface::new(fixture.pool().await, table.clone())
        .await
        .expect_err("no such sequence");
    let message = err.to_string();
    assert!(
        message.starts_with(&format!(
            "invalid value for SESSION_SQLALCHEMY_SEQUENCE: \"{seq}\"; the name of an \
             existing sequence"
        )),
        "{message}"
    );
    assert!(
        message.contains(&format!("CREATE SEQUENCE \"{seq}\"")),
        "{message}"
    );
    // Created, it is accepted and numbers the rows.
    let s = seq.clone();
    fixture
        .blocking(move |f| f.exec(&format!("CREATE SEQUENCE public.{s} START 7")))
        .await;
    let store = SqlAlchemySessionInterface::new(fixture.pool().await, table)
        .await
        .expect("the sequence exists now");
    assert!(
        store
            .create("session:q", b"\x80", std::time::Duration::from_secs(60))
            .await
            .unwrap()
    );
    fixture
        .blocking(move |f| f.exec(&format!("DROP SEQUENCE public.{seq}")))
        .await;
}

#[cfg(feature = "postgres")]
#[actix_rt::test]
async fn postgres_missing_table() {
    missing_table_is_a_startup_error(Dialect::Postgres, "afs_mig_missing").await;
}

#[cfg(feature = "mysql")]
#[actix_rt::test]
async fn mysql_missing_table() {
    missing_table_is_a_startup_error(Dialect::MySql, "afs_mig_missing").await;
}

#[cfg(feature = "sqlite")]
#[actix_rt::test]
async fn sqlite_missing_table() {
    missing_table_is_a_startup_error(Dialect::Sqlite, "afs_mig_missing").await;
}
