//! The PostgreSQL driver: tokio-postgres. Every statement is prepared once per connection and
//! cached; values are encoded in binary for whatever parameter type the server inferred.
//! A statement whose future is dropped while the server runs it is cancelled there
//! (`CancelOnDrop`), so an abandoned query does not keep working, or keep its connection's
//! next user waiting.

use std::error::Error as StdError;
use std::sync::Arc;

use bytes::BytesMut;
use hashlink::LruCache;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::{IsNull, ToSql, Type};

mod cancel;
pub(crate) mod copy;
pub(crate) mod copy_out;
#[cfg(feature = "native-tls")]
mod native;
pub(crate) mod stream;
#[cfg(all(feature = "rustls", not(feature = "native-tls")))]
pub(crate) mod tls;
mod unnamed;
pub(crate) mod wire;

use crate::decode::{FromRow, Row};
use crate::error::{chain_text, Error, IntegrityError, Result};
use cancel::{CancelAddr, CancelOnDrop};
use oxalchemy_core::Value;

/// Server-side prepared statements kept per connection by default; the least recently used
/// is closed beyond this. `statement_cache_size` changes it; 0 means unnamed statements only.
pub(crate) const STATEMENT_CACHE_CAPACITY: usize = 256;

pub(crate) struct PgConn {
    /// Shared so that a transaction dropped without commit can send its ROLLBACK from a task
    /// at once, instead of leaving the backend idle in transaction holding locks.
    pub(crate) client: Arc<tokio_postgres::Client>,
    /// SQL → prepared statement, least recently used first. Dropping the last handle of an
    /// evicted statement closes it on the server.
    /// By SQL, hashed with foldhash: SipHash over each statement's text cost more than
    /// the rest of a cache hit.
    statements: LruCache<String, tokio_postgres::Statement, foldhash::fast::RandomState>,
    /// The statement used last and its SQL (a buffer reused, so it costs no allocation):
    /// a loop running one statement finds it by one comparison instead of hashing its text
    /// and touching the LRU list each time. It is always the most recently used entry of
    /// `statements` (every lookup goes through it), so the LRU order it skips updating is
    /// already right, and it is cleared whenever an entry is removed.
    last_sql: String,
    last: Option<tokio_postgres::Statement>,
    /// `statement_cache_size=0`: every statement is the unnamed one (`unnamed`).
    unnamed: bool,
    /// A ROLLBACK sent by a dropped transaction; awaited before the next statement.
    pub(crate) pending_cleanup: Option<tokio::task::JoinHandle<()>>,
    /// Where cancel requests for this connection's statements go.
    cancel_addr: Option<Arc<CancelAddr>>,
}

impl PgConn {
    /// Opens a connection; `statement_cache_size` prepared statements are kept (0: none,
    /// every statement is sent unnamed). `tls` is the pool's TLS connector (`None`: the URL
    /// says `sslmode=disable`, or this build has no TLS).
    pub(crate) async fn connect(
        pg: &crate::url::postgres::PgUrl,
        url: &str,
        statement_cache_size: usize,
        tls: Option<&Tls>,
    ) -> Result<Self> {
        let config = &pg.config;
        let connected = match tls {
            #[cfg(any(feature = "rustls", feature = "native-tls"))]
            Some(tls) => open(config, tls.clone()).await,
            #[cfg(not(any(feature = "rustls", feature = "native-tls")))]
            Some(never) => match *never {},
            None => open(config, tokio_postgres::NoTls).await,
        };
        let client = connected.map_err(|e| Error::Connect {
            url: url.to_owned(),
            reason: connect_reason(&e, pg.tls.mode),
            source: Some(Box::new(e)),
        })?;
        Ok(PgConn {
            client: Arc::new(client),
            statements: LruCache::with_hasher(
                statement_cache_size.max(1),
                foldhash::fast::RandomState::default(),
            ),
            last_sql: String::new(),
            last: None,
            unnamed: statement_cache_size == 0,
            pending_cleanup: None,
            cancel_addr: CancelAddr::of(config),
        })
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.client.is_closed()
    }

    /// Drops every cached prepared statement (closing each on the server).
    pub(crate) fn forget_statements(&mut self) {
        self.statements.clear();
        self.last = None;
    }

    /// Waits for a rollback sent by a dropped transaction, so statements stay in order.
    pub(crate) async fn settle(&mut self) {
        if let Some(handle) = self.pending_cleanup.take() {
            let _ = handle.await;
        }
    }

    async fn statement(&mut self, sql: &str) -> Result<tokio_postgres::Statement> {
        self.settle().await;
        if let Some(stmt) = &self.last {
            if self.last_sql == sql {
                return Ok(stmt.clone());
            }
        }
        let stmt = match self.statements.get(sql) {
            Some(stmt) => stmt.clone(),
            None => {
                let stmt = self.client.prepare(sql).await.map_err(map_error)?;
                // Beyond capacity the least recently used statement is evicted (and closed).
                self.statements.insert(sql.to_owned(), stmt.clone());
                stmt
            }
        };
        self.last_sql.clear();
        self.last_sql.push_str(sql);
        self.last = Some(stmt.clone());
        Ok(stmt)
    }

    pub(crate) async fn execute(&mut self, sql: &str, binds: &[Value]) -> Result<u64> {
        if self.unnamed {
            return self.execute_unnamed(sql, binds).await;
        }
        let stmt = self.statement(sql).await?;
        let guard = CancelOnDrop::arm(&self.client, &self.cancel_addr, &mut self.pending_cleanup);
        let result = self
            .client
            .execute_raw(&stmt, binds.iter().map(PgBind))
            .await;
        guard.disarm();
        self.after(sql, result)
    }

    pub(crate) async fn query<T: FromRow + Send>(
        &mut self,
        sql: &str,
        binds: &[Value],
    ) -> Result<Vec<T>> {
        self.decode_all(sql, binds, |r| T::from_row(r)).await
    }

    /// The first row, decoded; the others are read off the wire but not decoded. For
    /// lookups by primary key, which match at most one row: no `Vec` is built for it.
    pub(crate) async fn query_first<T: FromRow + Send>(
        &mut self,
        sql: &str,
        binds: &[Value],
    ) -> Result<Option<T>> {
        let mut first = None;
        self.each_row(sql, binds, |r| {
            if first.is_none() {
                first = Some(T::from_row(&Row::postgres(&r))?);
            }
            Ok(())
        })
        .await?;
        Ok(first)
    }

    pub(crate) async fn query_map<T: Send>(
        &mut self,
        sql: &str,
        binds: &[Value],
        f: &mut (dyn FnMut(&Row<'_>) -> Result<T> + Send),
    ) -> Result<Vec<T>> {
        self.decode_all(sql, binds, f).await
    }

    /// Every row decoded with `decode`, into a `Vec` of the result's size. The driver's
    /// rows are collected first: they are small, where decoded rows are often large
    /// structs, which a `Vec` growing by doubling would copy again at every growth (a
    /// third of the client's instructions for 1,100 rows of two models, callgrind,
    /// `benches/rows.rs`). Values of no size (`.one()` only counting the rows after its
    /// first) cost nothing to grow, so they are decoded as the rows arrive.
    async fn decode_all<T: Send>(
        &mut self,
        sql: &str,
        binds: &[Value],
        mut decode: impl FnMut(&Row<'_>) -> Result<T> + Send,
    ) -> Result<Vec<T>> {
        if std::mem::size_of::<T>() == 0 {
            let mut out = Vec::new();
            self.each_row(sql, binds, |r| {
                out.push(decode(&Row::postgres(&r))?);
                Ok(())
            })
            .await?;
            return Ok(out);
        }
        let mut rows = Vec::new();
        self.each_row(sql, binds, |r| {
            rows.push(r);
            Ok(())
        })
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            out.push(decode(&Row::postgres(r))?);
        }
        Ok(out)
    }

    /// Runs a query and hands each row to `f` as it arrives, rather than collecting the
    /// driver's rows into a `Vec` first (one allocation and a copy of every row less per
    /// statement; callgrind, `benches/lookup_callgrind.rs`). The stream is always read to
    /// its end, so an error the server sends after the rows still wins over an error `f`
    /// returned (as when the rows were collected before any was decoded), and the
    /// connection is left in step.
    async fn each_row(
        &mut self,
        sql: &str,
        binds: &[Value],
        mut f: impl FnMut(tokio_postgres::Row) -> Result<()> + Send,
    ) -> Result<()> {
        use futures_util::StreamExt;
        let stmt = if self.unnamed {
            self.settle().await;
            None
        } else {
            Some(self.statement(sql).await?)
        };
        let guard = CancelOnDrop::arm(&self.client, &self.cancel_addr, &mut self.pending_cleanup);
        let mut failed = None;
        let read = async {
            // The binds go to the driver as an iterator: no vectors of wrappers and
            // references per statement (what `Client::query` does with a slice).
            let stream = match &stmt {
                Some(stmt) => {
                    self.client
                        .query_raw(stmt, binds.iter().map(PgBind))
                        .await?
                }
                None => {
                    self.client
                        .query_typed_raw(sql, unnamed::params(binds))
                        .await?
                }
            };
            futures_util::pin_mut!(stream);
            while let Some(row) = stream.next().await {
                let row = row?;
                if failed.is_none() {
                    if let Err(e) = f(row) {
                        failed = Some(e);
                    }
                }
            }
            Ok(())
        }
        .await;
        guard.disarm();
        if self.unnamed {
            read.map_err(map_error)?;
        } else {
            self.after(sql, read)?;
        }
        failed.map_or(Ok(()), Err)
    }

    /// `execute` with the unnamed statement: the rows (of a RETURNING) are drained, the
    /// count comes from the command tag.
    async fn execute_unnamed(&mut self, sql: &str, binds: &[Value]) -> Result<u64> {
        self.settle().await;
        let guard = CancelOnDrop::arm(&self.client, &self.cancel_addr, &mut self.pending_cleanup);
        let result = run_unnamed(&self.client, sql, binds).await;
        guard.disarm();
        result.map_err(map_error)
    }

    /// Streams rows to `f` in batches of `batch` as they arrive, never holding the whole
    /// result.
    pub(crate) async fn query_batches<T>(
        &mut self,
        sql: &str,
        binds: &[Value],
        batch: usize,
        decode: &mut (dyn FnMut(&Row<'_>) -> Result<T> + Send),
        f: &mut (dyn FnMut(Vec<T>) -> Result<()> + Send),
    ) -> Result<u64> {
        use futures_util::StreamExt;
        let prepared = if self.unnamed {
            self.settle().await;
            None
        } else {
            Some(self.statement(sql).await?)
        };
        let params: Vec<PgBind<'_>> = binds.iter().map(PgBind).collect();
        let guard = CancelOnDrop::arm(&self.client, &self.cancel_addr, &mut self.pending_cleanup);
        let stream = match &prepared {
            Some(stmt) => self.client.query_raw(stmt, params.iter()).await,
            None => {
                self.client
                    .query_typed_raw(sql, unnamed::params(binds))
                    .await
            }
        };
        let stream = match stream {
            Ok(stream) => stream,
            Err(e) => {
                guard.disarm();
                return self.after(sql, Err(e));
            }
        };
        futures_util::pin_mut!(stream);
        let mut buf = Vec::with_capacity(batch);
        let mut total = 0u64;
        // Only a dropped future cancels: an error from `decode` or `f` ends the read here and
        // leaves the statement (and its transaction) to finish as before.
        let read: Result<()> = async {
            while let Some(row) = stream.next().await {
                let row = row.map_err(map_error)?;
                buf.push(decode(&Row::postgres(&row))?);
                total += 1;
                if buf.len() == batch {
                    f(std::mem::replace(&mut buf, Vec::with_capacity(batch)))?;
                }
            }
            Ok(())
        }
        .await;
        guard.disarm();
        read?;
        if !buf.is_empty() {
            f(buf)?;
        }
        Ok(total)
    }

    /// Runs several statements pipelined: every request is sent before the first answer is
    /// awaited, so N statements cost about one round trip instead of N.
    pub(crate) async fn execute_many(&mut self, stmts: &[(&str, &[Value])]) -> Result<Vec<u64>> {
        if self.unnamed {
            self.settle().await;
            let client = &self.client;
            let futures = stmts
                .iter()
                .map(|(sql, binds)| run_unnamed(client, sql, binds));
            let guard = CancelOnDrop::arm(client, &self.cancel_addr, &mut self.pending_cleanup);
            let results = futures_util::future::join_all(futures).await;
            guard.disarm();
            return results.into_iter().map(|r| r.map_err(map_error)).collect();
        }
        let mut prepared = Vec::with_capacity(stmts.len());
        for (sql, _) in stmts {
            prepared.push(self.statement(sql).await?);
        }
        let client = &self.client;
        let futures = stmts
            .iter()
            .zip(&prepared)
            .map(|((_, binds), stmt)| async move {
                let params: Vec<PgBind<'_>> = binds.iter().map(PgBind).collect();
                let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p as _).collect();
                client.execute(stmt, &refs).await
            });
        let guard = CancelOnDrop::arm(client, &self.cancel_addr, &mut self.pending_cleanup);
        let results = futures_util::future::join_all(futures).await;
        guard.disarm();
        let mut out = Vec::with_capacity(results.len());
        for (i, r) in results.into_iter().enumerate() {
            out.push(self.after(stmts[i].0, r)?);
        }
        Ok(out)
    }

    /// Maps errors, and forgets a cached statement whose plan the server invalidated
    /// (e.g. after ALTER TABLE), so the next call prepares it again.
    fn after<T>(&mut self, sql: &str, result: Result<T, tokio_postgres::Error>) -> Result<T> {
        result.map_err(|e| {
            if e.code() == Some(&SqlState::FEATURE_NOT_SUPPORTED)
                || e.code() == Some(&SqlState::INVALID_SQL_STATEMENT_NAME)
            {
                self.statements.remove(sql);
                self.last = None;
            }
            map_error(e)
        })
    }

    /// Runs SQL without binds (transaction control).
    pub(crate) async fn batch(&mut self, sql: &str) -> Result<()> {
        self.settle().await;
        self.client.batch_execute(sql).await.map_err(map_error)
    }

    pub(crate) async fn ping(&mut self) -> Result<()> {
        self.batch("").await
    }
}

/// Runs one statement as the unnamed statement and returns how many rows it changed.
async fn run_unnamed(
    client: &tokio_postgres::Client,
    sql: &str,
    binds: &[Value],
) -> Result<u64, tokio_postgres::Error> {
    use futures_util::StreamExt;
    let stream = client.query_typed_raw(sql, unnamed::params(binds)).await?;
    futures_util::pin_mut!(stream);
    while let Some(row) = stream.next().await {
        row?;
    }
    Ok(stream.rows_affected().unwrap_or(0))
}

/// The pool's TLS connector: the platform's library with `native-tls`, else rustls;
/// without a TLS feature there is none to have.
#[cfg(feature = "native-tls")]
pub(crate) type Tls = native::Connector;
/// The pool's TLS connector: the platform's library with `native-tls`, else rustls;
/// without a TLS feature there is none to have.
#[cfg(all(feature = "rustls", not(feature = "native-tls")))]
pub(crate) type Tls = tls::Connector;
/// The pool's TLS connector: the platform's library with `native-tls`, else rustls;
/// without a TLS feature there is none to have.
#[cfg(not(any(feature = "rustls", feature = "native-tls")))]
pub(crate) type Tls = std::convert::Infallible;

/// The TLS connector for a URL's settings: `None` for `sslmode=disable`; without a TLS
/// feature, also `None` for `prefer`, and an error naming the feature for anything stricter.
pub(crate) fn tls_for(tls: &crate::url::postgres::TlsSettings, url: &str) -> Result<Option<Tls>> {
    #[cfg(feature = "native-tls")]
    {
        native::connector(tls, url)
    }
    #[cfg(all(feature = "rustls", not(feature = "native-tls")))]
    {
        tls::connector(tls, url)
    }
    #[cfg(not(any(feature = "rustls", feature = "native-tls")))]
    {
        use crate::url::postgres::SslMode;
        match tls.mode {
            SslMode::Disable | SslMode::Prefer => Ok(None),
            mode => Err(Error::InvalidUrl {
                url: url.to_owned(),
                reason: format!(
                    "sslmode={} needs TLS, and this build has none: enable oxalchemy's \
                     `rustls` (or `native-tls`) feature",
                    mode.as_str()
                ),
                source: None,
            }),
        }
    }
}

/// Connects with `tls` and drives the connection on a task of its own.
async fn open<T>(
    config: &tokio_postgres::Config,
    tls: T,
) -> Result<tokio_postgres::Client, tokio_postgres::Error>
where
    T: tokio_postgres::tls::MakeTlsConnect<tokio_postgres::Socket> + Send,
    T::Stream: Send + 'static,
    T::TlsConnect: Send,
    <T::TlsConnect as tokio_postgres::tls::TlsConnect<tokio_postgres::Socket>>::Future: Send,
{
    let (client, connection) = config.connect(tls).await?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::debug!(target: "oxalchemy::pool", error = %e, "PostgreSQL connection ended");
        }
    });
    Ok(client)
}

/// Why a connection attempt failed, as the server or the operating system put it: the
/// server's message and SQLSTATE for a refused login (`password authentication failed for
/// user "app"`, `database "x" does not exist`), which TLS check failed, else the driver's
/// error chain (`error connecting to server: Connection refused (os error 111)`).
/// tokio-postgres' own `Display` says only "db error" for the former.
fn connect_reason(e: &tokio_postgres::Error, mode: crate::url::postgres::SslMode) -> String {
    use crate::url::postgres::SslMode;
    #[cfg(feature = "native-tls")]
    if let Some(reason) = native::explain(e, mode) {
        return reason;
    }
    #[cfg(all(feature = "rustls", not(feature = "native-tls")))]
    if let Some(reason) = tls::explain(e, mode) {
        return reason;
    }
    match e.as_db_error() {
        Some(db) => {
            let mut reason = format!("{} (SQLSTATE {})", db.message(), db.code().code());
            if mode == SslMode::Disable
                && *db.code() == SqlState::INVALID_AUTHORIZATION_SPECIFICATION
                && db.message().contains("no encryption")
            {
                reason.push_str(
                    "; the server accepts only TLS connections from here (hostssl in its \
                     pg_hba.conf) and the URL says sslmode=disable: use sslmode=require, or \
                     verify-full with sslrootcert",
                );
            }
            if let Some(detail) = db.detail() {
                reason.push_str("; detail: ");
                reason.push_str(detail);
            }
            if let Some(hint) = db.hint() {
                reason.push_str("; hint: ");
                reason.push_str(hint);
            }
            reason
        }
        None => chain_text(e),
    }
}

/// Turns tokio-postgres' errors into typed ones by SQLSTATE (integrity violations,
/// serialization failures, the rest as [`Error::Database`] with detail and hint), and a
/// closed connection into [`Error::ConnectionLost`]. The driver's error is kept as the source.
pub(crate) fn map_error(e: tokio_postgres::Error) -> Error {
    let Some(db) = e.as_db_error() else {
        if e.is_closed() {
            return Error::ConnectionLost {
                reason: chain_text(&e),
                source: Box::new(e),
            };
        }
        return Error::Database {
            code: None,
            message: chain_text(&e),
            detail: None,
            hint: None,
            source: Some(Box::new(e)),
        };
    };
    if let Some(i) = integrity_error(db) {
        return Error::Integrity(i);
    }
    if is_pooler_statement_error(db) {
        return Error::PreparedStatementMissing {
            message: db.message().to_owned(),
            source: Box::new(e),
        };
    }
    let code = db.code();
    let message = db.message().to_owned();
    if *code == SqlState::T_R_SERIALIZATION_FAILURE || *code == SqlState::T_R_DEADLOCK_DETECTED {
        return Error::Serialization {
            code: code.code().to_owned(),
            message,
            source: Some(Box::new(e)),
        };
    }
    if session_ended(db) {
        // The server ends the session after sending this: the connection is gone.
        return Error::ConnectionLost {
            reason: format!("{message} (SQLSTATE {})", code.code()),
            source: Box::new(e),
        };
    }
    Error::Database {
        code: Some(code.code().to_owned()),
        message,
        detail: db.detail().map(str::to_owned),
        hint: db.hint().map(str::to_owned),
        source: Some(Box::new(e)),
    }
}

/// Whether the server lost (26000) or already had (42P05) one of the driver's own prepared
/// statements (`s<n>`): what a connection pooler in transaction mode does to them.
fn is_pooler_statement_error(db: &tokio_postgres::error::DbError) -> bool {
    let code = db.code();
    if *code != SqlState::INVALID_SQL_STATEMENT_NAME && *code != SqlState::DUPLICATE_PSTATEMENT {
        return false;
    }
    db.message()
        .strip_prefix("prepared statement \"s")
        .and_then(|rest| rest.split_once('"'))
        .is_some_and(|(n, _)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// Whether the server ended the session with this error: a backend terminated by an
/// administrator or a server shutdown (57P01), a crash of another backend (57P02), a
/// connection exception (class 08), or any error the server sends as FATAL or PANIC (an
/// idle-session timeout, 57P05 …), after which it always closes the connection.
fn session_ended(db: &tokio_postgres::error::DbError) -> bool {
    use tokio_postgres::error::Severity;
    let code = db.code();
    *code == SqlState::ADMIN_SHUTDOWN
        || *code == SqlState::CRASH_SHUTDOWN
        || code.code().starts_with("08")
        || matches!(
            db.parsed_severity(),
            Some(Severity::Fatal | Severity::Panic)
        )
}

/// The typed constraint violation for an integrity SQLSTATE (class 23), else `None`.
fn integrity_error(db: &tokio_postgres::error::DbError) -> Option<IntegrityError> {
    let message = db.message().to_owned();
    let constraint = db.constraint().map(str::to_owned);
    let table = db.table().map(str::to_owned);
    let code = db.code();
    Some(if *code == SqlState::UNIQUE_VIOLATION {
        // "Key (email)=(a@b.c) already exists." names the columns.
        let columns = db
            .detail()
            .and_then(|d| d.strip_prefix("Key ("))
            .and_then(|d| d.split_once(")="))
            .map(|(cols, _)| cols.split(", ").map(str::to_owned).collect())
            .unwrap_or_default();
        IntegrityError::UniqueViolation {
            constraint,
            table,
            columns,
            message,
        }
    } else if *code == SqlState::FOREIGN_KEY_VIOLATION {
        IntegrityError::ForeignKeyViolation {
            constraint,
            table,
            message,
        }
    } else if *code == SqlState::NOT_NULL_VIOLATION {
        IntegrityError::NotNullViolation {
            table,
            column: db.column().map(str::to_owned),
            message,
        }
    } else if *code == SqlState::CHECK_VIOLATION {
        IntegrityError::CheckViolation {
            constraint,
            table,
            message,
        }
    } else {
        return None;
    })
}

type BoxError = Box<dyn StdError + Sync + Send>;

/// Encodes a [`Value`] for the parameter type the server inferred, converting between
/// compatible types (an i64 for an INTEGER column, a string for a UUID …) with range checks.
#[derive(Debug)]
struct PgBind<'a>(&'a Value);

fn mismatch(v: &Value, ty: &Type) -> BoxError {
    format!("cannot bind {v:?} to a PostgreSQL {ty} parameter").into()
}

impl ToSql for PgBind<'_> {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        let v = self.0;
        match v {
            Value::Null => Ok(IsNull::Yes),
            Value::Bool(b) => b.to_sql(ty, out),
            Value::I16(n) => int_to_sql(i64::from(*n), v, ty, out),
            Value::I32(n) => int_to_sql(i64::from(*n), v, ty, out),
            Value::I64(n) => int_to_sql(*n, v, ty, out),
            Value::F32(f) => float_to_sql(f64::from(*f), v, ty, out),
            Value::F64(f) => float_to_sql(*f, v, ty, out),
            Value::Text(s) => match *ty {
                Type::JSON => {
                    out.extend_from_slice(s.as_bytes());
                    Ok(IsNull::No)
                }
                Type::JSONB => {
                    out.extend_from_slice(&[1]);
                    out.extend_from_slice(s.as_bytes());
                    Ok(IsNull::No)
                }
                Type::UUID => uuid::Uuid::parse_str(s)?.to_sql(ty, out),
                _ if matches!(ty.kind(), tokio_postgres::types::Kind::Enum(_)) => {
                    out.extend_from_slice(s.as_bytes());
                    Ok(IsNull::No)
                }
                _ => s.as_str().to_sql(ty, out),
            },
            Value::Bytes(b) => b.as_slice().to_sql(ty, out),
            Value::Json(j) => match *ty {
                Type::JSON | Type::JSONB => j.to_sql(ty, out),
                _ => j.to_string().to_sql(ty, out),
            },
            Value::Uuid(u) => match *ty {
                Type::UUID => u.to_sql(ty, out),
                _ => u.hyphenated().to_string().to_sql(ty, out),
            },
            Value::Date(d) => d.to_sql(ty, out),
            Value::Time(t) => t.to_sql(ty, out),
            Value::DateTime(t) => match *ty {
                Type::TIMESTAMPTZ => t.and_utc().to_sql(ty, out),
                _ => t.to_sql(ty, out),
            },
            Value::DateTimeTz(t) => match *ty {
                Type::TIMESTAMP => t.naive_utc().to_sql(ty, out),
                _ => t.to_sql(ty, out),
            },
            Value::Decimal(d) => match *ty {
                Type::FLOAT8 | Type::FLOAT4 => {
                    use rust_decimal::prelude::ToPrimitive;
                    let f = d.to_f64().ok_or_else(|| mismatch(v, ty))?;
                    float_to_sql(f, v, ty, out)
                }
                _ => d.to_sql(ty, out),
            },
            Value::Numeric(n) => match *ty {
                Type::NUMERIC => {
                    wire::numeric_to_sql(n, out)?;
                    Ok(IsNull::No)
                }
                Type::FLOAT8 | Type::FLOAT4 => float_to_sql(n.parse()?, v, ty, out),
                Type::TEXT | Type::VARCHAR => n.as_str().to_sql(ty, out),
                _ => Err(mismatch(v, ty)),
            },
            Value::Inet { addr, prefix } => match *ty {
                Type::INET | Type::CIDR => {
                    wire::inet_to_sql(*addr, *prefix, *ty == Type::CIDR, out);
                    Ok(IsNull::No)
                }
                Type::TEXT | Type::VARCHAR => {
                    oxalchemy_core::value_types::inet_text(addr, *prefix).to_sql(ty, out)
                }
                _ => Err(mismatch(v, ty)),
            },
            // Each element is encoded for the array's element type, as a scalar would be.
            Value::Array(items) => match ty.kind() {
                tokio_postgres::types::Kind::Array(_) => {
                    let items: Vec<PgBind<'_>> = items.iter().map(PgBind).collect();
                    items.as_slice().to_sql(ty, out)
                }
                _ => Err(mismatch(v, ty)),
            },
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    tokio_postgres::types::to_sql_checked!();
}

fn int_to_sql(n: i64, v: &Value, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
    match *ty {
        Type::INT2 => i16::try_from(n)
            .map_err(|_| format!("{n} does not fit a PostgreSQL SMALLINT parameter"))?
            .to_sql(ty, out),
        Type::INT4 => i32::try_from(n)
            .map_err(|_| format!("{n} does not fit a PostgreSQL INTEGER parameter"))?
            .to_sql(ty, out),
        Type::INT8 => n.to_sql(ty, out),
        Type::FLOAT4 => (n as f32).to_sql(ty, out),
        Type::FLOAT8 => (n as f64).to_sql(ty, out),
        Type::NUMERIC => rust_decimal::Decimal::from(n).to_sql(ty, out),
        Type::OID => u32::try_from(n)
            .map_err(|_| format!("{n} does not fit a PostgreSQL OID parameter"))?
            .to_sql(ty, out),
        Type::TEXT | Type::VARCHAR => n.to_string().to_sql(ty, out),
        _ => Err(mismatch(v, ty)),
    }
}

fn float_to_sql(f: f64, v: &Value, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
    match *ty {
        Type::FLOAT4 => (f as f32).to_sql(ty, out),
        Type::FLOAT8 => f.to_sql(ty, out),
        Type::NUMERIC => rust_decimal::Decimal::try_from(f)?.to_sql(ty, out),
        _ => Err(mismatch(v, ty)),
    }
}
