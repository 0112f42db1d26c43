//! SQLite's failures as the engine's typed errors: result codes, constraint violations
//! (with the constraint's declared name found in the schema, as PostgreSQL would report it),
//! and failures to open a connection.

use rusqlite::ErrorCode;

use crate::error::{sqlite_code_name, Error, IntegrityError};

/// SQLite reports a unique violation by columns only ("UNIQUE constraint failed:
/// users.email"); find the constraint's declared name in the schema, as PostgreSQL
/// would report it. Runs only on the error path.
pub(super) fn name_constraint(conn: &rusqlite::Connection, e: Error) -> Error {
    match e {
        Error::Integrity(IntegrityError::UniqueViolation {
            constraint: None,
            table: Some(table),
            columns,
            message,
        }) => {
            let constraint = unique_constraint_name(conn, &table, &columns);
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

fn unique_constraint_name(
    conn: &rusqlite::Connection,
    table: &str,
    columns: &[String],
) -> Option<String> {
    // 1. A named table constraint in the CREATE TABLE text: CONSTRAINT "n" UNIQUE ("a", …)
    //    or PRIMARY KEY ("a", …).
    let create: Option<String> = conn
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
    let mut list = conn
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
        let mut info = conn
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

/// A failure to open or set up a connection: [`Error::Connect`], whose source is the
/// [`Error::Sqlite`] that names SQLite's result code.
pub(super) fn connect_error(url: &str, e: rusqlite::Error) -> Error {
    connect_failed(url, map_error(e))
}

/// [`Error::Connect`] for a setup step that failed with `cause`.
pub(super) fn connect_failed(url: &str, cause: Error) -> Error {
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
