//! Where a bulk call runs ([`BulkExec`]), and the SAVEPOINT (or transaction) around it.

use std::borrow::BorrowMut;

use oxalchemy_engine::{Connection, Database, Error, Transaction, TransactionGuard};

use crate::query::Exec;
use crate::session::Session;

/// Where a bulk call runs: everything a [`Query`](crate::Query)'s terminals accept (a
/// `&Database`, a `&mut Connection`, a `&mut` transaction), or a `&mut Session`, which
/// flushes first, writes in its own transaction and keeps the objects it holds consistent.
/// `.execute(…)` takes `impl Into<BulkExec>`, so callers pass those directly.
#[derive(Debug)]
pub enum BulkExec<'a> {
    /// A pool, a connection or a transaction, as for queries.
    Exec(Exec<'a>),
    /// A session: flushed first; its objects are refreshed or dropped afterwards.
    Session(&'a mut Session),
}

impl<'a> From<&'a Database> for BulkExec<'a> {
    fn from(db: &'a Database) -> Self {
        BulkExec::Exec(Exec::Database(db))
    }
}

impl<'a> From<&'a mut Connection> for BulkExec<'a> {
    fn from(c: &'a mut Connection) -> Self {
        BulkExec::Exec(Exec::Connection(c))
    }
}

impl<'a, C: BorrowMut<Connection>> From<&'a mut TransactionGuard<C>> for BulkExec<'a> {
    fn from(t: &'a mut TransactionGuard<C>) -> Self {
        BulkExec::Exec(Exec::Connection(t))
    }
}

impl<'a> From<&'a mut Session> for BulkExec<'a> {
    fn from(s: &'a mut Session) -> Self {
        BulkExec::Session(s)
    }
}

/// Commits `tx` (a transaction, or a SAVEPOINT inside the caller's) when the bulk call
/// succeeded, else rolls it back so nothing of the call is kept. A failing ROLLBACK is
/// logged: the call's own error is the one the caller can act on.
pub(crate) async fn finish<T>(tx: Transaction<'_>, result: Result<T, Error>) -> Result<T, Error> {
    match result {
        Ok(v) => {
            tx.commit().await?;
            Ok(v)
        }
        Err(e) => {
            if let Err(rollback) = tx.rollback().await {
                tracing::warn!(
                    target: "oxalchemy::orm",
                    error = %rollback,
                    "ROLLBACK after a failed bulk write also failed; returning the write's error"
                );
            }
            Err(e)
        }
    }
}

/// Records a statement in a session's log (the non-session executors keep none).
pub(crate) fn log(log: &mut Option<&mut Vec<String>>, sql: &str) {
    if let Some(log) = log {
        log.push(sql.to_owned());
    }
}
