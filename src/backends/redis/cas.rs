//! Compare-and-swap on Redis and Redis Cluster: one Lua script on one key, so a cluster
//! runs it on the node that owns the key, in one round trip.

use std::sync::LazyLock;
use std::time::Duration;

use deadpool_redis::redis::{self, ErrorKind, RedisError, ServerErrorKind, Value as RedisValue};

use super::RedisStore;
use crate::error::StoreError;
use crate::store::{SwapOutcome, Versioned};

/// `KEYS[1]` = the key, `ARGV` = expected bytes, new bytes, time to live in seconds. Answers
/// nil when there is no live entry (an empty value is a miss, as in `load`), `1` when it
/// swapped, and the current bytes when they differ from the expected ones.
pub(crate) const CAS_SCRIPT: &str = "local current = redis.call('GET', KEYS[1]) \
if not current or current == '' then return false end \
if current == ARGV[1] then redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3]) return 1 end \
return current";

static SCRIPT: LazyLock<redis::Script> = LazyLock::new(|| redis::Script::new(CAS_SCRIPT));

impl RedisStore {
    /// [`CAS_SCRIPT`] by `EVALSHA` (`EVAL` once more when the server does not have it
    /// cached yet).
    pub(crate) async fn swap(
        &self,
        key: &str,
        expected: &Versioned,
        value: &[u8],
        ttl: Duration,
    ) -> Result<SwapOutcome, StoreError> {
        let secs = self.ttl_secs(ttl)?;
        let mut evalsha = redis::cmd("EVALSHA");
        evalsha
            .arg(SCRIPT.get_hash())
            .arg(1)
            .arg(key)
            .arg(expected.bytes())
            .arg(value)
            .arg(secs);
        let reply = match self.query(&evalsha).await {
            Err(StoreError::Backend { source, .. })
                if source
                    .downcast_ref::<RedisError>()
                    .is_some_and(|e| e.kind() == ErrorKind::Server(ServerErrorKind::NoScript)) =>
            {
                let mut eval = redis::cmd("EVAL");
                eval.arg(CAS_SCRIPT)
                    .arg(1)
                    .arg(key)
                    .arg(expected.bytes())
                    .arg(value)
                    .arg(secs);
                self.query(&eval).await?
            }
            other => other?,
        };
        match reply {
            RedisValue::Nil => Ok(SwapOutcome::Gone),
            RedisValue::Int(1) => Ok(SwapOutcome::Swapped),
            RedisValue::BulkString(current) => Ok(SwapOutcome::Changed(Versioned::new(current))),
            other => Err(self.unexpected("EVALSHA", &other)),
        }
    }
}
