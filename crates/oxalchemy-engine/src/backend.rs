//! The one small trait every driver implements, and the enum the pool holds.
//!
//! Dispatch is static (an enum, no `dyn`): the hot path pays one `match`, never an
//! allocation or a virtual call. A driver is a variant and an impl.

use std::future::Future;

use crate::decode::FromRow;
use crate::error::Result;
use oxalchemy_core::Value;

/// What the engine needs from a driver connection. Statements arrive compiled for the
/// driver's dialect, with binds already in that dialect's encoding.
pub(crate) trait Backend: Send {
    /// Runs a statement; returns the number of rows it changed.
    fn execute(&mut self, sql: &str, binds: &[Value]) -> impl Future<Output = Result<u64>> + Send;
    /// Runs a statement and decodes every row it returns.
    fn query<T: FromRow + Send>(
        &mut self,
        sql: &str,
        binds: &[Value],
    ) -> impl Future<Output = Result<Vec<T>>> + Send;
    /// Runs a statement and decodes its first row, if any; the rest are not read (a
    /// lookup by primary key, which matches at most one).
    fn query_first<T: FromRow + Send>(
        &mut self,
        sql: &str,
        binds: &[Value],
    ) -> impl Future<Output = Result<Option<T>>> + Send {
        async move { Ok(self.query::<T>(sql, binds).await?.into_iter().next()) }
    }
    /// Runs SQL text without binds (transaction control).
    fn batch(&mut self, sql: &str) -> impl Future<Output = Result<()>> + Send;
    /// A round trip proving the connection is alive.
    fn ping(&mut self) -> impl Future<Output = Result<()>> + Send;
    fn is_closed(&self) -> bool;
}

#[cfg(feature = "sqlite")]
impl Backend for crate::sqlite::SqliteConn {
    async fn execute(&mut self, sql: &str, binds: &[Value]) -> Result<u64> {
        crate::sqlite::SqliteConn::execute(self, sql, binds).await
    }
    async fn query<T: FromRow + Send>(&mut self, sql: &str, binds: &[Value]) -> Result<Vec<T>> {
        crate::sqlite::SqliteConn::query(self, sql, binds).await
    }
    async fn query_first<T: FromRow + Send>(
        &mut self,
        sql: &str,
        binds: &[Value],
    ) -> Result<Option<T>> {
        crate::sqlite::SqliteConn::query_first(self, sql, binds).await
    }
    async fn batch(&mut self, sql: &str) -> Result<()> {
        crate::sqlite::SqliteConn::batch(self, sql).await
    }
    async fn ping(&mut self) -> Result<()> {
        crate::sqlite::SqliteConn::ping(self).await
    }
    fn is_closed(&self) -> bool {
        false
    }
}

#[cfg(feature = "postgres")]
impl Backend for crate::postgres::PgConn {
    async fn execute(&mut self, sql: &str, binds: &[Value]) -> Result<u64> {
        crate::postgres::PgConn::execute(self, sql, binds).await
    }
    async fn query<T: FromRow + Send>(&mut self, sql: &str, binds: &[Value]) -> Result<Vec<T>> {
        crate::postgres::PgConn::query(self, sql, binds).await
    }
    async fn query_first<T: FromRow + Send>(
        &mut self,
        sql: &str,
        binds: &[Value],
    ) -> Result<Option<T>> {
        crate::postgres::PgConn::query_first(self, sql, binds).await
    }
    async fn batch(&mut self, sql: &str) -> Result<()> {
        crate::postgres::PgConn::batch(self, sql).await
    }
    async fn ping(&mut self) -> Result<()> {
        crate::postgres::PgConn::ping(self).await
    }
    fn is_closed(&self) -> bool {
        crate::postgres::PgConn::is_closed(self)
    }
}

#[cfg(feature = "mysql")]
impl Backend for crate::mysql::MysqlConn {
    async fn execute(&mut self, sql: &str, binds: &[Value]) -> Result<u64> {
        crate::mysql::MysqlConn::execute(self, sql, binds).await
    }
    async fn query<T: FromRow + Send>(&mut self, sql: &str, binds: &[Value]) -> Result<Vec<T>> {
        crate::mysql::MysqlConn::query(self, sql, binds).await
    }
    async fn batch(&mut self, sql: &str) -> Result<()> {
        crate::mysql::MysqlConn::batch(self, sql).await
    }
    async fn ping(&mut self) -> Result<()> {
        crate::mysql::MysqlConn::ping(self).await
    }
    fn is_closed(&self) -> bool {
        crate::mysql::MysqlConn::is_closed(self)
    }
}

/// Puts a PostgreSQL connection back into autocommit with no session-level advisory lock
/// held. Outside a transaction PostgreSQL answers the ROLLBACK with a warning only.
#[cfg(feature = "postgres")]
const PG_RESET: &str = "ROLLBACK; SELECT pg_advisory_unlock_all()";

/// A driver connection as the pool holds it.
pub(crate) enum AnyConn {
    #[cfg(feature = "sqlite")]
    Sqlite(crate::sqlite::SqliteConn),
    #[cfg(feature = "postgres")]
    Postgres(crate::postgres::PgConn),
    #[cfg(feature = "mysql")]
    Mysql(crate::mysql::MysqlConn),
}

macro_rules! dispatch {
    ($self:ident, $c:ident => $e:expr) => {
        match $self {
            #[cfg(feature = "sqlite")]
            AnyConn::Sqlite($c) => $e,
            #[cfg(feature = "postgres")]
            AnyConn::Postgres($c) => $e,
            #[cfg(feature = "mysql")]
            AnyConn::Mysql($c) => $e,
        }
    };
}

impl Backend for AnyConn {
    async fn execute(&mut self, sql: &str, binds: &[Value]) -> Result<u64> {
        dispatch!(self, c => Backend::execute(c, sql, binds).await)
    }
    async fn query<T: FromRow + Send>(&mut self, sql: &str, binds: &[Value]) -> Result<Vec<T>> {
        dispatch!(self, c => Backend::query(c, sql, binds).await)
    }
    async fn query_first<T: FromRow + Send>(
        &mut self,
        sql: &str,
        binds: &[Value],
    ) -> Result<Option<T>> {
        dispatch!(self, c => Backend::query_first(c, sql, binds).await)
    }
    async fn batch(&mut self, sql: &str) -> Result<()> {
        dispatch!(self, c => Backend::batch(c, sql).await)
    }
    async fn ping(&mut self) -> Result<()> {
        dispatch!(self, c => Backend::ping(c).await)
    }
    fn is_closed(&self) -> bool {
        dispatch!(self, c => Backend::is_closed(c))
    }
}

impl AnyConn {
    /// What this connection's statements have cost so far.
    pub(crate) fn statement_stats(&self) -> crate::stats::StatementStats {
        match self {
            #[cfg(feature = "sqlite")]
            AnyConn::Sqlite(c) => c.statement_stats(),
            #[cfg(feature = "postgres")]
            AnyConn::Postgres(_) => crate::stats::StatementStats::default(),
            #[cfg(feature = "mysql")]
            AnyConn::Mysql(_) => crate::stats::StatementStats::default(),
        }
    }
}

/// Every SQLite connection the engine hands out enforces foreign keys (unless its URL says
/// `foreign_keys=off`); a reset or a dropped
/// transaction restores it, because a SQLite migration turns them off around its
/// transaction and may be cut off before it turns them back on.
#[cfg(feature = "sqlite")]
const SQLITE_FOREIGN_KEYS_ON: &str = "PRAGMA foreign_keys = ON";

impl AnyConn {
    /// Puts a connection whose state is unknown (a request abandoned mid-flight) or that is
    /// still in a transaction back into autocommit: ROLLBACK, and on PostgreSQL release
    /// every session-level advisory lock (a migration lock whose holder was cancelled).
    /// Waits first for anything a dropped future left running (a cancel request, a
    /// rollback), so the reset is answered only once the connection is drained.
    pub(crate) async fn reset(&mut self) -> Result<()> {
        self.settle().await;
        match self {
            #[cfg(feature = "sqlite")]
            AnyConn::Sqlite(c) => {
                // SQLite refuses ROLLBACK outside a transaction; ask it instead of guessing.
                if !c.conn.is_autocommit() {
                    crate::sqlite::SqliteConn::batch(c, "ROLLBACK").await?;
                }
                if c.foreign_keys {
                    crate::sqlite::SqliteConn::batch(c, SQLITE_FOREIGN_KEYS_ON).await
                } else {
                    Ok(())
                }
            }
            #[cfg(feature = "postgres")]
            AnyConn::Postgres(p) => crate::postgres::PgConn::batch(p, PG_RESET).await,
            #[cfg(feature = "mysql")]
            AnyConn::Mysql(m) => crate::mysql::MysqlConn::batch(m, crate::mysql::RESET).await,
        }
    }

    /// Starts [`reset`](Self::reset) at once, without awaiting, when a connection in an
    /// unknown state is returned to the pool, so that it does not sit idle in a
    /// transaction (holding its locks) or holding advisory locks until its next checkout.
    /// PostgreSQL only: SQLite never leaves a request in flight. The pool still resets the
    /// connection at checkout, which waits for this and covers its failure.
    pub(crate) fn reset_soon(&mut self) {
        #[cfg(feature = "postgres")]
        #[allow(irrefutable_let_patterns)]
        if matches!(self, AnyConn::Postgres(_)) {
            self.rollback_now(PG_RESET.to_owned());
        }
        #[cfg(feature = "mysql")]
        #[allow(irrefutable_let_patterns)]
        if let AnyConn::Mysql(m) = self {
            m.rollback_now(crate::mysql::RESET.to_owned());
        }
    }

    /// Finishes cleanup a dropped transaction started (PostgreSQL sends its ROLLBACK from a task).
    pub(crate) async fn settle(&mut self) {
        // With only the `postgres` feature, `AnyConn` has no other variant.
        #[cfg(feature = "postgres")]
        #[allow(irrefutable_let_patterns)]
        if let AnyConn::Postgres(p) = self {
            p.settle().await;
        }
        #[cfg(feature = "mysql")]
        #[allow(irrefutable_let_patterns)]
        if let AnyConn::Mysql(m) = self {
            m.settle().await;
        }
    }

    /// Drops every cached prepared statement (PostgreSQL; SQLite re-prepares by itself when
    /// a schema changes), so each is prepared afresh on its next use.
    pub(crate) fn forget_statements(&mut self) {
        // With only the `postgres` feature, `AnyConn` has no other variant.
        #[cfg(feature = "postgres")]
        #[allow(irrefutable_let_patterns)]
        if let AnyConn::Postgres(p) = self {
            p.forget_statements();
        }
    }

    /// Rolls back at once, without awaiting: used when a transaction is dropped. Returns
    /// false when the rollback could not be started (then the pool rolls back at the next
    /// checkout, seeing the transaction still open).
    pub(crate) fn rollback_now(&mut self, sql: String) -> bool {
        match self {
            #[cfg(feature = "sqlite")]
            AnyConn::Sqlite(c) => {
                if let Err(e) = crate::sqlite::SqliteConn::batch_now(c, &sql) {
                    tracing::warn!(target: "oxalchemy::engine", error = %e, "rollback of a dropped transaction failed");
                    return false;
                }
                // Back in autocommit: put foreign keys back on, in case the dropped work
                // turned them off around its transaction (a SQLite migration does).
                if c.conn.is_autocommit() && c.foreign_keys {
                    if let Err(e) = crate::sqlite::SqliteConn::batch_now(c, SQLITE_FOREIGN_KEYS_ON)
                    {
                        tracing::warn!(target: "oxalchemy::engine", error = %e, "re-enabling foreign keys after a dropped transaction failed");
                        return false;
                    }
                }
                true
            }
            #[cfg(feature = "postgres")]
            AnyConn::Postgres(p) => {
                let client = p.client.clone();
                let previous = p.pending_cleanup.take();
                let task = async move {
                    if let Some(prev) = previous {
                        let _ = prev.await;
                    }
                    if let Err(e) = client.batch_execute(&sql).await {
                        tracing::warn!(target: "oxalchemy::engine", error = %e, "rollback of a dropped transaction failed");
                    }
                };
                match tokio::runtime::Handle::try_current() {
                    Ok(rt) => {
                        p.pending_cleanup = Some(rt.spawn(task));
                        true
                    }
                    Err(_) => false,
                }
            }
            #[cfg(feature = "mysql")]
            AnyConn::Mysql(m) => m.rollback_now(sql),
        }
    }
}
