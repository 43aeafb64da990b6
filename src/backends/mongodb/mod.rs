//! MongoDB store (`SESSION_TYPE = "mongodb"`, cargo feature `mongodb`), on the official
//! [`mongodb`] driver (3.x, async, pooled by the driver).
//!
//! # Configuration
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `SESSION_MONGODB` | `"mongodb://127.0.0.1:27017"` | connection string (any option the driver knows, e.g. `serverSelectionTimeoutMS`, `maxPoolSize`, TLS) |
//! | `SESSION_MONGODB_DB` | `"flask_session"` | database |
//! | `SESSION_MONGODB_COLLECT` | `"sessions"` | collection |
//!
//! Flask-Session takes a `MongoClient` here; we take its URL. When the URL does not set
//! `serverSelectionTimeoutMS`, it is lowered from the driver's 30 s to 5 s, so a request
//! during an outage answers 503 within 5 s instead of hanging for half a minute.
//!
//! # Documents
//!
//! Exactly Flask-Session 0.8's layout, so both apps read each other's sessions:
//!
//! ```text
//! { _id: ObjectId, id: "<prefix><sid>", val: BinData(0, <serialized session>), expiration: Date(now + ttl) }
//! ```
//!
//! # Indexes (created at startup)
//!
//! * `expiration_1`: `{expiration: 1}` with `expireAfterSeconds: 0`, the TTL index
//!   Flask-Session also creates (an identical existing index is a no-op). If an index on
//!   `expiration` with other options exists, a warning is logged and startup continues:
//!   expiry is enforced on every read anyway.
//! * `id_1`: `{id: 1}`, `unique: true`. Flask-Session creates none (every lookup of it is a
//!   collection scan); the unique index both speeds up lookups and is what makes
//!   [`create`](crate::SessionStore::create) insert-only-if-absent. If a non-unique `id` index
//!   exists, or the collection holds duplicate ids, startup fails with
//!   [`ConfigError::Backend`](crate::ConfigError::Backend) saying so.
//!
//! # Requests per operation (`now` is the current time in milliseconds)
//!
//! | operation | request |
//! |---|---|
//! | [`load`](crate::SessionStore::load) | `find({id: key, expiration: {$gt: now}}, projection {val: 1, _id: 0}, limit 1)` |
//! | [`load`](crate::SessionStore::load) with refresh | `findAndModify` (`find_one_and_update`) `({id: key, expiration: {$gt: now}}, {$set: {expiration: now + ttl}}, projection {val: 1, _id: 0})`: read and move the expiry in one round trip |
//! | [`create`](crate::SessionStore::create) | `update({id: key, expiration: {$lte: now}}, {$set: {id, val, expiration}}, upsert: true)`: inserts when the id is free, takes over an expired document the TTL monitor has not removed yet, and fails with duplicate key (11000, from the unique index) when a live document exists → `false` |
//! | [`update`](crate::SessionStore::update) | `update({id: key, expiration: {$gt: now}}, {$set: {val, expiration}})` → `matchedCount == 1`; a session deleted (or expired) meanwhile is not written again |
//! | [`delete`](crate::SessionStore::delete) | `delete({id: key}, limit 1)` |
//! | [`rename`](crate::SessionStore::rename) (`regenerate`) | `update({id: old, expiration: {$gt: now}}, {$set: {id: new, val, expiration}})`: the document is moved in place by one atomic write; `matchedCount == 0` → the old session was logged out or moved meanwhile (`SourceGone`, nothing written); duplicate key (11000) → the new id is taken (`TargetExists`), unless its document has expired: then `delete({id: new, expiration: {$lte: now}})` and the update once more |
//!
//! Expiry is checked on every read (`expiration > now`): MongoDB's TTL monitor runs only
//! once a minute, and Flask-Session 0.8 serves (and refreshes!) expired sessions until it
//! does. A `val` that is not binary data (not written by either app) is
//! [`StoreError::BadData`](crate::StoreError::BadData), which the lifecycle treats as corrupt bytes: logged, deleted,
//! fresh session.
//!
//! # Errors
//!
//! Server selection, network and pool-cleared errors are [`StoreError::Unavailable`](crate::StoreError::Unavailable)
//! (503); the driver reconnects by itself when the server is back. Other server errors
//! are [`StoreError::Backend`](crate::StoreError::Backend) (500).

// Without its feature the module only declares the backend: nothing to document.
#![cfg_attr(not(feature = "mongodb"), doc(hidden), allow(rustdoc::broken_intra_doc_links))]

use crate::backends::Backend;
use crate::config::keys::key;
use crate::config::keys::KeyDefault::{Value};
use crate::config::keys::KeyType::{Text};

#[cfg(feature = "mongodb")]
mod store;
#[cfg(feature = "mongodb")]
mod users;
#[cfg(feature = "mongodb")]
#[doc(inline)]
pub use store::*;

/// Flask-Session's name for [`MongoDbStore`], for readers coming from Flask.
#[cfg(feature = "mongodb")]
pub type MongoDBSessionInterface = MongoDbStore;

/// This backend's declaration (see [`backends`](crate::backends)).
pub(crate) const BACKEND: Backend = Backend {
    session_types: &["mongodb"],
    feature: "mongodb",
    keys: &[
key("SESSION_MONGODB", Text, Value("\"mongodb://127.0.0.1:27017\"")),
    key("SESSION_MONGODB_DB", Text, Value("\"flask_session\"")),
    key("SESSION_MONGODB_COLLECT", Text, Value("\"sessions\"")),
    ],
    build: build_store!(feature = "mongodb", MongoDbStore),
};
