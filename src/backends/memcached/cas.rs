//! Compare-and-swap on memcached: the meta protocol's CAS token, handed out by the load
//! (`mg <key> v f c`) and checked by the write (`ms <key> <len> T<ttl> C<token>`), one round
//! trip each; the current value is read again only when the token no longer matches.

use std::time::Duration;

use async_memcached::{Error as McError, MetaProtocol, Status};

use super::{BACKEND, MemcachedStore, exec, ttl_flag, validate_key};
use crate::error::StoreError;
use crate::store::{SwapOutcome, Versioned};

impl MemcachedStore {
    /// `mg <key> v f c [T<ttl>]`: the value with its CAS token (and the expiry moved, with
    /// `refresh`), in one round trip.
    pub(crate) async fn load_with_token(
        &self,
        key: &str,
        refresh: Option<Duration>,
    ) -> Result<Option<Versioned>, StoreError> {
        validate_key(key)?;
        let ttl = refresh.map(ttl_flag);
        let flags = match &ttl {
            Some(t) => ["v", "f", "c", t.as_str()],
            None => ["v", "f", "c", ""],
        };
        let flags = &flags[..if ttl.is_some() { 4 } else { 3 }];
        let found = exec(self.server_for(key), |mut c| async move {
            c.meta_get(key, false, None, Some(flags)).await
        })
        .await?;
        let Some(found) = found else {
            return Ok(None);
        };
        if let Some(flags) = found.flags.filter(|&f| f != 0) {
            return Err(StoreError::BadData {
                backend: BACKEND,
                message: format!("the entry has client flags {flags}, not 0 (raw bytes)"),
            });
        }
        let Some(data) = found.data.filter(|d| !d.is_empty()) else {
            return Ok(None);
        };
        Ok(Some(match found.cas {
            Some(token) => Versioned::with_token(data, token),
            None => Versioned::new(data),
        }))
    }

    /// `ms <key> <len> T<ttl> C<token>`: `HD` swapped, `NF` gone, `EX` changed (then the
    /// current value and its token are read). An `expected` without a token (not loaded by
    /// this store) is compared by its bytes against a fresh read first.
    pub(crate) async fn swap(
        &self,
        key: &str,
        expected: &Versioned,
        value: &[u8],
        ttl: Duration,
    ) -> Result<SwapOutcome, StoreError> {
        validate_key(key)?;
        let token = match expected.token() {
            Some(token) => token,
            None => match self.load_with_token(key, None).await? {
                None => return Ok(SwapOutcome::Gone),
                Some(current) if current.bytes() != expected.bytes() => {
                    return Ok(SwapOutcome::Changed(current));
                }
                Some(current) => match current.token() {
                    Some(token) => token,
                    None => {
                        return Err(StoreError::backend(
                            BACKEND,
                            "memcached returned no CAS token for mg ... c",
                        ));
                    }
                },
            },
        };
        let (t, c) = (ttl_flag(ttl), format!("C{token}"));
        let stored = exec(self.server_for(key), |mut conn| {
            let flags = [t.as_str(), c.as_str()];
            async move {
                match conn.meta_set(key, value, false, None, Some(&flags)).await {
                    Ok(_) => Ok(Some(true)),
                    Err(McError::Protocol(Status::Exists)) => Ok(Some(false)),
                    Err(McError::Protocol(Status::NotFound)) => Ok(None),
                    Err(e) => Err(e),
                }
            }
        })
        .await?;
        match stored {
            Some(true) => Ok(SwapOutcome::Swapped),
            None => Ok(SwapOutcome::Gone),
            Some(false) => Ok(match self.load_with_token(key, None).await? {
                None => SwapOutcome::Gone,
                Some(current) => SwapOutcome::Changed(current),
            }),
        }
    }
}
