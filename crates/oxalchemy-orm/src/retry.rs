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
    /// # // A guard, well under rustc's default of 128: the futures of a session's statements
    /// # // must stay shallow enough for callers to nest their own around them.
    /// # #![recursion_limit = "80"]
    /// # async fn demo(db: oxalchemy_engine::Database) -> Result<(), oxalchemy_engine::Error> {
    /// use oxalchemy_engine::RetryOptions;
    /// use oxalchemy_orm::SessionRetryExt;
    /// db.run_session_transaction(&RetryOptions::new().max_attempts(5), async |s| {
    ///     // s.get::<Account>(1).await? … change it … (committed when this returns Ok)
    ///     s.execute(oxalchemy_core::text("UPDATE accounts SET balance = balance - 1"))
    ///         .await?;
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
        // Each attempt is boxed: without it the layout of the future returned here (an
        // async closure inside `retry_loop`, holding the session's commit and rollback
        // futures) needed between 121 and 128 levels of rustc's query depth, whose limit is
        // 128, so one more async layer anywhere in the session's statements broke every
        // caller's build ("queries overflow the depth limit"). Boxed, the caller's future
        // holds a pointer. The example below, a statement inside the closure, is compiled with
        // a limit of 80 as a guard. One allocation per attempt.
        retry_loop(opts, async move |_| {
            Box::pin(async move {
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
            .await
        })
    }
}
