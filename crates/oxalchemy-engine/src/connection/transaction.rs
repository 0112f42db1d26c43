//! [`TransactionGuard`]: an open transaction or SAVEPOINT that rolls back unless committed,
//! on a borrowed ([`Transaction`]) or owned ([`OwnedTransaction`]) connection.

use std::borrow::BorrowMut;
use std::ops::{Deref, DerefMut};

use tokio::sync::OwnedMutexGuard;

use super::{savepoint_name, Connection, WireState};
use crate::backend::Backend;
use crate::error::{Error, Result};

/// An open transaction (or SAVEPOINT) on a borrowed or owned connection. Derefs to the
/// [`Connection`] to run statements. Dropped without [`commit`](TransactionGuard::commit),
/// it rolls back.
pub struct TransactionGuard<C: BorrowMut<Connection>> {
    conn: C,
    depth: u32,
    done: bool,
    /// SQLite's writer slot, held for the whole outermost transaction.
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
    /// Wraps a transaction [`Connection::start`] opened at `depth`.
    pub(super) fn new(mut conn: C, depth: u32, gate: Option<OwnedMutexGuard<()>>) -> Self {
        if depth == 1 {
            // Statements made outside any span of the caller's nest under this one.
            let c = conn.borrow_mut();
            let span = tracing::info_span!(
                target: "oxalchemy::sql",
                "oxalchemy.transaction",
                "db.system" = super::trace::db_system(c.shared.dialect.name()),
                outcome = tracing::field::Empty,
            );
            // No allocation when no subscriber wants it.
            c.tx_span = (!span.is_disabled()).then(|| Box::new(span));
        }
        TransactionGuard {
            conn,
            depth,
            done: false,
            _gate: gate,
        }
    }

    /// Starts a transaction — or, when the connection is already inside one, a SAVEPOINT —
    /// on the connection `conn` holds, and keeps `conn` for the guard's life. For holders
    /// other than `&mut Connection` ([`Connection::begin`]) and `Connection`
    /// ([`Connection::begin_owned`]): a session that joins a transaction someone else opened
    /// on a shared connection begins its own SAVEPOINT inside it this way.
    pub async fn begin_in(mut conn: C) -> Result<Self> {
        let (depth, gate) = conn.borrow_mut().start(None).await?;
        Ok(TransactionGuard::new(conn, depth, gate))
    }

    /// Whether this guard is a SAVEPOINT inside an outer transaction (its commit is a
    /// `RELEASE SAVEPOINT`), not the outermost transaction (a `COMMIT`).
    pub fn is_savepoint(&self) -> bool {
        self.depth > 1
    }

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
        // A statement of this transaction was abandoned in flight (its future dropped): its
        // outcome is unknown, and on PostgreSQL it was cancelled, which aborts the
        // transaction, so a COMMIT would be answered with a silent ROLLBACK. Roll back, and
        // say so, instead of reporting a commit that did not happen.
        let abandoned = commit && self.conn.borrow_mut().pooled().state == WireState::InFlight;
        let sql = self.end_sql(commit && !abandoned);
        tracing::debug!(target: "oxalchemy::sql", sql = %sql);
        let depth = self.depth;
        let conn = self.conn.borrow_mut();
        // A refused send (a lost connection) goes through the failure path below too, so
        // the level is closed either way.
        let result = match conn.send().await {
            Ok(driver) => driver.batch(&sql).await,
            Err(e) => Err(e),
        };
        if depth == 1 {
            if let Some(span) = conn.tx_span.take() {
                let committed = commit && !abandoned && result.is_ok();
                span.record("outcome", if committed { "commit" } else { "rollback" });
            }
        }
        match conn.answered(result) {
            Ok(()) => {
                conn.pooled().depth = depth - 1;
                if abandoned {
                    return Err(Error::TransactionAbandoned);
                }
                Ok(())
            }
            Err(e) => {
                // A failed COMMIT/RELEASE must not leave the level open: roll it back.
                let rollback = self.end_sql(false);
                let conn = self.conn.borrow_mut();
                let rolled_back = match conn.send().await {
                    Ok(driver) => {
                        let result = driver.batch(&rollback).await;
                        conn.answered(result).is_ok()
                    }
                    Err(_) => false,
                };
                if rolled_back || depth == 1 {
                    conn.pooled().depth = depth - 1;
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
        if depth == 1 {
            if let Some(span) = self.conn.borrow_mut().tx_span.take() {
                span.record("outcome", "rollback (dropped)");
            }
        }
        if let Some(pooled) = self.conn.borrow_mut().obj.as_deref_mut() {
            // A lost connection has nothing to roll back: the server ended the transaction
            // with the connection. The level is closed all the same, so that the
            // `Connection`'s next use outside any transaction opens a new connection.
            if pooled.state == WireState::Lost {
                pooled.depth = depth - 1;
                return;
            }
            if pooled.conn.rollback_now(sql) {
                pooled.depth = depth - 1;
            }
        }
    }
}
