//! A raw SQL statement with bind parameters that Diesel may cache as a prepared statement.
//!
//! `diesel::sql_query` is never cached, so every call would prepare the statement again
//! (one more round trip on PostgreSQL). The session table's name is only known at run
//! time, so the typed DSL does not fit either. [`Statement`] is the small middle ground:
//! its SQL text is fixed per store (built once from the validated, quoted names), its
//! values are always bound, and Diesel caches it by its SQL text like any other query.

use diesel::backend::Backend;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::result::QueryResult;
use diesel::sql_types::{BigInt, Binary, Nullable, Text, Timestamp, Untyped};
use diesel::{QueryableByName, RunQueryDsl};
use time::PrimitiveDateTime;

/// SQL text split at its `?` placeholders. Names in it come from
/// [`SqlTable`](super::SqlTable), which never contains a `?`.
#[derive(Debug, Clone)]
pub(crate) struct Template {
    sql: String,
    parts: Vec<String>,
    cache: bool,
}

impl Template {
    pub(crate) fn new(sql: String) -> Self {
        let parts = sql.split('?').map(str::to_owned).collect();
        Template {
            sql,
            parts,
            cache: true,
        }
    }

    /// A statement built for one call (e.g. an `IN` list of its length), which Diesel
    /// must not keep as a prepared statement.
    pub(crate) fn once(sql: String) -> Self {
        Template {
            cache: false,
            ..Template::new(sql)
        }
    }

    /// The SQL text with `?` placeholders, for logs.
    pub(crate) fn sql(&self) -> &str {
        &self.sql
    }

    fn bind_count(&self) -> usize {
        self.parts.len() - 1
    }

    /// The statement with these values bound, in order.
    pub(crate) fn bind<'a>(&'a self, binds: Vec<Bind<'a>>) -> Statement<'a> {
        debug_assert_eq!(binds.len(), self.bind_count(), "{}", self.sql);
        Statement {
            template: self,
            binds,
        }
    }
}

/// One bound value.
#[derive(Debug)]
pub(crate) enum Bind<'a> {
    Text(&'a str),
    Bytes(&'a [u8]),
    /// A `TIMESTAMP WITHOUT TIME ZONE` / `DATETIME` value.
    Time(PrimitiveDateTime),
    /// A time already formatted as text (SQLite stores SQLAlchemy's text format).
    TimeText(String),
    BigInt(i64),
    /// A nullable text value.
    OptText(Option<&'a str>),
}

/// A [`Template`] with its values.
#[derive(Debug)]
pub(crate) struct Statement<'a> {
    template: &'a Template,
    binds: Vec<Bind<'a>>,
}

/// The backends a [`Statement`] can bind its values for.
pub(crate) trait BindBackend: Backend {
    fn push_bind<'b>(out: &mut AstPass<'_, 'b, Self>, bind: &'b Bind<'_>) -> QueryResult<()>;
}

macro_rules! bind_backend {
    ($backend:ty) => {
        impl BindBackend for $backend {
            fn push_bind<'b>(
                out: &mut AstPass<'_, 'b, Self>,
                bind: &'b Bind<'_>,
            ) -> QueryResult<()> {
                match bind {
                    Bind::Text(value) => out.push_bind_param::<Text, str>(value),
                    Bind::Bytes(value) => out.push_bind_param::<Binary, [u8]>(value),
                    Bind::Time(value) => out.push_bind_param::<Timestamp, PrimitiveDateTime>(value),
                    Bind::TimeText(value) => out.push_bind_param::<Text, String>(value),
                    Bind::BigInt(value) => out.push_bind_param::<BigInt, i64>(value),
                    Bind::OptText(value) => {
                        out.push_bind_param::<Nullable<Text>, Option<&str>>(value)
                    }
                }
            }
        }
    };
}

#[cfg(feature = "postgres")]
bind_backend!(diesel::pg::Pg);
#[cfg(feature = "mysql")]
bind_backend!(diesel::mysql::Mysql);
#[cfg(feature = "sqlite")]
bind_backend!(diesel::sqlite::Sqlite);

impl<DB: BindBackend> QueryFragment<DB> for Statement<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        if !self.template.cache {
            out.unsafe_to_cache_prepared();
        }
        let mut binds = self.binds.iter();
        for (i, part) in self.template.parts.iter().enumerate() {
            if i > 0 {
                let bind = binds.next().ok_or_else(|| {
                    diesel::result::Error::QueryBuilderError(
                        format!("missing bind value in {}", self.template.sql).into(),
                    )
                })?;
                DB::push_bind(&mut out, bind)?;
            }
            out.push_sql(part);
        }
        Ok(())
    }
}

impl QueryId for Statement<'_> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl Query for Statement<'_> {
    type SqlType = Untyped;
}

impl<Conn> RunQueryDsl<Conn> for Statement<'_> {}

/// The `data` column of one row (nullable in Flask-Session's table).
#[derive(Debug, QueryableByName)]
pub(crate) struct DataRow {
    #[diesel(sql_type = diesel::sql_types::Nullable<Binary>)]
    pub(crate) data: Option<Vec<u8>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_split_at_placeholders() {
        let t = Template::new("UPDATE t SET a = ? WHERE b = ? AND c > ?".to_owned());
        assert_eq!(t.bind_count(), 3);
        assert_eq!(
            t.parts,
            ["UPDATE t SET a = ", " WHERE b = ", " AND c > ", ""]
        );
        assert_eq!(Template::new("DELETE FROM t".to_owned()).bind_count(), 0);
    }
}
