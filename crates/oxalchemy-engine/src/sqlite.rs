//! The SQLite driver: rusqlite with the bundled SQLite. Statements run on the calling thread
//! (no per-statement thread hop); every statement is prepared once per connection and cached.

use std::path::Path;
use std::time::Duration;

use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::ErrorCode;

use crate::decode::{FromRow, Row};
use crate::error::{Error, IntegrityError, Result};
use oxalchemy_core::Value;

/// Statements kept prepared per connection.
const STATEMENT_CACHE_CAPACITY: usize = 256;

pub(crate) struct SqliteConn {
    pub(crate) conn: rusqlite::Connection,
}

impl SqliteConn {
    pub(crate) fn open_memory() -> Result<Self> {
        let conn = rusqlite::Connection::open_in_memory().map_err(|e| Error::Connect {
            url: "sqlite::memory:".into(),
            reason: e.to_string(),
        })?;
        Self::configure(conn, false, Duration::ZERO, "sqlite::memory:")
    }

    pub(crate) fn open_file(path: &Path, busy_timeout: Duration) -> Result<Self> {
        let url = format!("sqlite://{}", path.display());
        let conn = rusqlite::Connection::open(path).map_err(|e| Error::Connect {
            url: url.clone(),
            reason: e.to_string(),
        })?;
        Self::configure(conn, true, busy_timeout, &url)
    }

    fn configure(
        conn: rusqlite::Connection,
        file: bool,
        busy_timeout: Duration,
        url: &str,
    ) -> Result<Self> {
        let fail = |e: rusqlite::Error| Error::Connect {
            url: url.to_owned(),
            reason: e.to_string(),
        };
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE_CAPACITY);
        conn.execute_batch("PRAGMA foreign_keys = ON")
            .map_err(fail)?;
        if file {
            // WAL lets readers proceed while one writer writes; NORMAL sync is safe with WAL.
            conn.query_row("PRAGMA journal_mode = WAL", [], |_| Ok(()))
                .map_err(fail)?;
            conn.execute_batch("PRAGMA synchronous = NORMAL")
                .map_err(fail)?;
            conn.busy_timeout(busy_timeout).map_err(fail)?;
        }
        Ok(SqliteConn { conn })
    }

    fn prepare(&self, sql: &str, binds: &[Value]) -> Result<rusqlite::CachedStatement<'_>> {
        let mut stmt = self.conn.prepare_cached(sql).map_err(map_error)?;
        for (i, v) in binds.iter().enumerate() {
            stmt.raw_bind_parameter(i + 1, SqliteBind(v))
                .map_err(map_error)?;
        }
        Ok(stmt)
    }

    pub(crate) fn execute(&self, sql: &str, binds: &[Value]) -> Result<u64> {
        let mut stmt = self.prepare(sql, binds)?;
        let mut rows = stmt.raw_query();
        // Step to completion; a statement with RETURNING yields rows we discard.
        while rows.next().map_err(map_error)?.is_some() {}
        drop(rows);
        Ok(self.conn.changes())
    }

    pub(crate) fn query<T: FromRow>(&self, sql: &str, binds: &[Value]) -> Result<Vec<T>> {
        let mut stmt = self.prepare(sql, binds)?;
        let mut rows = stmt.raw_query();
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(map_error)? {
            out.push(T::from_row(&Row::sqlite(row))?);
        }
        Ok(out)
    }

    /// Runs SQL without binds (transaction control).
    pub(crate) fn batch(&self, sql: &str) -> Result<()> {
        self.conn.execute_batch(sql).map_err(map_error)
    }

    pub(crate) fn ping(&self) -> Result<()> {
        self.conn
            .query_row("SELECT 1", [], |_| Ok(()))
            .map_err(map_error)
    }
}

/// Binds a (SQLite-encoded) [`Value`] without copying text or blobs.
struct SqliteBind<'a>(&'a Value);

impl rusqlite::ToSql for SqliteBind<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        use oxalchemy_core::Dialect;
        Ok(match self.0 {
            Value::Null => ToSqlOutput::Borrowed(ValueRef::Null),
            Value::I64(i) => ToSqlOutput::Borrowed(ValueRef::Integer(*i)),
            Value::F64(f) => ToSqlOutput::Borrowed(ValueRef::Real(*f)),
            Value::Text(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
            Value::Bytes(b) => ToSqlOutput::Borrowed(ValueRef::Blob(b)),
            // Values not yet in SQLite's encoding (e.g. from a statement compiled for another
            // dialect) are encoded here.
            other => {
                let encoded = oxalchemy_core::Sqlite.encode(other.clone());
                match encoded {
                    Value::I64(i) => ToSqlOutput::Owned(rusqlite::types::Value::Integer(i)),
                    Value::F64(f) => ToSqlOutput::Owned(rusqlite::types::Value::Real(f)),
                    Value::Text(s) => ToSqlOutput::Owned(rusqlite::types::Value::Text(s)),
                    Value::Bytes(b) => ToSqlOutput::Owned(rusqlite::types::Value::Blob(b)),
                    _ => ToSqlOutput::Owned(rusqlite::types::Value::Null),
                }
            }
        })
    }
}

/// Turns rusqlite's errors into typed ones, parsing SQLite's constraint messages
/// (`UNIQUE constraint failed: users.email`).
pub(crate) fn map_error(e: rusqlite::Error) -> Error {
    if let rusqlite::Error::SqliteFailure(ffi, msg) = &e {
        let message = msg.clone().unwrap_or_else(|| e.to_string());
        if ffi.code == ErrorCode::ConstraintViolation {
            let detail = message
                .split_once("constraint failed: ")
                .map(|(_, d)| d.trim().to_owned())
                .unwrap_or_default();
            let columns: Vec<String> = if detail.is_empty() {
                Vec::new()
            } else {
                detail.split(", ").map(str::to_owned).collect()
            };
            let table = columns
                .first()
                .and_then(|c| c.split_once('.'))
                .map(|(t, _)| t.to_owned());
            let bare: Vec<String> = columns
                .iter()
                .map(|c| {
                    c.split_once('.')
                        .map_or(c.as_str(), |(_, col)| col)
                        .to_owned()
                })
                .collect();
            const SQLITE_CONSTRAINT_CHECK: i32 = 275;
            const SQLITE_CONSTRAINT_FOREIGNKEY: i32 = 787;
            const SQLITE_CONSTRAINT_NOTNULL: i32 = 1299;
            const SQLITE_CONSTRAINT_PRIMARYKEY: i32 = 1555;
            const SQLITE_CONSTRAINT_UNIQUE: i32 = 2067;
            let err = match ffi.extended_code {
                SQLITE_CONSTRAINT_UNIQUE | SQLITE_CONSTRAINT_PRIMARYKEY => {
                    IntegrityError::UniqueViolation {
                        constraint: None,
                        table,
                        columns: bare,
                        message,
                    }
                }
                SQLITE_CONSTRAINT_FOREIGNKEY => IntegrityError::ForeignKeyViolation {
                    constraint: None,
                    table: None,
                    message,
                },
                SQLITE_CONSTRAINT_NOTNULL => IntegrityError::NotNullViolation {
                    table,
                    column: bare.into_iter().next(),
                    message,
                },
                SQLITE_CONSTRAINT_CHECK => IntegrityError::CheckViolation {
                    constraint: (!detail.is_empty()).then_some(detail),
                    table: None,
                    message,
                },
                _ => {
                    return Error::Database {
                        code: Some(format!("SQLITE_CONSTRAINT ({})", ffi.extended_code)),
                        message,
                    }
                }
            };
            return Error::Integrity(err);
        }
        return Error::Database {
            code: Some(format!("{:?} ({})", ffi.code, ffi.extended_code)),
            message,
        };
    }
    Error::Database {
        code: None,
        message: e.to_string(),
    }
}
