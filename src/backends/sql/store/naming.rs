//! Table, schema and sequence names: validated once, then always quoted.
//!
//! Names cannot be bound as query parameters, so they are the one place where
//! configuration reaches SQL text. Every name must match `^[A-Za-z_][A-Za-z0-9_]{0,62}$`
//! (at most 63 characters, PostgreSQL's limit) and is then written quoted (`"name"` on
//! PostgreSQL and SQLite, `` `name` `` on MySQL/MariaDB). No quote character can pass the
//! validation, so no SQL can be injected through `SESSION_SQLALCHEMY_TABLE`,
//! `SESSION_SQLALCHEMY_SCHEMA` or `SESSION_SQLALCHEMY_SEQUENCE`.

use std::fmt;

use crate::error::ConfigError;

use super::Dialect;

/// The longest accepted identifier, in bytes (PostgreSQL truncates longer names).
pub(crate) const MAX_IDENTIFIER_LEN: usize = 63;

/// A validated SQL identifier: `^[A-Za-z_][A-Za-z0-9_]{0,62}$`.
///
/// ```
/// use actix_flask_session::backends::sql::Identifier;
///
/// assert!(Identifier::new("SESSION_SQLALCHEMY_TABLE", "flask_sessions").is_ok());
/// assert!(Identifier::new("SESSION_SQLALCHEMY_TABLE", "sessions; DROP TABLE x").is_err());
/// assert!(Identifier::new("SESSION_SQLALCHEMY_TABLE", "se\"ssions").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Identifier(String);

impl Identifier {
    /// Validates `name`; the error names `key` (the configuration key it came from).
    pub fn new(key: &'static str, name: &str) -> Result<Self, ConfigError> {
        let mut chars = name.chars();
        let valid_start = chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
        let valid_rest = chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
        if valid_start && valid_rest && name.len() <= MAX_IDENTIFIER_LEN {
            Ok(Identifier(name.to_owned()))
        } else {
            Err(ConfigError::Invalid {
                key,
                value: format!("{name:?}"),
                allowed: format!(
                    "a SQL identifier: an ASCII letter or underscore, then letters, digits or \
                     underscores, at most {MAX_IDENTIFIER_LEN} characters"
                ),
            })
        }
    }

    /// The name as written in the configuration.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The name quoted for `dialect`.
    pub(crate) fn quoted(&self, dialect: Dialect) -> String {
        match dialect {
            Dialect::MySql => format!("`{}`", self.0),
            Dialect::Postgres | Dialect::Sqlite => format!("\"{}\"", self.0),
        }
    }
}

impl fmt::Display for Identifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where the sessions live: `SESSION_SQLALCHEMY_TABLE` (default `sessions`), optionally in
/// `SESSION_SQLALCHEMY_SCHEMA`, with the id taken from `SESSION_SQLALCHEMY_SEQUENCE`.
///
/// - **Schema.** PostgreSQL: a schema of the connected database (`"schema"."table"`).
///   MySQL/MariaDB: a schema *is* a database, so the table is `` `schema`.`table` `` in
///   that database of the same server; this is what SQLAlchemy (and so Flask-Session)
///   does with `schema=` on MySQL. SQLite: the name of an attached database (`main` is the
///   file itself).
/// - **Sequence** (PostgreSQL only; ignored elsewhere, as SQLAlchemy ignores `Sequence`
///   on MySQL and SQLite): the `id` column takes its values from this sequence. Like
///   SQLAlchemy's `Sequence(name)`, the sequence name is not schema-qualified: it is found
///   through the `search_path` (normally `public`).
///
/// ```
/// use actix_flask_session::backends::sql::SqlTable;
///
/// let table = SqlTable::new("flask_sessions")?.with_schema("app")?.with_sequence("flask_sessions_id_seq")?;
/// assert_eq!(table.table().as_str(), "flask_sessions");
/// assert_eq!(table.schema().map(|s| s.as_str()), Some("app"));
/// # Ok::<(), actix_flask_session::ConfigError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlTable {
    table: Identifier,
    schema: Option<Identifier>,
    sequence: Option<Identifier>,
}

impl Default for SqlTable {
    /// Flask-Session's default: table `sessions`, no schema, no sequence.
    fn default() -> Self {
        SqlTable {
            table: Identifier("sessions".to_owned()),
            schema: None,
            sequence: None,
        }
    }
}

impl SqlTable {
    /// The table `name` (validated as `SESSION_SQLALCHEMY_TABLE`).
    pub fn new(name: &str) -> Result<Self, ConfigError> {
        Ok(SqlTable {
            table: Identifier::new("SESSION_SQLALCHEMY_TABLE", name)?,
            schema: None,
            sequence: None,
        })
    }

    /// Puts the table in `schema` (validated as `SESSION_SQLALCHEMY_SCHEMA`).
    pub fn with_schema(mut self, schema: &str) -> Result<Self, ConfigError> {
        self.schema = Some(Identifier::new("SESSION_SQLALCHEMY_SCHEMA", schema)?);
        Ok(self)
    }

    /// Takes the `id` values from `sequence` on PostgreSQL (validated as
    /// `SESSION_SQLALCHEMY_SEQUENCE`).
    pub fn with_sequence(mut self, sequence: &str) -> Result<Self, ConfigError> {
        self.sequence = Some(Identifier::new("SESSION_SQLALCHEMY_SEQUENCE", sequence)?);
        Ok(self)
    }

    /// The table name.
    pub fn table(&self) -> &Identifier {
        &self.table
    }

    /// The schema, if any.
    pub fn schema(&self) -> Option<&Identifier> {
        self.schema.as_ref()
    }

    /// The sequence, if any.
    pub fn sequence(&self) -> Option<&Identifier> {
        self.sequence.as_ref()
    }

    /// The quoted, schema-qualified table name, e.g. `"app"."sessions"`.
    pub(crate) fn qualified(&self, dialect: Dialect) -> String {
        match &self.schema {
            Some(schema) => format!("{}.{}", schema.quoted(dialect), self.table.quoted(dialect)),
            None => self.table.quoted(dialect),
        }
    }

    /// The name of the index on `expiry`: `<table>_expiry_idx`, shortened to fit the
    /// identifier limit. It is created in the table's schema.
    pub(crate) fn expiry_index(&self) -> Identifier {
        const SUFFIX: &str = "_expiry_idx";
        let keep = self.table.0.len().min(MAX_IDENTIFIER_LEN - SUFFIX.len());
        Identifier(format!("{}{SUFFIX}", &self.table.0[..keep]))
    }

    /// The per-user index table (`SESSION_USER_KEY`): `<table>_users`, shortened to fit
    /// the identifier limit, in the table's schema.
    pub(crate) fn users(&self) -> SqlTable {
        const SUFFIX: &str = "_users";
        let keep = self.table.0.len().min(MAX_IDENTIFIER_LEN - SUFFIX.len());
        SqlTable {
            table: Identifier(format!("{}{SUFFIX}", &self.table.0[..keep])),
            schema: self.schema.clone(),
            sequence: None,
        }
    }

    /// The `id` default expression on PostgreSQL when a sequence is configured:
    /// `nextval('"seq"')`.
    pub(crate) fn nextval(&self) -> Option<String> {
        self.sequence
            .as_ref()
            .map(|seq| format!("nextval('{}')", seq.quoted(Dialect::Postgres)))
    }

    /// A human-readable name for messages: `schema.table`.
    pub(crate) fn display_name(&self) -> String {
        match &self.schema {
            Some(schema) => format!("{schema}.{}", self.table),
            None => self.table.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_validated() {
        for good in ["sessions", "_x", "A1_b", &"a".repeat(63)] {
            assert!(
                Identifier::new("SESSION_SQLALCHEMY_TABLE", good).is_ok(),
                "{good}"
            );
        }
        for bad in [
            "",
            "1abc",
            "a-b",
            "a b",
            "a\"b",
            "a`b",
            "a;drop",
            "sessions'--",
            "é",
            &"a".repeat(64),
        ] {
            let err = Identifier::new("SESSION_SQLALCHEMY_SCHEMA", bad).unwrap_err();
            assert!(
                err.to_string().contains("SESSION_SQLALCHEMY_SCHEMA"),
                "{err}"
            );
        }
    }

    #[test]
    fn names_are_quoted_per_dialect() {
        let table = SqlTable::new("Sessions")
            .unwrap()
            .with_schema("app")
            .unwrap();
        assert_eq!(table.qualified(Dialect::Postgres), "\"app\".\"Sessions\"");
        assert_eq!(table.qualified(Dialect::MySql), "`app`.`Sessions`");
        assert_eq!(table.qualified(Dialect::Sqlite), "\"app\".\"Sessions\"");
        assert_eq!(
            SqlTable::default().qualified(Dialect::Postgres),
            "\"sessions\""
        );
    }

    #[test]
    fn expiry_index_name_fits() {
        assert_eq!(
            SqlTable::default().expiry_index().as_str(),
            "sessions_expiry_idx"
        );
        let long = SqlTable::new(&"t".repeat(63)).unwrap();
        assert_eq!(long.expiry_index().as_str().len(), MAX_IDENTIFIER_LEN);
        assert!(long.expiry_index().as_str().ends_with("_expiry_idx"));
    }

    #[test]
    fn nextval_quotes_the_sequence() {
        let table = SqlTable::default().with_sequence("seq_1").unwrap();
        assert_eq!(table.nextval().as_deref(), Some("nextval('\"seq_1\"')"));
        assert_eq!(SqlTable::default().nextval(), None);
    }
}
