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
        let mut s = String::new();
        match self.0 {
            Value::Null => return Ok(IsNull::Yes),
            Value::Bool(b) => s.push_str(if *b { "t" } else { "f" }),
            Value::I16(n) => write!(s, "{n}")?,
            Value::I32(n) => write!(s, "{n}")?,
            Value::I64(n) => write!(s, "{n}")?,
            Value::F32(f) => float(f64::from(*f), &mut s)?,
            Value::F64(f) => float(*f, &mut s)?,
            Value::Text(t) => s.push_str(t),
            Value::Bytes(b) => {
                s.push_str("\\x");
                for byte in b {
                    write!(s, "{byte:02x}")?;
                }
            }
            Value::Json(j) => s = j.to_string(),
            Value::Uuid(u) => write!(s, "{}", u.hyphenated())?,
            Value::Date(d) => write!(s, "{}", d.format("%Y-%m-%d"))?,
            Value::Time(t) => write!(s, "{}", t.format("%H:%M:%S%.f"))?,
            Value::DateTime(t) => write!(s, "{}+00", t.format("%Y-%m-%d %H:%M:%S%.f"))?,
            Value::DateTimeTz(t) => {
                write!(s, "{}+00", t.naive_utc().format("%Y-%m-%d %H:%M:%S%.f"))?;
            }
            Value::Decimal(d) => write!(s, "{d}")?,
        }
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
