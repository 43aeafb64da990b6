//! Redis Sentinel: `SESSION_REDIS_SENTINEL` names the master group and the sentinels; each
//! new connection asks the sentinels where the master is (feature `redis-sentinel`).

use std::time::Duration;

use deadpool_redis::Runtime;
use deadpool_redis::sentinel::{Manager, SentinelNodeConnectionInfo, SentinelServerType};
use figment::Figment;
use serde::Deserialize;

use super::store::{Pool, RedisOptions, RedisStore, check_url, setup_error};
use crate::config::{extract_key, redact_url};
use crate::error::ConfigError;

const KEY: &str = "SESSION_REDIS_SENTINEL";

/// `SESSION_REDIS_SENTINEL`: where the sentinels are and which master group holds the
/// sessions, like Flask-Session's `Sentinel(nodes).master_for(master)`.
///
/// ```toml
/// SESSION_TYPE = "redis"
/// SESSION_REDIS_SENTINEL = { master = "mymaster", nodes = ["redis://10.0.0.1:26379", "redis://10.0.0.2:26379", "redis://10.0.0.3:26379"] }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct RedisSentinel {
    /// The master group's name, as in the sentinels' `sentinel monitor <name> ...`.
    pub master: String,
    /// The sentinels' URLs (`redis://host:26379`; a password in the URL is the
    /// sentinels' own).
    pub nodes: Vec<String>,
    /// The database number on the master (default 0).
    #[serde(default)]
    pub db: i64,
    /// The user name on the master, if it needs one.
    #[serde(default)]
    pub username: Option<String>,
    /// The password on the master, if it needs one.
    #[serde(default)]
    pub password: Option<String>,
}

impl RedisSentinel {
    /// A master group `master` watched by the sentinels at `nodes`, database 0, no
    /// password.
    pub fn new(master: impl Into<String>, nodes: Vec<String>) -> Self {
        RedisSentinel {
            master: master.into(),
            nodes,
            db: 0,
            username: None,
            password: None,
        }
    }

    /// Reads `SESSION_REDIS_SENTINEL`; `None` when unset.
    pub(super) fn from_figment(figment: &Figment) -> Result<Option<Self>, ConfigError> {
        extract_key::<RedisSentinel>(figment, KEY)
    }

    fn describe(&self) -> String {
        let nodes = self
            .nodes
            .iter()
            .map(|u| redact_url(u))
            .collect::<Vec<_>>()
            .join(", ");
        format!("master {:?} via sentinels {nodes}", self.master)
    }

    fn check(&self) -> Result<(), ConfigError> {
        if self.master.trim().is_empty() {
            return Err(ConfigError::Invalid {
                key: KEY,
                value: format!("master = {:?}", self.master),
                allowed: "expected the master group's name, e.g. master = \"mymaster\"".to_owned(),
            });
        }
        if self.nodes.is_empty() {
            return Err(ConfigError::Invalid {
                key: KEY,
                value: "nodes = []".to_owned(),
                allowed: "expected at least one sentinel URL such as \"redis://127.0.0.1:26379\""
                    .to_owned(),
            });
        }
        if self.db < 0 {
            return Err(ConfigError::Invalid {
                key: KEY,
                value: format!("db = {}", self.db),
                allowed: "expected a database number >= 0".to_owned(),
            });
        }
        for url in &self.nodes {
            check_url(KEY, url)?;
        }
        Ok(())
    }
}

impl RedisStore {
    /// Connects to the master of `sentinel.master` through the sentinels (feature
    /// `redis-sentinel`) and checks it with one `PING` and its version.
    ///
    /// Every connection the store opens asks the sentinels for the current master, so
    /// after a failover the next connection (made when the old one fails, or answers
    /// `READONLY` because its server was demoted) reaches the promoted replica without a
    /// restart. Requests in between answer 503.
    pub async fn connect_sentinel(
        sentinel: &RedisSentinel,
        options: &RedisOptions,
    ) -> Result<Self, ConfigError> {
        sentinel.check()?;
        let described = sentinel.describe();
        let master_info = SentinelNodeConnectionInfo {
            tls_mode: None,
            redis_connection_info: Some(deadpool_redis::RedisConnectionInfo {
                db: sentinel.db,
                username: sentinel.username.clone(),
                password: sentinel.password.clone(),
                protocol: deadpool_redis::ProtocolVersion::RESP2,
            }),
        };
        let manager = Manager::new(
            sentinel.nodes.clone(),
            sentinel.master.clone(),
            Some(master_info),
            SentinelServerType::Master,
        )
        .map_err(|e| ConfigError::Invalid {
            key: KEY,
            value: described.clone(),
            allowed: format!("expected sentinel URLs such as redis://127.0.0.1:26379 ({e})"),
        })?;
        let pool = deadpool_redis::sentinel::Pool::builder(manager)
            .max_size(options.pool_size)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(options.connect_timeout))
            .create_timeout(Some(options.connect_timeout.max(Duration::from_millis(1))))
            .build()
            .map_err(|e| setup_error(format!("cannot build the sentinel pool for {described}"), e))?;
        let store = Self::from_parts(
            Pool::Sentinel(pool),
            options.pool_size,
            Some(options.response_timeout),
        );
        store.ping().await.map_err(|e| {
            setup_error(format!("cannot reach the Redis {described} ({KEY})"), e)
        })?;
        store.check_version(&described).await?;
        tracing::info!(sentinel = %described, connections = options.pool_size, "redis sentinel session store ready");
        Ok(store)
    }
}
