//! `Database`: the engine. URL → pool of driver connections → `Connection`s.

use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use deadpool::managed::{self, Metrics, Pool, PoolError, RecycleError, RecycleResult, TimeoutType};
use tokio::sync::{Mutex, OwnedMutexGuard};

use crate::backend::{AnyConn, Backend};
use crate::connection::{Connection, Pooled, Transaction};
use crate::decode::{FromRow, FromSql};
use crate::error::{Error, Result};
use crate::url::{parse, redact_url, Target};
use oxalchemy_core::schema::DropEnumType;
use oxalchemy_core::{text, Dialect, MetaData, Statement};

/// SQLite's primary result code for "the database is locked by another connection".
const SQLITE_BUSY: i32 = 5;

/// Settings shared by the pool, its connections and their transactions.
pub(crate) struct Shared {
    pub(crate) url: String,
    pub(crate) dialect: &'static dyn Dialect,
    pub(crate) echo: bool,
    pub(crate) hide_parameters: bool,
    pub(crate) pool_size: usize,
    max_overflow: usize,
    pool_timeout: Duration,
    /// SQLite files: one writer at a time, queued asynchronously (see ARCHITECTURE.md).
    pub(crate) write_gate: Option<Arc<Mutex<()>>>,
    busy_timeout: Duration,
    pub(crate) begin_sql: &'static str,
    /// `BEGIN ISOLATION LEVEL …` exists (PostgreSQL).
    pub(crate) isolation_levels: bool,
}

impl Shared {
    /// Waits for SQLite's writer slot, up to the busy timeout.
    pub(crate) async fn write_slot(&self) -> Result<Option<OwnedMutexGuard<()>>> {
        let Some(gate) = &self.write_gate else {
            return Ok(None);
        };
        match tokio::time::timeout(self.busy_timeout, gate.clone().lock_owned()).await {
            Ok(guard) => Ok(Some(guard)),
            Err(_) => Err(Error::Sqlite {
                code: "SQLITE_BUSY",
                extended_code: SQLITE_BUSY,
                message: format!(
                    "waited {:?} for the SQLite write lock held by another transaction of this \
                     process",
                    self.busy_timeout
                ),
                source: None,
            }),
        }
    }
}

pub(crate) struct Manager {
    target: Target,
    url: String,
    pool_recycle: Option<Duration>,
    pre_ping: bool,
    busy_timeout: Duration,
}

impl managed::Manager for Manager {
    type Type = Pooled;
    type Error = Error;

    async fn create(&self) -> Result<Pooled> {
        let conn = match &self.target {
            #[cfg(feature = "sqlite")]
            Target::SqliteMemory => AnyConn::Sqlite(crate::sqlite::SqliteConn::open_memory()?),
            #[cfg(feature = "sqlite")]
            Target::SqliteFile(path) => AnyConn::Sqlite(crate::sqlite::SqliteConn::open_file(
                path,
                self.busy_timeout,
            )?),
            #[cfg(feature = "postgres")]
            Target::Postgres(config) => {
                AnyConn::Postgres(crate::postgres::PgConn::connect(config, &self.url).await?)
            }
        };
        tracing::debug!(target: "oxalchemy::pool", url = %self.url, "connection opened");
        Ok(Pooled { conn, depth: 0 })
    }

    async fn recycle(&self, obj: &mut Pooled, metrics: &Metrics) -> RecycleResult<Error> {
        if let Some(max_age) = self.pool_recycle {
            if metrics.created.elapsed() >= max_age {
                return Err(RecycleError::message("older than pool_recycle"));
            }
        }
        if obj.conn.is_closed() {
            return Err(RecycleError::message("connection closed by the server"));
        }
        obj.conn.settle().await;
        if obj.depth > 0 {
            // A transaction was leaked (e.g. forgotten with mem::forget): never hand it out open.
            obj.conn
                .batch("ROLLBACK")
                .await
                .map_err(RecycleError::Backend)?;
            obj.depth = 0;
        }
        if self.pre_ping {
            obj.conn.ping().await.map_err(RecycleError::Backend)?;
        }
        Ok(())
    }
}

/// A database: a connection pool plus the dialect to speak to it. Cheap to clone (shared).
///
/// ```no_run
/// # async fn demo() -> Result<(), oxalchemy_engine::Error> {
/// use oxalchemy_engine::Database;
/// let db = Database::connect("sqlite::memory:").await?;
/// let db = Database::connect("postgresql://app@localhost/app").pool_size(20).max_overflow(0).await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Database {
    pool: Pool<Manager>,
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let status = self.pool.status();
        f.debug_struct("Database")
            .field("url", &self.shared.url)
            .field("dialect", &self.shared.dialect.name())
            .field("pool_size", &self.shared.pool_size)
            .field("max_overflow", &self.shared.max_overflow)
            .field("open", &status.size)
            .field("idle", &status.available)
            .finish()
    }
}

impl std::fmt::Display for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.shared.url)
    }
}

/// Pool counters, for monitoring and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStatus {
    /// Connections open (idle + checked out).
    pub open: usize,
    /// Connections idle in the pool.
    pub idle: usize,
    /// Tasks waiting for a connection.
    pub waiting: usize,
}

/// Options for [`Database::connect`]; `.await` it to connect.
#[must_use = "a ConnectOptions does nothing until it is awaited"]
pub struct ConnectOptions {
    url: String,
    pool_size: usize,
    max_overflow: usize,
    pool_timeout: Duration,
    pool_recycle: Option<Duration>,
    pool_pre_ping: bool,
    echo: bool,
    hide_parameters: bool,
    busy_timeout: Duration,
}

impl std::fmt::Debug for ConnectOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectOptions")
            .field("url", &redact_url(&self.url))
            .field("pool_size", &self.pool_size)
            .field("max_overflow", &self.max_overflow)
            .field("pool_timeout", &self.pool_timeout)
            .field("pool_recycle", &self.pool_recycle)
            .field("pool_pre_ping", &self.pool_pre_ping)
            .finish()
    }
}

impl ConnectOptions {
    /// Connections kept open in the pool (default 5, as SQLAlchemy).
    pub fn pool_size(mut self, n: usize) -> Self {
        self.pool_size = n;
        self
    }
    /// Extra connections opened under load and closed when returned (default 10).
    pub fn max_overflow(mut self, n: usize) -> Self {
        self.max_overflow = n;
        self
    }
    /// How long to wait for a free connection before [`Error::PoolTimeout`] (default 30 s).
    pub fn pool_timeout(mut self, d: Duration) -> Self {
        self.pool_timeout = d;
        self
    }
    /// Replace connections older than this at checkout (default: never).
    pub fn pool_recycle(mut self, d: Duration) -> Self {
        self.pool_recycle = Some(d);
        self
    }
    /// Test each connection with a round trip at checkout and replace dead ones (default off).
    pub fn pool_pre_ping(mut self, on: bool) -> Self {
        self.pool_pre_ping = on;
        self
    }
    /// Log every statement at INFO on target `oxalchemy::sql` (always at DEBUG otherwise).
    pub fn echo(mut self, on: bool) -> Self {
        self.echo = on;
        self
    }
    /// Leave bind values out of statement logs.
    pub fn hide_parameters(mut self, on: bool) -> Self {
        self.hide_parameters = on;
        self
    }
    /// SQLite: how long a writer waits for the database lock (default 5 s).
    pub fn busy_timeout(mut self, d: Duration) -> Self {
        self.busy_timeout = d;
        self
    }

    async fn build(self) -> Result<Database> {
        let target = parse(&self.url)?;
        let url = redact_url(&self.url);
        let (dialect, begin_sql, memory, file): (&'static dyn Dialect, &'static str, bool, bool) =
            match &target {
                #[cfg(feature = "sqlite")]
                Target::SqliteMemory => (&oxalchemy_core::Sqlite, "BEGIN IMMEDIATE", true, false),
                #[cfg(feature = "sqlite")]
                Target::SqliteFile(_) => (&oxalchemy_core::Sqlite, "BEGIN IMMEDIATE", false, true),
                #[cfg(feature = "postgres")]
                Target::Postgres(_) => (&oxalchemy_core::Postgres, "BEGIN", false, false),
            };
        if self.pool_size == 0 {
            return Err(Error::InvalidOption {
                option: "pool_size",
                reason: "the pool needs at least 1 connection; pool_size must be 1 or more".into(),
            });
        }
        // An in-memory SQLite database lives in one connection: the pool holds exactly that
        // one (SQLAlchemy's StaticPool), and never recycles it.
        let (pool_size, max_overflow) = if memory {
            (1, 0)
        } else {
            (self.pool_size, self.max_overflow)
        };
        let manager = Manager {
            target,
            url: url.clone(),
            pool_recycle: if memory { None } else { self.pool_recycle },
            pre_ping: self.pool_pre_ping,
            busy_timeout: self.busy_timeout,
        };
        let pool = Pool::builder(manager)
            .max_size(pool_size + max_overflow)
            .runtime(deadpool::Runtime::Tokio1)
            .wait_timeout(Some(self.pool_timeout))
            .create_timeout(Some(self.pool_timeout))
            .recycle_timeout(Some(self.pool_timeout))
            .build()
            .map_err(|e| Error::InvalidOption {
                option: "pool_timeout",
                reason: e.to_string(),
            })?;
        let shared = Arc::new(Shared {
            url,
            dialect,
            echo: self.echo,
            hide_parameters: self.hide_parameters,
            pool_size,
            max_overflow,
            pool_timeout: self.pool_timeout,
            write_gate: file.then(|| Arc::new(Mutex::new(()))),
            busy_timeout: self.busy_timeout,
            begin_sql,
            isolation_levels: !memory && !file,
        });
        let db = Database { pool, shared };
        // Connect once now, so a bad URL or password fails here and not at first use.
        drop(db.connection().await?);
        Ok(db)
    }
}

impl IntoFuture for ConnectOptions {
    type Output = Result<Database>;
    type IntoFuture = Pin<Box<dyn Future<Output = Result<Database>> + Send>>;
    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.build())
    }
}

impl Database {
    /// Connects to `sqlite://path`, `sqlite::memory:` or `postgresql://user:pass@host/db`.
    /// Set pool options on the result, then `.await` it.
    pub fn connect(url: impl Into<String>) -> ConnectOptions {
        ConnectOptions {
            url: url.into(),
            pool_size: 5,
            max_overflow: 10,
            pool_timeout: Duration::from_secs(30),
            pool_recycle: None,
            pool_pre_ping: false,
            echo: false,
            hide_parameters: false,
            busy_timeout: Duration::from_secs(5),
        }
    }

    pub fn dialect(&self) -> &'static dyn Dialect {
        self.shared.dialect
    }

    /// The URL with its password hidden.
    pub fn url(&self) -> &str {
        &self.shared.url
    }

    pub fn status(&self) -> PoolStatus {
        let s = self.pool.status();
        PoolStatus {
            open: s.size,
            idle: s.available,
            waiting: s.waiting,
        }
    }

    /// Checks a connection out of the pool (waiting up to `pool_timeout`).
    pub async fn connection(&self) -> Result<Connection> {
        match self.pool.get().await {
            Ok(obj) => Ok(Connection::new(obj, self.shared.clone())),
            Err(PoolError::Timeout(TimeoutType::Wait)) => Err(Error::PoolTimeout {
                waited: self.shared.pool_timeout,
                pool_size: self.shared.pool_size,
                max_overflow: self.shared.max_overflow,
            }),
            Err(PoolError::Timeout(kind)) => Err(Error::Connect {
                url: self.shared.url.clone(),
                reason: format!("timed out after {:?} ({kind:?})", self.shared.pool_timeout),
                source: None,
            }),
            Err(PoolError::Backend(e)) => Err(e),
            Err(PoolError::Closed) => Err(Error::PoolClosed),
            Err(e) => Err(Error::Connect {
                url: self.shared.url.clone(),
                reason: e.to_string(),
                source: Some(Box::new(e)),
            }),
        }
    }

    /// Runs `f` in a transaction: committed when it returns `Ok`, rolled back on `Err` or
    /// panic; the connection always goes back to the pool (the guide's `session_scope`).
    pub async fn transaction<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: AsyncFnOnce(&mut Transaction<'_>) -> Result<T, E>,
        E: From<Error>,
    {
        let mut conn = self.connection().await?;
        let mut tx = conn.begin().await?;
        match f(&mut tx).await {
            Ok(v) => {
                tx.commit().await?;
                Ok(v)
            }
            Err(e) => {
                tx.rollback().await?;
                Err(e)
            }
        }
    }

    /// Runs one statement on a pooled connection.
    pub async fn execute(&self, stmt: impl Into<Statement>) -> Result<u64> {
        self.connection().await?.execute(stmt).await
    }

    /// Runs one query on a pooled connection.
    pub async fn query<T: FromRow + Send>(&self, stmt: impl Into<Statement>) -> Result<Vec<T>> {
        self.connection().await?.query(stmt).await
    }

    pub async fn query_one<T: FromRow + Send>(&self, stmt: impl Into<Statement>) -> Result<T> {
        self.connection().await?.query_one(stmt).await
    }

    pub async fn query_scalar<T: FromSql + Send>(&self, stmt: impl Into<Statement>) -> Result<T> {
        self.connection().await?.query_scalar(stmt).await
    }

    /// Creates every table of `metadata` (and its indexes) that does not exist yet, in
    /// foreign-key order, in one transaction.
    pub async fn create_all(&self, metadata: &MetaData) -> Result<()> {
        let tables = metadata.sorted_tables()?;
        let mut conn = self.connection().await?;
        let mut tx = conn.begin().await?;
        if self.shared.dialect.native_enums() {
            let mut seen = std::collections::HashSet::new();
            for ty in tables.iter().flat_map(|t| t.native_enums()) {
                if !seen.insert(ty.name.clone()) {
                    continue;
                }
                // CREATE TYPE has no IF NOT EXISTS: look in the current schema first.
                let exists: Option<(i32,)> = tx
                    .query_opt(
                        text(
                            "SELECT 1 FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace \
                             WHERE t.typname = :name AND n.nspname = current_schema()",
                        )
                        .bind("name", ty.name.as_str()),
                    )
                    .await?;
                if exists.is_none() {
                    tx.execute(ty).await?;
                }
            }
        }
        for table in tables {
            tx.execute(table.create().if_not_exists()).await?;
            for ix in table.create_indexes() {
                tx.execute(ix.if_not_exists()).await?;
            }
        }
        tx.commit().await
    }

    /// Drops every table of `metadata` that exists, dependents first, in one transaction.
    pub async fn drop_all(&self, metadata: &MetaData) -> Result<()> {
        let tables = metadata.sorted_tables()?;
        let mut conn = self.connection().await?;
        let mut tx = conn.begin().await?;
        for table in tables.iter().rev() {
            tx.execute(table.drop().if_exists()).await?;
        }
        if self.shared.dialect.native_enums() {
            for ty in tables.iter().flat_map(|t| t.native_enums()) {
                tx.execute(DropEnumType {
                    name: ty.name,
                    if_exists: true,
                })
                .await?;
            }
        }
        tx.commit().await
    }

    /// Closes the pool: idle connections are closed, checked-out ones when returned.
    pub fn close(&self) {
        self.pool.close();
    }
}
