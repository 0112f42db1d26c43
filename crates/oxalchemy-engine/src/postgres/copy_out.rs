//! PostgreSQL `COPY (SELECT …) TO STDOUT (FORMAT binary)`: [`Connection::copy_out_to`]
//! (the raw bytes into an [`AsyncWrite`]) and [`PgCopyOut`] (rows decoded one at a time,
//! the plumbing of the ORM's `Query::copy_out`).
//!
//! Rows are decoded by the same [`FromSql::from_postgres`](crate::FromSql) as a query's
//! rows and as `copy_in` encodes them (`PgBind`): the binary COPY format carries each value
//! exactly as the binary protocol does. The column names and types come from preparing the
//! SELECT once per COPY (one round trip).
//!
//! Bound values: `COPY` takes no parameters, and the only ways around that (formatting the
//! values into the SQL, or rewriting `$n` into lookups of a temporary table) either put
//! user values into SQL text or rewrite the compiled statement. Neither is done: a query
//! with bound values is refused with [`Error::Unsupported`] naming what to do instead (the
//! ORM's model-level `copy_out` streams such a query with a plain SELECT).
//!
//! Memory: tokio-postgres hands the COPY's messages over through a channel of one message
//! and stops reading the socket while it is full, so a slow reader or writer holds the
//! server back instead of buffering the result.

use std::pin::Pin;

use futures_util::StreamExt;
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio_postgres::binary_copy::BinaryCopyOutStream;

use super::map_error;
use crate::backend::AnyConn;
use crate::connection::Connection;
use crate::decode::Row;
use crate::error::{Error, Result};
use oxalchemy_core::Compiled;

/// The rows of one binary `COPY (SELECT …) TO STDOUT`, read one at a time
/// ([`PgCopyOut::next`]). The connection it came from stays marked busy until
/// [`Connection::stream_done`] is called with how it ended, and is reset before reuse if it
/// is dropped unfinished.
#[doc(hidden)]
pub struct PgCopyOut {
    rows: Pin<Box<BinaryCopyOutStream>>,
    /// The prepared SELECT: its columns name the COPY's columns.
    select: tokio_postgres::Statement,
}

impl std::fmt::Debug for PgCopyOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgCopyOut")
            .field("columns", &self.select.columns().len())
            .finish_non_exhaustive()
    }
}

impl PgCopyOut {
    /// The next row, decoded by `decode`; `None` at the end.
    pub async fn next<T>(
        &mut self,
        decode: impl FnOnce(&Row<'_>) -> Result<T>,
    ) -> Option<Result<T>> {
        match self.rows.next().await? {
            Ok(row) => Some(decode(&Row::postgres_copy(&row, self.select.columns()))),
            Err(e) => Some(Err(map_error(e))),
        }
    }
}

/// `COPY (select) TO STDOUT (FORMAT binary)`, or the typed refusal of a query with bound
/// values (COPY takes no parameters, and values are never formatted into SQL).
pub(crate) fn copy_out_sql(c: &Compiled) -> Result<String> {
    if !c.binds.is_empty() {
        return Err(Error::Unsupported {
            operation: "COPY TO STDOUT of a query with bound values",
            reason: format!(
                "COPY takes no parameters and the query has {} bound value(s), which are \
                 never formatted into SQL",
                c.binds.len()
            ),
            fix: "read the models with the ORM's `Query::copy_out` or `stream` (they stream \
                  such a query with a plain SELECT), or filter without values (column \
                  comparisons, IS NULL), or first copy the matching rows into a table with \
                  INSERT … SELECT and COPY that table"
                .into(),
        });
    }
    Ok(format!("COPY ({}) TO STDOUT (FORMAT binary)", c.sql))
}

/// The typed refusal of COPY on a database other than PostgreSQL.
pub(crate) fn not_postgres(database: &str) -> Error {
    Error::Unsupported {
        operation: "COPY TO STDOUT (the raw bytes of a binary COPY)",
        reason: format!("{database} has no COPY"),
        fix: "read the models with the ORM's `Query::copy_out` or `stream`, which run a \
              streamed SELECT there"
            .into(),
    }
}

impl Connection {
    /// Runs a binary `COPY (SELECT …) TO STDOUT` of `c` (PostgreSQL only) and writes the
    /// bytes to `out` as they arrive (header, rows, trailer: what
    /// `COPY … FROM STDIN (FORMAT binary)` reads back, into this or another PostgreSQL
    /// database); returns the number of bytes written. Memory stays bounded whatever the
    /// size. `c` must have no bound values (COPY takes no parameters, and values are never
    /// formatted into SQL): one that has is refused with [`Error::Unsupported`] before
    /// anything is sent, as is any other database.
    ///
    /// If `out` fails, the COPY is abandoned (the connection is reset before its next use)
    /// and [`Error::CopyWrite`] keeps the I/O error as its `source()`.
    ///
    /// ```no_run
    /// # async fn f(conn: &mut oxalchemy_engine::Connection, query: &oxalchemy_core::Compiled)
    /// #     -> oxalchemy_engine::Result<()> {
    /// // Any `tokio::io::AsyncWrite`: a file, a socket, a pipe to `psql -c "COPY … FROM STDIN"`.
    /// let mut out: Vec<u8> = Vec::new();
    /// let bytes = conn.copy_out_to(query, &mut out).await?;
    /// assert!(out.starts_with(b"PGCOPY\n\xff\r\n\0"));
    /// # let _ = bytes; Ok(()) }
    /// ```
    pub async fn copy_out_to<W>(&mut self, c: &Compiled, out: &mut W) -> Result<u64>
    where
        W: AsyncWrite + Unpin + ?Sized,
    {
        let copy = copy_out_sql(c)?;
        tracing::debug!(target: "oxalchemy::sql", sql = %copy);
        let name = self.dialect().name();
        let conn = self.send().await?;
        let started = match conn {
            AnyConn::Postgres(pg) => {
                pg.settle().await;
                pg.client.copy_out(copy.as_str()).await.map_err(map_error)
            }
            #[allow(unreachable_patterns, reason = "only PostgreSQL in some builds")]
            _ => Err(not_postgres(name)),
        };
        let stream = match started {
            Ok(s) => s,
            Err(e) => return self.answered(Err(e)),
        };
        let mut stream = std::pin::pin!(stream);
        let mut written = 0u64;
        while let Some(chunk) = stream.next().await {
            let chunk = match chunk {
                Ok(c) => c,
                Err(e) => return self.answered(Err(map_error(e))),
            };
            // A failing writer leaves the COPY unread: the connection stays in flight and
            // is reset before its next use, as any abandoned request is.
            out.write_all(&chunk)
                .await
                .map_err(|source| Error::CopyWrite { source })?;
            written += chunk.len() as u64;
        }
        let flushed = out
            .flush()
            .await
            .map_err(|source| Error::CopyWrite { source });
        self.answered(Ok(()))?;
        flushed?;
        Ok(written)
    }

    /// Starts a binary `COPY (SELECT …) TO STDOUT` whose rows are then pulled one at a
    /// time; `None` on a database other than PostgreSQL. Refuses a query with bound values
    /// ([`Error::Unsupported`]). The connection is marked in flight until
    /// [`stream_done`](Self::stream_done).
    #[doc(hidden)]
    pub async fn pg_copy_out(&mut self, c: &Compiled) -> Result<Option<PgCopyOut>> {
        if self.dialect().name() != "postgresql" {
            return Ok(None);
        }
        let copy = copy_out_sql(c)?;
        tracing::debug!(target: "oxalchemy::sql", sql = %copy);
        let conn = self.send().await?;
        let started = match conn {
            AnyConn::Postgres(pg) => {
                pg.settle().await;
                async {
                    let select = pg.client.prepare(&c.sql).await?;
                    let types: Vec<_> =
                        select.columns().iter().map(|c| c.type_().clone()).collect();
                    let stream = pg.client.copy_out(copy.as_str()).await?;
                    Ok(Some(PgCopyOut {
                        rows: Box::pin(BinaryCopyOutStream::new(stream, &types)),
                        select,
                    }))
                }
                .await
                .map_err(map_error)
            }
            #[allow(unreachable_patterns, reason = "only PostgreSQL in some builds")]
            _ => Ok(None),
        };
        match started {
            Ok(Some(s)) => Ok(Some(s)),
            other => self.answered(other),
        }
    }
}
