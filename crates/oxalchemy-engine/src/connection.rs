//! `Connection` (a pooled driver connection) and `Transaction` (rolled back on drop,
//! nested levels are SAVEPOINTs).

use std::borrow::BorrowMut;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use deadpool::managed::Object;
use tokio::sync::OwnedMutexGuard;

use crate::backend::Backend;
use crate::database::{Manager, Shared};
use crate::decode::{FromRow, FromSql};
use crate::error::{Error, Result};
use oxalchemy_core::{compile, Compiled, Dialect, Statement};

/// A driver connection as the pool stores it, with the transaction depth it is at.
pub(crate) struct Pooled {
    pub(crate) conn: crate::backend::AnyConn,
    /// 0: autocommit; 1: in a transaction; n > 1: inside n - 1 savepoints.
    pub(crate) depth: u32,
}

/// A connection checked out of the pool; returned to it on drop.
pub struct Connection {
    obj: Option<Object<Manager>>,
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("url", &self.shared.url)
            .field("depth", &self.obj.as_ref().map(|o| o.depth))
            .finish()
    }
}

/// Rows of the single-row helpers ([`Connection::query_one`] …) are decoded before they are
/// counted, so a query for "one" row should carry its own LIMIT when it might match many.
fn exactly_one<T>(mut rows: Vec<T>) -> Result<T> {
    match rows.len() {
        1 => Ok(rows.remove(0)),
        0 => Err(Error::NotFound),
        n => Err(Error::MultipleResults { count: n }),
    }
}

impl Connection {
    pub(crate) fn new(obj: Object<Manager>, shared: Arc<Shared>) -> Self {
        Connection {
            obj: Some(obj),
            shared,
        }
    }

    fn pooled(&mut self) -> &mut Pooled {
        // `obj` is only None inside Drop.
        self.obj.as_deref_mut().expect("connection used after drop")
    }

    pub fn dialect(&self) -> &'static dyn Dialect {
        self.shared.dialect
    }

    /// Whether a transaction is open on this connection.
    pub fn in_transaction(&self) -> bool {
        self.obj.as_ref().is_some_and(|o| o.depth > 0)
    }

    /// Compiles a statement for this connection's dialect.
    pub fn compile(&self, stmt: &Statement) -> Result<Compiled> {
        Ok(compile(self.shared.dialect, stmt)?)
    }

    fn echo(&self, c: &Compiled) {
        let s = &self.shared;
        match (s.echo, s.hide_parameters) {
            (true, true) => tracing::info!(target: "oxalchemy::sql", sql = %c.sql),
            (true, false) => {
                tracing::info!(target: "oxalchemy::sql", sql = %c.sql, params = ?c.binds)
            }
            (false, true) => tracing::debug!(target: "oxalchemy::sql", sql = %c.sql),
            (false, false) => {
                tracing::debug!(target: "oxalchemy::sql", sql = %c.sql, params = ?c.binds)
            }
        }
    }

    /// On SQLite files, a write outside a transaction waits (asynchronously) for the
    /// database's single writer slot instead of busy-waiting a thread.
    async fn write_slot(&mut self, writes: bool) -> Result<Option<OwnedMutexGuard<()>>> {
        if writes && !self.in_transaction() {
            self.shared.write_slot().await
        } else {
            Ok(None)
        }
    }

    /// Runs a compiled statement; returns the number of rows changed. `writes` tells whether
    /// it may write (SQLite queues writers).
    pub async fn execute_compiled(&mut self, c: &Compiled, writes: bool) -> Result<u64> {
        self.echo(c);
        let _slot = self.write_slot(writes).await?;
        self.pooled().conn.execute(&c.sql, &c.binds).await
    }

    /// Runs several compiled statements, in order; returns each one's changed-row count.
    /// On PostgreSQL they are pipelined (one round trip for all); on SQLite they run one
    /// after another on this thread. Stops at the first error.
    pub async fn execute_many_compiled(&mut self, stmts: &[Compiled]) -> Result<Vec<u64>> {
        for c in stmts {
            self.echo(c);
        }
        let _slot = self.write_slot(true).await?;
        match &mut self.pooled().conn {
            #[cfg(feature = "postgres")]
            crate::backend::AnyConn::Postgres(pg) => {
                let refs: Vec<(&str, &[oxalchemy_core::Value])> = stmts
                    .iter()
                    .map(|c| (c.sql.as_str(), c.binds.as_slice()))
                    .collect();
                pg.execute_many(&refs).await
            }
            #[allow(unreachable_patterns)]
            conn => {
                let mut out = Vec::with_capacity(stmts.len());
                for c in stmts {
                    out.push(conn.execute(&c.sql, &c.binds).await?);
                }
                Ok(out)
            }
        }
    }

    /// Runs a multi-row INSERT into a SQLite table whose key is its rowid and returns the
    /// generated keys, without RETURNING (which costs SQLite a temporary table): SQLite gives
    /// the rows of one INSERT consecutive rowids after the table's largest (its documented
    /// algorithm; only a table whose largest rowid reached 2^63-1 gets random ones, and then
    /// the count check below fails loudly rather than mis-assigning keys). `None` on other
    /// databases: use RETURNING there.
    pub async fn insert_returning_rowids(
        &mut self,
        c: &Compiled,
        rows: usize,
    ) -> Result<Option<Vec<i64>>> {
        #[cfg(feature = "sqlite")]
        {
            self.echo(c);
            let _slot = self.write_slot(true).await?;
            if let crate::backend::AnyConn::Sqlite(conn) = &mut self.pooled().conn {
                let changed = crate::sqlite::SqliteConn::execute(conn, &c.sql, &c.binds)?;
                let last = conn.conn.last_insert_rowid();
                let first = last - rows as i64 + 1;
                if changed != rows as u64 || first < 1 {
                    return Err(Error::Database {
                        code: None,
                        message: format!(
                            "multi-row INSERT reported {changed} rows and last rowid {last} for \
                             {rows} rows; cannot assign generated keys"
                        ),
                        detail: None,
                        hint: None,
                        source: None,
                    });
                }
                return Ok(Some((first..=last).collect()));
            }
        }
        let _ = (c, rows);
        Ok(None)
    }

    /// Runs a compiled statement and decodes its rows.
    pub async fn query_compiled<T: FromRow + Send>(
        &mut self,
        c: &Compiled,
        writes: bool,
    ) -> Result<Vec<T>> {
        self.echo(c);
        let _slot = self.write_slot(writes).await?;
        self.pooled().conn.query(&c.sql, &c.binds).await
    }

    /// Runs a compiled statement and turns each row into a `T` with `f` (for decoders that
    /// need context, like the ORM's joined eager loading).
    pub async fn query_map<T: Send>(
        &mut self,
        c: &Compiled,
        writes: bool,
        mut f: impl FnMut(&crate::Row<'_>) -> Result<T> + Send,
    ) -> Result<Vec<T>> {
        self.echo(c);
        let _slot = self.write_slot(writes).await?;
        match &mut self.pooled().conn {
            #[cfg(feature = "sqlite")]
            crate::backend::AnyConn::Sqlite(conn) => conn.query_map(&c.sql, &c.binds, &mut f),
            #[cfg(feature = "postgres")]
            crate::backend::AnyConn::Postgres(conn) => {
                conn.query_map(&c.sql, &c.binds, &mut f).await
            }
        }
    }

    /// Streams a query's rows in batches of `batch` (SQLAlchemy's `yield_per`): `f` gets each
    /// batch as it is decoded, and memory holds one batch, not the whole result. Returns the
    /// number of rows. On PostgreSQL rows are read as they arrive; on SQLite as stepped.
    pub async fn query_batches<T: FromRow + Send>(
        &mut self,
        c: &Compiled,
        batch: usize,
        mut f: impl FnMut(Vec<T>) -> Result<()> + Send,
    ) -> Result<u64> {
        self.echo(c);
        let batch = batch.max(1);
        let mut decode = |row: &crate::Row<'_>| T::from_row(row);
        match &mut self.pooled().conn {
            #[cfg(feature = "sqlite")]
            crate::backend::AnyConn::Sqlite(conn) => {
                conn.query_batches(&c.sql, &c.binds, batch, &mut decode, &mut f)
            }
            #[cfg(feature = "postgres")]
            crate::backend::AnyConn::Postgres(conn) => {
                conn.query_batches(&c.sql, &c.binds, batch, &mut decode, &mut f)
                    .await
            }
        }
    }

    /// Runs a statement (INSERT, UPDATE, DELETE, DDL, `text()` …); returns the number of
    /// rows changed.
    pub async fn execute(&mut self, stmt: impl Into<Statement>) -> Result<u64> {
        let stmt = stmt.into();
        let c = self.compile(&stmt)?;
        self.execute_compiled(&c, writes(&stmt)).await
    }

    /// Runs a statement and decodes every row: `conn.query::<(i64, String)>(select…)`.
    pub async fn query<T: FromRow + Send>(&mut self, stmt: impl Into<Statement>) -> Result<Vec<T>> {
        let stmt = stmt.into();
        let c = self.compile(&stmt)?;
        self.query_compiled(&c, writes(&stmt)).await
    }

    /// Exactly one row, else [`Error::NotFound`] / [`Error::MultipleResults`].
    pub async fn query_one<T: FromRow + Send>(&mut self, stmt: impl Into<Statement>) -> Result<T> {
        exactly_one(self.query(stmt).await?)
    }

    /// At most one row, else [`Error::MultipleResults`].
    pub async fn query_opt<T: FromRow + Send>(
        &mut self,
        stmt: impl Into<Statement>,
    ) -> Result<Option<T>> {
        match exactly_one(self.query(stmt).await?) {
            Ok(v) => Ok(Some(v)),
            Err(Error::NotFound) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The first column of exactly one row: `conn.query_scalar::<i64>(select([func::count_star()])…)`.
    pub async fn query_scalar<T: FromSql + Send>(
        &mut self,
        stmt: impl Into<Statement>,
    ) -> Result<T> {
        let (v,) = self.query_one::<(T,)>(stmt).await?;
        Ok(v)
    }

    /// Starts a transaction — or, inside one, a SAVEPOINT. It rolls back when dropped
    /// without [`Transaction::commit`].
    pub async fn begin(&mut self) -> Result<Transaction<'_>> {
        self.begin_with(None).await
    }

    /// Starts a transaction at an isolation level (PostgreSQL; SQLite transactions are
    /// always serializable, so the level is accepted and needs nothing). Under
    /// `Serializable`, be ready to retry on [`Error::Serialization`].
    pub async fn begin_isolated(&mut self, level: IsolationLevel) -> Result<Transaction<'_>> {
        if self.in_transaction() {
            return Err(Error::Mapping {
                message: "an isolation level can only be set on an outermost transaction, \
                          not on a savepoint; call begin_isolated on a connection outside any \
                          transaction"
                    .into(),
            });
        }
        self.begin_with(Some(level)).await
    }

    async fn begin_with(&mut self, level: Option<IsolationLevel>) -> Result<Transaction<'_>> {
        let (depth, gate) = self.start(level).await?;
        Ok(TransactionGuard {
            conn: self,
            depth,
            done: false,
            _gate: gate,
        })
    }

    /// Starts a transaction that owns this connection (for holders that outlive a borrow,
    /// like an ORM session). Rolled back on drop like [`Transaction`].
    pub async fn begin_owned(mut self) -> Result<OwnedTransaction> {
        let (depth, gate) = self.start(None).await?;
        Ok(TransactionGuard {
            conn: self,
            depth,
            done: false,
            _gate: gate,
        })
    }

    async fn start(
        &mut self,
        level: Option<IsolationLevel>,
    ) -> Result<(u32, Option<OwnedMutexGuard<()>>)> {
        let depth = self.pooled().depth + 1;
        // SQLite has one writer: a transaction takes the slot for its whole life.
        let gate = if depth == 1 {
            self.shared.write_slot().await?
        } else {
            None
        };
        let sql = if depth == 1 {
            match level {
                Some(level) if self.shared.isolation_levels => {
                    format!("BEGIN ISOLATION LEVEL {}", level.sql())
                }
                _ => self.shared.begin_sql.to_owned(),
            }
        } else {
            format!("SAVEPOINT {}", savepoint_name(depth))
        };
        tracing::debug!(target: "oxalchemy::sql", sql = %sql);
        let pooled = self.pooled();
        pooled.conn.batch(&sql).await?;
        pooled.depth = depth;
        Ok((depth, gate))
    }
}

/// Transaction isolation levels (PostgreSQL's; SQLite is always serializable).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IsolationLevel {
    ReadCommitted,
    RepeatableRead,
    Serializable,
}

impl IsolationLevel {
    fn sql(self) -> &'static str {
        match self {
            IsolationLevel::ReadCommitted => "READ COMMITTED",
            IsolationLevel::RepeatableRead => "REPEATABLE READ",
            IsolationLevel::Serializable => "SERIALIZABLE",
        }
    }
}

fn savepoint_name(depth: u32) -> String {
    format!("oxalchemy_sp_{}", depth - 1)
}

/// Statements that cannot write run without waiting for SQLite's writer slot: SELECTs,
/// and `text()` that is a plain SELECT (anything else in text is assumed to write).
fn writes(stmt: &Statement) -> bool {
    match stmt {
        Statement::Select(_) => false,
        Statement::Text(t) => {
            let head = t.sql.trim_start();
            !head
                .get(..6)
                .is_some_and(|h| h.eq_ignore_ascii_case("select"))
        }
        _ => true,
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        let Some(obj) = self.obj.take() else { return };
        // Connections beyond pool_size are overflow: closed on return, as in SQLAlchemy.
        if let Some(pool) = Object::pool(&obj) {
            if pool.status().size > self.shared.pool_size {
                drop(Object::take(obj));
                return;
            }
        }
        drop(obj);
    }
}

/// An open transaction (or SAVEPOINT) on a borrowed or owned connection. Derefs to the
/// [`Connection`] to run statements. Dropped without [`commit`](TransactionGuard::commit),
/// it rolls back.
pub struct TransactionGuard<C: BorrowMut<Connection>> {
    conn: C,
    depth: u32,
    done: bool,
    _gate: Option<OwnedMutexGuard<()>>,
}

/// A transaction on a borrowed connection: `conn.begin().await?`.
pub type Transaction<'c> = TransactionGuard<&'c mut Connection>;

/// A transaction that owns its connection: `conn.begin_owned().await?`.
pub type OwnedTransaction = TransactionGuard<Connection>;

impl<C: BorrowMut<Connection>> std::fmt::Debug for TransactionGuard<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transaction")
            .field("depth", &self.depth)
            .finish()
    }
}

impl<C: BorrowMut<Connection>> TransactionGuard<C> {
    /// A nested transaction: a SAVEPOINT inside this one.
    pub async fn savepoint(&mut self) -> Result<Transaction<'_>> {
        self.conn.borrow_mut().begin().await
    }

    fn end_sql(&self, commit: bool) -> String {
        match (self.depth, commit) {
            (1, true) => "COMMIT".to_owned(),
            (1, false) => "ROLLBACK".to_owned(),
            (d, true) => format!("RELEASE SAVEPOINT {}", savepoint_name(d)),
            (d, false) => {
                let sp = savepoint_name(d);
                format!("ROLLBACK TO SAVEPOINT {sp}; RELEASE SAVEPOINT {sp}")
            }
        }
    }

    async fn finish(&mut self, commit: bool) -> Result<()> {
        if self.done {
            return Err(Error::TransactionFinished);
        }
        self.done = true;
        let sql = self.end_sql(commit);
        tracing::debug!(target: "oxalchemy::sql", sql = %sql);
        let depth = self.depth;
        let pooled = self.conn.borrow_mut().pooled();
        let result = pooled.conn.batch(&sql).await;
        match result {
            Ok(()) => {
                pooled.depth = depth - 1;
                Ok(())
            }
            Err(e) => {
                // A failed COMMIT/RELEASE must not leave the level open: roll it back.
                let rollback = self.end_sql(false);
                let pooled = self.conn.borrow_mut().pooled();
                if pooled.conn.batch(&rollback).await.is_ok() || depth == 1 {
                    pooled.depth = depth - 1;
                }
                Err(e)
            }
        }
    }

    /// Makes the transaction's changes permanent (RELEASE for a savepoint).
    pub async fn commit(mut self) -> Result<()> {
        self.finish(true).await
    }

    /// Discards the transaction's changes (ROLLBACK TO for a savepoint).
    pub async fn rollback(mut self) -> Result<()> {
        self.finish(false).await
    }
}

impl<C: BorrowMut<Connection>> Deref for TransactionGuard<C> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        self.conn.borrow()
    }
}

impl<C: BorrowMut<Connection>> DerefMut for TransactionGuard<C> {
    fn deref_mut(&mut self) -> &mut Connection {
        self.conn.borrow_mut()
    }
}

impl<C: BorrowMut<Connection>> Drop for TransactionGuard<C> {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        let sql = self.end_sql(false);
        let depth = self.depth;
        if let Some(pooled) = self.conn.borrow_mut().obj.as_deref_mut() {
            if pooled.conn.rollback_now(sql) {
                pooled.depth = depth - 1;
            }
        }
    }
}
