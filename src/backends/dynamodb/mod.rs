//! DynamoDB store (`SESSION_TYPE = "dynamodb"`, cargo feature `dynamodb`), on the AWS SDK
//! for Rust ([`aws_sdk_dynamodb`] + [`aws_config`]). The SDK is heavy to compile (see the
//! crate guide); it is only built with this feature.
//!
//! # Configuration
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `SESSION_DYNAMODB` | `{}` | a table `{ endpoint_url = "http://127.0.0.1:8000", region = "us-east-1" }`; both optional |
//! | `SESSION_DYNAMODB_TABLE` | `"Sessions"` | table name (Flask-Session 0.8 reads this key; its docs' `SESSION_DYNAMODB_TABLE_NAME` is not read) |
//! | `SESSION_DYNAMODB_TABLE_EXISTS` | `false` | `true`: touch nothing at startup (no `CreateTable`, no `UpdateTimeToLive`), for deployments whose table is managed elsewhere and whose credentials may only read and write items |
//!
//! Credentials, and the region when `SESSION_DYNAMODB.region` is not set, come from the
//! normal AWS chain (`AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`, `AWS_REGION`, profiles,
//! web identity, ECS/EC2 roles...). Without `endpoint_url` the client talks to real
//! DynamoDB. Flask-Session takes a boto3 resource here and falls back to
//! `http://localhost:8000` with dummy credentials; we never invent credentials. A missing
//! region is a startup error.
//!
//! # Table and items
//!
//! At startup (unless `SESSION_DYNAMODB_TABLE_EXISTS`): `CreateTable` with key schema `id`
//! (HASH, `S`) and on-demand billing (`PAY_PER_REQUEST`), as Flask-Session; an existing table
//! (`ResourceInUseException`) is fine. Then `DescribeTable` until the table is `ACTIVE`
//! (bounded, 60 s), `DescribeTimeToLive`, and `UpdateTimeToLive` enabling TTL on
//! `expiration` unless it is already enabled (Flask-Session 0.8 means to do this but never
//! does; "already enabled" answers are tolerated, TTL on another attribute is logged).
//!
//! Items, as Flask-Session writes them: `id` (S) = `<prefix><sid>`, `val` (B) = the
//! serialized session bytes, `expiration` (N) = Unix time in whole seconds (UTC) when the
//! session expires. Flask-Session 0.8 writes a fractional value computed from a naive
//! UTC datetime, so it is off by the host's UTC offset unless the Flask process runs in
//! UTC; we read any number.
//!
//! # Requests per operation
//!
//! `:now` is the current Unix time with milliseconds, `:exp` is now + ttl in whole seconds.
//! Attribute names go through `#id`, `#val`, `#exp` placeholders.
//!
//! | operation | request |
//! |---|---|
//! | [`load`](crate::SessionStore::load) | `GetItem` (`ConsistentRead = true`) on `id`; the item counts only when `expiration > now` |
//! | [`load`](crate::SessionStore::load) with refresh | `UpdateItem` `SET #exp = :exp`, condition `attribute_exists(#id) AND #exp > :now`, `ReturnValues = ALL_NEW` (one round trip); `ConditionalCheckFailed` → `None` |
//! | [`create`](crate::SessionStore::create) | `PutItem {id, val, expiration}`, condition `attribute_not_exists(#id) OR #exp <= :now` (an expired item DynamoDB has not removed yet does not block); `ConditionalCheckFailed` → `false` |
//! | [`update`](crate::SessionStore::update) | `UpdateItem` `SET #val = :val, #exp = :exp`, condition `attribute_exists(#id) AND #exp > :now`; `ConditionalCheckFailed` → `false` (a session deleted by a concurrent logout is not written again) |
//! | [`delete`](crate::SessionStore::delete) | `DeleteItem` on `id` |
//! | [`rename`](crate::SessionStore::rename) (`regenerate`) | one `TransactWriteItems`: `Put {id: new, val, expiration}` with condition `attribute_not_exists(#id) OR #exp <= :now`, and `Delete` of the old `id` with condition `attribute_exists(#id) AND #exp > :now`. Both happen or neither: a cancelled `Delete` condition → the old session was logged out or moved meanwhile (`SourceGone`); a cancelled `Put` condition → the new id is taken (`TargetExists`); a `TransactionConflict` (a concurrent transaction on one of the items) → sent again, up to 3 times |
//!
//! Expiry is always checked on read: DynamoDB deletes expired items only "within a few
//! days", and test servers such as moto never do.
//!
//! # Per-user index
//!
//! With `SESSION_USER_KEY`, each user's sessions are indexed in a second table,
//! `<SESSION_DYNAMODB_TABLE>_users` (key `user_index` HASH + `handle` RANGE, both `S`),
//! created, waited for and given TTL on `expiration` at startup like the session table
//! (with `SESSION_DYNAMODB_TABLE_EXISTS = true` it must exist, probed with one `GetItem`).
//! The session table only has a hash key, so a user's entries there could only be found by
//! a `Scan`; in their own table they are one `Query`. Items: `user_index` (a digest of the
//! user id), `handle`, `entry` (B), `seen` (N, last seen) and `expiration` (N).
//!
//! | operation | request |
//! |---|---|
//! | index a login | `PutItem` |
//! | last seen | `UpdateItem` `SET entry = if_not_exists(entry, :e), seen = :s, expiration = :x`, condition `attribute_not_exists(seen) OR seen <= :s` |
//! | revoke | `BatchWriteItem` of deletes (25 per request; unprocessed ones sent again) |
//! | list | `Query` on `user_index`, `ConsistentRead`, all pages; expired items skipped |
//! | liveness | `BatchGetItem` of the sessions' `id` and `expiration` (100 per request, `ConsistentRead`) |
//!
//! From code: [`DynamoDbStore::with_user_index`].
//!
//! # Errors
//!
//! Dispatch failures (connection refused, DNS), timeouts, unparsable responses and
//! throttling / internal server errors are [`StoreError::Unavailable`](crate::StoreError::Unavailable) (503); other
//! service errors are [`StoreError::Backend`](crate::StoreError::Backend) (500). The SDK retries (standard mode, 3 attempts)
//! before reporting; each attempt is limited to 5 s and an operation to 10 s.

// Without its feature the module only declares the backend: nothing to document.
#![cfg_attr(not(feature = "dynamodb"), doc(hidden), allow(rustdoc::broken_intra_doc_links))]

use crate::backends::Backend;
use crate::config::keys::key;
use crate::config::keys::KeyDefault::{Described, Value};
use crate::config::keys::KeyType::{Bool, Table, Text};

#[cfg(feature = "dynamodb")]
mod store;
#[cfg(feature = "dynamodb")]
mod users;
#[cfg(feature = "dynamodb")]
#[doc(inline)]
pub use store::*;

/// Flask-Session's name for [`DynamoDbStore`], for readers coming from Flask.
#[cfg(feature = "dynamodb")]
pub type DynamoDBSessionInterface = DynamoDbStore;

/// This backend's declaration (see [`backends`](crate::backends)).
pub(crate) const BACKEND: Backend = Backend {
    session_types: &["dynamodb"],
    feature: "dynamodb",
    keys: &[
key(
        "SESSION_DYNAMODB", Table,
        Described("the AWS SDK's endpoint and region (environment, profile)"),
    ),
    key("SESSION_DYNAMODB_TABLE", Text, Value("\"Sessions\"")),
    key("SESSION_DYNAMODB_TABLE_EXISTS", Bool, Value("false")),
    ],
    build: build_store!(feature = "dynamodb", DynamoDbStore),
};
