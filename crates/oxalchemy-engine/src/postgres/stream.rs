//! Rows of a PostgreSQL query as they arrive ([`Connection::pg_row_stream`]): the plumbing
//! of the ORM's `Query::stream`. tokio-postgres hands rows over through a channel of one
//! message and stops reading the socket while it is full, so a slow consumer holds the
//! server back instead of buffering the result: memory stays bounded for any row count.

use std::pin::Pin;

use futures_util::StreamExt;
use tokio_postgres::types::ToSql;

use super::{map_error, unnamed, PgBind};
use crate::backend::AnyConn;
use crate::connection::Connection;
use crate::decode::Row;
use crate::error::Result;
use oxalchemy_core::Compiled;

/// The rows of one query, read one at a time ([`PgRowStream::next`]). Owns nothing of the
/// connection: the connection it came from stays marked busy until
/// [`Connection::stream_done`] is called with how the stream ended, and is reset before
/// reuse if it is dropped unfinished.
#[doc(hidden)]
pub struct PgRowStream {
    rows: Pin<Box<tokio_postgres::RowStream>>,
}

impl std::fmt::Debug for PgRowStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgRowStream").finish_non_exhaustive()
    }
}

impl PgRowStream {
    /// The next row, decoded by `decode`; `None` at the end.
    pub async fn next<T>(
        &mut self,
        decode: impl FnOnce(&Row<'_>) -> Result<T>,
    ) -> Option<Result<T>> {
        match self.rows.next().await? {
            Ok(row) => Some(decode(&Row::postgres(&row))),
            Err(e) => Some(Err(map_error(e))),
        }
    }
}

impl Connection {
    /// Starts a read query whose rows are then pulled one at a time; `None` on a database
    /// other than PostgreSQL. The connection is marked in flight until
    /// [`stream_done`](Self::stream_done).
    #[doc(hidden)]
    pub async fn pg_row_stream(&mut self, c: &Compiled) -> Result<Option<PgRowStream>> {
        tracing::debug!(target: "oxalchemy::sql", sql = %c.sql);
        let conn = self.send().await?;
        let started = match conn {
            AnyConn::Postgres(pg) => {
                pg.settle().await;
                let stream = if pg.unnamed {
                    pg.client
                        .query_typed_raw(&c.sql, unnamed::params(&c.binds))
                        .await
                } else {
                    match pg.statement(&c.sql).await {
                        Ok(stmt) => {
                            let params: Vec<PgBind<'_>> = c.binds.iter().map(PgBind).collect();
                            pg.client
                                .query_raw(&stmt, params.iter().map(|p| p as &dyn ToSql))
                                .await
                        }
                        Err(e) => return self.answered(Err(e)),
                    }
                };
                stream
                    .map(|rows| {
                        Some(PgRowStream {
                            rows: Box::pin(rows),
                        })
                    })
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

    /// Settles the connection after a [`pg_row_stream`](Self::pg_row_stream) was read to
    /// its end (or failed); passes `result` through.
    #[doc(hidden)]
    pub fn stream_done<T>(&mut self, result: Result<T>) -> Result<T> {
        self.answered(result)
    }
}
