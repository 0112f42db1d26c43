//! The pool's machinery: [`Shared`], the settings every connection and transaction of a
//! [`Database`](super::Database) reads, and [`Manager`], which deadpool calls to open a
//! driver connection and to check one before handing it out again: a connection that was
//! lost is discarded, and one left in an unknown state (a request abandoned in flight) or
//! inside a transaction is reset first (SQLAlchemy's `reset_on_return`).

use std::sync::Arc;
use std::time::Duration;

use deadpool::managed::{self, Metrics, RecycleError, RecycleResult};
use tokio::sync::{Mutex, OwnedMutexGuard};

use crate::backend::{AnyConn, Backend};
use crate::connection::{Pooled, WireState};
use crate::error::{Error, Result};
use crate::url::Target;
use oxalchemy_core::Dialect;

/// SQLite's primary result code for "the database is locked by another connection".
const SQLITE_BUSY: i32 = 5;

/// Settings shared by the pool, its connections and their transactions.
pub(crate) struct Shared {
    /// Unique per `Database` in the process ([`Database::instance_id`](super::Database::instance_id)).
    pub(crate) instance: u64,
    pub(crate) url: String,
    pub(crate) dialect: &'static dyn Dialect,
    pub(crate) echo: bool,
    pub(crate) hide_parameters: bool,
    /// Bind values on statement spans (`db.params`); off by default.
    pub(crate) trace_parameters: bool,
    /// Statements at least this slow are logged at WARN.
    pub(crate) slow_query_threshold: Option<Duration>,
    /// Run on every new connection before its first use.
    pub(crate) on_connect: Option<super::OnConnect>,
    /// Checkouts that gave up after `pool_timeout`, since the pool was built.
    pub(crate) timeouts: std::sync::atomic::AtomicU64,
    pub(crate) pool_size: usize,
    pub(crate) max_overflow: usize,
    pub(crate) pool_timeout: Duration,
    /// SQLite files: one writer at a time, queued asynchronously (see ARCHITECTURE.md).
    pub(crate) write_gate: Option<Arc<Mutex<()>>>,
    pub(crate) busy_timeout: Duration,
    pub(crate) begin_sql: &'static str,
    /// `BEGIN ISOLATION LEVEL …` exists (PostgreSQL).
    pub(crate) isolation_levels: bool,
    /// An isolation level is set by `SET TRANSACTION ISOLATION LEVEL …` before BEGIN
    /// (MySQL) instead.
    pub(crate) set_transaction_isolation: bool,
    /// Bumped by [`Database::forget_prepared_statements`](super::Database::forget_prepared_statements):
    /// a connection that cached its statements under an older value drops them before its
    /// next request.
    pub(crate) statements_epoch: std::sync::atomic::AtomicU64,
    /// When a connection of this pool was last lost: connections opened before then are
    /// discarded at checkout (SQLAlchemy's pool invalidation), since whatever broke one
    /// (a server restart, a failover) has likely broken them too.
    pub(crate) lost_at: std::sync::Mutex<Option<std::time::Instant>>,
    /// Checkouts the upkeep task has under way or holds (its `min_idle` top-up). deadpool
    /// counts them as users of the pool, so [`Database::status`](super::Database::status)
    /// takes them back out: the application's returned connections are idle, not in use.
    pub(crate) upkeep_checkouts: Arc<std::sync::atomic::AtomicUsize>,
    /// Compiled statements by shape, shared by every connection of the pool (the
    /// dialect is the pool's, so a shape compiles once per database).
    pub(crate) compiled_cache: std::sync::Mutex<oxalchemy_core::dialect::StatementCache>,
}

impl Shared {
    /// Compiles `stmt` for this pool's dialect, through the compiled-statement cache.
    pub(crate) fn compile(
        &self,
        stmt: &oxalchemy_core::Statement,
    ) -> std::result::Result<oxalchemy_core::Compiled, oxalchemy_core::CompileError> {
        // A poisoned lock only means another thread panicked mid-lookup; the cache's
        // entries are written whole, so it stays usable.
        self.compiled_cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .compile(self.dialect, stmt)
    }

    /// As [`Self::compile`], with the SQL shared with the cache (a hit copies no text).
    pub(crate) fn compile_shared(
        &self,
        stmt: &oxalchemy_core::Statement,
    ) -> std::result::Result<
        (std::sync::Arc<str>, Vec<oxalchemy_core::Value>),
        oxalchemy_core::CompileError,
    > {
        self.compiled_cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .compile_shared(self.dialect, stmt)
    }

    /// As [`Self::compile_shared`], for a model query held by reference as its head and
    /// the rest of its SELECT (not moved, not cloned, not completed on a hit), its binds
    /// written into `binds`, a buffer the connection reuses.
    pub(crate) fn compile_shared_headed_select_into(
        &self,
        head: &oxalchemy_core::SelectHead,
        select: &oxalchemy_core::Select,
        binds: &mut Vec<oxalchemy_core::Value>,
    ) -> std::result::Result<std::sync::Arc<str>, oxalchemy_core::CompileError> {
        self.compiled_cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .compile_shared_headed_select_into(self.dialect, head, select, binds)
    }

    /// The compiled-statement cache's hit/miss counts and size.
    pub(crate) fn compiled_cache_stats(&self) -> oxalchemy_core::dialect::CacheStats {
        self.compiled_cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .stats()
    }

    /// Records that a connection was lost now: every connection opened before is
    /// discarded at its next checkout.
    pub(crate) fn connection_lost(&self) {
        let now = std::time::Instant::now();
        *self.lost_at.lock().unwrap_or_else(|e| e.into_inner()) = Some(now);
    }

    /// Whether a connection opened at `created` predates the last lost connection.
    pub(crate) fn invalidated(&self, created: std::time::Instant) -> bool {
        self.lost_at
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_some_and(|lost| created < lost)
    }

    /// Waits for SQLite's writer slot, up to the busy timeout.
    pub(crate) async fn write_slot(&self) -> Result<Option<OwnedMutexGuard<()>>> {
        let Some(gate) = &self.write_gate else {
            return Ok(None);
        };
        match tokio::time::timeout(self.busy_timeout, gate.clone().lock_owned()).await {
            Ok(guard) => Ok(Some(guard)),
            // The elapsed timer is the cause: no SQLite call failed, the queue did not move.
            Err(elapsed) => Err(Error::Sqlite {
                code: "SQLITE_BUSY",
                extended_code: SQLITE_BUSY,
                message: format!(
                    "waited {:?} for the SQLite write lock held by another transaction of this \
                     process (of this or another Database on the same file)",
                    self.busy_timeout
                ),
                source: Some(Box::new(elapsed)),
            }),
        }
    }
}

/// Opens and checks driver connections for deadpool.
pub(crate) struct Manager {
    pub(super) target: Target,
    /// The URL with its password hidden, for logs and errors.
    pub(super) url: String,
    pub(super) pool_recycle: Option<Duration>,
    /// `max_lifetime`, with its per-connection jitter.
    pub(super) lifetime: Option<super::upkeep::Lifetime>,
    pub(super) pre_ping: bool,
    /// PostgreSQL prepared statements kept per connection; 0 = unnamed statements only.
    #[cfg(feature = "postgres")]
    pub(super) statement_cache_size: usize,
    /// The TLS connector, built once from the URL (`None`: `sslmode=disable`).
    #[cfg(feature = "postgres")]
    pub(super) tls: Option<crate::postgres::Tls>,
    #[cfg(feature = "sqlite")]
    pub(super) busy_timeout: Duration,
    /// MySQL prepared statements kept per connection.
    #[cfg(feature = "mysql")]
    pub(super) mysql_statement_cache_size: usize,
}

impl managed::Manager for Manager {
    type Type = Pooled;
    type Error = Error;

    async fn create(&self) -> Result<Pooled> {
        let conn = match &self.target {
            #[cfg(feature = "sqlite")]
            Target::SqliteMemory(db, settings) => AnyConn::Sqlite(
                crate::sqlite::SqliteConn::open_memory(db, settings, self.busy_timeout).await?,
            ),
            #[cfg(feature = "sqlite")]
            Target::SqliteFile(path, settings) => AnyConn::Sqlite(
                crate::sqlite::SqliteConn::open_file(path, settings, self.busy_timeout).await?,
            ),
            #[cfg(feature = "postgres")]
            Target::Postgres(pg) => AnyConn::Postgres(
                crate::postgres::PgConn::connect(
                    pg,
                    &self.url,
                    self.statement_cache_size,
                    self.tls.as_ref(),
                )
                .await?,
            ),
            #[cfg(feature = "mysql")]
            Target::Mysql(u) => AnyConn::Mysql(
                crate::mysql::MysqlConn::connect(u, &self.url, self.mysql_statement_cache_size)
                    .await?,
            ),
        };
        tracing::debug!(target: "oxalchemy::pool", url = %self.url, "connection opened");
        Ok(Pooled::new(conn))
    }

    async fn recycle(&self, obj: &mut Pooled, metrics: &Metrics) -> RecycleResult<Error> {
        if let Some(max_age) = self.pool_recycle {
            if metrics.created.elapsed() >= max_age {
                return Err(RecycleError::message("older than pool_recycle"));
            }
        }
        if self
            .lifetime
            .as_ref()
            .is_some_and(|l| l.expired(metrics.created))
        {
            return Err(RecycleError::message("older than max_lifetime"));
        }
        if obj.conn.is_closed() {
            return Err(RecycleError::message("connection closed by the server"));
        }
        if obj.state == WireState::Lost {
            return Err(RecycleError::message("connection lost"));
        }
        obj.conn.settle().await;
        if obj.depth > 0 || obj.state == WireState::InFlight {
            // A transaction was leaked (forgotten with mem::forget), or a request was
            // abandoned mid-flight (a BEGIN may have gone through): never hand it out in an
            // unknown state. A connection that cannot be reset is discarded.
            obj.conn.reset().await.map_err(RecycleError::Backend)?;
            obj.depth = 0;
            obj.state = WireState::Settled;
        }
        if self.pre_ping {
            obj.conn.ping().await.map_err(RecycleError::Backend)?;
        }
        Ok(())
    }
}
