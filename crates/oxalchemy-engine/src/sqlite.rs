//! The SQLite driver: rusqlite with the bundled SQLite. Statements run on the calling thread
//! (no per-statement thread hop); every statement is prepared once per connection and cached.

use std::path::Path;
use std::time::Duration;

use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::ErrorCode;

use crate::decode::{FromRow, Row};
use crate::error::{sqlite_code_name, Error, IntegrityError, Result};
use oxalchemy_core::Value;

/// Statements kept prepared per connection.
const STATEMENT_CACHE_CAPACITY: usize = 256;

pub(crate) struct SqliteConn {
    pub(crate) conn: rusqlite::Connection,
}

impl SqliteConn {
    pub(crate) fn open_memory() -> Result<Self> {
        let conn = rusqlite::Connection::open_in_memory()
            .map_err(|e| connect_error("sqlite::memory:", e))?;
        Self::configure(conn, false, Duration::ZERO, "sqlite::memory:")
    }

    pub(crate) fn open_file(path: &Path, busy_timeout: Duration) -> Result<Self> {
        let url = format!("sqlite://{}", path.display());
        let conn = rusqlite::Connection::open(path).map_err(|e| connect_error(&url, e))?;
        Self::configure(conn, true, busy_timeout, &url)
    }

    fn configure(
        conn: rusqlite::Connection,
        file: bool,
        busy_timeout: Duration,
        url: &str,
    ) -> Result<Self> {
        let fail = |e: rusqlite::Error| connect_error(url, e);
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
        binds.iter().try_for_each(check_storable)?;
        let mut stmt = self.conn.prepare_cached(sql).map_err(map_error)?;
        for (i, v) in binds.iter().enumerate() {
            stmt.raw_bind_parameter(i + 1, SqliteBind(v))
                .map_err(map_error)?;
        }
        Ok(stmt)
    }

    pub(crate) fn execute(&self, sql: &str, binds: &[Value]) -> Result<u64> {
        let run = || {
            let mut stmt = self.prepare(sql, binds)?;
            let mut rows = stmt.raw_query();
            // Step to completion; a statement with RETURNING yields rows we discard.
            while rows.next().map_err(map_error)?.is_some() {}
            Ok(())
        };
        run().map_err(|e| self.name_constraint(e))?;
        Ok(self.conn.changes())
    }

    pub(crate) fn query<T: FromRow>(&self, sql: &str, binds: &[Value]) -> Result<Vec<T>> {
        let run = || {
            let mut stmt = self.prepare(sql, binds)?;
            let mut rows = stmt.raw_query();
            let mut out = Vec::new();
            while let Some(row) = rows.next().map_err(map_error)? {
                out.push(T::from_row(&Row::sqlite(row))?);
            }
            Ok(out)
        };
        run().map_err(|e| self.name_constraint(e))
    }

    pub(crate) fn query_map<T>(
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
            Ok(out)
        };
        run().map_err(|e| self.name_constraint(e))
    }

    pub(crate) fn query_batches<T>(
        &self,
        sql: &str,
        binds: &[Value],
        batch: usize,
        decode: &mut (dyn FnMut(&Row<'_>) -> Result<T> + Send),
        f: &mut (dyn FnMut(Vec<T>) -> Result<()> + Send),
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
        Ok(total)
    }

    /// SQLite reports a unique violation by columns only ("UNIQUE constraint failed:
    /// users.email"); find the constraint's declared name in the schema, as PostgreSQL
    /// would report it. Runs only on the error path.
    fn name_constraint(&self, e: Error) -> Error {
        match e {
            Error::Integrity(IntegrityError::UniqueViolation {
                constraint: None,
                table: Some(table),
                columns,
                message,
            }) => {
                let constraint = self.unique_constraint_name(&table, &columns);
                Error::Integrity(IntegrityError::UniqueViolation {
                    constraint,
                    table: Some(table),
                    columns,
                    message,
                })
            }
            e => e,
        }
    }

    fn unique_constraint_name(&self, table: &str, columns: &[String]) -> Option<String> {
        // 1. A named table constraint in the CREATE TABLE text: CONSTRAINT "n" UNIQUE ("a", …)
        //    or PRIMARY KEY ("a", …).
        let create: Option<String> = self
            .conn
            .query_row(
                "SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?1",
                [table],
                |r| r.get(0),
            )
            .ok();
        if let Some(name) = create
            .as_deref()
            .and_then(|sql| named_unique_in_ddl(sql, columns))
        {
            return Some(name);
        }
        // 2. A unique index made by CREATE UNIQUE INDEX: its name is the constraint's name.
        let mut list = self
            .conn
            .prepare("SELECT name, \"unique\", origin FROM pragma_index_list(?1)")
            .ok()?;
        let indexes: Vec<(String, bool, String)> = list
            .query_map([table], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .ok()?
            .filter_map(|r| r.ok())
            .collect();
        for (name, unique, origin) in indexes {
            if !unique || origin != "c" {
                continue;
            }
            let mut info = self
                .conn
                .prepare("SELECT name FROM pragma_index_info(?1) ORDER BY seqno")
                .ok()?;
            let cols: Vec<String> = info
                .query_map([&name], |r| r.get(0))
                .ok()?
                .filter_map(|r| r.ok())
                .collect();
            if cols == columns {
                return Some(name);
            }
        }
        None
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

/// Finds `CONSTRAINT "name" UNIQUE|PRIMARY KEY ("col", …)` for exactly `columns` in a
/// CREATE TABLE statement as oxalchemy (or a person) wrote it.
fn named_unique_in_ddl(sql: &str, columns: &[String]) -> Option<String> {
    let mut rest = sql;
    while let Some(pos) = rest.find("CONSTRAINT ") {
        rest = &rest[pos + "CONSTRAINT ".len()..];
        let (name, after) = take_ident(rest)?;
        let after = after.trim_start();
        let after = after
            .strip_prefix("UNIQUE")
            .or_else(|| after.strip_prefix("PRIMARY KEY"));
        let Some(after) = after else { continue };
        let Some(list) = after.trim_start().strip_prefix('(') else {
            continue;
        };
        let Some(end) = list.find(')') else { continue };
        let cols: Vec<String> = list[..end]
            .split(',')
            .filter_map(|c| take_ident(c.trim()).map(|(n, _)| n))
            .collect();
        if cols == columns {
            return Some(name);
        }
    }
    None
}

/// Reads one identifier, double-quoted (with `""` escapes) or bare.
fn take_ident(s: &str) -> Option<(String, &str)> {
    if let Some(body) = s.strip_prefix('"') {
        let mut name = String::new();
        let mut chars = body.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            if c == '"' {
                if matches!(chars.peek(), Some((_, '"'))) {
                    chars.next();
                    name.push('"');
                } else {
                    return Some((name, &body[i + 1..]));
                }
            } else {
                name.push(c);
            }
        }
        None
    } else {
        let end = s
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(s.len());
        (end > 0).then(|| (s[..end].to_owned(), &s[end..]))
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

/// A failure to open or set up a connection: [`Error::Connect`], whose source is the
/// [`Error::Sqlite`] that names SQLite's result code.
fn connect_error(url: &str, e: rusqlite::Error) -> Error {
    let cause = map_error(e);
    Error::Connect {
        url: url.to_owned(),
        reason: cause.to_string(),
        source: Some(Box::new(cause)),
    }
}

/// Turns rusqlite's errors into typed ones: constraint failures into [`IntegrityError`]s
/// (parsing SQLite's `UNIQUE constraint failed: users.email`), other SQLite failures into
/// [`Error::Sqlite`] with their result code, and the driver's own errors (a bind count that
/// does not match …) into [`Error::Database`] without a code. The rusqlite error is kept as
/// the source.
pub(crate) fn map_error(e: rusqlite::Error) -> Error {
    let rusqlite::Error::SqliteFailure(ffi, msg) = &e else {
        return Error::Database {
            code: None,
            message: e.to_string(),
            detail: None,
            hint: None,
            source: Some(Box::new(e)),
        };
    };
    let extended_code = ffi.extended_code;
    let message = msg.clone().unwrap_or_else(|| ffi.to_string());
    if ffi.code == ErrorCode::ConstraintViolation {
        if let Some(err) = integrity_error(extended_code, &message) {
            return Error::Integrity(err);
        }
    }
    Error::Sqlite {
        code: sqlite_code_name(extended_code),
        extended_code,
        message,
        source: Some(Box::new(e)),
    }
}

/// The typed constraint violation for a `SQLITE_CONSTRAINT_*` extended code, or `None` for
/// the ones without a counterpart (a trigger's `RAISE`, …).
fn integrity_error(extended_code: i32, message: &str) -> Option<IntegrityError> {
    const SQLITE_CONSTRAINT_CHECK: i32 = 275;
    const SQLITE_CONSTRAINT_FOREIGNKEY: i32 = 787;
    const SQLITE_CONSTRAINT_NOTNULL: i32 = 1299;
    const SQLITE_CONSTRAINT_PRIMARYKEY: i32 = 1555;
    const SQLITE_CONSTRAINT_UNIQUE: i32 = 2067;
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
    let message = message.to_owned();
    Some(match extended_code {
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
        _ => return None,
    })
}
