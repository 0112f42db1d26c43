//! [`ConnectOptions`]: how a [`Database`] connects and how its pool behaves, and the build
//! that turns them into a running pool.

use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use deadpool::managed::Pool;

use super::pool::{Manager, Shared};
use super::Database;
use crate::error::{Error, Result};
use crate::url::{parse, redact_url, Target};
use oxalchemy_core::Dialect;

/// How to connect and how the connection pool behaves: returned by [`Database::connect`],
/// set with the methods below, connected by `.await`.
///
/// ```no_run
/// # async fn demo() -> Result<(), oxalchemy_engine::Error> {
/// use std::time::Duration;
/// use oxalchemy_engine::Database;
///
/// let db = Database::connect("postgresql://app:secret@db.internal/app")
///     .pool_size(20)                            // connections kept open
///     .max_overflow(5)                          // extra ones under load
///     .pool_timeout(Duration::from_secs(5))     // wait for a free one at most this long
///     .pool_recycle(Duration::from_secs(1800))  // replace connections older than 30 min
///     .pool_pre_ping(true)                      // test each one at checkout
///     .await?;
/// # Ok(()) }
/// ```
///
/// # Connecting
///
/// Awaiting the options opens one connection at once, so a wrong URL, host, role, password
/// or database fails at startup ([`Error::InvalidUrl`], [`Error::Connect`] naming the
/// server's reason) instead of at first use. A bad option value is [`Error::InvalidOption`].
///
/// # Sizing the pool
///
/// The pool keeps up to [`pool_size`](Self::pool_size) connections open between uses. Under
/// load it opens up to [`max_overflow`](Self::max_overflow) more, and closes each of those
/// when it is returned, so at most `pool_size + max_overflow` connections are open at once.
/// A caller that finds them all in use waits up to [`pool_timeout`](Self::pool_timeout) and
/// then gets [`Error::PoolTimeout`].
///
/// A connection is in use from [`Database::connection`] until the
/// [`Connection`](crate::Connection) (and any transaction on it) is dropped; the one-shot
/// helpers ([`Database::execute`], [`Database::query`] …) hold one for a single statement.
/// Size for the number of tasks that hold a connection at the same time, not for the number
/// of tasks: two hundred tasks that each run a short query are served well by five
/// connections. A PostgreSQL server's `max_connections` (100 by default) is shared by every
/// process connected to it, so the sum of `pool_size + max_overflow` over all of them must
/// stay below it.
///
/// # Stale connections
///
/// Servers, proxies and firewalls close connections that sit idle too long, and a closed
/// connection is only noticed when it is next used. [`pool_recycle`](Self::pool_recycle)
/// replaces connections older than a given age when they are checked out (set it below the
/// idle limit of whatever sits between you and the server);
/// [`pool_pre_ping`](Self::pool_pre_ping) tests every connection with a round trip at
/// checkout and replaces a dead one, at the cost of that round trip. A connection that breaks
/// while in use fails with [`Error::ConnectionLost`] and is not returned to the pool.
///
/// # SQLite
///
/// `sqlite::memory:` is a new in-memory database private to the `Database` that connects.
/// Unlike SQLAlchemy's `StaticPool` (one connection, so a second user waits for the first),
/// it is a named shared-cache database: the pool opens several connections to it and the pool
/// options above apply, so holding a Session or a [`Connection`](crate::Connection) does not
/// stall other uses of the `Database`. It lives as long as the `Database`. Shared cache locks
/// tables: a statement that reads a table another connection's open transaction has written
/// waits for that transaction (up to [`busy_timeout`](Self::busy_timeout)), so do not read,
/// through `&db`, a table your own open transaction has written — use the transaction. A
/// SQLite file is opened with
/// foreign keys on and the WAL journal (readers never wait for the writer). SQLite allows one
/// writer at a time, and waiting for it never blocks a thread: writers of every `Database` of
/// this process on one file (known by its canonical path) queue for it asynchronously, and a
/// writer of another process is waited for by retrying after async sleeps with backoff
/// (SQLite's own busy handler, which sleeps on the calling thread, is off). Either wait gives
/// up after [`busy_timeout`](Self::busy_timeout) with [`Error::Sqlite`] `SQLITE_BUSY`.
///
/// # Logging
///
/// Every statement is logged through `tracing` on target `oxalchemy::sql`: at DEBUG, or at
/// INFO with [`echo`](Self::echo) (printed to stderr when no subscriber is installed).
/// [`hide_parameters`](Self::hide_parameters) leaves bind values out of those logs. Every
/// statement also gets a span, `oxalchemy.statement`, with OpenTelemetry's database fields
/// (`db.system`, `db.statement`, `db.operation`, `db.sql.table`, `db.rows`,
/// `db.duration_us`, `db.pool.wait_us`) and never bind values unless
/// [`trace_parameters`](Self::trace_parameters); transactions get `oxalchemy.transaction`
/// spans, session flushes `oxalchemy.flush`. [`slow_query_threshold`](Self::slow_query_threshold)
/// logs slow statements at WARN. URLs in logs, `Debug` output and errors never show the
/// password.
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
    trace_parameters: bool,
    slow_query_threshold: Option<Duration>,
    min_idle: usize,
    idle_timeout: Option<Duration>,
    max_lifetime: Option<Duration>,
    on_connect: Option<super::OnConnect>,
    /// Set by [`busy_timeout`](Self::busy_timeout); else the URL's, else 5 s.
    busy_timeout: Option<Duration>,
    /// Set by [`statement_cache_size`](Self::statement_cache_size); else the URL's, else 256.
    statement_cache_size: Option<usize>,
    /// Read replicas' URLs ([`replicas`](Self::replicas)) and how they are checked.
    replicas: Vec<String>,
    replica_settings: super::replicas::ReplicaSettings,
    /// Set by [`compiled_cache_size`](Self::compiled_cache_size).
    compiled_cache_size: usize,
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
    /// The defaults (SQLAlchemy's, where it has one) for `url`.
    pub(super) fn new(url: String) -> Self {
        ConnectOptions {
            url,
            pool_size: 5,
            max_overflow: 10,
            pool_timeout: Duration::from_secs(30),
            pool_recycle: None,
            pool_pre_ping: false,
            echo: false,
            hide_parameters: false,
            trace_parameters: false,
            slow_query_threshold: None,
            min_idle: 0,
            idle_timeout: None,
            max_lifetime: None,
            on_connect: None,
            busy_timeout: None,
            statement_cache_size: None,
            replicas: Vec::new(),
            replica_settings: Default::default(),
            compiled_cache_size: oxalchemy_core::dialect::cache::DEFAULT_CAPACITY,
        }
    }

    /// Connections kept open in the pool (default 5, as SQLAlchemy); at least 1.
    pub fn pool_size(mut self, n: usize) -> Self {
        self.pool_size = n;
        self
    }
    /// Extra connections opened under load beyond `pool_size`, each closed when returned
    /// (default 10; 0 for a hard limit of `pool_size`).
    pub fn max_overflow(mut self, n: usize) -> Self {
        self.max_overflow = n;
        self
    }
    /// How long to wait for a free connection before [`Error::PoolTimeout`] (default 30 s);
    /// also the limit for opening a new connection.
    pub fn pool_timeout(mut self, d: Duration) -> Self {
        self.pool_timeout = d;
        self
    }
    /// Replace connections older than this when they are checked out (default: never). Set
    /// it below the idle timeout of the server or any proxy in between.
    pub fn pool_recycle(mut self, d: Duration) -> Self {
        self.pool_recycle = Some(d);
        self
    }
    /// Keep at least this many connections open and idle (default 0), opened in the
    /// background: the first requests after a quiet period do not pay for a connect. At most
    /// `pool_size + max_overflow`.
    pub fn min_idle(mut self, n: usize) -> Self {
        self.min_idle = n;
        self
    }
    /// Close connections idle for this long, in the background, beyond `min_idle`
    /// (default: never). Set it below the idle limit of the server or proxies.
    pub fn idle_timeout(mut self, d: Duration) -> Self {
        self.idle_timeout = Some(d);
        self
    }
    /// Replace connections older than this, idle ones in the background and others at their
    /// next checkout, each a little earlier than `d` (up to a tenth, fixed per connection) so
    /// that connections opened together are not replaced together (default: never).
    pub fn max_lifetime(mut self, d: Duration) -> Self {
        self.max_lifetime = Some(d);
        self
    }
    /// Runs `hook` with every new connection before its first use, like SQLAlchemy's
    /// `connect` event: `SET` a setting, a `PRAGMA`, register something. A hook that fails
    /// makes that checkout fail with [`Error::Connect`] and the connection is discarded.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), oxalchemy_engine::Error> {
    /// use oxalchemy_core::text;
    /// use oxalchemy_engine::Database;
    /// let db = Database::connect("postgresql://app@db/app")
    ///     .on_connect(|conn| {
    ///         Box::pin(async move {
    ///             conn.execute(text("SET application_name = 'worker'")).await?;
    ///             Ok(())
    ///         })
    ///     })
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn on_connect<F>(mut self, hook: F) -> Self
    where
        F: for<'c> Fn(
                &'c mut crate::Connection,
            ) -> Pin<Box<dyn Future<Output = Result<()>> + Send + 'c>>
            + Send
            + Sync
            + 'static,
    {
        self.on_connect = Some(Arc::new(hook));
        self
    }
    /// Test each connection with a round trip when it is checked out, and replace it if it is
    /// dead (default off): one extra round trip per checkout against never handing out a
    /// connection the server already closed.
    pub fn pool_pre_ping(mut self, on: bool) -> Self {
        self.pool_pre_ping = on;
        self
    }
    /// Log every statement at INFO on target `oxalchemy::sql` (default off: at DEBUG). With
    /// no `tracing` subscriber installed, statements are printed to stderr instead, like
    /// SQLAlchemy's `echo=True`.
    pub fn echo(mut self, on: bool) -> Self {
        self.echo = on;
        self
    }
    /// Put bind values on statement spans as `db.params` (default off: spans carry the SQL
    /// with its placeholders only, since values may be personal data).
    /// [`hide_parameters`](Self::hide_parameters) wins over this.
    pub fn trace_parameters(mut self, on: bool) -> Self {
        self.trace_parameters = on;
        self
    }
    /// Log statements that take at least `d` at WARN on target `oxalchemy::sql::slow`, with
    /// their duration and SQL (default: none).
    pub fn slow_query_threshold(mut self, d: Duration) -> Self {
        self.slow_query_threshold = Some(d);
        self
    }
    /// Leave bind values out of statement logs (default off), for values that must not
    /// reach logs.
    pub fn hide_parameters(mut self, on: bool) -> Self {
        self.hide_parameters = on;
        self
    }
    /// SQLite files: how long a writer waits for the database's write lock before
    /// [`Error::Sqlite`] `SQLITE_BUSY` (default: the URL's `busy_timeout` in milliseconds,
    /// else 5 s). Ignored by PostgreSQL.
    pub fn busy_timeout(mut self, d: Duration) -> Self {
        self.busy_timeout = Some(d);
        self
    }

    /// PostgreSQL: prepared statements kept per connection (default: the URL's
    /// `statement_cache_size`, else 256). `0` sends every statement as the unnamed statement,
    /// parsed anew each time (one round trip, like a cached one, but planned every time): use
    /// it behind PgBouncer in transaction pooling mode, which sends each transaction to any
    /// server connection, where a named prepared statement does not exist (PgBouncer 1.21 and
    /// later track them instead when `max_prepared_statements` is set). Ignored by SQLite.
    pub fn statement_cache_size(mut self, n: usize) -> Self {
        self.statement_cache_size = Some(n);
        self
    }

    /// Read replicas of this (primary) database, e.g. PostgreSQL streaming standbys: each
    /// gets its own pool with this pool's options, and must be reachable now (it is
    /// connected like the primary). [`Database::replica`] and
    /// [`Database::read_connection`] send reads to them; everything else goes to the
    /// primary. A replica that fails later is taken out and probed again with backoff; reads
    /// fall back to the primary meanwhile.
    pub fn replicas<I, S>(mut self, urls: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.replicas = urls.into_iter().map(Into::into).collect();
        self
    }
    /// How often the replicas are probed (a round trip, plus the replay lag on PostgreSQL;
    /// default 1 s).
    pub fn replica_check_interval(mut self, d: Duration) -> Self {
        self.replica_settings.check_interval = d;
        self
    }
    /// Skip a replica whose replay lag (`now() - pg_last_xact_replay_timestamp()`, while it
    /// has received WAL it has not replayed) is over `d`, as last probed (default: no bound).
    pub fn max_replica_staleness(mut self, d: Duration) -> Self {
        self.replica_settings.max_staleness = Some(d);
        self
    }
    /// How long a failed replica stays out before it is probed again, doubling per failure
    /// in a row up to 30 s (default 500 ms).
    pub fn replica_retry_backoff(mut self, d: Duration) -> Self {
        self.replica_settings.retry_backoff = d;
        self
    }

    /// The options of a replica at `url`: this pool's, without replicas of its own.
    fn replica(&self, url: &str) -> ConnectOptions {
        ConnectOptions {
            url: url.to_owned(),
            on_connect: self.on_connect.clone(),
            replicas: Vec::new(),
            replica_settings: Default::default(),
            ..*self
        }
    }

    /// Statement shapes whose compiled SQL is kept (SQLAlchemy's `query_cache_size`, default
    /// 500): a statement of a kept shape is not compiled again, only its values are bound.
    /// `0` compiles every statement. See [`Database::compiled_cache_stats`].
    pub fn compiled_cache_size(mut self, n: usize) -> Self {
        self.compiled_cache_size = n;
        self
    }

    /// Checks the options, builds the pool and opens its first connection.
    async fn build(self) -> Result<Database> {
        let target = parse(&self.url)?;
        let url = redact_url(&self.url);
        let (dialect, begin_sql, memory, file): (&'static dyn Dialect, &'static str, bool, bool) =
            match &target {
                #[cfg(feature = "sqlite")]
                Target::SqliteMemory(..) => {
                    (&oxalchemy_core::Sqlite, "BEGIN IMMEDIATE", true, false)
                }
                #[cfg(feature = "sqlite")]
                Target::SqliteFile(..) => (&oxalchemy_core::Sqlite, "BEGIN IMMEDIATE", false, true),
                #[cfg(feature = "postgres")]
                Target::Postgres(_) => (&oxalchemy_core::Postgres, "BEGIN", false, false),
                // MariaDB or MySQL: asked of the server below.
                #[cfg(feature = "mysql")]
                Target::Mysql(_) => (&oxalchemy_core::MySql::MARIADB, "BEGIN", false, false),
            };
        #[cfg(feature = "mysql")]
        let mysql_statement_cache_size = self
            .statement_cache_size
            .or(match &target {
                Target::Mysql(u) => u.statement_cache_size,
                #[allow(
                    unreachable_patterns,
                    reason = "other targets exist only with their features"
                )]
                _ => None,
            })
            .unwrap_or(crate::mysql::STATEMENT_CACHE_CAPACITY);
        // The dialect depends on the server (RETURNING on MariaDB 10.5+ only, unless the
        // URL says `returning=off`): one connection
        // asks before the pool is built.
        #[cfg(feature = "mysql")]
        let dialect: &'static dyn Dialect = match &target {
            Target::Mysql(u) => {
                let probe =
                    crate::mysql::MysqlConn::connect(u, &url, mysql_statement_cache_size).await?;
                if probe.returning {
                    &oxalchemy_core::MySql::MARIADB
                } else if probe.mariadb {
                    &oxalchemy_core::MySql::MARIADB_NO_RETURNING
                } else {
                    &oxalchemy_core::MySql::MYSQL
                }
            }
            #[allow(
                unreachable_patterns,
                reason = "other targets exist only with their features"
            )]
            _ => dialect,
        };
        #[cfg(feature = "mysql")]
        let set_transaction_isolation = matches!(target, Target::Mysql(_));
        #[cfg(not(feature = "mysql"))]
        let set_transaction_isolation = false;
        if self.pool_size == 0 {
            return Err(Error::InvalidOption {
                option: "pool_size",
                reason: "the pool needs at least 1 connection; pool_size must be 1 or more".into(),
            });
        }
        let (pool_size, max_overflow) = (self.pool_size, self.max_overflow);
        let busy_timeout = self
            .busy_timeout
            .or(match &target {
                #[cfg(feature = "sqlite")]
                Target::SqliteFile(_, s) | Target::SqliteMemory(_, s) => s.busy_timeout,
                #[cfg(feature = "postgres")]
                Target::Postgres(_) => None,
                #[cfg(feature = "mysql")]
                Target::Mysql(_) => None,
            })
            .unwrap_or(Duration::from_secs(5));
        // One writer queue per database file in the process, shared by every Database on it;
        // an in-memory database is private to this Database, and so is its queue.
        let write_gate = match &target {
            #[cfg(feature = "sqlite")]
            Target::SqliteFile(path, _) => Some(crate::sqlite::write_gate(path)),
            #[cfg(feature = "sqlite")]
            Target::SqliteMemory(..) => Some(Default::default()),
            #[cfg(feature = "postgres")]
            Target::Postgres(_) => None,
            #[cfg(feature = "mysql")]
            Target::Mysql(_) => None,
        };
        #[cfg(feature = "postgres")]
        let statement_cache_size = self
            .statement_cache_size
            .or(match &target {
                Target::Postgres(pg) => pg.statement_cache_size,
                #[allow(
                    unreachable_patterns,
                    reason = "SQLite targets exist only with its feature"
                )]
                _ => None,
            })
            .unwrap_or(crate::postgres::STATEMENT_CACHE_CAPACITY);
        #[cfg(feature = "postgres")]
        let tls = match &target {
            Target::Postgres(pg) => crate::postgres::tls_for(&pg.tls, &url)?,
            #[allow(
                unreachable_patterns,
                reason = "SQLite targets exist only with its feature"
            )]
            _ => None,
        };
        // One jitter seed for checkouts and the background task alike.
        let lifetime = self.max_lifetime.map(super::upkeep::Lifetime::new);
        let manager = Manager {
            target,
            url: url.clone(),
            pool_recycle: self.pool_recycle,
            lifetime: lifetime.clone(),
            pre_ping: self.pool_pre_ping,
            #[cfg(feature = "postgres")]
            statement_cache_size,
            #[cfg(feature = "postgres")]
            tls,
            #[cfg(feature = "sqlite")]
            busy_timeout,
            #[cfg(feature = "mysql")]
            mysql_statement_cache_size,
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
        let replica_options: Vec<ConnectOptions> =
            self.replicas.iter().map(|u| self.replica(u)).collect();
        let replica_settings = self.replica_settings.clone();
        static INSTANCES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let shared = Arc::new(Shared {
            instance: INSTANCES.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            url,
            dialect,
            echo: self.echo,
            hide_parameters: self.hide_parameters,
            trace_parameters: self.trace_parameters,
            slow_query_threshold: self.slow_query_threshold,
            on_connect: self.on_connect,
            timeouts: Default::default(),
            pool_size,
            max_overflow,
            pool_timeout: self.pool_timeout,
            write_gate,
            busy_timeout,
            begin_sql,
            isolation_levels: !memory && !file && !set_transaction_isolation,
            set_transaction_isolation,
            statements_epoch: Default::default(),
            lost_at: Default::default(),
            upkeep_checkouts: Default::default(),
            compiled_cache: std::sync::Mutex::new(oxalchemy_core::dialect::StatementCache::new(
                self.compiled_cache_size,
            )),
        });
        let mut db = Database {
            pool,
            shared,
            replicas: None,
        };
        // Connect once now, so a bad URL or password fails here and not at first use.
        drop(db.connection().await?);
        if !replica_options.is_empty() {
            let mut dbs = Vec::with_capacity(replica_options.len());
            for options in replica_options {
                dbs.push(options.await?);
            }
            db.replicas = Some(super::replicas::ReplicaSet::new(dbs, replica_settings));
        }
        super::upkeep::spawn(
            &db.pool,
            super::upkeep::Upkeep {
                min_idle: self.min_idle.min(pool_size + max_overflow),
                idle_timeout: self.idle_timeout,
                lifetime,
                checkouts: db.shared.upkeep_checkouts.clone(),
                #[cfg(feature = "metrics")]
                shared: db.shared.clone(),
            },
        );
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
