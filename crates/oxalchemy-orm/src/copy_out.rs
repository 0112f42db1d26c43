//! `Query::copy_out` / `copy_out_all` / `copy_out_to`: a table's or a query's rows read
//! with PostgreSQL's binary `COPY (SELECT …) TO STDOUT`, as models or as the raw bytes.
//!
//! Models are decoded from the COPY rows by the same `FromSql` rules as a query's rows
//! (and as `copy_in` encodes them). COPY takes no parameters and values are never
//! formatted into SQL, so a query with bound values (most filters on values) is read with
//! the streamed SELECT of [`Query::stream`] instead: same models, same bounded memory, one
//! round trip less saved. On SQLite and MariaDB the model-level calls are
//! [`Query::stream`] too, so the same code runs on every database; the raw bytes exist only
//! on PostgreSQL ([`Error::Unsupported`] elsewhere, and for a query with bound values).

use futures_util::{Stream, TryStreamExt};
use oxalchemy_core::compile;
use oxalchemy_engine::Error;
use tokio::io::AsyncWrite;

use crate::model::Model;
use crate::query::{Exec, Query, Unbound};

impl<M: Model> Query<M, Unbound> {
    /// The matching rows as a [`Stream`] of models read through PostgreSQL's binary
    /// `COPY (SELECT …) TO STDOUT`, the fastest way out, holding a bounded number of rows
    /// in memory whatever the result's size. The SELECT is the one [`all`](Self::all)
    /// would run (filters, ORDER BY, LIMIT …); to export a whole table, use
    /// `query::<M>()` without a filter.
    ///
    /// Falls back to [`stream`](Self::stream)'s SELECT (same rows, same decoding, same
    /// bounded memory) where COPY cannot serve: on SQLite and MariaDB, which have no COPY,
    /// and on PostgreSQL for a query with bound values (a filter on a value), because COPY
    /// takes no parameters and values are never formatted into SQL. Filters without values
    /// (`Col::is_null()`, comparisons of two columns) go through COPY. As with `stream`,
    /// the connection is held until the stream ends or is dropped, and loader options are
    /// not applied.
    ///
    /// ```no_run
    /// # use oxalchemy_orm::{query, Model};
    /// # async fn f<User: Model>(db: &oxalchemy_engine::Database) -> Result<(), oxalchemy_engine::Error> {
    /// use futures_util::TryStreamExt;
    /// let mut users = std::pin::pin!(query::<User>().copy_out(db));
    /// while let Some(user) = users.try_next().await? {
    ///     # let _ = user;
    /// }
    /// # Ok(()) }
    /// ```
    pub fn copy_out<'e>(
        self,
        ex: impl Into<Exec<'e>>,
    ) -> impl Stream<Item = Result<M, Error>> + Send + 'e {
        self.rows(ex, true)
    }

    /// [`copy_out`](Self::copy_out) collected into a `Vec` (every row held at once; for
    /// large exports read the stream).
    pub async fn copy_out_all<'e>(self, ex: impl Into<Exec<'e>>) -> Result<Vec<M>, Error> {
        self.copy_out(ex).try_collect().await
    }

    /// Writes the bytes of a binary `COPY (SELECT …) TO STDOUT` of this query into `out`
    /// as they arrive (PostgreSQL only): header, rows, trailer, which
    /// `COPY … FROM STDIN (FORMAT binary)` loads into this or another PostgreSQL database
    /// (columns in the model's order). Returns the number of bytes written; memory stays
    /// bounded whatever the size.
    ///
    /// Returns [`Error::Unsupported`] before sending anything on SQLite and MariaDB (no
    /// COPY; read models with [`copy_out`](Self::copy_out) there), and for a query with
    /// bound values, because COPY takes no parameters and values are never formatted into
    /// SQL: filter without values, or copy the matching rows into a table first
    /// (INSERT … SELECT) and export that. A failing writer gives [`Error::CopyWrite`].
    ///
    /// ```no_run
    /// # use oxalchemy_orm::{query, Model};
    /// # async fn f<User: Model>(db: &oxalchemy_engine::Database) -> Result<(), oxalchemy_engine::Error> {
    /// // Any `tokio::io::AsyncWrite`: a `tokio::fs::File`, a socket, a pipe.
    /// let mut out: Vec<u8> = Vec::new();
    /// let bytes = query::<User>().copy_out_to(db, &mut out).await?;
    /// # let _ = bytes; Ok(()) }
    /// ```
    pub async fn copy_out_to<'e, W>(
        self,
        ex: impl Into<Exec<'e>>,
        out: &mut W,
    ) -> Result<u64, Error>
    where
        W: AsyncWrite + Unpin + Send + ?Sized,
    {
        let mut held = None;
        let conn = ex.into().connection(&mut held).await?;
        if !crate::bulk::is_postgres(conn) {
            return Err(Error::Unsupported {
                operation: "copy_out_to (the raw bytes of a binary COPY)",
                reason: format!("{} has no COPY", conn.dialect().name()),
                fix: "read the models with `copy_out` or `stream`, which run a streamed \
                      SELECT on this database"
                    .into(),
            });
        }
        let compiled = compile(conn.dialect(), &self.into_select().into())?;
        copy_to(conn, &compiled, out).await
    }
}

#[cfg(feature = "postgres")]
async fn copy_to<W: AsyncWrite + Unpin + Send + ?Sized>(
    conn: &mut oxalchemy_engine::Connection,
    compiled: &oxalchemy_core::Compiled,
    out: &mut W,
) -> Result<u64, Error> {
    conn.copy_out_to(compiled, out).await
}

#[cfg(not(feature = "postgres"))]
async fn copy_to<W: AsyncWrite + Unpin + Send + ?Sized>(
    _: &mut oxalchemy_engine::Connection,
    _: &oxalchemy_core::Compiled,
    _: &mut W,
) -> Result<u64, Error> {
    Err(Error::Unsupported {
        operation: "copy_out_to (the raw bytes of a binary COPY)",
        reason: "this build has no PostgreSQL support".into(),
        fix: "enable the `postgres` feature".into(),
    })
}
