//! The `actix-flask-session` command-line tool, as a user runs it: from a directory of
//! their own (a temporary one, outside this repository) holding only `Session.toml`,
//! against the real databases, with the real Diesel CLI applying, redoing and reverting
//! the migration folders `migrate --emit` writes.
//!
//! The Diesel CLI comes from `scripts/diesel-cli.sh` (`DIESEL_CLI`, default its cache
//! path); a missing one fails these tests, it never skips them. Every test uses its own
//! schema, table or file.
#![cfg(all(
    feature = "cli",
    feature = "postgres",
    feature = "mysql",
    feature = "sqlite"
))]

use crate::sql_support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use diesel::connection::SimpleConnection;
use diesel::{Connection, QueryableByName, RunQueryDsl};
use figment::providers::Format as _;
use sql_support::{TEST_DB, ensure_mysql_database, ensure_pg_database, mysql_server, pg_url};

/// The Diesel CLI that `scripts/diesel-cli.sh` installed.
fn diesel() -> PathBuf {
    let path = std::env::var_os("DIESEL_CLI").map_or_else(
        || {
            let home = std::env::var_os("HOME").map_or_else(PathBuf::new, PathBuf::from);
            home.join(".cache/actix-flask-session-tools/diesel-2.3.14/bin/diesel")
        },
        PathBuf::from,
    );
    assert!(
        path.is_file(),
        "the Diesel CLI is missing ({}); run `bash scripts/diesel-cli.sh` (scripts/test.sh does)",
        path.display()
    );
    path
}

/// A user's project directory: `Session.toml` with `config`, nothing else of this crate.
struct Project {
    dir: tempfile::TempDir,
}

/// What a command printed, and whether it succeeded.
#[derive(Debug)]
struct Run {
    ok: bool,
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl From<Output> for Run {
    fn from(out: Output) -> Self {
        Run {
            ok: out.status.success(),
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

impl Run {
    #[track_caller]
    fn success(self) -> Self {
        assert!(self.ok, "command failed: {self:#?}");
        self
    }
}

impl Project {
    fn new(config: &str) -> Project {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("Session.toml"), config).expect("Session.toml");
        Project { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn command(&self, program: &Path, args: &[&str]) -> Run {
        let mut command = Command::new(program);
        command.args(args).current_dir(self.path());
        // Only the project's configuration: nothing from the caller's environment.
        for (key, _) in std::env::vars() {
            if key.starts_with("SESSION_")
                || key.starts_with("SQLALCHEMY_")
                || key == "SECRET_KEY"
                || key == "ACTIX_FLASK_SESSION_CONFIG"
                || key == "DATABASE_URL"
            {
                command.env_remove(key);
            }
        }
        command
            .output()
            .unwrap_or_else(|e| panic!("{}: {e}", program.display()))
            .into()
    }

    /// `actix-flask-session <args>` in the project.
    fn cli(&self, args: &[&str]) -> Run {
        self.command(Path::new(env!("CARGO_BIN_EXE_actix-flask-session")), args)
    }

    /// `diesel migration <action> --migration-dir migrations --database-url <url>`.
    fn diesel(&self, action: &str, url: &str) -> Run {
        self.command(
            &diesel(),
            &[
                "migration",
                action,
                "--migration-dir",
                "migrations",
                "--database-url",
                url,
            ],
        )
    }

    /// Replaces `Session.toml` with `config`.
    fn configure(&self, config: &str) {
        std::fs::write(self.path().join("Session.toml"), config).expect("Session.toml");
    }

    /// `migrate --emit migrations`: the folders it wrote (one a line), each holding
    /// exactly up.sql and down.sql.
    fn emit_all(&self) -> Vec<PathBuf> {
        let run = self.cli(&["migrate", "--emit", "migrations"]).success();
        run.stdout
            .lines()
            .map(|line| {
                let folder = PathBuf::from(line);
                assert!(folder.starts_with("migrations"), "{run:?}");
                let mut files: Vec<_> = std::fs::read_dir(self.path().join(&folder))
                    .expect("folder")
                    .map(|e| e.expect("entry").file_name().into_string().expect("name"))
                    .collect();
                files.sort();
                assert_eq!(files, ["down.sql", "up.sql"]);
                self.path().join(folder)
            })
            .collect()
    }

    /// `migrate --emit migrations`: the folder it wrote, holding exactly up.sql and down.sql.
    fn emit(&self) -> PathBuf {
        let run = self.cli(&["migrate", "--emit", "migrations"]).success();
        let folder = PathBuf::from(run.stdout.trim());
        assert!(folder.starts_with("migrations"), "{run:?}");
        let mut files: Vec<_> = std::fs::read_dir(self.path().join(&folder))
            .expect("folder")
            .map(|e| e.expect("entry").file_name().into_string().expect("name"))
            .collect();
        files.sort();
        assert_eq!(files, ["down.sql", "up.sql"]);
        self.path().join(folder)
    }
}

/// A PostgreSQL database of the test's own (dropped at the end): the Diesel CLI keeps its
/// `__diesel_schema_migrations` table there, and migration versions (the emit time, to
/// the second) of tests running at once must not meet in one table.
struct PgDatabase {
    name: String,
    url: String,
}

impl PgDatabase {
    fn new(tag: &str) -> PgDatabase {
        let name = unique(tag);
        let mut admin = diesel::PgConnection::establish(&pg_url("test")).expect("connect");
        admin
            .batch_execute(&format!("CREATE DATABASE \"{name}\""))
            .expect("create database");
        let url = pg_url(&name);
        PgDatabase { name, url }
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        if let Ok(mut admin) = diesel::PgConnection::establish(&pg_url("test")) {
            let _ = admin.batch_execute(&format!(
                "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                self.name
            ));
        }
    }
}

fn unique(tag: &str) -> String {
    format!("afs_cli_{tag}_{:08x}", rand::random::<u32>())
}

#[derive(QueryableByName, Debug, PartialEq, Eq)]
struct Text {
    #[diesel(sql_type = diesel::sql_types::Text)]
    t: String,
}

fn texts<C>(conn: &mut C, sql: &str) -> Vec<String>
where
    C: Connection,
    diesel::query_builder::SqlQuery: diesel::query_dsl::LoadQuery<'static, C, Text>,
{
    diesel::sql_query(sql)
        .load::<Text>(conn)
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .into_iter()
        .map(|r| r.t)
        .collect()
}

/// What PostgreSQL holds of the session table in `schema`: columns with defaults,
/// indexes, the sequence, the schema's comment.
fn pg_state(conn: &mut diesel::PgConnection, schema: &str, sequence: &str) -> Vec<String> {
    let mut state = texts(
        conn,
        &format!(
            "SELECT column_name || ' ' || data_type || ' ' || coalesce(column_default, '-') AS t \
             FROM information_schema.columns WHERE table_schema = '{schema}' \
             AND table_name = 'sessions' ORDER BY ordinal_position"
        ),
    );
    state.extend(texts(
        conn,
        &format!(
            "SELECT indexname || ': ' || indexdef AS t FROM pg_indexes \
             WHERE schemaname = '{schema}' ORDER BY indexname"
        ),
    ));
    state.extend(texts(
        conn,
        &format!("SELECT 'sequence ' || relname AS t FROM pg_class WHERE relkind = 'S' AND relname = '{sequence}'"),
    ));
    state.extend(texts(
        conn,
        &format!(
            "SELECT 'schema ' || nspname || ' ' || coalesce(obj_description(oid, 'pg_namespace'), '-') AS t \
             FROM pg_namespace WHERE nspname = '{schema}'"
        ),
    ));
    state
}

/// The README's PostgreSQL path: `migrate --emit` with a schema and a sequence, `diesel
/// migration run`, the app's store on it, `cleanup`, `diesel migration redo`, and
/// `revert` removing everything `up.sql` created (schema included).
#[actix_rt::test]
async fn postgres_emitted_migration_with_schema_and_sequence() {
    let db = PgDatabase::new("pg");
    let schema = unique("pg");
    let sequence = format!("{schema}_id_seq");
    let url = db.url.clone();
    let project = Project::new(&format!(
        "SESSION_TYPE = \"sqlalchemy\"\nSESSION_SQLALCHEMY = \"{url}\"\n\
         SESSION_SQLALCHEMY_SCHEMA = \"{schema}\"\nSESSION_SQLALCHEMY_SEQUENCE = \"{sequence}\"\n"
    ));
    let mut conn = diesel::PgConnection::establish(&url).expect("connect");

    let folder = project.emit();
    let up = std::fs::read_to_string(folder.join("up.sql")).expect("up.sql");
    assert!(
        up.contains(&format!("CREATE SEQUENCE \"{sequence}\";")),
        "{up}"
    );
    project.diesel("run", &url).success();
    let created = vec![
        format!("id integer nextval('{sequence}'::regclass)"),
        "session_id character varying -".to_owned(),
        "data bytea -".to_owned(),
        "expiry timestamp without time zone -".to_owned(),
        format!(
            "sessions_expiry_idx: CREATE INDEX sessions_expiry_idx ON {schema}.sessions USING btree (expiry)"
        ),
        format!(
            "sessions_pkey: CREATE UNIQUE INDEX sessions_pkey ON {schema}.sessions USING btree (id)"
        ),
        format!(
            "sessions_session_id_key: CREATE UNIQUE INDEX sessions_session_id_key ON {schema}.sessions USING btree (session_id)"
        ),
        format!("sequence {sequence}"),
        format!("schema {schema} created by the actix-flask-session migration"),
    ];
    assert_eq!(pg_state(&mut conn, &schema, &sequence), created);

    // The app starts on it, and the cron cleanup deletes exactly the expired row.
    let figment = figment::Figment::from(figment::providers::Toml::file(
        project.path().join("Session.toml"),
    ));
    actix_flask_session::Session::from_figment(&figment)
        .await
        .expect("the app starts on the migrated table");
    conn.batch_execute(&format!(
        "INSERT INTO \"{schema}\".sessions (session_id, data, expiry) VALUES \
         ('session:old', '\\x80', now() at time zone 'utc' - interval '1 minute'), \
         ('session:live', '\\x80', now() at time zone 'utc' + interval '1 hour')"
    ))
    .expect("rows");
    let run = project.cli(&["cleanup"]).success();
    assert_eq!(
        run.stdout,
        "1 expired session deleted from the postgres store\n"
    );
    assert_eq!(
        texts(
            &mut conn,
            &format!("SELECT session_id AS t FROM \"{schema}\".sessions")
        ),
        ["session:live"]
    );
    let ids = texts(
        &mut conn,
        &format!("SELECT id::text AS t FROM \"{schema}\".sessions"),
    );
    let last = texts(
        &mut conn,
        &format!("SELECT last_value::text AS t FROM \"{sequence}\""),
    );
    assert_eq!(ids, last, "ids come from the configured sequence");

    // redo = down + up: the same objects again, empty.
    project.diesel("redo", &url).success();
    assert_eq!(pg_state(&mut conn, &schema, &sequence), created);
    assert_eq!(
        texts(
            &mut conn,
            &format!("SELECT session_id AS t FROM \"{schema}\".sessions")
        ),
        Vec::<String>::new()
    );
    // revert: nothing of it is left.
    project.diesel("revert", &url).success();
    assert_eq!(
        pg_state(&mut conn, &schema, &sequence),
        Vec::<String>::new()
    );
    // A second emit into the same directory is refused: it would create the table twice.
    let again = project.cli(&["migrate", "--emit", "migrations"]);
    assert_eq!(again.code, Some(1), "{again:?}");
    assert!(
        again.stderr.contains("already holds this migration"),
        "{again:?}"
    );
}

/// A schema that existed before `up.sql` is used, and `down.sql` leaves it (and what
/// else is in it) alone.
#[test]
fn postgres_existing_schema_is_kept_by_down() {
    let db = PgDatabase::new("pgkeep");
    let schema = unique("pgkeep");
    let url = db.url.clone();
    let mut conn = diesel::PgConnection::establish(&url).expect("connect");
    conn.batch_execute(&format!(
        "CREATE SCHEMA \"{schema}\"; CREATE TABLE \"{schema}\".other (x int)"
    ))
    .expect("schema");
    let project = Project::new(&format!(
        "SESSION_TYPE = \"sqlalchemy\"\nSESSION_SQLALCHEMY = \"{url}\"\nSESSION_SQLALCHEMY_SCHEMA = \"{schema}\"\n"
    ));
    project.emit();
    project.diesel("run", &url).success();
    project.diesel("redo", &url).success();
    project.diesel("revert", &url).success();
    assert_eq!(
        texts(
            &mut conn,
            &format!(
                "SELECT table_name::text AS t FROM information_schema.tables WHERE table_schema = '{schema}'"
            )
        ),
        ["other"]
    );
}

/// MariaDB: emit, run, redo, revert; and the direct `migrate` (idempotent) with `cleanup`.
#[test]
fn mysql_emitted_migration_and_direct_migrate() {
    ensure_mysql_database(TEST_DB);
    let table = unique("my");
    let url = format!("{}/{TEST_DB}", mysql_server());
    let project = Project::new(&format!(
        "SESSION_TYPE = \"sqlalchemy\"\nSESSION_SQLALCHEMY = \"{url}\"\nSESSION_SQLALCHEMY_TABLE = \"{table}\"\n"
    ));
    let mut conn = diesel::MysqlConnection::establish(&url).expect("connect");
    let columns = |conn: &mut diesel::MysqlConnection| {
        texts(
            conn,
            &format!(
                "SELECT CONCAT(column_name, ' ', column_type, ' ', column_key) AS t FROM information_schema.columns \
                 WHERE table_schema = DATABASE() AND table_name = '{table}' ORDER BY ordinal_position"
            ),
        )
    };
    let created = [
        "id int(11) PRI",
        "session_id varchar(255) UNI",
        "data longblob ",
        "expiry datetime MUL",
    ];
    project.emit();
    project.diesel("run", &url).success();
    assert_eq!(columns(&mut conn), created);
    project.diesel("redo", &url).success();
    assert_eq!(columns(&mut conn), created);
    project.diesel("revert", &url).success();
    assert_eq!(columns(&mut conn), Vec::<String>::new());

    project.cli(&["migrate"]).success();
    let run = project.cli(&["migrate"]).success();
    assert_eq!(
        run.stdout,
        format!("session table {table} ready on mysql (database from SESSION_SQLALCHEMY)\n")
    );
    assert_eq!(columns(&mut conn), created);
    conn.batch_execute(&format!(
        "INSERT INTO `{table}` (session_id, data, expiry) VALUES \
         ('session:a', x'80', UTC_TIMESTAMP() - INTERVAL 1 MINUTE), \
         ('session:b', x'80', UTC_TIMESTAMP() - INTERVAL 2 MINUTE), \
         ('session:c', x'80', UTC_TIMESTAMP() + INTERVAL 1 HOUR)"
    ))
    .expect("rows");
    let run = project.cli(&["cleanup"]).success();
    assert_eq!(
        run.stdout,
        "2 expired sessions deleted from the mysql store\n"
    );
    conn.batch_execute(&format!("DROP TABLE `{table}`"))
        .expect("drop");
}

/// SQLite with the URL forms of both sides: the app configured with Diesel's plain path
/// or with SQLAlchemy's `sqlite:///`, the Diesel CLI given the plain path.
#[test]
fn sqlite_emitted_migration_with_either_url_form() {
    for url in ["sessions.db", "sqlite:///sessions.db"] {
        let project = Project::new(&format!(
            "SESSION_TYPE = \"sqlalchemy\"\nSESSION_SQLALCHEMY = \"{url}\"\n"
        ));
        let folder = project.emit();
        let down = std::fs::read_to_string(folder.join("down.sql")).expect("down.sql");
        assert!(down.ends_with("DROP TABLE \"sessions\";\n"), "{down}");
        project.diesel("run", "sessions.db").success();
        project.diesel("redo", "sessions.db").success();
        let db = project.path().join("sessions.db");
        let mut conn =
            diesel::SqliteConnection::establish(db.to_str().expect("utf-8")).expect("open");
        let objects = |conn: &mut diesel::SqliteConnection| {
            texts(
                conn,
                "SELECT type || ' ' || name AS t FROM sqlite_master \
                 WHERE tbl_name = 'sessions' ORDER BY name",
            )
        };
        assert_eq!(
            objects(&mut conn),
            [
                "table sessions",
                "index sessions_expiry_idx",
                "index sqlite_autoindex_sessions_1"
            ],
            "{url}"
        );
        conn.batch_execute(
            "INSERT INTO sessions (session_id, data, expiry) VALUES \
             ('session:x', x'80', '2000-01-01 00:00:00.000000')",
        )
        .expect("row");
        let run = project.cli(&["cleanup"]).success();
        assert_eq!(
            run.stdout, "1 expired session deleted from the sqlite store\n",
            "{url}"
        );
        project.diesel("revert", "sessions.db").success();
        assert_eq!(objects(&mut conn), Vec::<String>::new(), "{url}");
    }
}

/// The startup error for a missing table names a command, and that command, run as
/// written, creates the table the app then starts on. `--print` shows the statements
/// without connecting.
#[actix_rt::test]
async fn missing_table_error_names_a_command_that_works() {
    ensure_pg_database(TEST_DB);
    let schema = unique("pgmiss");
    let url = pg_url(TEST_DB);
    let project = Project::new(&format!(
        "SESSION_TYPE = \"sqlalchemy\"\nSESSION_SQLALCHEMY = \"{url}\"\nSESSION_SQLALCHEMY_SCHEMA = \"{schema}\"\n"
    ));
    let figment = figment::Figment::from(figment::providers::Toml::file(
        project.path().join("Session.toml"),
    ));
    let err = actix_flask_session::Session::from_figment(&figment)
        .await
        .expect_err("no table yet")
        .to_string();
    assert!(
        err.contains(
            "create it with `actix-flask-session migrate` run with the same SESSION_* configuration"
        ),
        "{err}"
    );
    assert!(
        err.contains("cargo install actix-flask-session --features cli,postgres"),
        "{err}"
    );
    let print = project.cli(&["migrate", "--print"]).success();
    assert!(
        print
            .stdout
            .starts_with(&format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\";\n")),
        "{print:?}"
    );
    let run = project.cli(&["migrate"]).success();
    assert_eq!(
        run.stdout,
        format!(
            "session table {schema}.sessions ready on postgres (database from SESSION_SQLALCHEMY)\n"
        )
    );
    actix_flask_session::Session::from_figment(&figment)
        .await
        .expect("the app starts after the suggested command");
    let mut conn = diesel::PgConnection::establish(&url).expect("connect");
    conn.batch_execute(&format!("DROP SCHEMA \"{schema}\" CASCADE"))
        .expect("drop");
}

/// `cleanup` on stores with native expiry has nothing to do; on the filesystem store it
/// deletes expired files. `--config` names the file as `ACTIX_FLASK_SESSION_CONFIG` does.
#[test]
fn cleanup_on_other_stores() {
    let redis = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let project = Project::new("SESSION_TYPE = \"filesystem\"\nSESSION_FILE_DIR = \"sessions\"\n");
    std::fs::write(
        project.path().join("redis.toml"),
        format!("SESSION_TYPE = \"redis\"\nSESSION_REDIS = \"{redis}\"\n"),
    )
    .expect("redis.toml");
    let run = project
        .cli(&["--config", "redis.toml", "cleanup"])
        .success();
    assert_eq!(
        run.stdout,
        "nothing to clean up: the redis store expires sessions itself\n"
    );
    let run = project.cli(&["cleanup"]).success();
    assert_eq!(
        run.stdout,
        "0 expired sessions deleted from the filesystem store\n"
    );
}

/// Errors are readable, with their causes, and exit with 1 (usage errors with 2).
#[test]
fn errors_are_readable_with_exit_codes() {
    let project = Project::new("SESSION_TYPE = \"rediss\"\n");
    let run = project.cli(&["cleanup"]);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(
        run.stderr
            .starts_with("error: invalid value for SESSION_TYPE: \"rediss\""),
        "{run:?}"
    );
    let run = project.cli(&["--config", "missing.toml", "migrate"]);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(run.stderr.contains("missing.toml"), "{run:?}");
    std::fs::write(
        project.path().join("redis.toml"),
        "SESSION_TYPE = \"redis\"\n",
    )
    .expect("redis.toml");
    let run = project.cli(&["--config", "redis.toml", "migrate"]);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert_eq!(
        run.stderr,
        "error: `migrate` creates the SQL session table, for SESSION_TYPE = \"sqlalchemy\"; \
         SESSION_TYPE is \"redis\" (the other stores need no migration)\n"
    );
    let run = project.cli(&["migrate", "--print", "--emit", "x"]);
    assert_eq!(run.code, Some(2), "{run:?}");
    // A SQLite schema is an attached database the Diesel CLI would not attach.
    std::fs::write(
        project.path().join("sqlite.toml"),
        "SESSION_TYPE = \"sqlalchemy\"\nSESSION_SQLALCHEMY = \"app.db\"\nSESSION_SQLALCHEMY_SCHEMA = \"extra\"\n",
    )
    .expect("sqlite.toml");
    let run = project.cli(&["--config", "sqlite.toml", "migrate", "--emit", "migrations"]);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(
        run.stderr.starts_with(
            "error: invalid value for SESSION_SQLALCHEMY_SCHEMA: \"extra\"; no schema on SQLite"
        ),
        "{run:?}"
    );
    assert!(!project.path().join("migrations").exists());
    // A database that is down: the error and its cause.
    std::fs::write(
        project.path().join("down.toml"),
        "SESSION_TYPE = \"sqlalchemy\"\nSESSION_SQLALCHEMY = \"postgresql://root@127.0.0.1:1/x?connect_timeout=2\"\n",
    )
    .expect("down.toml");
    let run = project.cli(&["--config", "down.toml", "migrate"]);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(
        run.stderr.starts_with(
            "error: cannot set up the postgres session store: cannot connect to the database named by SESSION_SQLALCHEMY\n  caused by: "
        ),
        "{run:?}"
    );
}

/// Drops the MariaDB database of this name when dropped.
struct MySqlDatabase(String);

impl Drop for MySqlDatabase {
    fn drop(&mut self) {
        if let Ok(mut conn) =
            diesel::MysqlConnection::establish(&format!("{}/{TEST_DB}", mysql_server()))
        {
            let _ = conn.batch_execute(&format!("DROP DATABASE IF EXISTS `{}`", self.0));
        }
    }
}

/// The folder name of an emitted migration, without its version.
fn migration_name(folder: &Path) -> String {
    let name = folder.file_name().expect("name").to_string_lossy();
    name.split_once('_').expect("version").1.to_owned()
}

/// `SESSION_USER_KEY` on PostgreSQL: an app that already has its session migration adds
/// `SESSION_USER_KEY` and emits again, which writes only the index table's migration; the
/// app refuses to start until it is applied; `revert` drops the index table and leaves
/// the session table; `redo` brings it back.
#[actix_rt::test]
async fn postgres_user_index_migration_added_later() {
    let db = PgDatabase::new("pgusers");
    let schema = unique("pgusers");
    let url = db.url.clone();
    let base = format!(
        "SESSION_TYPE = \"sqlalchemy\"\nSESSION_SQLALCHEMY = \"{url}\"\nSESSION_SQLALCHEMY_SCHEMA = \"{schema}\"\n"
    );
    let project = Project::new(&base);
    let mut conn = diesel::PgConnection::establish(&url).expect("connect");
    let first = project.emit_all();
    assert_eq!(
        first.iter().map(|f| migration_name(f)).collect::<Vec<_>>(),
        [format!("create_session_table_{schema}_sessions")]
    );
    project.diesel("run", &url).success();

    project.configure(&format!("{base}SESSION_USER_KEY = \"_user_id\"\n"));
    let figment = || {
        figment::Figment::from(figment::providers::Toml::file(
            project.path().join("Session.toml"),
        ))
    };
    let refused = actix_flask_session::Session::from_figment(&figment())
        .await
        .expect_err("no index table yet");
    let message = format!("{refused:#}");
    assert!(
        message.contains(&format!(
            "per-user index table {schema}.sessions_users is missing"
        )) && message.contains("actix-flask-session migrate"),
        "{message}"
    );
    let second = project.emit_all();
    assert_eq!(
        second.iter().map(|f| migration_name(f)).collect::<Vec<_>>(),
        [format!("create_session_users_{schema}_sessions")]
    );
    let down = std::fs::read_to_string(second[0].join("down.sql")).expect("down.sql");
    assert!(
        down.ends_with(&format!("DROP TABLE \"{schema}\".\"sessions_users\";\n")),
        "{down}"
    );
    project.diesel("run", &url).success();
    let tables = |conn: &mut diesel::PgConnection| {
        texts(
            conn,
            &format!(
                "SELECT table_name::text AS t FROM information_schema.tables \
                 WHERE table_schema = '{schema}' ORDER BY table_name"
            ),
        )
    };
    let columns = |conn: &mut diesel::PgConnection| {
        texts(
            conn,
            &format!(
                "SELECT column_name || ' ' || data_type || ' ' || is_nullable AS t \
                 FROM information_schema.columns WHERE table_schema = '{schema}' \
                 AND table_name = 'sessions_users' ORDER BY ordinal_position"
            ),
        )
    };
    let created = [
        "user_index character varying NO",
        "handle character varying NO",
        "session_id character varying NO",
        "created_us bigint NO",
        "last_seen bigint NO",
        "client_addr character varying YES",
        "user_agent character varying YES",
        "expiry timestamp without time zone NO",
    ];
    assert_eq!(tables(&mut conn), ["sessions", "sessions_users"]);
    assert_eq!(columns(&mut conn), created);
    assert_eq!(
        texts(
            &mut conn,
            &format!(
                "SELECT indexname || ': ' || indexdef AS t FROM pg_indexes \
                 WHERE schemaname = '{schema}' AND tablename = 'sessions_users' ORDER BY indexname"
            )
        ),
        [
            format!(
                "sessions_users_expiry_idx: CREATE INDEX sessions_users_expiry_idx ON {schema}.sessions_users USING btree (expiry)"
            ),
            format!(
                "sessions_users_pkey: CREATE UNIQUE INDEX sessions_users_pkey ON {schema}.sessions_users USING btree (user_index, handle)"
            ),
        ]
    );
    actix_flask_session::Session::from_figment(&figment())
        .await
        .expect("the app starts with the index table");

    // revert: the index table goes, the session table stays.
    project.diesel("revert", &url).success();
    assert_eq!(tables(&mut conn), ["sessions"]);
    project.diesel("run", &url).success();
    project.diesel("redo", &url).success();
    assert_eq!(columns(&mut conn), created);
    // Emitting again is refused: the index table's migration is there.
    let again = project.cli(&["migrate", "--emit", "migrations"]);
    assert_eq!(again.code, Some(1), "{again:?}");
    assert!(
        again.stderr.contains("already holds this migration"),
        "{again:?}"
    );
}

/// `SESSION_USER_KEY` on MariaDB and SQLite: one emit writes both migrations (the index
/// table's after the session table's), `diesel migration run`, `redo` and `revert` them;
/// the direct `migrate` creates both tables and says so.
#[test]
fn mysql_and_sqlite_user_index_migrations() {
    // A database of its own: the Diesel CLI's migration table there must not meet the
    // versions (emit times, to the second) of other tests running at once.
    let database = unique("myusers");
    ensure_mysql_database(&database);
    let _drop = MySqlDatabase(database.clone());
    let table = "sessions".to_owned();
    let my_url = format!("{}/{database}", mysql_server());
    let cases = [
        (my_url.clone(), my_url.clone(), table.clone()),
        (
            "sqlite:///sessions.db".to_owned(),
            "sessions.db".to_owned(),
            "sessions".to_owned(),
        ),
    ];
    for (url, diesel_url, table) in cases {
        let project = Project::new(&format!(
            "SESSION_TYPE = \"sqlalchemy\"\nSESSION_SQLALCHEMY = \"{url}\"\n\
             SESSION_SQLALCHEMY_TABLE = \"{table}\"\nSESSION_USER_KEY = \"_user_id\"\n"
        ));
        let folders = project.emit_all();
        assert_eq!(
            folders
                .iter()
                .map(|f| migration_name(f))
                .collect::<Vec<_>>(),
            [
                format!("create_session_table_{table}"),
                format!("create_session_users_{table}")
            ],
            "{url}"
        );
        let mysql = url.starts_with("mysql");
        let tables = |project: &Project| -> Vec<String> {
            if mysql {
                let mut conn = diesel::MysqlConnection::establish(&my_url).expect("connect");
                texts(
                    &mut conn,
                    &format!(
                        "SELECT CONCAT(table_name, ' ', column_name, ' ', column_key) AS t \
                         FROM information_schema.columns WHERE table_schema = DATABASE() \
                         AND table_name IN ('{table}', '{table}_users') \
                         AND column_key <> '' ORDER BY table_name, column_name"
                    ),
                )
            } else {
                let db = project.path().join("sessions.db");
                let mut conn =
                    diesel::SqliteConnection::establish(db.to_str().expect("utf-8")).expect("open");
                texts(
                    &mut conn,
                    "SELECT type || ' ' || name AS t FROM sqlite_master \
                     WHERE tbl_name LIKE 'sessions%' ORDER BY name",
                )
            }
        };
        let both: Vec<String> = if mysql {
            vec![
                format!("{table} expiry MUL"),
                format!("{table} id PRI"),
                format!("{table} session_id UNI"),
                format!("{table}_users expiry MUL"),
                format!("{table}_users handle PRI"),
                format!("{table}_users user_index PRI"),
            ]
        } else {
            [
                "table sessions",
                "index sessions_expiry_idx",
                "table sessions_users",
                "index sessions_users_expiry_idx",
                "index sqlite_autoindex_sessions_1",
                "index sqlite_autoindex_sessions_users_1",
            ]
            .map(str::to_owned)
            .to_vec()
        };
        let sessions_only: Vec<String> = both
            .iter()
            .filter(|t| !t.contains("_users"))
            .cloned()
            .collect();
        project.diesel("run", &diesel_url).success();
        assert_eq!(tables(&project), both, "{url}");
        project.diesel("redo", &diesel_url).success();
        assert_eq!(tables(&project), both, "{url}");
        project.diesel("revert", &diesel_url).success();
        assert_eq!(tables(&project), sessions_only, "{url}");
        project.diesel("revert", &diesel_url).success();
        assert_eq!(tables(&project), Vec::<String>::new(), "{url}");

        // The direct `migrate`, twice (idempotent).
        project.cli(&["migrate"]).success();
        let run = project.cli(&["migrate"]).success();
        assert!(
            run.stdout
                .ends_with("per-user index table (SESSION_USER_KEY) ready beside it\n"),
            "{run:?}"
        );
        assert_eq!(tables(&project), both, "{url}");
        let print = project.cli(&["migrate", "--print"]).success();
        assert!(
            print.stdout.contains(&format!(
                "CREATE TABLE IF NOT EXISTS {}",
                if mysql {
                    format!("`{table}_users`")
                } else {
                    format!("\"{table}_users\"")
                }
            )),
            "{print:?}"
        );
        // `cleanup` sweeps the expired index rows too, and counts the sessions only.
        let (q, past, future) = if mysql {
            (
                "`",
                "UTC_TIMESTAMP() - INTERVAL 1 MINUTE",
                "UTC_TIMESTAMP() + INTERVAL 1 HOUR",
            )
        } else {
            (
                "\"",
                "'2000-01-01 00:00:00.000000'",
                "'2999-01-01 00:00:00.000000'",
            )
        };
        let rows = format!(
            "INSERT INTO {q}{table}{q} (session_id, data, expiry) VALUES ('session:old', x'80', {past}); \
             INSERT INTO {q}{table}_users{q} (user_index, handle, session_id, created_us, last_seen, expiry) \
             VALUES ('session:user:u', 'h1', 'session:old', 1, 1, {past}), \
             ('session:user:u', 'h2', 'session:live', 1, 1, {future})"
        );
        let handles = format!("SELECT handle AS t FROM {q}{table}_users{q}");
        let left = if mysql {
            let mut conn = diesel::MysqlConnection::establish(&my_url).expect("connect");
            conn.batch_execute(&rows).expect("rows");
            let run = project.cli(&["cleanup"]).success();
            assert_eq!(
                run.stdout,
                "1 expired session deleted from the mysql store\n"
            );
            let left = texts(&mut conn, &handles);
            conn.batch_execute(&format!("DROP TABLE `{table}_users`; DROP TABLE `{table}`"))
                .expect("drop");
            left
        } else {
            let db = project.path().join("sessions.db");
            let mut conn =
                diesel::SqliteConnection::establish(db.to_str().expect("utf-8")).expect("open");
            conn.batch_execute(&rows).expect("rows");
            let run = project.cli(&["cleanup"]).success();
            assert_eq!(
                run.stdout,
                "1 expired session deleted from the sqlite store\n"
            );
            texts(&mut conn, &handles)
        };
        assert_eq!(left, ["h2"], "{url}");
    }
}
