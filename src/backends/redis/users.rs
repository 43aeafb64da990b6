//! The per-user index on Redis (`SESSION_USER_KEY`): one hash per user, beside the
//! session keys.
//!
//! The index of a user is a hash under `SESSION_KEY_PREFIX + "user:" + digest`: the field
//! `<handle>` holds the [`IndexEntry`] as written at login, the field `<handle>#seen` the
//! last-seen Unix second written since. Every write sets the hash's TTL, so an index
//! whose sessions are all gone expires by itself. On Redis Cluster the hash and the
//! session keys sit in different slots: nothing spans them atomically, so an entry can
//! outlive its session (a session that expired, or a write that landed after a
//! revocation); listing and revoking check each session key and remove such entries,
//! and an index nobody lists expires one `PERMANENT_SESSION_LIFETIME` after its last
//! write.

use std::time::Duration;

use deadpool_redis::redis::{self, Value as RedisValue};
use futures_util::stream::{self, StreamExt, TryStreamExt};

use super::RedisStore;
use crate::error::StoreError;
use crate::users::IndexEntry;

/// `KEYS[1]` = index; `ARGV` = handle, entry bytes, last seen, TTL seconds, replace (`1`).
/// Writes the entry when asked to replace or when the handle is new, the last-seen field
/// always, and the hash's TTL; one round trip, atomic on the index.
const PUT_SCRIPT: &str = "if ARGV[5] == '1' or redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then \
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) end \
redis.call('HSET', KEYS[1], ARGV[1] .. '#seen', ARGV[3]) \
redis.call('EXPIRE', KEYS[1], ARGV[4]) return 1";

/// How many `EXISTS` a liveness check keeps in flight on the multiplexed connection.
const IN_FLIGHT: usize = 256;

impl RedisStore {
    /// [`PUT_SCRIPT`] by `EVAL`.
    pub(crate) async fn put_index_entry(
        &self,
        index: &str,
        entry: &IndexEntry,
        replace: bool,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        let mut cmd = redis::cmd("EVAL");
        cmd.arg(PUT_SCRIPT)
            .arg(1)
            .arg(index)
            .arg(&entry.handle)
            .arg(entry.to_bytes())
            .arg(entry.last_seen)
            .arg(ttl.as_secs().max(1))
            .arg(if replace { "1" } else { "0" });
        match self.query(&cmd).await? {
            RedisValue::Int(1) => Ok(()),
            other => Err(self.unexpected("EVAL", &other)),
        }
    }

    /// `HDEL index <handle> <handle>#seen ...`.
    pub(crate) async fn remove_index_entries(
        &self,
        index: &str,
        handles: &[String],
        _ttl: Duration,
    ) -> Result<(), StoreError> {
        for chunk in handles.chunks(1000) {
            let mut cmd = redis::cmd("HDEL");
            cmd.arg(index);
            for handle in chunk {
                cmd.arg(handle).arg(format!("{handle}#seen"));
            }
            match self.query(&cmd).await? {
                RedisValue::Int(_) => {}
                other => return Err(self.unexpected("HDEL", &other)),
            }
        }
        Ok(())
    }

    /// `HGETALL index`, entries joined with their last-seen fields; unreadable fields are
    /// skipped.
    pub(crate) async fn list_index(&self, index: &str) -> Result<Vec<IndexEntry>, StoreError> {
        let mut cmd = redis::cmd("HGETALL");
        cmd.arg(index);
        let pairs: Vec<(Vec<u8>, Vec<u8>)> = match self.query(&cmd).await? {
            RedisValue::Array(items) => pairs(items),
            RedisValue::Map(items) => items
                .into_iter()
                .filter_map(|(k, v)| Some((bytes(k)?, bytes(v)?)))
                .collect(),
            RedisValue::Nil => Vec::new(),
            other => return Err(self.unexpected("HGETALL", &other)),
        };
        let mut entries = Vec::new();
        let mut seen = std::collections::HashMap::new();
        for (field, value) in pairs {
            match field.strip_suffix(b"#seen") {
                Some(handle) => {
                    let last = std::str::from_utf8(&value)
                        .ok()
                        .and_then(|v| v.parse::<u64>().ok());
                    if let Some(last) = last {
                        seen.insert(handle.to_vec(), last);
                    }
                }
                None => entries.extend(IndexEntry::from_bytes(&value)),
            }
        }
        for entry in &mut entries {
            if let Some(last) = seen.get(entry.handle.as_bytes()) {
                entry.last_seen = entry.last_seen.max(*last);
            }
        }
        Ok(entries)
    }

    /// `EXISTS key` for each key, pipelined on the multiplexed connection (each key on
    /// its own node on a cluster).
    pub(crate) async fn exist(&self, keys: &[String]) -> Result<Vec<bool>, StoreError> {
        // Collected first: a stream over a mapping closure would not be provably `Send`.
        let checks: Vec<_> = keys.iter().map(|key| self.exists_one(key)).collect();
        stream::iter(checks)
            .buffered(IN_FLIGHT)
            .try_collect()
            .await
    }

    /// `EXISTS key`.
    async fn exists_one(&self, key: &str) -> Result<bool, StoreError> {
        let mut cmd = redis::cmd("EXISTS");
        cmd.arg(key);
        match self.query(&cmd).await? {
            RedisValue::Int(n) => Ok(n > 0),
            other => Err(self.unexpected("EXISTS", &other)),
        }
    }
}

fn bytes(value: RedisValue) -> Option<Vec<u8>> {
    match value {
        RedisValue::BulkString(b) => Some(b),
        RedisValue::SimpleString(s) => Some(s.into_bytes()),
        _ => None,
    }
}

fn pairs(items: Vec<RedisValue>) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut out = Vec::with_capacity(items.len() / 2);
    let mut items = items.into_iter();
    while let (Some(k), Some(v)) = (items.next(), items.next()) {
        if let (Some(k), Some(v)) = (bytes(k), bytes(v)) {
            out.push((k, v));
        }
    }
    out
}
