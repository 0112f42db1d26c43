//! The session equivalent of [`Database::run_transaction`]: a new [`Session`] per attempt,
//! committed at the end, everything run again when the database aborts it for a conflict.

use std::future::Future;

use oxalchemy_core::text;
use oxalchemy_engine::{retry_loop, Database, RetryOptions, RetryableError};

use crate::session::{Session, SessionExt};

/// [`run_session_transaction`](SessionRetryExt::run_session_transaction) on a [`Database`].
pub trait SessionRetryExt {
    /// Runs `f` with a new [`Session`] and commits it (flush included), running `f` again
    /// with a fresh, empty session when the database aborts the transaction for a conflict
    /// (serialization failure `40001`, deadlock `40P01`, lock timeouts): the session version
    /// of [`Database::run_transaction`], with the same [`RetryOptions`] (on PostgreSQL each
    /// attempt's transaction starts with `SET TRANSACTION ISOLATION LEVEL …`).
    ///
    /// `f` is cloned for each attempt (see [`Database::run_transaction`] for why the shape is
    /// `AsyncFnOnce + Clone`) and must be idempotent apart from the database: everything it does outside the session
    /// happens once per attempt. Objects from a failed attempt's session are gone with it;
    /// load them again inside `f`.
    ///
    /// ```no_run
    /// # async fn demo(db: oxalchemy_engine::Database) -> Result<(), oxalchemy_engine::Error> {
    /// use oxalchemy_engine::RetryOptions;
    /// use oxalchemy_orm::SessionRetryExt;
    /// db.run_session_transaction(&RetryOptions::new().max_attempts(5), async |s| {
    ///     // s.get::<Account>(1).await? … change it … (committed when this returns Ok)
    ///     Ok::<_, oxalchemy_engine::Error>(())
    /// })
    /// .await?;
    /// # Ok(()) }
    /// ```
    fn run_session_transaction<T, E, F>(
        &self,
        opts: &RetryOptions,
        f: F,
    ) -> impl Future<Output = Result<T, E>>
    where
        F: AsyncFnOnce(&mut Session) -> Result<T, E> + Clone,
        E: RetryableError;
}

impl SessionRetryExt for Database {
    fn run_session_transaction<T, E, F>(
        &self,
        opts: &RetryOptions,
        f: F,
    ) -> impl Future<Output = Result<T, E>>
    where
        F: AsyncFnOnce(&mut Session) -> Result<T, E> + Clone,
        E: RetryableError,
    {
        let isolation = opts
            .isolation_level()
            .and_then(|level| self.set_isolation_sql(level));
        let db = self.clone();
        retry_loop(opts, async move |_| {
            let mut s = db.session();
            if let Some(sql) = isolation {
                // The first statement of the session's transaction, as PostgreSQL requires.
                s.execute(text(sql)).await?;
            }
            match f(&mut s).await {
                Ok(v) => {
                    s.commit().await?;
                    Ok(v)
                }
                Err(e) => {
                    if let Err(rollback) = s.rollback().await {
                        tracing::debug!(target: "oxalchemy::orm", error = %rollback, "ROLLBACK after a failed attempt also failed");
                    }
                    Err(e)
                }
            }
        })
    }
}
