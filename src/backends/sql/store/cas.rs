//! Compare-and-swap on SQL: one `UPDATE ... WHERE data = ?`; a second statement reads the
//! current row only when the first one matched nothing.

use std::time::Duration;

use diesel::QueryableByName;
use diesel::RunQueryDsl;

use super::ops::{OpError, OpResult, SqlConnection, Statements};
use super::query::{Bind, DataRow, Template};
use crate::store::{SwapOutcome, Versioned};

/// `UPDATE T SET data = ?, expiry = ? WHERE session_id = ? AND expiry > ? AND data = ?`
/// for the quoted, qualified table name `table`.
pub(crate) fn swap_template(table: &str) -> Template {
    Template::new(format!(
        "UPDATE {table} SET data = ?, expiry = ? WHERE session_id = ? AND expiry > ? AND data = ?"
    ))
}

impl Statements {
    /// Writes `value` over a live row whose data is still `expected`; when no row matched,
    /// reads the live row: none is `Gone`, another value is `Changed`.
    pub(crate) fn compare_and_swap<C>(
        &self,
        conn: &mut C,
        key: &str,
        expected: &[u8],
        value: &[u8],
        ttl: Duration,
    ) -> OpResult<SwapOutcome>
    where
        C: SqlConnection,
        DataRow: QueryableByName<C::Backend>,
    {
        let now = self.now();
        let expiry = self.expiry(now, ttl).map_err(OpError::Input)?;
        let rows = self
            .swap
            .bind(vec![
                Bind::Bytes(value),
                self.time(expiry),
                Bind::Text(key),
                self.time(now),
                Bind::Bytes(expected),
            ])
            .execute(conn)?;
        if rows == 1 {
            return Ok(SwapOutcome::Swapped);
        }
        Ok(match self.load(conn, key, None)? {
            None => SwapOutcome::Gone,
            Some(current) => SwapOutcome::Changed(Versioned::new(current)),
        })
    }
}
