//! The startup version check against the real servers: their own `INFO server` /
//! `version` answers parse to a version at least the one each store needs, and the
//! stores built from configuration (which run the check, on a cluster on every master)
//! start. The "too old" message is unit-tested on a parsed old version
//! (`backends::server_version`, `redis`, `memcached`), since no old server runs here.
#![cfg(all(feature = "redis-cluster", feature = "memcached"))]

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;

use actix_flask_session::backends::memcached::MemcachedSessionInterface;
use actix_flask_session::backends::redis::{
    RedisOptions, RedisSessionInterface, deadpool_redis::redis,
};

/// The oldest versions the stores document: Redis 6.2 (`GETEX`), memcached 1.6 (the meta
/// protocol).
const MIN_REDIS_VERSION: (u32, u32, u32) = (6, 2, 0);
const MIN_MEMCACHED_VERSION: (u32, u32, u32) = (1, 6, 0);

/// `major.minor.patch` at the start of a server's version answer (`7.2.4`, `1.6.21`).
fn parse_version(text: &str) -> Option<(u32, u32, u32)> {
    let mut parts = text.trim().split('.').map(|p| {
        p.chars()
            .take_while(char::is_ascii_digit)
            .collect::<String>()
            .parse::<u32>()
            .ok()
    });
    Some((parts.next()??, parts.next()??, parts.next()??))
}

fn redis_url() -> String {
    std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

fn cluster_urls() -> Vec<String> {
    match std::env::var("REDIS_CLUSTER_URLS") {
        Ok(urls) => urls.split(',').map(str::to_owned).collect(),
        Err(_) => (7000..7006)
            .map(|p| format!("redis://127.0.0.1:{p}"))
            .collect(),
    }
}

fn memcached_address() -> String {
    std::env::var("MEMCACHED_URL")
        .unwrap_or_else(|_| "127.0.0.1:11211".to_owned())
        .trim_start_matches("memcache://")
        .trim_end_matches('/')
        .to_owned()
}

#[actix_rt::test]
async fn redis_reports_a_version_the_store_accepts() {
    let client = redis::Client::open(redis_url()).expect("url");
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .expect("Redis is not reachable; run scripts/test.sh");
    let info: String = redis::cmd("INFO")
        .arg("server")
        .query_async(&mut conn)
        .await
        .expect("INFO");
    let reported = info
        .lines()
        .find_map(|l| l.strip_prefix("redis_version:"))
        .expect("redis_version in INFO");
    let version = parse_version(reported).expect("a version");
    assert!(version >= MIN_REDIS_VERSION, "{version:?}");
    RedisSessionInterface::connect(&redis_url(), &RedisOptions::default())
        .await
        .expect("single Redis passes the check");
    RedisSessionInterface::connect_cluster(&cluster_urls(), &RedisOptions::default())
        .await
        .expect("every cluster master passes the check");
}

#[actix_rt::test]
async fn memcached_reports_a_version_the_store_accepts() {
    let stream = TcpStream::connect(memcached_address())
        .expect("memcached is not reachable; run scripts/test.sh");
    let mut conn = BufReader::new(stream);
    conn.get_mut().write_all(b"version\r\n").expect("write");
    let mut line = String::new();
    conn.read_line(&mut line).expect("read");
    let reported = line.strip_prefix("VERSION ").expect("a VERSION line");
    let version = parse_version(reported).expect("a version");
    assert!(version >= MIN_MEMCACHED_VERSION, "{version:?}");
    let figment = figment::Figment::from(figment::providers::Serialized::defaults(
        serde_json::json!({"SESSION_TYPE": "memcached", "SESSION_MEMCACHED": memcached_address()}),
    ));
    let config = actix_flask_session::SessionConfig::from_figment(&figment).expect("config");
    MemcachedSessionInterface::from_figment(&config, &figment)
        .await
        .expect("memcached passes the check");
}
