//! [`Connection`]: a driver connection checked out of the pool, which runs statements and
//! starts transactions; returned to the pool when dropped.
//!
//! Every request goes through [`Connection::send`] and [`Connection::answered`], which keep
//! the connection's [`WireState`]: marked in flight *before* anything is sent, so a future
//! dropped mid-request (a timeout, a `select!`) leaves a state that says so, and the
//! connection is reset before anyone trusts it again; a lost connection is discarded.
//!
//! The transaction guard lives in `transaction`, and the plumbing that runs statements
//! other crates compiled themselves in `compiled`.

mod compiled;
mod explain;
mod trace;
mod transaction;

use std::sync::atomic::Ordering;
use std::sync::Arc;

use deadpool::managed::Object;
use tokio::sync::OwnedMutexGuard;

use crate::backend::{AnyConn, Backend};
use crate::database::{Manager, Shared};
use crate::decode::{FromRow, FromSql};
use crate::error::{Error, Result};
use crate::stats::StatementStats;
use compiled::Access;
use oxalchemy_core::{Compiled, Dialect, Statement};
#[cfg(feature = "metrics")]
pub(crate) use trace::db_system;
pub use transaction::{OwnedTransaction, Transaction, TransactionGuard};

/// A driver connection as the pool stores it, with the transaction depth it is at and
/// whether that depth can be trusted.
pub(crate) struct Pooled {
    pub(crate) conn: AnyConn,
    /// 0: autocommit; 1: in a transaction; n > 1: inside n - 1 savepoints.
    pub(crate) depth: u32,
    /// Whether every request sent has been answered; see [`WireState`].
    pub(crate) state: WireState,
    /// Opened and not yet handed out: the `on_connect` hook has not run on it.
    pub(crate) fresh: bool,
    /// The database's statements epoch this connection's statement cache belongs to.
    statements_epoch: u64,
}

impl Pooled {
    /// A freshly opened connection: autocommit, nothing in flight.
    pub(crate) fn new(conn: AnyConn) -> Self {
        Pooled {
            conn,
            depth: 0,
            state: WireState::Settled,
            fresh: true,
            statements_epoch: 0,
        }
    }
}

/// Where a connection's conversation with the server stands. The state is set *before* a
/// request is sent, so a future dropped mid-request (a `timeout`, a `select!`, a cancelled
/// task) leaves [`WireState::InFlight`] behind, and nobody trusts `depth` until the
/// connection has been reset (SQLAlchemy's `reset_on_return`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WireState {
    /// Every request sent has been answered: `depth` is what the server has.
    Settled,
    /// A request (a statement, BEGIN, COMMIT …) was sent and its future dropped before the
    /// answer: the server may be inside a transaction `depth` does not know of, or still
    /// running the statement. Reset (ROLLBACK, advisory locks released) before reuse.
    InFlight,
    /// The connection broke ([`Error::ConnectionLost`]): discarded, never reused.
    Lost,
}

/// A connection checked out of the pool; returned to it on drop.
///
/// Cancellation: a statement whose future is dropped before it finishes (a `timeout`, a
/// `select!`, an aborted task) is cancelled on the PostgreSQL server, and its outcome is
/// unknown. Outside a transaction the connection is then reset before its next use: rolled
/// back, and its session-level advisory locks released (as asyncpg and SQLAlchemy reset a
/// connection returned to the pool). Inside a transaction the transaction is aborted, and
/// its `commit` fails with [`Error::TransactionAbandoned`].
///
/// A lost connection (a server restart, a failover, a terminated backend) fails the
/// request that meets the loss with [`Error::ConnectionLost`], and every pooled connection
/// opened before the loss is discarded. The `Connection` itself stays usable: its next
/// request outside a transaction goes to a new connection opened in place of the lost one
/// (the `on_connect` hook runs on it), as SQLAlchemy's invalidated `Connection` reconnects
/// on its next use. Inside a transaction its statements and its commit keep failing until
/// it ends; nothing of it was committed.
///
/// On MySQL / MariaDB there is no cancel: inside a transaction every later statement and
/// the commit are refused ([`Error::TransactionAbandoned`]) and the connection is
/// discarded, which rolls the transaction back on the server. Outside one, a connection
/// whose abandoned request left unread only rows of its result is reset; one left in the
/// middle of an answer (which the next request, or a reset's ROLLBACK, would read as its
/// own) is replaced by a new connection before the next request.
pub struct Connection {
    obj: Option<Object<Manager>>,
    shared: Arc<Shared>,
    /// The span of the open transaction: parent of statement spans made outside any span
    /// (boxed: a Connection is moved around a lot and most never open a span).
    tx_span: Option<Box<tracing::Span>>,
    /// How long the checkout waited (µs), for the first statement's span.
    pool_wait_us: Option<u32>,
    /// The binds of the SELECT being run, kept (empty) between statements so that the
    /// ORM's model queries reuse one allocation (see `compiled::take_binds`).
    binds: Vec<oxalchemy_core::Value>,
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
    pub(crate) fn new(
        obj: Object<Manager>,
        shared: Arc<Shared>,
        pool_wait: std::time::Duration,
    ) -> Self {
        Connection {
            obj: Some(obj),
            shared,
            tx_span: None,
            pool_wait_us: Some(u32::try_from(pool_wait.as_micros()).unwrap_or(u32::MAX)),
            binds: Vec::new(),
        }
    }

    /// What every connection of this pool shares.
    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    pub(crate) fn pooled(&mut self) -> &mut Pooled {
        // `obj` is only None inside Drop.
        self.obj.as_deref_mut().expect("connection used after drop")
    }

    /// Marks a request as sent and returns the driver connection to send it on. A
    /// connection whose previous request was abandoned outside any transaction (a BEGIN
    /// that may have gone through) is reset first; inside a transaction the server's own
    /// state (aborted, if a statement was cancelled) is left for the transaction to meet.
    /// A connection lost outside any transaction is replaced first ([`Self::reopen`]).
    pub(super) async fn send(&mut self) -> Result<&mut AnyConn> {
        #[cfg(feature = "mysql")]
        self.mysql_in_step().await?;
        let pooled = self.pooled();
        if pooled.state == WireState::Lost && pooled.depth == 0 {
            // Boxed: rare, and every statement's future would otherwise carry its size.
            Box::pin(self.reopen()).await?;
        }
        let epoch = self.shared.statements_epoch.load(Ordering::Acquire);
        // Borrowing the field, not `self`, leaves `self.shared` free below.
        let pooled = self.obj.as_deref_mut().expect("connection used after drop");
        if pooled.statements_epoch != epoch {
            pooled.conn.forget_statements();
            pooled.statements_epoch = epoch;
        }
        if pooled.state == WireState::InFlight && pooled.depth == 0 {
            if let Err(e) = pooled.conn.reset().await {
                // A connection that cannot be reset is not used again, whatever the cause.
                pooled.state = WireState::Lost;
                if matches!(e, Error::ConnectionLost { .. }) {
                    self.shared.connection_lost();
                }
                return Err(e);
            }
        }
        if pooled.state != WireState::Lost {
            pooled.state = WireState::InFlight;
        }
        Ok(&mut pooled.conn)
    }

    /// MySQL has no cancel to wait for, as PostgreSQL has, and its client cannot be brought
    /// back in step after a request abandoned in the middle of its answer: the next request
    /// would take that answer for its own (a wrong answer, not an error). Inside a
    /// transaction the rest of it is refused ([`Error::TransactionAbandoned`]); the
    /// connection is discarded, which ends the transaction on the server, so nothing of it
    /// commits. Outside one, a request abandoned with only rows left unread is reset by
    /// [`Self::send`] (mysql_async reads them to their end first); one left in the middle of
    /// an exchange cannot be (the ROLLBACK would read the abandoned answer as its own), so
    /// the connection is marked lost, and replaced before this request.
    #[cfg(feature = "mysql")]
    async fn mysql_in_step(&mut self) -> Result<()> {
        let pooled = self.pooled();
        #[allow(irrefutable_let_patterns)]
        let AnyConn::Mysql(m) = &mut pooled.conn
        else {
            return Ok(());
        };
        if pooled.depth > 0 && pooled.state != WireState::Settled {
            pooled.state = WireState::Lost;
            return Err(Error::TransactionAbandoned);
        }
        if pooled.state == WireState::InFlight {
            m.settle().await;
            if m.out_of_step() {
                pooled.state = WireState::Lost;
            }
        }
        Ok(())
    }

    /// Opens a new driver connection in place of a lost one, outside any transaction: the
    /// next use of a `Connection` whose connection broke (a server restart, a failover, a
    /// terminated backend, a MySQL request abandoned mid-answer) goes to a new connection,
    /// as SQLAlchemy's invalidated `Connection` procures a new DBAPI connection on its next
    /// use. The request that met the loss has already failed with
    /// [`Error::ConnectionLost`], so the loss is never silent; nothing of the old
    /// connection's session (temporary tables, session settings, advisory locks) is
    /// carried over, and the `on_connect` hook runs on the new one. Inside a transaction
    /// nothing is replaced: its statements fail until it is ended.
    ///
    /// The new connection takes the lost one's pool slot (opened through the pool's
    /// manager, so a full pool does not make it wait for another slot); the pool still
    /// counts the slot's age from the first connection.
    async fn reopen(&mut self) -> Result<()> {
        use deadpool::managed::Manager as _;
        let Some(pool) = self.obj.as_ref().and_then(Object::pool) else {
            return Err(Error::PoolClosed);
        };
        let fresh = pool.manager().create().await?;
        *self.pooled() = fresh;
        tracing::debug!(target: "oxalchemy::pool", url = %self.shared.url, "lost connection replaced");
        crate::database::run_on_connect(self).await
    }

    /// Records that the request [`send`](Self::send) marked was answered; a lost connection
    /// is marked so that it is discarded instead of returned to the pool.
    pub(super) fn answered<T>(&mut self, result: Result<T>) -> Result<T> {
        let pooled = self.pooled();
        if pooled.state == WireState::InFlight {
            pooled.state = match &result {
                Err(Error::ConnectionLost { .. }) => WireState::Lost,
                _ => WireState::Settled,
            };
            if pooled.state == WireState::Lost {
                self.shared.connection_lost();
            }
        }
        result
    }

    /// The SQL dialect this connection's statements are compiled for.
    pub fn dialect(&self) -> &'static dyn Dialect {
        self.shared.dialect
    }

    /// One round trip to the server, for health checks: an empty query on PostgreSQL, a
    /// no-op statement on SQLite.
    pub async fn ping(&mut self) -> Result<()> {
        let result = self.send().await?.ping().await;
        self.answered(result)
    }

    /// Whether a transaction is open on this connection.
    pub fn in_transaction(&self) -> bool {
        self.obj.as_ref().is_some_and(|o| o.depth > 0)
    }

    /// What this connection's statements have cost so far: a test proves with it that a
    /// statement run in a loop is prepared once, not recompiled on every call.
    pub fn statement_stats(&self) -> StatementStats {
        self.obj
            .as_ref()
            .map(|o| o.conn.statement_stats())
            .unwrap_or_default()
    }

    /// Compiles a statement for this connection's dialect, through its database's
    /// compiled-statement cache (a statement of a shape compiled before only has its
    /// values bound again).
    pub fn compile(&self, stmt: &Statement) -> Result<Compiled> {
        Ok(self.shared.compile(stmt)?)
    }

    /// Its database's compiled-statement cache statistics
    /// ([`Database::compiled_cache_stats`](crate::Database::compiled_cache_stats)).
    pub fn compiled_cache_stats(&self) -> oxalchemy_core::dialect::CacheStats {
        self.shared.compiled_cache_stats()
    }

    /// On SQLite files, a write outside a transaction waits (asynchronously) for the
    /// database's single writer slot instead of busy-waiting a thread.
    async fn write_slot(&mut self, access: Access) -> Result<Option<OwnedMutexGuard<()>>> {
        if access == Access::Write && !self.in_transaction() {
            self.shared.write_slot().await
        } else {
            Ok(None)
        }
    }

    /// Runs a statement (INSERT, UPDATE, DELETE, DDL, `text()` …); returns the number of
    /// rows changed.
    pub async fn execute(&mut self, stmt: impl Into<Statement>) -> Result<u64> {
        let stmt = stmt.into();
        let (sql, binds) = self.shared.compile_shared(&stmt)?;
        self.run_execute(&sql, &binds, access(&stmt)).await
    }

    /// Runs a statement and decodes every row: `conn.query::<(i64, String)>(select…)`.
    pub async fn query<T: FromRow + Send>(&mut self, stmt: impl Into<Statement>) -> Result<Vec<T>> {
        let stmt = stmt.into();
        let (sql, binds) = self.shared.compile_shared(&stmt)?;
        self.run_query(&sql, &binds, access(&stmt)).await
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
        Ok(TransactionGuard::new(self, depth, gate))
    }

    /// Starts a transaction that owns this connection (for holders that outlive a borrow,
    /// like an ORM session). Rolled back on drop like [`Transaction`].
    pub async fn begin_owned(mut self) -> Result<OwnedTransaction> {
        let (depth, gate) = self.start(None).await?;
        Ok(TransactionGuard::new(self, depth, gate))
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
                Some(level) if self.shared.set_transaction_isolation => {
                    format!("SET TRANSACTION ISOLATION LEVEL {}; BEGIN", level.sql())
                }
                _ => self.shared.begin_sql.to_owned(),
            }
        } else {
            format!("SAVEPOINT {}", savepoint_name(depth))
        };
        tracing::debug!(target: "oxalchemy::sql", sql = %sql);
        let result = self.send().await?.batch(&sql).await;
        self.answered(result)?;
        self.pooled().depth = depth;
        Ok((depth, gate))
    }
}

/// Transaction isolation levels (PostgreSQL's; SQLite is always serializable).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IsolationLevel {
    /// Each statement sees data committed before it began (PostgreSQL's default).
    ReadCommitted,
    /// Every statement sees the snapshot taken at the transaction's first statement.
    RepeatableRead,
    /// As if transactions ran one after another; conflicts fail with
    /// [`Error::Serialization`], to be retried.
    Serializable,
}

impl IsolationLevel {
    pub(crate) fn sql(self) -> &'static str {
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
fn access(stmt: &Statement) -> Access {
    match stmt {
        Statement::Select(_) => Access::Read,
        Statement::Text(t) => {
            let head = t.sql.trim_start();
            if head
                .get(..6)
                .is_some_and(|h| h.eq_ignore_ascii_case("select"))
            {
                Access::Read
            } else {
                Access::Write
            }
        }
        _ => Access::Write,
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        let Some(mut obj) = self.obj.take() else {
            return;
        };
        // A broken connection is discarded at once rather than failing its next checkout.
        if obj.state == WireState::Lost {
            drop(Object::take(obj));
            return;
        }
        // Reset on return: state stays unknown, so the checkout resets again after this.
        if obj.state == WireState::InFlight || obj.depth > 0 {
            obj.conn.reset_soon();
        }
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
