//! Running statements that are already compiled: plumbing for oxalchemy-orm and
//! oxalchemy-migrate, which compile statements themselves (to reuse, batch or pipeline them,
//! or to decode rows with context). Users run statements with [`Connection::execute`] and
//! [`Connection::query`], which compile and then call into this module.
//!
//! Every function here is `#[doc(hidden)]`: public because other crates of the workspace call
//! it, not an API users should rely on. Whether a statement may write is said by the function's
//! name (`*_read` / `*_write`): on a SQLite file a writer outside a transaction first waits
//! for the database's single writer slot, a reader never does.

use oxalchemy_core::{Compiled, Value};

use super::Connection;
use crate::backend::{AnyConn, Backend};
use crate::decode::{FromRow, Row};
use crate::error::Result;

/// Sends one request as `conn => call` (`call` awaits it on the driver connection `conn`),
/// keeping the connection's [`WireState`](super::WireState): marked before sending, settled
/// on the answer. A PostgreSQL plan made stale by DDL is sent again once outside a
/// transaction (see [`Connection::stale_plan`]).
macro_rules! round_trip {
    ($self:ident, $conn:ident => $call:expr) => {{
        let $conn = $self.send().await?;
        let mut result = $call;
        if $self.stale_plan(&mut result) {
            let $conn = $self.send().await?;
            result = $call;
        }
        $self.answered(result)
    }};
}

/// Whether a statement may write (and so must hold SQLite's writer slot).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    Read,
    Write,
}

impl Connection {
    /// Runs a compiled statement that may write; returns the number of rows changed.
    #[doc(hidden)]
    pub async fn execute_write(&mut self, c: &Compiled) -> Result<u64> {
        self.run_execute(&c.sql, &c.binds, Access::Write).await
    }

    /// [`Self::execute_write`] for a statement given as its SQL and binds: the ORM's bulk
    /// writes send one statement text for many chunks of values, without copying either.
    #[doc(hidden)]
    pub async fn execute_write_sql(&mut self, sql: &str, binds: &[Value]) -> Result<u64> {
        self.run_execute(sql, binds, Access::Write).await
    }

    /// Runs one statement that may write once per row of values: `binds` holds the rows one
    /// after another, `width` values each. Returns each run's changed-row count, stopping at
    /// the first error. On SQLite the statement is prepared once and rebound per row; on
    /// PostgreSQL the runs are pipelined (about one round trip); elsewhere they run one
    /// after another. Each run gets its own statement span and log line (when anything would
    /// see them).
    #[doc(hidden)]
    pub async fn execute_rows_write(
        &mut self,
        sql: &str,
        binds: &[Value],
        width: usize,
    ) -> Result<Vec<u64>> {
        if width == 0 || !binds.len().is_multiple_of(width) {
            return Err(crate::error::Error::Mapping {
                message: format!(
                    "{} values cannot be split into rows of {width} for `{sql}`",
                    binds.len()
                ),
            });
        }
        // A span and log line per run, unless nothing would see them (then their cost a
        // run is most of what this adds to the driver's own).
        let traces: Vec<_> = if self.untraced() {
            Vec::new()
        } else {
            binds
                .chunks(width)
                .map(|b| self.trace_parts(sql, b))
                .collect()
        };
        let _slot = self.write_slot(Access::Write).await?;
        let result = match self.send().await? {
            #[cfg(feature = "postgres")]
            AnyConn::Postgres(pg) => {
                let stmts: Vec<(&str, &[Value])> = binds.chunks(width).map(|b| (sql, b)).collect();
                pg.execute_many(&stmts).await
            }
            #[cfg(feature = "sqlite")]
            AnyConn::Sqlite(c) => c.execute_rows(sql, binds, width).await,
            // Other drivers: one statement after another.
            #[allow(unreachable_patterns)]
            conn => {
                async {
                    let mut out = Vec::with_capacity(binds.len() / width);
                    for b in binds.chunks(width) {
                        out.push(conn.execute(sql, b).await?);
                    }
                    Ok(out)
                }
                .await
            }
        };
        let result = self.answered(result);
        for (i, trace) in traces.into_iter().enumerate() {
            let one = match &result {
                Ok(counts) => Ok(counts.get(i).copied().unwrap_or(0)),
                Err(e) => Err(e),
            };
            trace.finish(one, sql);
        }
        result
    }

    /// Runs a compiled statement that cannot write (a SELECT); returns the number of rows
    /// it reports.
    #[doc(hidden)]
    pub async fn execute_read(&mut self, c: &Compiled) -> Result<u64> {
        self.run_execute(&c.sql, &c.binds, Access::Read).await
    }

    pub(super) async fn run_execute(
        &mut self,
        sql: &str,
        binds: &[Value],
        access: Access,
    ) -> Result<u64> {
        let trace = self.trace_parts(sql, binds);
        let _slot = self.write_slot(access).await?;
        let result = round_trip!(self, conn => conn.execute(sql, binds).await);
        trace.finish(result.as_ref().map(|n| *n), sql);
        result
    }

    /// Runs a compiled query that cannot write and decodes its rows.
    #[doc(hidden)]
    pub async fn query_read<T: FromRow + Send>(&mut self, c: &Compiled) -> Result<Vec<T>> {
        self.run_query(&c.sql, &c.binds, Access::Read).await
    }

    /// [`Self::query_read`] for a statement given as its SQL and binds: the ORM's hot paths
    /// run SQL they share with a cache, without copying it into a [`Compiled`].
    #[doc(hidden)]
    pub async fn query_read_sql<T: FromRow + Send>(
        &mut self,
        sql: &str,
        binds: &[Value],
    ) -> Result<Vec<T>> {
        self.run_query(sql, binds, Access::Read).await
    }

    /// Compiles a model query held by reference as its head and the rest of its SELECT
    /// (through the compiled-statement cache, as [`Connection::query`] does) and decodes
    /// its rows: the ORM's model queries, whose tree is neither moved into a
    /// [`Statement`](oxalchemy_core::Statement) nor cloned, nor (on a cache hit) completed
    /// with its columns and table.
    #[doc(hidden)]
    pub async fn query_select_read<T: FromRow + Send>(
        &mut self,
        head: &oxalchemy_core::SelectHead,
        select: &oxalchemy_core::Select,
    ) -> Result<Vec<T>> {
        let mut binds = self.take_binds();
        let sql = self
            .shared
            .compile_shared_headed_select_into(head, select, &mut binds)?;
        let result = self.run_query(&sql, &binds, Access::Read).await;
        self.keep_binds(binds);
        result
    }

    /// [`Self::query_select_read`]'s first row; the rest are not read, and no `Vec` is
    /// built for it. For `.first()` of a model query, which asks for one row.
    #[doc(hidden)]
    pub async fn query_select_first_read<T: FromRow + Send>(
        &mut self,
        head: &oxalchemy_core::SelectHead,
        select: &oxalchemy_core::Select,
    ) -> Result<Option<T>> {
        let mut binds = self.take_binds();
        let sql = self
            .shared
            .compile_shared_headed_select_into(head, select, &mut binds)?;
        let result = self.query_first_read_sql(&sql, &binds).await;
        self.keep_binds(binds);
        result
    }

    /// The connection's bind buffer, for one statement compiled from a SELECT held by
    /// reference (empty; a new one if a dropped future took the last).
    fn take_binds(&mut self) -> Vec<oxalchemy_core::Value> {
        std::mem::take(&mut self.binds)
    }

    /// Gives the bind buffer back, emptied, for the next statement: a lookup in a loop then
    /// allocates nothing for its values (callgrind, `benches/lookup_callgrind.rs`). A
    /// buffer grown by a long `IN` list is dropped rather than held for the connection's
    /// life.
    fn keep_binds(&mut self, mut binds: Vec<oxalchemy_core::Value>) {
        if binds.capacity() <= 64 {
            binds.clear();
            self.binds = binds;
        }
    }

    /// Runs a compiled statement that may write and returns rows (`INSERT … RETURNING`),
    /// decoded.
    #[doc(hidden)]
    pub async fn query_write<T: FromRow + Send>(&mut self, c: &Compiled) -> Result<Vec<T>> {
        self.run_query(&c.sql, &c.binds, Access::Write).await
    }

    /// The first row of a statement that cannot write, given as its SQL and binds; the
    /// rest are not read. For lookups by primary key (`orm::get`), which match at most one.
    #[doc(hidden)]
    pub async fn query_first_read_sql<T: FromRow + Send>(
        &mut self,
        sql: &str,
        binds: &[Value],
    ) -> Result<Option<T>> {
        let trace = self.trace_parts(sql, binds);
        let result = round_trip!(self, conn => conn.query_first(sql, binds).await);
        trace.finish(result.as_ref().map(|row| u64::from(row.is_some())), sql);
        result
    }

    pub(super) async fn run_query<T: FromRow + Send>(
        &mut self,
        sql: &str,
        binds: &[Value],
        access: Access,
    ) -> Result<Vec<T>> {
        let trace = self.trace_parts(sql, binds);
        let _slot = self.write_slot(access).await?;
        let result = round_trip!(self, conn => conn.query(sql, binds).await);
        trace.finish(result.as_ref().map(|rows| rows.len() as u64), sql);
        result
    }

    /// Runs a compiled statement that may write and turns each returned row into a `T`
    /// with `f`.
    #[doc(hidden)]
    pub async fn query_map_write<T: Send>(
        &mut self,
        c: &Compiled,
        f: impl FnMut(&Row<'_>) -> Result<T> + Send,
    ) -> Result<Vec<T>> {
        self.run_query_map(&c.sql, &c.binds, Access::Write, f).await
    }

    /// Runs a compiled query that cannot write and turns each row into a `T` with `f` (for
    /// decoders that need context, like the ORM's joined eager loading).
    #[doc(hidden)]
    pub async fn query_map_read<T: Send>(
        &mut self,
        c: &Compiled,
        f: impl FnMut(&Row<'_>) -> Result<T> + Send,
    ) -> Result<Vec<T>> {
        self.run_query_map(&c.sql, &c.binds, Access::Read, f).await
    }

    /// [`Self::query_map_read`] for a SELECT held by reference, compiled through the
    /// compiled-statement cache as [`Self::query_select_read`] does. With `T = ()` nothing
    /// is allocated for the rows: the ORM's `.one()` keeps the first row in `f` and counts
    /// the rest.
    #[doc(hidden)]
    pub async fn query_select_map_read<T: Send>(
        &mut self,
        head: &oxalchemy_core::SelectHead,
        select: &oxalchemy_core::Select,
        f: impl FnMut(&Row<'_>) -> Result<T> + Send,
    ) -> Result<Vec<T>> {
        let mut binds = self.take_binds();
        let sql = self
            .shared
            .compile_shared_headed_select_into(head, select, &mut binds)?;
        let result = self.run_query_map(&sql, &binds, Access::Read, f).await;
        self.keep_binds(binds);
        result
    }

    async fn run_query_map<T: Send>(
        &mut self,
        sql: &str,
        binds: &[oxalchemy_core::Value],
        access: Access,
        mut f: impl FnMut(&Row<'_>) -> Result<T> + Send,
    ) -> Result<Vec<T>> {
        let trace = self.trace_parts(sql, binds);
        let _slot = self.write_slot(access).await?;
        let result = round_trip!(self, conn => match conn {
            #[cfg(feature = "sqlite")]
            AnyConn::Sqlite(conn) => conn.query_map(sql, binds, &mut f).await,
            #[cfg(feature = "postgres")]
            AnyConn::Postgres(conn) => conn.query_map(sql, binds, &mut f).await,
            #[cfg(feature = "mysql")]
            AnyConn::Mysql(conn) => conn.query_map(sql, binds, &mut f).await,
        });
        trace.finish(result.as_ref().map(|rows| rows.len() as u64), sql);
        result
    }

    /// Streams a compiled query's rows in batches of `batch` (SQLAlchemy's `yield_per`): `f`
    /// gets each batch as it is decoded, and memory holds one batch, not the whole result.
    /// Returns the number of rows. On PostgreSQL rows are read as they arrive; on SQLite as
    /// stepped.
    #[doc(hidden)]
    pub async fn query_batches<T: FromRow + Send>(
        &mut self,
        c: &Compiled,
        batch: usize,
        mut f: impl FnMut(Vec<T>) -> Result<()> + Send,
    ) -> Result<u64> {
        let trace = self.trace(c);
        let batch = batch.max(1);
        let mut decode = |row: &Row<'_>| T::from_row(row);
        // Not retried on a stale plan: batches may already have reached `f`.
        let result = match self.send().await? {
            #[cfg(feature = "sqlite")]
            AnyConn::Sqlite(conn) => {
                conn.query_batches(&c.sql, &c.binds, batch, &mut decode, &mut f)
                    .await
            }
            #[cfg(feature = "postgres")]
            AnyConn::Postgres(conn) => {
                conn.query_batches(&c.sql, &c.binds, batch, &mut decode, &mut f)
                    .await
            }
            #[cfg(feature = "mysql")]
            AnyConn::Mysql(conn) => {
                conn.query_batches(&c.sql, &c.binds, batch, &mut decode, &mut f)
                    .await
            }
        };
        let result = self.answered(result);
        trace.finish(result.as_ref().map(|n| *n), &c.sql);
        result
    }

    /// Runs several compiled statements that may write, in order; returns each one's
    /// changed-row count. On PostgreSQL they are pipelined (one round trip for all); on
    /// SQLite they run one after another on this thread. Stops at the first error.
    #[doc(hidden)]
    pub async fn execute_many_compiled(&mut self, stmts: &[Compiled]) -> Result<Vec<u64>> {
        let traces: Vec<_> = stmts.iter().map(|c| self.trace(c)).collect();
        let _slot = self.write_slot(Access::Write).await?;
        let result = match self.send().await? {
            #[cfg(feature = "postgres")]
            AnyConn::Postgres(pg) => {
                let refs: Vec<(&str, &[oxalchemy_core::Value])> = stmts
                    .iter()
                    .map(|c| (c.sql.as_str(), c.binds.as_slice()))
                    .collect();
                pg.execute_many(&refs).await
            }
            // With both drivers the PostgreSQL arm above leaves this one for SQLite; with
            // only SQLite it is the only arm.
            #[allow(unreachable_patterns)]
            conn => execute_each(conn, stmts).await,
        };
        let result = self.answered(result);
        // Pipelined: each span gets its own count, and all of them the batch's duration.
        for (i, (trace, c)) in traces.into_iter().zip(stmts).enumerate() {
            let one = match &result {
                Ok(counts) => Ok(counts.get(i).copied().unwrap_or(0)),
                Err(e) => Err(e),
            };
            trace.finish(one, &c.sql);
        }
        result
    }

    /// Whether `result` failed on a PostgreSQL statement whose cached plan DDL made stale
    /// (SQLSTATE 0A000, "cached plan must not change result type") and should be sent again.
    /// Either way the connection's statement cache is dropped, so every statement is
    /// prepared afresh. Outside a transaction the failed statement did nothing, so it is
    /// retried once (as SQLAlchemy's asyncpg dialect does); inside one the server has aborted
    /// the transaction, so the error is kept, with a hint saying what happened and what to do.
    pub(super) fn stale_plan<T>(&mut self, result: &mut Result<T>) -> bool {
        let Err(e) = result else { return false };
        if !crate::error::is_stale_plan(e) {
            return false;
        }
        let pooled = self.pooled();
        // The request was answered (with this error): sending it again is no abandonment,
        // and must not reset the connection (which would release its advisory locks).
        pooled.state = super::WireState::Settled;
        pooled.conn.forget_statements();
        if pooled.depth == 0 {
            tracing::debug!(target: "oxalchemy::engine", "statement plan made stale by DDL; statement cache dropped, retrying once");
            return true;
        }
        if let crate::error::Error::Database { hint, .. } = e {
            *hint = Some(
                "a table this statement uses was altered (DDL) after this connection prepared \
                 the statement, so its cached plan no longer fits; the transaction is aborted: \
                 roll it back and run it again (this connection's statement cache has been \
                 cleared)"
                    .to_owned(),
            );
        }
        false
    }

    /// How many rows one INSERT may carry when their generated keys are read back:
    /// unlimited (`usize::MAX`) where RETURNING or consecutive values give every row's key,
    /// 1 on a MySQL server without RETURNING whose `innodb_autoinc_lock_mode` is 2
    /// ("interleaved"), where one INSERT's AUTO_INCREMENT values need not be consecutive.
    #[doc(hidden)]
    pub fn rows_per_keyed_insert(&mut self) -> usize {
        #[cfg(feature = "mysql")]
        if !self.shared.dialect.insert_returning() {
            #[allow(irrefutable_let_patterns)]
            if let AnyConn::Mysql(m) = &self.pooled().conn {
                if !m.consecutive_autoinc() {
                    return 1;
                }
            }
        }
        usize::MAX
    }

    /// Runs a multi-row INSERT into a SQLite table whose key is its rowid and returns the
    /// generated keys, without RETURNING (which costs SQLite a temporary table): SQLite gives
    /// the rows of one INSERT consecutive rowids after the table's largest (its documented
    /// algorithm; only a table whose largest rowid reached 2^63-1 gets random ones, and then
    /// the count check below fails loudly rather than mis-assigning keys). `None` on other
    /// databases: use RETURNING there.
    #[doc(hidden)]
    pub async fn insert_returning_rowids(
        &mut self,
        c: &Compiled,
        table: &str,
        rows: usize,
    ) -> Result<Option<Vec<i64>>> {
        // MySQL has no RETURNING: keys from LAST_INSERT_ID() (see
        // `MysqlConn::insert_returning_ids` for when they are consecutive). MariaDB uses
        // RETURNING like PostgreSQL.
        #[cfg(feature = "mysql")]
        if !self.shared.dialect.insert_returning() {
            let trace = self.trace(c);
            let result = round_trip!(self, conn => match conn {
                AnyConn::Mysql(m) => m.insert_returning_ids(&c.sql, &c.binds, table, rows).await,
                #[allow(unreachable_patterns, reason = "other drivers exist only with their features")]
                _ => Err(crate::error::Error::Mapping {
                    message: "a dialect without RETURNING on a driver that is not MySQL".into(),
                }),
            });
            trace.finish(result.as_ref().map(|k| k.len() as u64), &c.sql);
            return result.map(Some);
        }
        #[cfg(feature = "sqlite")]
        {
            // With only the `sqlite` feature, `AnyConn` has no other variant.
            #[allow(irrefutable_let_patterns)]
            let sqlite = matches!(self.pooled().conn, AnyConn::Sqlite(_));
            if !sqlite {
                let _ = (c, table, rows);
                return Ok(None);
            }
            let trace = self.trace(c);
            let _slot = self.write_slot(Access::Write).await?;
            #[allow(irrefutable_let_patterns)]
            if let AnyConn::Sqlite(conn) = &mut self.pooled().conn {
                let changed = crate::sqlite::SqliteConn::execute(conn, &c.sql, &c.binds).await;
                trace.finish(changed.as_ref().map(|n| *n), &c.sql);
                let changed = changed?;
                let last = conn.conn.last_insert_rowid();
                let first = last - rows as i64 + 1;
                if changed != rows as u64 || first < 1 {
                    return Err(crate::error::Error::InsertRowCount {
                        table: table.to_owned(),
                        sent: rows,
                        returned: usize::try_from(changed).unwrap_or(usize::MAX),
                    });
                }
                return Ok(Some((first..=last).collect()));
            }
        }
        let _ = (c, table, rows);
        Ok(None)
    }
}

/// Runs statements one after another on a driver without pipelining; returns each one's
/// changed-row count, stopping at the first error.
#[cfg_attr(all(feature = "postgres", not(feature = "sqlite")), allow(dead_code))]
async fn execute_each(conn: &mut AnyConn, stmts: &[Compiled]) -> Result<Vec<u64>> {
    let mut out = Vec::with_capacity(stmts.len());
    for c in stmts {
        out.push(conn.execute(&c.sql, &c.binds).await?);
    }
    Ok(out)
}
