//! Retryable transactions: [`Database::run_transaction`] runs a closure in a transaction and,
//! when the database aborts it for a conflict that a fresh attempt is expected to pass
//! (serialization failure `40001`, deadlock `40P01`, a lock timeout), runs the whole closure
//! again after a capped exponential backoff with jitter — the contract of CockroachDB's and
//! YugabyteDB's `run_transaction`, which PostgreSQL `SERIALIZABLE` needs just the same.
//!
//! What is retried is decided by [`retry_reason`], one function for every backend, so that a
//! new backend declares its conflicts in one place.

use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::Database;
use crate::connection::{IsolationLevel, Transaction};
use crate::error::Error;

/// How [`Database::run_transaction`] retries: attempts, backoff, isolation level.
///
/// The defaults: 10 attempts, backoff from 10 ms doubling up to 1 s (each sleep a random
/// point between half and all of that, so that conflicting transactions do not retry in
/// lockstep), `SERIALIZABLE` isolation, lock timeouts retried.
#[derive(Debug, Clone)]
pub struct RetryOptions {
    max_attempts: u32,
    initial_backoff: Duration,
    max_backoff: Duration,
    isolation: Option<IsolationLevel>,
    retry_lock_timeouts: bool,
}

impl Default for RetryOptions {
    fn default() -> Self {
        RetryOptions {
            max_attempts: 10,
            initial_backoff: Duration::from_millis(10),
            max_backoff: Duration::from_secs(1),
            isolation: Some(IsolationLevel::Serializable),
            retry_lock_timeouts: true,
        }
    }
}

impl RetryOptions {
    /// The defaults (see [`RetryOptions`]).
    pub fn new() -> Self {
        Self::default()
    }

    /// Runs of the closure at most (default 10; at least 1). After the last one fails with a
    /// retryable error, the error is [`Error::RetriesExhausted`] naming the count.
    pub fn max_attempts(mut self, n: u32) -> Self {
        self.max_attempts = n.max(1);
        self
    }

    /// The sleep before the first retry (default 10 ms); it doubles per retry up to
    /// [`max_backoff`](Self::max_backoff). Each sleep is a random point between half and all
    /// of the computed value.
    pub fn initial_backoff(mut self, d: Duration) -> Self {
        self.initial_backoff = d;
        self
    }

    /// The longest sleep between attempts (default 1 s).
    pub fn max_backoff(mut self, d: Duration) -> Self {
        self.max_backoff = d;
        self
    }

    /// The isolation level of each attempt's transaction (default `Serializable`; PostgreSQL
    /// only, SQLite transactions are always serializable).
    pub fn isolation(mut self, level: IsolationLevel) -> Self {
        self.isolation = Some(level);
        self
    }

    /// Use the database's default isolation level (PostgreSQL: `READ COMMITTED`); deadlocks
    /// and lock timeouts are still retried.
    pub fn default_isolation(mut self) -> Self {
        self.isolation = None;
        self
    }

    /// Whether lock timeouts are retried (default on): PostgreSQL's `55P03`
    /// (`lock_timeout` expired, `NOWAIT`), SQLite's `SQLITE_BUSY` / `SQLITE_LOCKED` after the
    /// busy timeout.
    pub fn retry_lock_timeouts(mut self, on: bool) -> Self {
        self.retry_lock_timeouts = on;
        self
    }

    /// The configured isolation level, if any.
    pub fn isolation_level(&self) -> Option<IsolationLevel> {
        self.isolation
    }

    /// The sleep after failed attempt `attempt` (1-based): `initial · 2^(attempt-1)`, capped,
    /// then jittered into its upper half.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let shift = attempt.saturating_sub(1).min(30);
        let full = self
            .initial_backoff
            .saturating_mul(1u32 << shift)
            .min(self.max_backoff);
        let nanos = u64::try_from(full.as_nanos()).unwrap_or(u64::MAX);
        let half = nanos / 2;
        Duration::from_nanos(half + random() % (nanos - half + 1))
    }

    /// Why `e` is worth another attempt under these options, or `None` if it is not.
    pub fn retry_reason(&self, e: &Error) -> Option<&'static str> {
        match retry_reason(e)? {
            RetryReason::LockTimeout(_) if !self.retry_lock_timeouts => None,
            r => Some(r.as_str()),
        }
    }
}

/// Why an error is worth retrying the whole transaction for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RetryReason {
    /// SQLSTATE `40001`: the transaction could not be serialized with a concurrent one.
    SerializationFailure,
    /// SQLSTATE `40P01` (or the backend's deadlock code): the server broke a deadlock by
    /// aborting this transaction.
    Deadlock,
    /// A lock could not be had in time; the text names the backend's code.
    LockTimeout(&'static str),
}

impl RetryReason {
    /// A short description for logs.
    pub fn as_str(self) -> &'static str {
        match self {
            RetryReason::SerializationFailure => "serialization failure (40001)",
            RetryReason::Deadlock => "deadlock (40P01)",
            RetryReason::LockTimeout(code) => code,
        }
    }
}

/// The code MySQL's error 1205 (`innodb_lock_wait_timeout` passed) is typed with: its own
/// SQLSTATE is the uninformative `HY000`. MySQL's deadlock (1213) is SQLSTATE `40001`.
pub(crate) const MYSQL_LOCK_WAIT_TIMEOUT: &str = "HY000 (MySQL 1205 lock wait timeout)";

/// Whether `e` is an error after which running the whole transaction again is expected to
/// succeed, and why. Every backend's conflicts are declared here: PostgreSQL's `40001`,
/// `40P01` and `55P03` (lock not available: `lock_timeout`, `NOWAIT`); MySQL's deadlock
/// (1213, SQLSTATE `40001`) and lock wait timeout (1205); SQLite's
/// `SQLITE_BUSY` / `SQLITE_LOCKED` (the busy timeout passed while another writer held the
/// database). A lost connection is never retried: whether its COMMIT went through is unknown.
pub fn retry_reason(e: &Error) -> Option<RetryReason> {
    match e {
        Error::Serialization { code, .. }
        | Error::Database {
            code: Some(code), ..
        } => match code.as_str() {
            "40001" => Some(RetryReason::SerializationFailure),
            "40P01" => Some(RetryReason::Deadlock),
            "55P03" => Some(RetryReason::LockTimeout("lock timeout (55P03)")),
            MYSQL_LOCK_WAIT_TIMEOUT => Some(RetryReason::LockTimeout(MYSQL_LOCK_WAIT_TIMEOUT)),
            _ => None,
        },
        Error::Sqlite { code, .. } => match *code {
            "SQLITE_BUSY" => Some(RetryReason::LockTimeout("database busy (SQLITE_BUSY)")),
            "SQLITE_LOCKED" => Some(RetryReason::LockTimeout("table locked (SQLITE_LOCKED)")),
            _ => None,
        },
        _ => None,
    }
}

/// An error type a retried transaction's closure may return: the engine's [`Error`], or an
/// application error that can carry one (implement this for it).
///
/// ```
/// use oxalchemy_engine::{Error, RetryableError};
///
/// #[derive(Debug)]
/// enum AppError { Db(Error), InsufficientFunds }
/// impl From<Error> for AppError {
///     fn from(e: Error) -> Self { AppError::Db(e) }
/// }
/// impl RetryableError for AppError {
///     fn engine_error(&self) -> Option<&Error> {
///         match self { AppError::Db(e) => Some(e), _ => None }
///     }
///     fn with_attempts(self, attempts: u32) -> Self {
///         match self { AppError::Db(e) => AppError::Db(e.with_attempts(attempts)), e => e }
///     }
/// }
/// ```
pub trait RetryableError: From<Error> {
    /// The engine error inside, which decides whether to retry; `None` never retries.
    fn engine_error(&self) -> Option<&Error>;

    /// The error to return when the last allowed attempt failed with a retryable error:
    /// it should say that `attempts` attempts ran (the engine's wraps itself in
    /// [`Error::RetriesExhausted`]). The default returns `self` unchanged.
    fn with_attempts(self, attempts: u32) -> Self {
        let _ = attempts;
        self
    }
}

impl RetryableError for Error {
    fn engine_error(&self) -> Option<&Error> {
        Some(self)
    }

    fn with_attempts(self, attempts: u32) -> Self {
        Error::RetriesExhausted {
            attempts,
            last: Box::new(self),
        }
    }
}

/// Runs `attempt` until it succeeds, fails with an error [`RetryOptions::retry_reason`]
/// does not retry, or `max_attempts` ran; sleeps with backoff between attempts. The one
/// loop behind [`Database::run_transaction`] and the ORM's session equivalent.
#[doc(hidden)]
pub async fn retry_loop<T, E, F>(opts: &RetryOptions, attempt: F) -> Result<T, E>
where
    F: AsyncFnOnce(u32) -> Result<T, E> + Clone,
    E: RetryableError,
{
    let mut n = 0;
    loop {
        n += 1;
        let err = match (attempt.clone())(n).await {
            Ok(v) => {
                if n > 1 {
                    tracing::debug!(target: "oxalchemy::engine", attempts = n, "transaction committed after retries");
                }
                return Ok(v);
            }
            Err(e) => e,
        };
        let Some(reason) = err.engine_error().and_then(|e| opts.retry_reason(e)) else {
            return Err(err);
        };
        if n >= opts.max_attempts {
            tracing::warn!(
                target: "oxalchemy::engine",
                attempts = n,
                reason,
                "transaction failed on its last allowed attempt"
            );
            return Err(err.with_attempts(n));
        }
        let sleep = opts.backoff(n);
        tracing::debug!(
            target: "oxalchemy::engine",
            attempt = n,
            reason,
            backoff_ms = sleep.as_millis() as u64,
            "transaction aborted by a conflict; retrying"
        );
        tokio::time::sleep(sleep).await;
    }
}

impl Database {
    /// Runs `f` in a transaction and commits it, running the whole of `f` again in a new
    /// transaction when the database aborts it for a conflict that a new attempt is expected
    /// to pass: serialization failure (`40001`), deadlock (`40P01`) and, unless turned off,
    /// lock timeouts (PostgreSQL `55P03`, SQLite `SQLITE_BUSY`) — see [`retry_reason`].
    /// Between attempts it sleeps with capped exponential backoff and jitter; after
    /// `max_attempts` the error is [`Error::RetriesExhausted`] saying how many ran, with the
    /// last conflict as its `source()`. Any other error is returned at once, unchanged
    /// (after a rollback).
    ///
    /// `f` is an `async` closure, cloned for each attempt and called with that attempt's
    /// transaction. **It must be idempotent apart from the database**: whatever it does outside the
    /// transaction (sending mail, pushing to a channel, adding to a counter) happens once per
    /// attempt. Compute such effects from its return value instead. Statements must go
    /// through the `tx` it is given; each attempt's transaction is rolled back on failure.
    /// A lost connection is not retried (whether the COMMIT went through is unknown).
    ///
    /// ```no_run
    /// # async fn demo(db: oxalchemy_engine::Database) -> Result<(), oxalchemy_engine::Error> {
    /// use oxalchemy_core::text;
    /// use oxalchemy_engine::RetryOptions;
    ///
    /// let moved: u64 = db
    ///     .run_transaction(&RetryOptions::new(), async |tx| {
    ///         tx.execute(text("UPDATE account SET balance = balance - 10 WHERE id = 1")).await?;
    ///         tx.execute(text("UPDATE account SET balance = balance + 10 WHERE id = 2")).await
    ///     })
    ///     .await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # The closure's shape
    ///
    /// `AsyncFnOnce(&mut Transaction<'_>) -> Result<T, E> + Clone` (stable async closures):
    /// each attempt calls a fresh clone. It may capture the caller's variables by shared
    /// reference (references are `Clone`), so `async |tx| …` works as written; to count
    /// something across attempts use an atomic or a `Cell`, not a captured `&mut`. Not
    /// `AsyncFnMut`, although it would allow `&mut` captures: the future of a call to an
    /// `AsyncFnMut` borrows the closure, and rustc (up to at least 1.95) then cannot prove
    /// the whole future `Send` ("implementation of `Send` is not general enough"), so it could
    /// not run inside `tokio::spawn` or an axum handler. A clone called once owns its
    /// captures, and the future is `Send` whenever they are.
    pub async fn run_transaction<T, E, F>(&self, opts: &RetryOptions, f: F) -> Result<T, E>
    where
        F: AsyncFnOnce(&mut Transaction<'_>) -> Result<T, E> + Clone,
        E: RetryableError,
    {
        retry_loop(opts, async |_| {
            let mut conn = self.connection().await?;
            let mut tx = match opts.isolation {
                Some(level) => conn.begin_isolated(level).await?,
                None => conn.begin().await?,
            };
            match (f.clone())(&mut tx).await {
                Ok(v) => {
                    tx.commit().await?;
                    Ok(v)
                }
                Err(e) => {
                    if let Err(rollback) = tx.rollback().await {
                        tracing::debug!(target: "oxalchemy::engine", error = %rollback, "ROLLBACK after a failed attempt also failed");
                    }
                    Err(e)
                }
            }
        })
        .await
    }

    /// The statement that sets `level` as the first statement of a transaction another
    /// layer opened (`SET TRANSACTION ISOLATION LEVEL …`), or `None` where the database has
    /// no levels (SQLite). For the ORM's session equivalent of
    /// [`run_transaction`](Self::run_transaction).
    #[doc(hidden)]
    pub fn set_isolation_sql(&self, level: IsolationLevel) -> Option<String> {
        self.shared
            .isolation_levels
            .then(|| format!("SET TRANSACTION ISOLATION LEVEL {}", level.sql()))
    }
}

/// A cheap random number for jitter (not for anything secret): a per-process random seed
/// hashed with a counter.
fn random() -> u64 {
    static SEED: std::sync::OnceLock<std::collections::hash_map::RandomState> =
        std::sync::OnceLock::new();
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    SEED.get_or_init(Default::default)
        .hash_one(COUNTER.fetch_add(1, Ordering::Relaxed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_is_capped_and_jittered_into_its_upper_half() {
        let o = RetryOptions::new()
            .initial_backoff(Duration::from_millis(10))
            .max_backoff(Duration::from_millis(100));
        for _ in 0..100 {
            let b1 = o.backoff(1);
            assert!(
                b1 >= Duration::from_millis(5) && b1 <= Duration::from_millis(10),
                "{b1:?}"
            );
            let b3 = o.backoff(3);
            assert!(
                b3 >= Duration::from_millis(20) && b3 <= Duration::from_millis(40),
                "{b3:?}"
            );
            let b9 = o.backoff(9);
            assert!(
                b9 >= Duration::from_millis(50) && b9 <= Duration::from_millis(100),
                "{b9:?}"
            );
            assert!(o.backoff(u32::MAX) <= Duration::from_millis(100));
        }
        let distinct: std::collections::HashSet<_> = (0..20).map(|_| o.backoff(5)).collect();
        assert!(distinct.len() > 1, "jitter varies the sleep");
    }

    #[test]
    fn what_is_retried() {
        let pg = |code: &str| Error::Database {
            code: Some(code.into()),
            message: String::new(),
            detail: None,
            hint: None,
            source: None,
        };
        let ser = |code: &str| Error::Serialization {
            code: code.into(),
            message: String::new(),
            source: None,
        };
        assert_eq!(
            retry_reason(&ser("40001")),
            Some(RetryReason::SerializationFailure)
        );
        assert_eq!(retry_reason(&ser("40P01")), Some(RetryReason::Deadlock));
        assert!(matches!(
            retry_reason(&pg("55P03")),
            Some(RetryReason::LockTimeout(_))
        ));
        // MySQL: a deadlock (1213) is 40001; a lock wait timeout (1205) is typed with its
        // own code, a lock timeout that retry_lock_timeouts(false) turns off.
        assert!(matches!(
            retry_reason(&ser(MYSQL_LOCK_WAIT_TIMEOUT)),
            Some(RetryReason::LockTimeout(_))
        ));
        assert!(RetryOptions::new()
            .retry_lock_timeouts(false)
            .retry_reason(&ser(MYSQL_LOCK_WAIT_TIMEOUT))
            .is_none());
        assert_eq!(retry_reason(&pg("42P01")), None);
        assert_eq!(retry_reason(&Error::NotFound), None);
        let busy = Error::Sqlite {
            code: "SQLITE_BUSY",
            extended_code: 5,
            message: String::new(),
            source: None,
        };
        assert!(retry_reason(&busy).is_some());
        assert!(RetryOptions::new().retry_reason(&busy).is_some());
        assert!(RetryOptions::new()
            .retry_lock_timeouts(false)
            .retry_reason(&busy)
            .is_none());
        assert!(RetryOptions::new()
            .retry_lock_timeouts(false)
            .retry_reason(&ser("40001"))
            .is_some());
    }
}
