//! Where the configuration comes from: the session file, the sources a figment read, and
//! which unknown keys are the application's business.

use std::path::{Path, PathBuf};

use figment::providers::{Format, Toml};
use figment::value::{Dict, Map};
use figment::{Figment, Metadata, Profile, Provider, Source};

use super::{CONFIG_PATH_ENV, DEFAULT_CONFIG_FILE, keys, suggest_key};

/// The metadata name of the session's own file (`Session.toml` or the file named by
/// `ACTIX_FLASK_SESSION_CONFIG`): every key in it must be a session key.
pub(crate) const SESSION_FILE_SOURCE: &str = "session configuration file";

/// The TOML file of [`SessionConfig::figment`](super::SessionConfig::figment), named as
/// the session's own file so that unknown keys in it are errors.
struct SessionFile {
    path: PathBuf,
}

impl Provider for SessionFile {
    fn metadata(&self) -> Metadata {
        Metadata::from(SESSION_FILE_SOURCE, Source::File(self.path.clone()))
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        Toml::file_exact(&self.path).data()
    }
}

/// A configuration file that cannot be read: an error when the figment is read.
struct UnreadableFile {
    path: PathBuf,
    message: String,
}

impl Provider for UnreadableFile {
    fn metadata(&self) -> Metadata {
        Metadata::from(SESSION_FILE_SOURCE, Source::File(self.path.clone()))
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        Err(figment::Error::from(self.message.clone()))
    }
}

/// `path` made absolute against the current directory (for messages).
fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_owned())
}

/// The file part of the default sources: the file named by `ACTIX_FLASK_SESSION_CONFIG`
/// (which must exist), else `Session.toml` in the current directory if it exists.
pub(crate) fn session_file() -> Figment {
    match std::env::var_os(CONFIG_PATH_ENV).filter(|p| !p.is_empty()) {
        Some(named) => {
            let path = absolute(Path::new(&named));
            if path.is_file() {
                Figment::from(SessionFile { path })
            } else {
                let what = if path.exists() {
                    "is not a file"
                } else {
                    "does not exist"
                };
                let message = format!(
                    "{CONFIG_PATH_ENV}={} names this file, which {what}",
                    Path::new(&named).display()
                );
                Figment::from(UnreadableFile { path, message })
            }
        }
        None => {
            let path = absolute(Path::new(DEFAULT_CONFIG_FILE));
            if path.is_file() {
                tracing::debug!(path = %path.display(), "reading the session configuration file");
                Figment::from(SessionFile { path })
            } else {
                tracing::debug!(
                    "no {} (reading the session configuration from the environment only)",
                    path.display()
                );
                Figment::new()
            }
        }
    }
}

/// Whether `name` looks like a session key: it starts with `SESSION_` (any case) or is
/// close to a known key. Such keys must be known; other keys belong to the application.
pub(crate) fn looks_like_session_key(name: &str) -> bool {
    name.to_ascii_uppercase().starts_with("SESSION_") || suggest_key(name).is_some()
}

/// Whether a key from this source must be a session key.
pub(crate) fn is_session_file(metadata: &Metadata) -> bool {
    metadata.name == SESSION_FILE_SOURCE
}

/// What [`ConfigError::UnknownKey`](crate::ConfigError::UnknownKey) adds after the
/// source: a did-you-mean, or why a key that does not look like a session key is refused.
pub(crate) fn unknown_key_advice(key: &str, suggestion: Option<&str>) -> String {
    match suggestion {
        Some(known) => format!("; did you mean {known}?"),
        None if !looks_like_session_key(key) => format!(
            "; the session configuration file holds only session keys (keep {key} in the \
             application's own configuration and pass that to Session::from_figment)"
        ),
        None => String::new(),
    }
}

/// One line per source a figment read: file paths, "the environment", code locations.
fn sources_read(figment: &Figment) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for metadata in figment.metadata() {
        let described = match &metadata.source {
            Some(Source::File(path)) => path.display().to_string(),
            Some(Source::Code(location)) => format!("code at {location}"),
            Some(other) => format!("{} {other}", metadata.name),
            None if metadata.name.contains("environment variable") => "the environment".to_owned(),
            None => metadata.name.to_string(),
        };
        if !out.contains(&described) {
            out.push(described);
        }
    }
    out
}

/// The hint of the `missing SESSION_TYPE` error: which sources were read, and where the
/// file was looked for when none was.
pub(crate) fn session_type_missing_hint(figment: &Figment, allowed: &str) -> String {
    let mut hint = format!("it selects the session store; {allowed}");
    let sources = sources_read(figment);
    let any_file = figment
        .metadata()
        .any(|m| matches!(m.source, Some(Source::File(_))));
    if !sources.is_empty() {
        hint.push_str(&format!(". Read: {}", sources.join(", ")));
    }
    if !any_file {
        let cwd = std::env::current_dir()
            .map(|d| d.display().to_string())
            .unwrap_or_else(|_| "?".to_owned());
        hint.push_str(&format!(
            ". No configuration file was read: {DEFAULT_CONFIG_FILE} is looked for in the \
             current directory ({cwd}); create it there, set {CONFIG_PATH_ENV} to its path, \
             or set the environment variable SESSION_TYPE"
        ));
    }
    if matches!(
        figment.find_value("session"),
        Ok(figment::value::Value::Dict(..))
    ) {
        hint.push_str(
            ". The configuration has a [session] table: pass figment.focus(\"session\") to \
             read the keys inside it",
        );
    }
    hint
}

/// Whether `name` is a known key (for the unknown-key check).
pub(crate) fn is_known(name: &str) -> bool {
    keys::all_keys().any(|k| k == name)
}

/// A figment failure (a TOML syntax error, an unreadable file, ...) as one message per
/// failing source: where (the file path), which key if any, and figment's reason (for
/// TOML, the line, the column and the text around it).
pub(crate) fn describe_figment_error(error: &figment::Error) -> String {
    let mut out = String::from("cannot read the session configuration");
    for (i, e) in error.clone().into_iter().enumerate() {
        if i > 0 {
            out.push_str("\nand");
        }
        if let Some(metadata) = &e.metadata {
            let place = match &metadata.source {
                Some(Source::File(path)) => path.display().to_string(),
                Some(Source::Code(location)) => format!("code at {location}"),
                Some(other) => format!("{} {other}", metadata.name),
                None => metadata.name.to_string(),
            };
            out.push_str(&format!(" from {place}"));
        }
        if !e.path.is_empty() {
            out.push_str(&format!(" (key {})", e.path.join(".")));
        }
        out.push_str(&format!(": {}", e.kind.to_string().trim_end()));
    }
    out
}
