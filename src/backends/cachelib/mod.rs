//! `SESSION_TYPE = "cachelib"`: sessions in any [`Cache`], in the spirit of Python's
//! [cachelib](https://cachelib.readthedocs.io).
//!
//! Two caches ship with the crate: [`SimpleCache`] (in memory, per process) and
//! [`FileSystemCache`] (a directory, shared between processes). Any type that implements
//! [`Cache`] is a backend too: wrap it in [`CacheLibStore::new`].
//!
//! Configuration: `SESSION_CACHELIB` is a table (Flask-Session takes a cache object):
//!
//! ```toml
//! SESSION_TYPE = "cachelib"
//! SESSION_CACHELIB = { type = "filesystem", dir = "flask_session", threshold = 500, mode = 0o600 }
//! # or: SESSION_CACHELIB = { type = "simple", threshold = 500 }
//! # or just: SESSION_CACHELIB = "simple"
//! ```
//!
//! | field       | default          | meaning                                                 |
//! |-------------|------------------|---------------------------------------------------------|
//! | `type`      | `"filesystem"`   | `"simple"` or `"filesystem"` (case-insensitive)        |
//! | `dir`       | `"flask_session"`| filesystem only: the directory, relative to the CWD     |
//! | `threshold` | `500`            | max entries before pruning; `0` = no limit              |
//! | `mode`      | `0o600`          | filesystem only: permission bits of the files           |
//!
//! Without `SESSION_CACHELIB` the store is a `FileSystemCache` in `flask_session` with
//! threshold 500, Flask-Session's fallback (logged at `info`).

// Without its feature the module only declares the backend: nothing to document.
#![cfg_attr(not(feature = "cachelib"), doc(hidden), allow(rustdoc::broken_intra_doc_links))]

use crate::backends::Backend;
use crate::config::keys::key;
use crate::config::keys::KeyDefault::{Value};
use crate::config::keys::KeyType::{Table};

#[cfg(feature = "cachelib")]
mod store;
#[cfg(feature = "cachelib")]
mod users;
#[cfg(feature = "cachelib")]
#[doc(inline)]
pub use store::*;

/// Flask-Session's name for [`CacheLibStore`], for readers coming from Flask.
#[cfg(feature = "cachelib")]
pub type CacheLibSessionInterface<C = dyn Cache> = CacheLibStore<C>;

/// This backend's declaration (see [`backends`](crate::backends)).
pub(crate) const BACKEND: Backend = Backend {
    session_types: &["cachelib"],
    feature: "cachelib",
    keys: &[
key(
        "SESSION_CACHELIB", Table,
        Value("{ type = \"filesystem\", dir = \"flask_session\", threshold = 500, mode = 0o600 }"),
    ),
    ],
    build: build_store!(feature = "cachelib", CacheLibStore),
};
