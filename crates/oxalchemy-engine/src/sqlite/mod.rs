//! The SQLite driver: rusqlite with the bundled SQLite. Statements run on the calling thread
//! (no per-statement thread hop); every statement is prepared once per connection and cached.
//!
//! Waiting for the writer lock never blocks that thread: SQLite's busy handler is off, and a
//! statement that finds the database locked is retried after an async sleep (`busy`).
//! `sqlite::memory:` is a named shared-cache database that several connections share
//! (`memory`). Errors become typed ones in `errors`.

mod busy;
mod errors;
mod functions;
mod memory;
mod open;

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use crate::decode::{FromRow, Row};
use crate::error::{Error, Result};
use crate::stats::StatementStats;
pub(crate) use busy::write_gate;
use errors::{connect_error, connect_failed, map_error, name_constraint};
pub(crate) use memory::MemoryDb;
use oxalchemy_core::Value;

/// Statements kept prepared per connection.
const STATEMENT_CACHE_CAPACITY: usize = 256;

/// One rusqlite connection, with how long its statements wait for a locked database.
pub(crate) struct SqliteConn {
    pub(crate) conn: rusqlite::Connection,
    busy_timeout: Duration,
    /// Recompilations of cached statements seen so far (see [`StatementStats`]).
    reprepares: AtomicU64,
    /// Whether foreign keys are enforced (`foreign_keys=off` in the URL turns them off); a
    /// reset restores this.
    pub(crate) foreign_keys: bool,
}

impl SqliteConn {
    /// Opens a database file as its URL's settings ask (created if missing, in WAL mode, by
    /// default); a locked file is waited for up to `busy_timeout`, asynchronously.
    pub(crate) async fn open_file(
        path: &Path,
        settings: &crate::url::sqlite::SqliteSettings,
        busy_timeout: Duration,
    ) -> Result<Self> {
        // Four slashes: the absolute path in SQLAlchemy's form.
        let url = format!("sqlite:///{}", path.display());
        let conn = open::connection(path, settings, &url)?;
        let mut conn = Self::configure(conn, busy_timeout, &url)?;
        // Switching a new file to WAL needs it unlocked: wait like any writer.
        for pragma in open::journal_pragmas(settings) {
            busy::retry(&mut conn, &pragma, || true, |c| c.batch_now(&pragma))
                .await
                .map_err(|e| connect_failed(&url, e))?;
        }
        open::apply(&mut conn, settings)
            .await
            .map_err(|e| connect_failed(&url, e))?;
        Ok(conn)
    }

    /// Opens an in-memory connection with the URL's settings applied.
    pub(crate) async fn open_memory(
        db: &MemoryDb,
        settings: &crate::url::sqlite::SqliteSettings,
        busy_timeout: Duration,
    ) -> Result<Self> {
        let mut conn = db.open(busy_timeout)?;
        open::apply(&mut conn, settings)
            .await
            .map_err(|e| connect_failed("sqlite::memory:", e))?;
        Ok(conn)
    }

    /// Settings every connection gets. SQLite's own busy handler is turned off (rusqlite sets
    /// a 5 s one): it would sleep on the executor's thread.
    pub(super) fn configure(
        conn: rusqlite::Connection,
        busy_timeout: Duration,
        url: &str,
    ) -> Result<Self> {
        let fail = |e: rusqlite::Error| connect_error(url, e);
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE_CAPACITY);
        conn.busy_timeout(Duration::ZERO).map_err(fail)?;
        conn.execute_batch("PRAGMA foreign_keys = ON")
            .map_err(fail)?;
        functions::register(&conn).map_err(fail)?;
        Ok(SqliteConn {
            conn,
            busy_timeout,
            reprepares: AtomicU64::new(0),
            foreign_keys: true,
        })
    }

    fn prepare(&self, sql: &str, binds: &[Value]) -> Result<rusqlite::CachedStatement<'_>> {
        let mut stmt = self.conn.prepare_cached(sql).map_err(map_error)?;
        bind_all(&mut stmt, binds)?;
        Ok(stmt)
    }

    /// Collects how often SQLite recompiled `stmt` while it ran (and resets its counter).
    fn count_reprepares(&self, stmt: &rusqlite::Statement<'_>) {
        let n = stmt.reset_status(rusqlite::StatementStatus::RePrepare);
        if n > 0 {
            // Only this connection's owner writes; a plain load + store is enough.
            let total = self.reprepares.load(Ordering::Relaxed);
            self.reprepares
                .store(total + u64::from(n.unsigned_abs()), Ordering::Relaxed);
        }
    }

    /// What this connection's statements have cost so far.
    pub(crate) fn statement_stats(&self) -> StatementStats {
        StatementStats {
            reprepares: self.reprepares.load(Ordering::Relaxed),
        }
    }

    /// Runs a statement; returns the number of rows it changed.
    pub(crate) async fn execute(&mut self, sql: &str, binds: &[Value]) -> Result<u64> {
        busy::retry(self, sql, || true, |c| c.execute_once(sql, binds)).await
    }

    fn execute_once(&self, sql: &str, binds: &[Value]) -> Result<u64> {
        let run = || {
            let mut stmt = self.prepare(sql, binds)?;
            let mut rows = stmt.raw_query();
            // Step to completion; a statement with RETURNING yields rows we discard.
            while rows.next().map_err(map_error)?.is_some() {}
            drop(rows);
            self.count_reprepares(&stmt);
            Ok(())
        };
        run().map_err(|e| name_constraint(&self.conn, e))?;
        Ok(self.conn.changes())
    }

    /// Runs one statement once per row of `width` values in `binds`, prepared once and
    /// rebound per row; returns each run's changed-row count. A run that met a lock did
    /// nothing (see `busy::retry`), so a retry resumes from it, never repeating a run.
    pub(crate) async fn execute_rows(
        &mut self,
        sql: &str,
        binds: &[Value],
        width: usize,
    ) -> Result<Vec<u64>> {
        let mut counts = Vec::with_capacity(binds.len() / width.max(1));
        busy::retry(
            self,
            sql,
            || true,
            |c| c.execute_rows_from(sql, binds, width, &mut counts),
        )
        .await?;
        Ok(counts)
    }

    /// The runs of [`Self::execute_rows`] from the first one not yet in `counts`.
    fn execute_rows_from(
        &self,
        sql: &str,
        binds: &[Value],
        width: usize,
        counts: &mut Vec<u64>,
    ) -> Result<()> {
        let rest = binds.get(counts.len() * width..).unwrap_or_default();
        let mut run = || {
            let mut stmt = self.conn.prepare_cached(sql).map_err(map_error)?;
            for row in rest.chunks(width) {
                bind_all(&mut stmt, row)?;
                let mut rows = stmt.raw_query();
                // Step to completion; a statement with RETURNING yields rows we discard.
                while rows.next().map_err(map_error)?.is_some() {}
                drop(rows);
                counts.push(self.conn.changes());
            }
            self.count_reprepares(&stmt);
            Ok(())
        };
        run().map_err(|e| name_constraint(&self.conn, e))
    }

    /// Runs a statement and decodes every row it returns.
    pub(crate) async fn query<T: FromRow>(&mut self, sql: &str, binds: &[Value]) -> Result<Vec<T>> {
        busy::retry(
            self,
            sql,
            || true,
            |c| c.query_map_once(sql, binds, &mut |row| T::from_row(row)),
        )
        .await
    }

    /// Runs a statement and decodes its first row, if any, without stepping further (as
    /// rusqlite's `query_row`): for lookups by primary key, which match at most one row.
    pub(crate) async fn query_first<T: FromRow>(
        &mut self,
        sql: &str,
        binds: &[Value],
    ) -> Result<Option<T>> {
        busy::retry(self, sql, || true, |c| c.query_first_once(sql, binds)).await
    }

    fn query_first_once<T: FromRow>(&self, sql: &str, binds: &[Value]) -> Result<Option<T>> {
        let run = || {
            let mut stmt = self.prepare(sql, binds)?;
            let mut rows = stmt.raw_query();
            let first = match rows.next().map_err(map_error)? {
                Some(row) => Some(T::from_row(&Row::sqlite(row))?),
                None => None,
            };
            drop(rows);
            self.count_reprepares(&stmt);
            Ok(first)
        };
        run().map_err(|e| name_constraint(&self.conn, e))
    }

    /// Runs a statement and turns every row it returns into a `T` with `f`.
    pub(crate) async fn query_map<T>(
        &mut self,
        sql: &str,
        binds: &[Value],
        f: &mut (dyn FnMut(&Row<'_>) -> Result<T> + Send),
    ) -> Result<Vec<T>> {
        busy::retry(self, sql, || true, |c| c.query_map_once(sql, binds, f)).await
    }

    fn query_map_once<T>(
        &self,
        sql: &str,
        binds: &[Value],
        f: &mut (dyn FnMut(&Row<'_>) -> Result<T> + Send),
    ) -> Result<Vec<T>> {
        let mut run = || {
            let mut stmt = self.prepare(sql, binds)?;
            let mut rows = stmt.raw_query();
            let mut out = Vec::new();
            while let Some(row) = rows.next().map_err(map_error)? {
                out.push(f(&Row::sqlite(row))?);
            }
            drop(rows);
            self.count_reprepares(&stmt);
            Ok(out)
        };
        run().map_err(|e| name_constraint(&self.conn, e))
    }

    /// Streams rows to `f` in batches of `batch`; returns the number of rows. A locked
    /// database is waited for only until the first batch was handed out: a rerun would hand
    /// out rows twice.
    pub(crate) async fn query_batches<T>(
        &mut self,
        sql: &str,
        binds: &[Value],
        batch: usize,
        decode: &mut (dyn FnMut(&Row<'_>) -> Result<T> + Send),
        f: &mut (dyn FnMut(Vec<T>) -> Result<()> + Send),
    ) -> Result<u64> {
        let delivered = AtomicBool::new(false);
        let mut deliver = |rows: Vec<T>| {
            delivered.store(true, Ordering::Relaxed);
            f(rows)
        };
        busy::retry(
            self,
            sql,
            || !delivered.load(Ordering::Relaxed),
            |c| c.query_batches_once(sql, binds, batch, decode, &mut deliver),
        )
        .await
    }

    fn query_batches_once<T>(
        &self,
        sql: &str,
        binds: &[Value],
        batch: usize,
        decode: &mut (dyn FnMut(&Row<'_>) -> Result<T> + Send),
        f: &mut dyn FnMut(Vec<T>) -> Result<()>,
    ) -> Result<u64> {
        let mut stmt = self.prepare(sql, binds)?;
        let mut rows = stmt.raw_query();
        let mut buf = Vec::with_capacity(batch);
        let mut total = 0u64;
        while let Some(row) = rows.next().map_err(map_error)? {
            buf.push(decode(&Row::sqlite(row))?);
            total += 1;
            if buf.len() == batch {
                f(std::mem::replace(&mut buf, Vec::with_capacity(batch)))?;
            }
        }
        if !buf.is_empty() {
            f(buf)?;
        }
        drop(rows);
        self.count_reprepares(&stmt);
        Ok(total)
    }

    /// Runs SQL without binds (transaction control); a BEGIN IMMEDIATE waits here for
    /// another process's writer.
    pub(crate) async fn batch(&mut self, sql: &str) -> Result<()> {
        busy::retry(self, sql, || true, |c| c.batch_now(sql)).await
    }

    /// Runs SQL without binds once, without waiting for a locked database (a ROLLBACK,
    /// which never needs to wait, from a synchronous drop).
    pub(crate) fn batch_now(&self, sql: &str) -> Result<()> {
        self.conn.execute_batch(sql).map_err(map_error)
    }

    /// A statement proving the connection works.
    pub(crate) async fn ping(&mut self) -> Result<()> {
        busy::retry(
            self,
            "SELECT 1",
            || true,
            |c| {
                c.conn
                    .query_row("SELECT 1", [], |_| Ok(()))
                    .map_err(map_error)
            },
        )
        .await
    }
}

/// Refuses a value SQLite would store so that it does not read back as written. The SQLite
/// dialect's `encode` leaves such values unencoded (the range of years is decided there);
/// anything still outside SQLite's storage classes after encoding is one of them.
fn check_storable(value: &Value) -> Result<()> {
    use oxalchemy_core::Dialect;
    let reason = match value {
        Value::F64(f) if f.is_nan() => NAN,
        Value::F32(f) if f.is_nan() => NAN,
        Value::Date(_) | Value::DateTime(_) | Value::DateTimeTz(_) => {
            match oxalchemy_core::Sqlite.encode(value.clone()) {
                Value::Text(_) => return Ok(()),
                _ => {
                    "SQLite stores dates as text, which reads back only for the years \
                     0000-9999; keep dates in that range, or store the value in a BIGINT \
                     column (e.g. a Unix timestamp)"
                }
            }
        }
        // Still a decimal after encoding: a NUMERIC column would round it.
        Value::Decimal(_) | Value::Numeric(_) => {
            "SQLite stores a NUMERIC value as a REAL, which keeps 15 significant digits, so \
             this decimal would read back rounded; store it in a String column (or as an \
             integer count of its smallest unit), or use PostgreSQL, which keeps every digit"
        }
        Value::Array(_) => match oxalchemy_core::Sqlite.encode(value.clone()) {
            Value::Text(_) => return Ok(()),
            _ => {
                "SQLite stores an array as a JSON array, and an element of this one has no \
                 JSON form (a blob, NaN, or a nested array); store such values in a table of \
                 their own, or use PostgreSQL"
            }
        },
        _ => return Ok(()),
    };
    Err(Error::UnstorableValue {
        database: "SQLite",
        value: format!("{value:?}"),
        reason,
    })
}

/// Why NaN is refused rather than written.
const NAN: &str = "SQLite stores NaN as NULL, so it would read back as NULL; store NULL \
                   (an Option) for a missing value, or use PostgreSQL, which keeps NaN";

/// Binds `binds` to parameters 1, 2, … of `stmt`, refusing a value SQLite would not store
/// so that it reads back as written ([`check_storable`]) as it goes: one pass over the
/// values, each SQLite-encoded kind bound by its own `sqlite3_bind_*` call. A refused value
/// leaves the statement partly bound, which is harmless: it is not run, and rusqlite clears
/// a cached statement's bindings when it goes back to the cache.
fn bind_all(stmt: &mut rusqlite::Statement<'_>, binds: &[Value]) -> Result<()> {
    for (i, v) in binds.iter().enumerate() {
        bind(stmt, i + 1, v)?;
    }
    Ok(())
}

/// Binds one value at parameter `i`. The kinds SQLite stores as they are (and the narrow
/// scalars, widened as the dialect's `encode` would, without its call) are bound straight
/// from the value, borrowing text and blobs; anything else goes to [`bind_other`].
#[inline]
fn bind(stmt: &mut rusqlite::Statement<'_>, i: usize, v: &Value) -> Result<()> {
    match v {
        Value::Null => stmt.raw_bind_parameter(i, rusqlite::types::Null),
        Value::I64(n) => stmt.raw_bind_parameter(i, *n),
        Value::Text(s) => stmt.raw_bind_parameter(i, s.as_str()),
        Value::F64(f) if !f.is_nan() => stmt.raw_bind_parameter(i, *f),
        Value::I32(n) => stmt.raw_bind_parameter(i, i64::from(*n)),
        Value::Bool(b) => stmt.raw_bind_parameter(i, i64::from(*b)),
        Value::I16(n) => stmt.raw_bind_parameter(i, i64::from(*n)),
        Value::F32(f) if !f.is_nan() => stmt.raw_bind_parameter(i, f64::from(*f)),
        Value::Bytes(b) => stmt.raw_bind_parameter(i, b.as_slice()),
        other => return bind_other(stmt, i, other),
    }
    .map_err(map_error)
}

/// [`bind`] of a value not in SQLite's encoding (NaN, or e.g. a date from a statement
/// compiled for another dialect): refused when SQLite would not store it faithfully, else
/// encoded here and bound.
#[cold]
fn bind_other(stmt: &mut rusqlite::Statement<'_>, i: usize, v: &Value) -> Result<()> {
    use oxalchemy_core::Dialect;
    check_storable(v)?;
    let bound = match oxalchemy_core::Sqlite.encode(v.clone()) {
        Value::Null => stmt.raw_bind_parameter(i, rusqlite::types::Null),
        Value::I64(n) => stmt.raw_bind_parameter(i, n),
        Value::F64(f) => stmt.raw_bind_parameter(i, f),
        Value::Text(s) => stmt.raw_bind_parameter(i, s),
        Value::Bytes(b) => stmt.raw_bind_parameter(i, b),
        // `check_storable` refused what the encoding leaves unstorable; never bind it as NULL.
        unstorable => {
            return Err(Error::UnstorableValue {
                database: "SQLite",
                value: format!("{unstorable:?}"),
                reason: "SQLite has no storage class for this value",
            })
        }
    };
    bound.map_err(map_error)
}
