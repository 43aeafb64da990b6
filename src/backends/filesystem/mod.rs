//! `SESSION_TYPE = "filesystem"`: one file per session in a directory.
//!
//! Configuration (Flask-Session's keys and defaults):
//!
//! | key                      | default                       | meaning                                  |
//! |--------------------------|-------------------------------|------------------------------------------|
//! | `SESSION_FILE_DIR`       | `flask_session` (in the CWD)  | the directory, created if missing        |
//! | `SESSION_FILE_THRESHOLD` | `500`                         | max number of files before pruning; `0` = no limit |
//! | `SESSION_FILE_MODE`      | `0o600` (= 384)               | permission bits of session files (Unix)   |
//!
//! ```toml
//! SESSION_TYPE = "filesystem"
//! SESSION_FILE_DIR = "/var/lib/myapp/sessions"
//! SESSION_FILE_THRESHOLD = 0     # never evict live sessions
//! SESSION_FILE_MODE = 0o640      # TOML octal literal; 640 would be decimal
//! ```
//!
//! The file names, the file format, the locking scheme and the pruning rules are
//! documented below (the `cachelib` backend's `FileSystemCache` shares them). Unlike
//! Flask-Session (cachelib + pickle), files hold the serialized session bytes behind a
//! small header, so the directory cannot be shared with a Python app; every other store
//! can be.
//!
#![doc = include_str!("../file_engine.md")]

// Without its feature the module only declares the backend: nothing to document.
#![cfg_attr(not(feature = "filesystem"), doc(hidden), allow(rustdoc::broken_intra_doc_links))]

use crate::backends::Backend;
use crate::config::keys::key;
use crate::config::keys::KeyDefault::{Value};
use crate::config::keys::KeyType::{Integer, Text};

#[cfg(feature = "filesystem")]
mod store;
#[cfg(feature = "filesystem")]
mod users;
#[cfg(feature = "filesystem")]
#[doc(inline)]
pub use store::*;

/// Flask-Session's name for [`FileSystemStore`], for readers coming from Flask.
#[cfg(feature = "filesystem")]
pub type FileSystemSessionInterface = FileSystemStore;

/// This backend's declaration (see [`backends`](crate::backends)).
pub(crate) const BACKEND: Backend = Backend {
    session_types: &["filesystem"],
    feature: "filesystem",
    keys: &[
key("SESSION_FILE_DIR", Text, Value("\"flask_session\"")),
    key("SESSION_FILE_THRESHOLD", Integer, Value("500")),
    key("SESSION_FILE_MODE", Integer, Value("0o600")),
    ],
    build: build_store!(feature = "filesystem", FileSystemStore),
};
