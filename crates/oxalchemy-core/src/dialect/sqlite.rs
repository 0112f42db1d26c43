//! The SQLite dialect: `?` placeholders, rowid-alias primary keys, no ILIKE or enum types,
//! and values stored as SQLite's few storage classes (booleans as 0/1; UUIDs, JSON,
//! timestamps and decimals as text; see [`crate::value`] for the table).

use chrono::Datelike;

use super::Dialect;
use crate::value::{SqlType, Value};
use crate::value_types::{date_text, datetime_text, time_text};

/// SQLite (3.35+: RETURNING, NULLS FIRST/LAST, ON CONFLICT DO UPDATE).
///
/// ```
/// use oxalchemy_core::{col, compile, select, Sqlite, Value};
///
/// let c = compile(&Sqlite, &select([col("a")]).filter(col("flag").eq(true)).into()).unwrap();
/// assert_eq!(c.sql, r#"SELECT "a" WHERE "flag" = ?"#);
/// assert_eq!(c.binds, [Value::I64(1)]);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Sqlite;

/// The years whose dates SQLite stores as text that reads back and sorts: `%Y` writes a
/// sign and a fifth digit outside them (`+10000-01-01`, `-0001-01-01`).
fn storable_year(year: i32) -> bool {
    (0..=9999).contains(&year)
}

/// The `chrono` format of the timestamp text SQLite columns store (SQLAlchemy's; sorts
/// chronologically): `2024-01-02 03:04:05.000000`. A timestamp with time zone is stored in
/// UTC with `+00:00` appended.
pub const SQLITE_DATETIME_FORMAT: &str = "%Y-%m-%d %H:%M:%S%.6f";

/// The SQL function the engine registers on every SQLite connection: Unicode lower-casing
/// (Rust's `str::to_lowercase`), which `ilike` compiles to on SQLite because SQLite's own
/// `lower()` and `LIKE` only fold ASCII (`'Ärger'` would not match `'%är%'`). A connection
/// oxalchemy did not open does not have it.
pub const SQLITE_UNICODE_LOWER: &str = "oxalchemy_lower";

impl Dialect for Sqlite {
    fn name(&self) -> &'static str {
        "sqlite"
    }
    fn alter_foreign_keys(&self) -> bool {
        false
    }
    fn defer_foreign_keys_sql(&self) -> Option<&'static str> {
        Some("PRAGMA defer_foreign_keys = ON")
    }
    fn capabilities(&self) -> super::Capabilities {
        super::Capabilities::SQLITE
    }
    fn write_placeholder(&self, out: &mut String, _index: usize) {
        out.push('?');
    }
    fn max_binds(&self) -> usize {
        // SQLITE_MAX_VARIABLE_NUMBER default since 3.32.
        32766
    }
    fn insert_rows_cap(&self) -> usize {
        // SQLite runs a multi-row INSERT fastest at a few dozen rows a statement: its work
        // per row grows with the statement's size (100,000 rows of 5 columns cost 1,600
        // more instructions a row in statements of 6,553 rows than of 64; bench `bulk`
        // under callgrind), and there is no round trip to save.
        64
    }
    fn native_ilike(&self) -> bool {
        false
    }
    fn case_fold_function(&self) -> &'static str {
        SQLITE_UNICODE_LOWER
    }
    fn now_sql(&self) -> &'static str {
        "CURRENT_TIMESTAMP"
    }
    fn bool_literal(&self, value: bool) -> &'static str {
        if value {
            "1"
        } else {
            "0"
        }
    }
    fn write_type(&self, out: &mut String, ty: &SqlType) {
        use std::fmt::Write;
        match ty {
            SqlType::SmallInteger => out.push_str("SMALLINT"),
            SqlType::Integer => out.push_str("INTEGER"),
            SqlType::BigInteger => out.push_str("BIGINT"),
            SqlType::Boolean => out.push_str("BOOLEAN"),
            SqlType::Float => out.push_str("REAL"),
            SqlType::Double => out.push_str("DOUBLE"),
            SqlType::Numeric(None) => out.push_str("NUMERIC"),
            SqlType::Numeric(Some((p, s))) => {
                let _ = write!(out, "NUMERIC({p}, {s})");
            }
            SqlType::String(Some(n)) => {
                let _ = write!(out, "VARCHAR({n})");
            }
            SqlType::String(None) | SqlType::Text => out.push_str("TEXT"),
            SqlType::Binary => out.push_str("BLOB"),
            SqlType::Date => out.push_str("DATE"),
            SqlType::Time => out.push_str("TIME"),
            SqlType::DateTime { .. } => out.push_str("DATETIME"),
            SqlType::Uuid => out.push_str("CHAR(36)"),
            SqlType::Char(n) => {
                let _ = write!(out, "CHAR({n})");
            }
            SqlType::Interval => out.push_str("INTERVAL"),
            SqlType::TimePrecision(p) => {
                let _ = write!(out, "TIME({p})");
            }
            SqlType::DateTimePrecision { precision, .. } => {
                let _ = write!(out, "DATETIME({precision})");
            }
            SqlType::Json | SqlType::JsonB => out.push_str("JSON"),
            // Declared like PostgreSQL's (reflection reads them back); stored as text. Any
            // affinity leaves address text and JSON arrays (never numbers) alone.
            SqlType::Inet => out.push_str("INET"),
            SqlType::Cidr => out.push_str("CIDR"),
            // SQLite's type names take no `[]`: `INTEGER ARRAY`, `VARCHAR ARRAY(20)` (the
            // word goes before any arguments, which must end the name).
            SqlType::Array(elem) => {
                let mut inner = String::new();
                self.write_type(&mut inner, elem);
                match inner.find('(') {
                    Some(open) => {
                        out.push_str(&inner[..open]);
                        out.push_str(" ARRAY");
                        out.push_str(&inner[open..]);
                    }
                    None => {
                        out.push_str(&inner);
                        out.push_str(" ARRAY");
                    }
                }
            }
            SqlType::Enum { variants, .. } => {
                let len = variants.iter().map(|v| v.len()).max().unwrap_or(1);
                let _ = write!(out, "VARCHAR({len})");
            }
        }
    }
    fn write_cast_type(&self, out: &mut String, ty: &SqlType) {
        match ty {
            // These are stored as text; CAST to their DDL names (NUMERIC affinity) would turn
            // '2024-01-02' into 2024 and '{"a":1}' into 0.
            SqlType::Date
            | SqlType::Time
            | SqlType::DateTime { .. }
            | SqlType::TimePrecision(_)
            | SqlType::DateTimePrecision { .. }
            | SqlType::Interval
            | SqlType::Json
            | SqlType::JsonB
            | SqlType::Inet
            | SqlType::Cidr
            | SqlType::Array(_) => out.push_str("TEXT"),
            ty => self.write_type(out, ty),
        }
    }
    fn write_autoincrement_column(&self, out: &mut String, _ty: &SqlType, pk_name: &str) -> bool {
        // Only `INTEGER PRIMARY KEY` aliases the rowid, whatever the declared width.
        out.push_str("INTEGER NOT NULL CONSTRAINT ");
        super::quote_ident(out, pk_name);
        out.push_str(" PRIMARY KEY");
        true
    }
    /// Booleans and small integers become integers, floats `f64`, and UUIDs, JSON, dates,
    /// times, decimals, addresses text, and arrays a JSON array of their elements' encodings. A date or timestamp outside the years 0000–9999 is left as
    /// it is (its text would not sort or read back), and so is NaN (SQLite would store
    /// NULL): the SQLite driver refuses both before anything is written.
    fn encode(&self, value: Value) -> Value {
        match value {
            Value::Date(d) if !storable_year(d.year()) => value,
            Value::DateTime(t) if !storable_year(t.year()) => value,
            Value::DateTimeTz(t) if !storable_year(t.year()) => value,
            Value::F32(v) if v.is_nan() => value,
            Value::Bool(b) => Value::I64(i64::from(b)),
            Value::I16(v) => Value::I64(i64::from(v)),
            Value::I32(v) => Value::I64(i64::from(v)),
            Value::F32(v) => Value::F64(f64::from(v)),
            Value::Json(j) => Value::Text(j.to_string()),
            Value::Uuid(u) => Value::Text(u.hyphenated().to_string()),
            Value::Date(d) => Value::Text(date_text(d)),
            Value::Time(t) => Value::Text(time_text(t)),
            Value::DateTime(t) => Value::Text(datetime_text(t)),
            Value::DateTimeTz(t) => Value::Text(datetime_text(t.naive_utc()) + "+00:00"),
            // Left as they are (and refused by the driver) when a NUMERIC column would round
            // them: SQLite converts decimal text to a REAL, keeping 15 significant digits.
            Value::Decimal(d) => {
                let text = d.to_string();
                if sqlite_keeps_decimal(&text) {
                    Value::Text(text)
                } else {
                    Value::Decimal(d)
                }
            }
            Value::Numeric(n) if sqlite_keeps_decimal(&n) => Value::Text(n),
            v @ Value::Numeric(_) => v,
            Value::Inet { addr, prefix } => {
                Value::Text(crate::value_types::inet_text(&addr, prefix))
            }
            // A JSON array of the elements' own encodings; left as it is (and refused by the
            // driver) when an element has no JSON form.
            // Decimals inside the JSON text keep every digit (no NUMERIC affinity applies).
            Value::Array(items) => {
                let items: Vec<Value> = items
                    .into_iter()
                    .map(|v| match v {
                        Value::Decimal(d) => Value::Text(d.to_string()),
                        Value::Numeric(n) => Value::Text(n),
                        v => self.encode(v),
                    })
                    .collect();
                match crate::value_types::array_json_text(&items) {
                    Some(text) => Value::Text(text),
                    None => Value::Array(items),
                }
            }
            v
            @ (Value::Null | Value::I64(_) | Value::F64(_) | Value::Text(_) | Value::Bytes(_)) => v,
        }
    }
    fn offset_requires_limit(&self) -> bool {
        true
    }
    fn inline_limits(&self) -> bool {
        true
    }
    fn native_enums(&self) -> bool {
        false
    }
}

/// Whether a NUMERIC column on SQLite reads decimal `text` back with the same value: an
/// integer that fits 64 bits is stored as INTEGER; anything else becomes a REAL, which keeps
/// 15 significant digits (leading and trailing zeros do not count).
pub(crate) fn sqlite_keeps_decimal(text: &str) -> bool {
    let unsigned = text.trim_start_matches(['-', '+']);
    if !unsigned.contains(['.', 'e', 'E']) && text.parse::<i64>().is_ok() {
        return true;
    }
    let mantissa = unsigned.split(['e', 'E']).next().unwrap_or("");
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    digits.trim_start_matches('0').trim_end_matches('0').len() <= 15
}
