//! Several app instances on one store, as behind a load balancer: three real actix
//! servers (each its own `Session` built from the same settings, so its own store
//! connections) share Redis (alone or through Sentinel), PostgreSQL, MongoDB or one
//! filesystem directory, and one
//! browser sends each request to the next instance in turn. Login, reads, writes,
//! `regenerate` and logout must behave exactly as on one instance.

use serde_json::json;

use crate::support::{Browser, MirrorApp, Settings, random_prefix};

const SECRET: &str = "instances-secret";
const LIFETIME: i64 = 3600;

fn base(tag: &str) -> Settings {
    Settings::default()
        .str("SECRET_KEY", SECRET)
        .bool("SESSION_USE_SIGNER", true)
        .str("SESSION_KEY_PREFIX", random_prefix(tag))
        .int("PERMANENT_SESSION_LIFETIME", LIFETIME)
}

/// The session cookie's sid (signed cookie: `<sid>.<signature>`).
fn sid(cookie: &str) -> &str {
    assert_eq!(cookie.len(), 71, "signed cookie {cookie}");
    &cookie[..43]
}

async fn three_instances_behave_as_one(settings: Settings) {
    three_instances_with([
        settings.session().await,
        settings.session().await,
        settings.session().await,
    ])
    .await;
}

async fn three_instances_with(sessions: [actix_flask_session::Session; 3]) {
    let apps = sessions.map(MirrorApp::start);
    let mut turn = 0usize;
    let mut next = |path: &str| {
        let url = format!("{}{path}", apps[turn % apps.len()].url());
        turn += 1;
        url
    };
    let b = Browser::new();

    // Login on instance 0.
    let login = b.post_json(&next("/set/user"), &json!("alice")).await;
    assert_eq!((login.status, login.body.as_str()), (200, "ok"));
    let first = login.cookie("session").expect("a session cookie on login");
    let first_sid = sid(&first).to_owned();

    // Read on 1, write on 2, read everything back on 0.
    assert_eq!(
        b.get(&next("/get/user")).await.json(),
        json!({ "value": "alice" })
    );
    let write = b.post_json(&next("/set/n"), &json!(1)).await;
    assert_eq!((write.status, write.body.as_str()), (200, "ok"));
    let dump = b.get(&next("/dump")).await.json();
    assert_eq!(
        dump,
        json!({ "sid": first_sid, "permanent": true, "data": { "_permanent": true, "user": "alice", "n": 1 } })
    );

    // A write on 1 that overwrites a value; 2 sees the new value.
    b.post_json(&next("/set/n"), &json!(2)).await;
    assert_eq!(b.get(&next("/get/n")).await.json(), json!({ "value": 2 }));

    // Regenerate on 0: a new sid, the same data on 1; the old cookie is dead on 2.
    let regen = b.post(&next("/regenerate")).await;
    assert_eq!((regen.status, regen.body.as_str()), (200, "ok"));
    let second = regen.cookie("session").expect("a new cookie on regenerate");
    let second_sid = sid(&second).to_owned();
    assert_ne!(second_sid, first_sid);
    assert_eq!(
        b.get(&next("/dump")).await.json(),
        json!({ "sid": second_sid, "permanent": true, "data": { "_permanent": true, "user": "alice", "n": 2 } })
    );
    let replay =
        Browser::send_with_cookie("GET", &next("/get/user"), &format!("session={first}")).await;
    assert_eq!(replay.json(), json!({ "missing": true }));

    // Logout on 0: the cookie is removed, and neither 1 nor 2 knows the session.
    let logout = b.post(&next("/clear")).await;
    assert_eq!((logout.status, logout.body.as_str()), (200, "ok"));
    assert_eq!(
        logout.cookie("session").as_deref(),
        Some(""),
        "{:?}",
        logout.set_cookies
    );
    assert_eq!(
        b.get(&next("/get/user")).await.json(),
        json!({ "missing": true })
    );
    let replay =
        Browser::send_with_cookie("GET", &next("/get/user"), &format!("session={second}")).await;
    assert_eq!(replay.json(), json!({ "missing": true }));
    drop(apps);
}

#[cfg(feature = "redis")]
#[actix_rt::test]
async fn three_instances_on_one_redis() {
    let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    three_instances_behave_as_one(
        base("instances-redis")
            .str("SESSION_TYPE", "redis")
            .str("SESSION_REDIS", url),
    )
    .await;
}

#[cfg(feature = "postgres")]
#[actix_rt::test]
async fn three_instances_on_one_postgres_table() {
    use actix_flask_session::backends::sql::Dialect;
    let fixture = crate::sql_support::Fixture::new(Dialect::Postgres, "afs_instances").await;
    let schema = fixture
        .table
        .schema()
        .expect("a schema")
        .as_str()
        .to_owned();
    three_instances_behave_as_one(
        base("instances-pg")
            .str("SESSION_TYPE", "sqlalchemy")
            .str("SESSION_SQLALCHEMY", fixture.url.clone())
            .str("SESSION_SQLALCHEMY_SCHEMA", schema)
            .int("SESSION_SQLALCHEMY_POOL_SIZE", 2),
    )
    .await;
}

#[cfg(feature = "mongodb")]
#[actix_rt::test]
async fn three_instances_on_one_mongodb_collection() {
    let url =
        std::env::var("MONGODB_URL").unwrap_or_else(|_| "mongodb://127.0.0.1:27017".to_owned());
    three_instances_behave_as_one(
        base("instances-mongo")
            .str("SESSION_TYPE", "mongodb")
            .str("SESSION_MONGODB", url)
            .str("SESSION_MONGODB_DB", "afs_instances")
            .str(
                "SESSION_MONGODB_COLLECT",
                random_prefix("coll").replace(':', "_"),
            ),
    )
    .await;
}

#[cfg(feature = "filesystem")]
#[actix_rt::test]
async fn three_instances_on_one_directory() {
    let dir = tempfile::tempdir().expect("tempdir");
    three_instances_behave_as_one(
        base("instances-fs")
            .str("SESSION_TYPE", "filesystem")
            .str("SESSION_FILE_DIR", dir.path().to_str().expect("utf-8 path")),
    )
    .await;
}

#[cfg(feature = "redis-sentinel")]
#[actix_rt::test]
async fn three_instances_through_redis_sentinel() {
    use figment::providers::Format as _;
    let nodes = std::env::var("REDIS_SENTINEL_URLS").unwrap_or_else(|_| {
        "redis://127.0.0.1:26379,redis://127.0.0.1:26380,redis://127.0.0.1:26381".to_owned()
    });
    let master = std::env::var("REDIS_SENTINEL_MASTER").unwrap_or_else(|_| "mymaster".to_owned());
    let settings = base("instances-sentinel").str("SESSION_TYPE", "redis");
    let nodes = nodes
        .split(',')
        .map(|n| format!("\"{n}\""))
        .collect::<Vec<_>>()
        .join(", ");
    // A table value: the settings' TOML carries it verbatim.
    let figment = settings
        .figment()
        .merge(figment::providers::Toml::string(&format!(
            "SESSION_REDIS_SENTINEL = {{ master = \"{master}\", nodes = [{nodes}] }}"
        )));
    let session = || async {
        actix_flask_session::Session::from_figment(&figment)
            .await
            .unwrap_or_else(|e| panic!("Redis Sentinel is not reachable: {e}; run scripts/test.sh"))
    };
    three_instances_with([session().await, session().await, session().await]).await;
}
