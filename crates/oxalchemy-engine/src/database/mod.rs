//! [`Database`]: the engine's entry point. A URL becomes a pool of driver connections, which
//! hands out [`Connection`]s and runs one-shot statements and schema operations.
//!
//! The options and the build live in `options`, the pool's machinery (settings shared by
//! every connection, the deadpool manager) in `pool`.

mod options;
mod pool;
#[cfg(feature = "metrics")]
pub(crate) mod pool_metrics;
mod replicas;
pub(crate) mod retry;
mod sharded;
mod upkeep;

use std::sync::Arc;

use deadpool::managed::{Object, Pool, PoolError, TimeoutType};

use crate::connection::{Connection, Transaction};
use crate::decode::{FromRow, FromSql};
use crate::error::{Error, Result};
pub use options::ConnectOptions;
use oxalchemy_core::schema::DropEnumType;
use oxalchemy_core::{text, Dialect, MetaData, Statement};
pub(crate) use pool::{Manager, Shared};
pub use replicas::ReplicaStatus;
#[doc(hidden)]
pub use retry::retry_loop;
pub use retry::{retry_reason, RetryOptions, RetryReason, RetryableError};
pub use sharded::ShardedDatabase;

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
    /// Read replicas ([`ConnectOptions::replicas`]), each its own `Database`.
    replicas: Option<Arc<replicas::ReplicaSet>>,
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

/// Pool counters, for monitoring, health endpoints and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct PoolStatus {
    /// Connections open (idle + checked out).
    pub open: usize,
    /// Connections idle in the pool.
    pub idle: usize,
    /// Connections checked out (in use).
    pub in_use: usize,
    /// Tasks waiting for a connection.
    pub waiting: usize,
    /// The most connections the pool opens (`pool_size + max_overflow`).
    pub max: usize,
    /// Checkouts that gave up after `pool_timeout` ([`Error::PoolTimeout`]) so far.
    pub timeouts: u64,
}

/// The `on_connect` hook: run with every new connection before its first use.
pub(crate) type OnConnect = Arc<
    dyn for<'c> Fn(
            &'c mut Connection,
        )
            -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<()>> + Send + 'c>>
        + Send
        + Sync,
>;

impl Database {
    /// Connects to `sqlite:///relative.db` (SQLAlchemy's three slashes: relative to the
    /// working directory), `sqlite:////absolute.db`, `sqlite://` (in memory) or
    /// `postgresql://user:pass@host/db?sslmode=verify-full…` (libpq's parameters). Set pool
    /// options on the result, then `.await` it. The README's "Connecting" lists every URL
    /// form and parameter; an unknown parameter is [`Error::UnknownUrlParameter`].
    ///
    /// `sqlite::memory:` is a new in-memory database, private to this `Database`, that its
    /// pooled connections share (a named shared-cache database, not SQLAlchemy's single
    /// connection `StaticPool`): holding a Session or a [`Connection`] does not make other
    /// uses of the `Database` wait. See [`ConnectOptions`] for SQLite's locking.
    pub fn connect(url: impl Into<String>) -> ConnectOptions {
        ConnectOptions::new(url.into())
    }

    /// The SQL dialect of this database (SQLite or PostgreSQL), for compiling statements.
    pub fn dialect(&self) -> &'static dyn Dialect {
        self.shared.dialect
    }

    /// Compiles a statement for this database's dialect through its compiled-statement
    /// cache ([`Connection::compile`] on any of its connections does the same).
    pub fn compile(&self, stmt: &Statement) -> Result<oxalchemy_core::Compiled> {
        Ok(self.shared.compile(stmt)?)
    }

    /// What the compiled-statement cache has done: statements compiled from a cached shape
    /// (hits) and compiled anew (misses); see
    /// [`ConnectOptions::compiled_cache_size`](crate::ConnectOptions::compiled_cache_size).
    pub fn compiled_cache_stats(&self) -> oxalchemy_core::dialect::CacheStats {
        self.shared.compiled_cache_stats()
    }

    /// The URL with its password hidden.
    pub fn url(&self) -> &str {
        &self.shared.url
    }

    /// A number unique to this `Database` (and its clones) in the process: two
    /// `sqlite::memory:` databases share a URL but not this (the ORM's query cache keys on
    /// it).
    pub fn instance_id(&self) -> u64 {
        self.shared.instance
    }

    /// The pool's counters right now.
    pub fn status(&self) -> PoolStatus {
        let s = self.pool.status();
        // deadpool's users: checked out, being opened or recycled, and waiting (its
        // `available` is size − users, `waiting` users − size). The upkeep task's own
        // checkouts are not the application's: connections it holds count as idle, and one
        // it is opening does not make a returned connection look in use.
        let users = s.size.saturating_sub(s.available) + s.waiting;
        let upkeep = self
            .shared
            .upkeep_checkouts
            .load(std::sync::atomic::Ordering::SeqCst);
        let users = users.saturating_sub(upkeep);
        let idle = s.size.saturating_sub(users);
        PoolStatus {
            open: s.size,
            idle,
            in_use: s.size - idle,
            waiting: users.saturating_sub(s.size),
            max: s.max_size,
            timeouts: self
                .shared
                .timeouts
                .load(std::sync::atomic::Ordering::Relaxed),
        }
    }

    /// Checks that the database answers: a pooled connection (opened if needed) makes one
    /// round trip. For health checks; fails with the reason ([`Error::Connect`],
    /// [`Error::PoolTimeout`], [`Error::ConnectionLost`] …).
    pub async fn ping(&self) -> Result<()> {
        self.connection().await?.ping().await
    }

    /// Checks a connection out of the pool (waiting up to `pool_timeout`).
    pub async fn connection(&self) -> Result<Connection> {
        let started = std::time::Instant::now();
        loop {
            let obj = self.checkout().await?;
            if self.shared.invalidated(Object::metrics(&obj).created) {
                tracing::debug!(target: "oxalchemy::pool", "connection older than a lost one discarded");
                drop(Object::take(obj));
                continue;
            }
            #[cfg(feature = "metrics")]
            pool_metrics::checkout(&self.shared, started.elapsed(), self.pool.status());
            let mut conn = Connection::new(obj, self.shared.clone(), started.elapsed());
            run_on_connect(&mut conn).await?;
            return Ok(conn);
        }
    }

    /// One checkout from deadpool, its errors made ours.
    async fn checkout(&self) -> Result<Object<Manager>> {
        match self.pool.get().await {
            Ok(obj) => Ok(obj),
            Err(PoolError::Timeout(TimeoutType::Wait)) => {
                self.shared
                    .timeouts
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                #[cfg(feature = "metrics")]
                pool_metrics::timeout(&self.shared, self.pool.status());
                Err(Error::PoolTimeout {
                    waited: self.shared.pool_timeout,
                    pool_size: self.shared.pool_size,
                    max_overflow: self.shared.max_overflow,
                })
            }
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
    /// When `f` fails, its error is returned even if the ROLLBACK fails too (that failure is
    /// logged at `warn` on the `oxalchemy::engine` target).
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
                // The closure's error is the one the caller needs; a ROLLBACK that fails too
                // (the connection died, which usually caused the closure's error) is logged,
                // not returned in its place. The connection is discarded if it broke.
                if let Err(rollback) = tx.rollback().await {
                    tracing::warn!(
                        target: "oxalchemy::engine",
                        error = %rollback,
                        "ROLLBACK after the transaction's closure failed also failed; \
                         returning the closure's error"
                    );
                }
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

    /// The database's plan for `stmt` (`EXPLAIN` / `EXPLAIN QUERY PLAN`), for debugging; see
    /// [`Connection::explain`].
    pub async fn explain(&self, stmt: impl Into<Statement>) -> Result<String> {
        self.connection().await?.explain(stmt).await
    }

    /// Runs one query on a pooled connection; exactly one row, else [`Error::NotFound`] /
    /// [`Error::MultipleResults`].
    pub async fn query_one<T: FromRow + Send>(&self, stmt: impl Into<Statement>) -> Result<T> {
        self.connection().await?.query_one(stmt).await
    }

    /// Runs one query on a pooled connection; the first column of exactly one row.
    pub async fn query_scalar<T: FromSql + Send>(&self, stmt: impl Into<Statement>) -> Result<T> {
        self.connection().await?.query_scalar(stmt).await
    }

    /// Creates every table of `metadata` (and its indexes) that does not exist yet, in
    /// foreign-key order, in one transaction.
    ///
    /// Tables whose foreign keys form a cycle (see [`MetaData::creation_order`]) are
    /// created without the foreign keys that close the cycle, which are then added with
    /// `ALTER TABLE … ADD CONSTRAINT` unless a foreign key of that name exists already. On
    /// SQLite, which has no such ALTER and checks references only when rows are written,
    /// they stay inline.
    pub async fn create_all(&self, metadata: &MetaData) -> Result<()> {
        let order = metadata.creation_order();
        let alter = self.shared.dialect.alter_foreign_keys();
        let tables = order.tables.clone();
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
            let create = if alter && !order.deferred.is_empty() {
                order.without_deferred(table).create()
            } else {
                table.create()
            };
            tx.execute(create.if_not_exists()).await?;
            if self.shared.dialect.indexes_in_create_table() {
                continue;
            }
            for ix in table.create_indexes() {
                tx.execute(ix.if_not_exists()).await?;
            }
            for sql in oxalchemy_core::dialect::comment_statements(self.shared.dialect, table) {
                tx.execute(text(sql)).await?;
            }
        }
        if alter {
            for (table, fk) in &order.deferred {
                let Some(name) = &fk.name else { continue };
                if foreign_key_exists(&mut tx, self.shared.dialect, table, name.as_str()).await? {
                    continue;
                }
                let sql =
                    oxalchemy_core::dialect::foreign_key_add_sql(self.shared.dialect, table, fk);
                tx.execute_write(&oxalchemy_core::Compiled {
                    sql,
                    binds: Vec::new(),
                })
                .await?;
            }
        }
        tx.commit().await
    }

    /// Drops every table of `metadata` that exists, dependents first, in one transaction.
    ///
    /// Foreign keys that close a cycle between tables (see [`MetaData::creation_order`])
    /// are dropped first, where they exist; on SQLite, which cannot drop a foreign key, the
    /// checks are deferred to the COMMIT instead, when no row references another any more.
    pub async fn drop_all(&self, metadata: &MetaData) -> Result<()> {
        let order = metadata.creation_order();
        let tables = order.tables.clone();
        let mut conn = self.connection().await?;
        let mut tx = conn.begin().await?;
        if self.shared.dialect.alter_foreign_keys() {
            for (table, fk) in order.deferred.iter().rev() {
                let Some(name) = &fk.name else { continue };
                if foreign_key_exists(&mut tx, self.shared.dialect, table, name.as_str()).await? {
                    let sql = oxalchemy_core::dialect::foreign_key_drop_sql(
                        self.shared.dialect,
                        table,
                        name.as_str(),
                    );
                    tx.execute_write(&oxalchemy_core::Compiled {
                        sql,
                        binds: Vec::new(),
                    })
                    .await?;
                }
            }
        } else if let (Some(sql), false) = (
            self.shared.dialect.defer_foreign_keys_sql(),
            order.deferred.is_empty(),
        ) {
            tx.execute_write(&oxalchemy_core::Compiled {
                sql: sql.to_owned(),
                binds: Vec::new(),
            })
            .await?;
        }
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

    /// Makes every connection of the pool, idle or checked out, drop its cached prepared
    /// statements before its next request. Call after DDL that changes the columns a cached
    /// statement returns (`ALTER TABLE … ALTER COLUMN … TYPE`, dropping a column): PostgreSQL
    /// refuses to run such a statement ("cached plan must not change result type"). The
    /// engine retries that failure by itself outside a transaction, but inside one the
    /// server has already aborted the transaction. A migration run in the same process
    /// should call this after it changes a schema. SQLite re-prepares by itself; there this
    /// does nothing.
    pub fn forget_prepared_statements(&self) {
        self.shared
            .statements_epoch
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
    }

    /// Closes the pool: idle connections are closed, checked-out ones when returned. Its
    /// replicas' pools are closed too.
    pub fn close(&self) {
        self.pool.close();
        if let Some(set) = &self.replicas {
            set.close();
        }
    }
}

/// Runs the `on_connect` hook on a connection opened and not yet handed out (its `fresh`
/// mark), once. A connection its hook did not finish on is never used: it is marked lost
/// and the error is [`Error::Connect`], keeping the hook's error as its source.
pub(crate) async fn run_on_connect(conn: &mut Connection) -> Result<()> {
    if !conn.pooled().fresh {
        return Ok(());
    }
    if let Some(hook) = conn.shared().on_connect.clone() {
        if let Err(e) = hook(conn).await {
            conn.pooled().state = crate::connection::WireState::Lost;
            return Err(Error::Connect {
                url: conn.shared().url.clone(),
                reason: format!("the on_connect hook failed: {e}"),
                source: Some(Box::new(e)),
            });
        }
    }
    conn.pooled().fresh = false;
    Ok(())
}

/// Whether `table` has a foreign key called `name`, from `information_schema` (PostgreSQL,
/// MySQL and MariaDB): `create_all` adds and `drop_all` drops a cycle's foreign key only
/// where that is still to do.
async fn foreign_key_exists(
    conn: &mut Connection,
    dialect: &dyn Dialect,
    table: &oxalchemy_core::Table,
    name: &str,
) -> Result<bool> {
    let schema = match &table.schema {
        Some(_) => ":schema",
        None => dialect.current_schema_sql(),
    };
    let mut stmt = text(format!(
        "SELECT COUNT(*) FROM information_schema.table_constraints \
         WHERE constraint_type = 'FOREIGN KEY' AND table_schema = {schema} \
         AND table_name = :table AND constraint_name = :name"
    ))
    .bind("table", table.name.as_str())
    .bind("name", name);
    if let Some(s) = &table.schema {
        stmt = stmt.bind("schema", s.as_str());
    }
    let found: i64 = conn.query_scalar(stmt).await?;
    Ok(found > 0)
}
