//! Memcached store (`SESSION_TYPE = "memcached"`, cargo feature `memcached`).
//!
//! # Configuration
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `SESSION_MEMCACHED` | `"127.0.0.1:11211"` | one server or a list: `host:port`, `host` (port 11211), `memcache://host:port`, `tcp://host:port` or `unix:///path/to/socket` |
//! | `SESSION_MEMCACHED_POOL_SIZE` | deadpool's default (2 × the number of CPUs) | connections per server |
//!
//! Flask-Session takes a client object here; we take addresses. At startup every server
//! is asked for its `version`, so a wrong address fails [`from_figment`](MemcachedStore::from_figment) instead of the
//! first request.
//!
//! # Server version
//!
//! memcached 1.6 or newer: the store speaks the meta protocol.
//! [`from_figment`](MemcachedStore::from_figment) refuses an older server with
//! an error naming the server, the version it reported and the version needed.
//!
//! # Client
//!
//! [`async-memcached`](async_memcached) (one TCP connection per `Client`, tokio, ASCII and
//! meta protocol) in a [`deadpool`] managed pool per server. Chosen over the `memcache`
//! crate (synchronous, would need `spawn_blocking` and a thread per in-flight request, and
//! its ASCII `add` hides `NOT_STORED`) and `memcache-async` (no pool, no meta commands).
//! The meta protocol is what makes the store contract possible in one command each:
//! `mg` with the `T` flag reads *and* moves the expiry, `ms` with mode `E`/`R` is
//! add/replace, and every reply says which case happened.
//!
//! # Commands per operation
//!
//! `<exp>` is the time to live in whole seconds when it is at most 30 days
//! (2 592 000 s), otherwise the absolute Unix time now + ttl (memcached's rule, the same
//! values Flask-Session sends). A time to live under one second is sent as `-1`
//! (expired at once): memcached's `0` means "never expires", which a session must not.
//!
//! | operation | command | result |
//! |---|---|---|
//! | [`load`](crate::SessionStore::load) | `mg <key> v f` | `VA` → bytes (client flags other than 0: [`StoreError::BadData`](crate::StoreError::BadData)), `EN` → `None` |
//! | [`load`](crate::SessionStore::load) with refresh | `mg <key> v f T<exp>` (read and touch, one round trip) | same |
//! | [`create`](crate::SessionStore::create) | `ms <key> <len> T<exp> ME` (add) | `HD` → `true`, `NS` → `false` |
//! | [`update`](crate::SessionStore::update) | `ms <key> <len> T<exp> MR` (replace) | `HD` → `true`, `NS` → `false`: a key deleted by a concurrent logout is not written again |
//! | [`delete`](crate::SessionStore::delete) | `md <key>` | `HD` or `NF` → `()` |
//! | [`remove`](crate::SessionStore::remove) | `md <key>` | `HD` → `true`, `NF` → `false` |
//! | [`rename`](crate::SessionStore::rename) (`regenerate`) | `ms <new> <len> T<exp> ME` (add), then `md <old>`; on `NF` (the old session was logged out or moved meanwhile) `md <new>` | `NS` → `TargetExists`, `HD` → `Moved`, `NF` → `SourceGone` |
//!
//! memcached has no command over two keys (and with several servers the two keys may
//! live on different servers), so `rename` is three steps whose last one decides:
//! `md` of one key is atomic, so of two concurrent `regenerate`s exactly one sees `HD`,
//! and a logout that deletes the old id before the `md` is never undone. The new key
//! exists next to the old one only between the `add` and the roll-back, before its id has
//! been sent to anyone; if the app dies in that moment, an entry nobody holds the id of
//! stays until it expires.
//!
//! Values are stored with client flags `0` and are the serialized session bytes
//! untouched, exactly what Flask-Session's `pymemcache` client writes and reads. Expiry
//! is memcached's own: an expired item is never returned by `mg`.
//!
//! # Keys
//!
//! A key longer than 250 bytes, an empty key, or one with a space, a control character
//! (`0x00`–`0x20`, `0x7f`) is refused with [`StoreError::InvalidInput`](crate::StoreError::InvalidInput) before any
//! network I/O (memcached's ASCII protocol rules; `pymemcache` refuses the same keys).
//! A `SESSION_KEY_PREFIX` that, with ids of `SESSION_ID_LENGTH`, makes keys over 250
//! bytes is refused at startup (a [`ConfigError`](crate::ConfigError) naming the key).
//!
//! # Several servers
//!
//! With a list, each key lives on exactly one server, chosen by rendezvous
//! (highest-random-weight) hashing: for every server the score is
//! `murmur3_32("<node>-<key>", seed 0)` and the highest score wins (ties: the greater node
//! name). `<node>` is `host:port` as configured (port added when omitted) or the socket
//! path. This is byte for byte what `pymemcache`'s `HashClient` does with its default
//! `RendezvousHash`, so a Flask app using
//! `HashClient([("10.0.0.1", 11211), ("10.0.0.2", 11211)])` and this store configured with
//! `["10.0.0.1:11211", "10.0.0.2:11211"]` agree on where every session lives (the node
//! names must be spelled the same way). Unlike `HashClient` a dead server is not taken out
//! of the rotation: its sessions answer `503` until it is back, instead of silently moving
//! to another server and coming back empty. `pylibmc`/libmemcached's ketama hashing is
//! not compatible; use a single server (or `HashClient`) when sharing with Flask.
//!
//! # Outages
//!
//! Connection and I/O errors and a 5 s per-command timeout (which covers waiting for a
//! pooled connection and connecting) are
//! [`StoreError::Unavailable`](crate::StoreError::Unavailable) (requests answer 503). When a connection taken from the
//! pool turns out to be dead (the server was restarted), the idle connections of that
//! server are dropped and the command is sent once more on a new connection, so the first
//! request after a restart succeeds. (`add` is retried too: should the server have
//! executed it before the connection broke, the retry answers "exists" and the lifecycle
//! picks another session id.)

// Without its feature the module only declares the backend: nothing to document.
#![cfg_attr(not(feature = "memcached"), doc(hidden), allow(rustdoc::broken_intra_doc_links))]

use crate::backends::Backend;
use crate::config::keys::key;
use crate::config::keys::KeyDefault::{Described, Value};
use crate::config::keys::KeyType::{Integer, TextOrList};

#[cfg(feature = "memcached")]
mod store;
#[cfg(feature = "memcached")]
#[doc(inline)]
pub use store::*;

/// Flask-Session's name for [`MemcachedStore`], for readers coming from Flask.
#[cfg(feature = "memcached")]
pub type MemcachedSessionInterface = MemcachedStore;

/// This backend's declaration (see [`backends`](crate::backends)).
pub(crate) const BACKEND: Backend = Backend {
    session_types: &["memcached"],
    feature: "memcached",
    keys: &[
key("SESSION_MEMCACHED", TextOrList, Value("\"127.0.0.1:11211\"")),
    key(
        "SESSION_MEMCACHED_POOL_SIZE", Integer,
        Described("2 × the number of CPUs, per server"),
    ),
    ],
    build: build_store!(feature = "memcached", MemcachedStore),
};
