//! Server versions: the oldest Redis and memcached the stores work with, checked once at
//! startup.
//!
//! The Redis store reads with `GETEX` (Redis 6.2); the memcached store speaks the meta
//! protocol (`mg`/`ms`/`md`, final in memcached 1.6). An older server would fail every
//! request with an unknown-command error, so the store asks each server for its version
//! when it is built (`INFO server` / `version`) and refuses to start with an error that
//! names the server, the version found and the version needed.

use std::fmt;

use crate::error::ConfigError;

/// A `major.minor.patch` server version. Parsing ignores anything after the three
/// numbers (`7.2.4-rc1`, `1.6.21 (build)`); a missing patch number is `0`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version {
    /// The major version.
    pub major: u32,
    /// The minor version.
    pub minor: u32,
    /// The patch version.
    pub patch: u32,
}

impl Version {
    /// `major.minor.patch`.
    pub const fn new(major: u32, minor: u32, patch: u32) -> Self {
        Version {
            major,
            minor,
            patch,
        }
    }

    /// Reads the leading `major.minor[.patch]` of `text`, or `None` when it does not
    /// start with one.
    pub fn parse(text: &str) -> Option<Self> {
        let mut numbers = text.trim().split('.').map(|part| {
            let digits = part
                .find(|c: char| !c.is_ascii_digit())
                .map_or(part, |end| &part[..end]);
            digits.parse::<u32>().ok()
        });
        let major = numbers.next()??;
        let minor = numbers.next()??;
        let patch = numbers.next().flatten().unwrap_or(0);
        Some(Version::new(major, minor, patch))
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// What a store needs of its server.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Requirement {
    /// The store, for the error (`"redis"`).
    pub backend: &'static str,
    /// The server, for the message (`"Redis"`).
    pub product: &'static str,
    /// The oldest version that works.
    pub minimum: Version,
    /// Why (`"GETEX"`).
    pub reason: &'static str,
}

impl Requirement {
    /// Checks the version string `reported` by the server at `address`. A version that
    /// cannot be read is logged and let through (a compatible server with its own
    /// numbering); one that is too old is a [`ConfigError::Backend`].
    pub fn check(&self, address: &str, reported: &str) -> Result<(), ConfigError> {
        let Some(found) = Version::parse(reported) else {
            tracing::warn!(
                address,
                reported,
                "cannot read the {} version; assuming {} or newer",
                self.product,
                self.minimum
            );
            return Ok(());
        };
        if found >= self.minimum {
            return Ok(());
        }
        Err(ConfigError::Backend {
            backend: self.backend,
            message: format!(
                "{} at {address} is version {found}, but this store needs {} {} or newer \
                 (for {}); upgrade the server",
                self.product, self.product, self.minimum, self.reason
            ),
            source: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse_and_order() {
        assert_eq!(Version::parse("6.2.0"), Some(Version::new(6, 2, 0)));
        assert_eq!(Version::parse(" 1.6.21\r"), Some(Version::new(1, 6, 21)));
        assert_eq!(Version::parse("7.2.4-rc1"), Some(Version::new(7, 2, 4)));
        assert_eq!(
            Version::parse("255.255.255"),
            Some(Version::new(255, 255, 255))
        );
        for bad in ["", "7", "x.y", ".1.2", "v7.2.4"] {
            assert_eq!(Version::parse(bad), None, "{bad:?}");
        }
        assert!(Version::new(6, 1, 99) < Version::new(6, 2, 0));
        assert!(Version::new(6, 10, 0) > Version::new(6, 2, 0));
        assert!(Version::new(1, 5, 22) < Version::new(1, 6, 0));
    }

    #[test]
    fn too_old_names_address_found_and_needed() {
        let requirement = Requirement {
            backend: "redis",
            product: "Redis",
            minimum: Version::new(6, 2, 0),
            reason: "GETEX",
        };
        let err = requirement
            .check("10.0.0.7:6379", "6.0.16")
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "cannot set up the redis session store: Redis at 10.0.0.7:6379 is version 6.0.16, \
             but this store needs Redis 6.2.0 or newer (for GETEX); upgrade the server"
        );
        assert!(requirement.check("h:1", "6.2.0").is_ok());
        assert!(requirement.check("h:1", "7.4.1").is_ok());
        assert!(requirement.check("h:1", "not-a-version").is_ok());
    }
}

/// The examples of this module's items, as unit tests (the items are crate-private).
#[cfg(test)]
mod doc_examples {
    #[test]
    fn version_example() {
        use crate::backends::server_version::Version;

        assert_eq!(Version::parse("7.2.4"), Some(Version::new(7, 2, 4)));
        assert_eq!(Version::parse("1.6"), Some(Version::new(1, 6, 0)));
        assert!(Version::new(6, 0, 16) < Version::new(6, 2, 0));
        assert_eq!(Version::parse("unknown"), None);
    }
}
