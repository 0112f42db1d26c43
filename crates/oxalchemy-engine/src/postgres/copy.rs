//! PostgreSQL `COPY … FROM STDIN (FORMAT binary)`: [`Connection::copy_in`] and [`CopyIn`].
//!
//! Rows are encoded as they are written, each value for its column's type exactly as a
//! bound parameter of that type would be (`PgBind`), and sent in 4 kB pieces: nothing holds
//! more than one row. The column types come from preparing `SELECT cols FROM table` once per
//! COPY (one round trip), so a value is checked against the real column, not guessed.
//!
//! Wire state: the connection is marked in flight when the COPY starts and settled when
//! [`CopyIn::finish`] is answered. A `CopyIn` dropped before `finish` aborts the COPY (the
//! driver sends CopyFail) and leaves the connection to be reset before its next use, as any
//! abandoned request does.

use std::pin::Pin;

use tokio_postgres::binary_copy::BinaryCopyInWriter;

use super::{map_error, PgBind};
use crate::backend::AnyConn;
use crate::connection::Connection;
use crate::error::{Error, Result};
use oxalchemy_core::dialect::quote_ident;
use oxalchemy_core::Value;

/// A `COPY table (columns) FROM STDIN (FORMAT binary)` in progress on a PostgreSQL
/// connection, made by [`Connection::copy_in`]. Write rows with [`write`](Self::write), end
/// with [`finish`](Self::finish); dropping it unfinished aborts the COPY (nothing of it is
/// kept).
#[must_use = "a COPY is aborted unless `.finish()` is awaited"]
pub struct CopyIn<'c> {
    conn: &'c mut Connection,
    writer: Pin<Box<BinaryCopyInWriter>>,
    columns: usize,
    rows: u64,
}

impl std::fmt::Debug for CopyIn<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CopyIn")
            .field("columns", &self.columns)
            .field("rows", &self.rows)
            .finish()
    }
}

/// `COPY "t" ("a", "b") FROM STDIN (FORMAT binary)` and the `SELECT` whose result columns
/// give the column types.
fn copy_sql(table: &str, columns: &[&str]) -> (String, String) {
    let mut cols = String::with_capacity(columns.len() * 12);
    for (i, c) in columns.iter().enumerate() {
        if i > 0 {
            cols.push_str(", ");
        }
        quote_ident(&mut cols, c);
    }
    let mut t = String::with_capacity(table.len() + 2);
    quote_ident(&mut t, table);
    (
        format!("COPY {t} ({cols}) FROM STDIN (FORMAT binary)"),
        format!("SELECT {cols} FROM {t} WHERE false"),
    )
}

impl Connection {
    /// Starts a binary `COPY table (columns) FROM STDIN` (PostgreSQL only): the fastest way
    /// to load many rows. Each value is encoded for its column's type as a bound parameter
    /// would be; rows stream to the server as they are written.
    ///
    /// ```no_run
    /// # async fn f(conn: &mut oxalchemy_engine::Connection) -> oxalchemy_engine::Result<()> {
    /// use oxalchemy_core::Value;
    /// let mut copy = conn.copy_in("users", &["name", "karma"]).await?;
    /// for i in 0..1000 {
    ///     copy.write(&[Value::Text(format!("user{i}")), Value::I32(i)]).await?;
    /// }
    /// let rows = copy.finish().await?;
    /// # let _ = rows; Ok(()) }
    /// ```
    pub async fn copy_in(&mut self, table: &str, columns: &[&str]) -> Result<CopyIn<'_>> {
        if columns.is_empty() {
            return Err(Error::Mapping {
                message: format!(
                    "COPY into `{table}` needs at least one column; insert rows of only \
                     defaults with INSERT … DEFAULT VALUES"
                ),
            });
        }
        let (copy, select) = copy_sql(table, columns);
        tracing::debug!(target: "oxalchemy::sql", sql = %copy);
        let conn = self.send().await?;
        let started = match conn {
            AnyConn::Postgres(pg) => {
                pg.settle().await;
                async {
                    let types = pg.client.prepare(&select).await?;
                    let types: Vec<_> = types.columns().iter().map(|c| c.type_().clone()).collect();
                    let sink = pg.client.copy_in::<_, bytes::Bytes>(&copy).await?;
                    Ok(BinaryCopyInWriter::new(sink, &types))
                }
                .await
                .map_err(map_error)
            }
            #[allow(unreachable_patterns, reason = "only PostgreSQL in some builds")]
            _ => Err(Error::Mapping {
                message: format!(
                    "COPY is PostgreSQL's; on this database load `{table}` with a multi-row \
                     INSERT (the ORM's bulk_insert / copy_in do so themselves)"
                ),
            }),
        };
        let writer = self.answered_keep(started)?;
        Ok(CopyIn {
            conn: self,
            writer: Box::pin(writer),
            columns: columns.len(),
            rows: 0,
        })
    }
}

impl CopyIn<'_> {
    /// Encodes one row (one value per column, in the order given to `copy_in`) and sends
    /// it once 4 kB are buffered.
    pub async fn write(&mut self, row: &[Value]) -> Result<()> {
        self.write_values(row.iter()).await
    }

    /// [`write`](Self::write) for a row's values wherever they are held (the ORM's column /
    /// value pairs), so they need not be moved into a slice first.
    pub async fn write_values<'v>(
        &mut self,
        row: impl ExactSizeIterator<Item = &'v Value>,
    ) -> Result<()> {
        if row.len() != self.columns {
            return Err(Error::Mapping {
                message: format!(
                    "a COPY row has {} values for {} columns; give one value per column",
                    row.len(),
                    self.columns
                ),
            });
        }
        self.writer
            .as_mut()
            .write_raw(row.map(PgBind))
            .await
            .map_err(map_error)?;
        self.rows += 1;
        Ok(())
    }

    /// Rows written so far.
    pub fn rows_written(&self) -> u64 {
        self.rows
    }

    /// Ends the COPY; returns the number of rows the server stored.
    pub async fn finish(mut self) -> Result<u64> {
        let result = self.writer.as_mut().finish().await.map_err(map_error);
        self.conn.answered(result)
    }
}

impl Connection {
    /// Marks a failure to start a request as answered (so the connection can be trusted
    /// again), but keeps a started one in flight: its answer comes later.
    fn answered_keep<T>(&mut self, started: Result<T>) -> Result<T> {
        match started {
            Ok(v) => Ok(v),
            Err(e) => self.answered(Err(e)),
        }
    }
}
