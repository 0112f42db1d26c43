//! Statements without a server-side name, for `statement_cache_size=0` (PgBouncer in
//! transaction pooling mode, which may send each transaction — and each request outside one
//! — to a different server connection, where a named prepared statement does not exist).
//!
//! Each statement is one Parse/Bind/Describe/Execute/Sync exchange of the unnamed statement
//! (tokio-postgres' `query_typed_raw`), so nothing outlives the request. The parameter types
//! are left for the server to infer (`unknown`), as with a prepared statement, and values are
//! sent in PostgreSQL's text format, which every type's input function reads; rows come back
//! in binary and decode as usual. Timestamps without a zone are sent as UTC (`+00`), which a
//! `timestamp` column ignores and a `timestamptz` column reads as UTC — the same as the
//! binary encoding of prepared statements.

use std::error::Error as StdError;
use std::fmt::Write;

use bytes::BytesMut;
use tokio_postgres::types::{Format, IsNull, ToSql, Type};

use oxalchemy_core::Value;

type BoxError = Box<dyn StdError + Sync + Send>;

/// The parameters of `binds`, typed `unknown` so that the server infers each from the SQL.
pub(super) fn params(binds: &[Value]) -> impl Iterator<Item = (TextBind<'_>, Type)> + '_ {
    binds.iter().map(|v| (TextBind(v), Type::UNKNOWN))
}

/// A [`Value`] in PostgreSQL's text format.
#[derive(Debug)]
pub(super) struct TextBind<'a>(&'a Value);

impl ToSql for TextBind<'_> {
    fn to_sql(&self, _ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        if self.0.is_null() {
            return Ok(IsNull::Yes);
        }
        let mut s = String::new();
        text(self.0, &mut s)?;
        out.extend_from_slice(s.as_bytes());
        Ok(IsNull::No)
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    fn encode_format(&self, _ty: &Type) -> Format {
        Format::Text
    }

    tokio_postgres::types::to_sql_checked!();
}

/// Writes a non-null value as its type's input function reads it.
fn text(v: &Value, s: &mut String) -> std::fmt::Result {
    match v {
        // A NULL parameter is sent as SQL NULL; inside an array it is written by `array`.
        Value::Null => Ok(()),
        Value::Bool(b) => {
            s.push_str(if *b { "t" } else { "f" });
            Ok(())
        }
        Value::I16(n) => write!(s, "{n}"),
        Value::I32(n) => write!(s, "{n}"),
        Value::I64(n) => write!(s, "{n}"),
        Value::F32(f) => float(f64::from(*f), s),
        Value::F64(f) => float(*f, s),
        Value::Text(t) | Value::Numeric(t) => {
            s.push_str(t);
            Ok(())
        }
        Value::Bytes(b) => {
            s.push_str("\\x");
            b.iter().try_for_each(|byte| write!(s, "{byte:02x}"))
        }
        Value::Json(j) => write!(s, "{j}"),
        Value::Uuid(u) => write!(s, "{}", u.hyphenated()),
        Value::Date(d) => write!(s, "{}", d.format("%Y-%m-%d")),
        Value::Time(t) => write!(s, "{}", t.format("%H:%M:%S%.f")),
        Value::DateTime(t) => write!(s, "{}+00", t.format("%Y-%m-%d %H:%M:%S%.f")),
        Value::DateTimeTz(t) => write!(s, "{}+00", t.naive_utc().format("%Y-%m-%d %H:%M:%S%.f")),
        Value::Decimal(d) => write!(s, "{d}"),
        Value::Inet { addr, prefix } => write!(s, "{addr}/{prefix}"),
        Value::Array(items) => array(items, s),
    }
}

/// An array literal: `{"a","b\"c",NULL}`. Every element is double-quoted with `"` and `\`
/// escaped, so commas, braces, spaces and the word NULL inside text stay data.
fn array(items: &[Value], s: &mut String) -> std::fmt::Result {
    s.push('{');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        match item {
            Value::Null => s.push_str("NULL"),
            Value::Array(inner) => array(inner, s)?,
            item => {
                let mut one = String::new();
                text(item, &mut one)?;
                s.push('"');
                for c in one.chars() {
                    if c == '"' || c == '\\' {
                        s.push('\\');
                    }
                    s.push(c);
                }
                s.push('"');
            }
        }
    }
    s.push('}');
    Ok(())
}

/// A float as PostgreSQL's input functions read it (the shortest text that reads back the
/// same value; `NaN`, `Infinity`).
fn float(f: f64, s: &mut String) -> std::fmt::Result {
    if f.is_nan() {
        s.push_str("NaN");
        Ok(())
    } else if f.is_infinite() {
        s.push_str(if f > 0.0 { "Infinity" } else { "-Infinity" });
        Ok(())
    } else {
        write!(s, "{f:?}")
    }
}
