//! Bind values ([`Value`], [`ToValue`]) and column types ([`SqlType`]).
//!
//! A [`Value`] is what travels from Rust to the database as a bound parameter. It stays typed
//! until the very end: the compiler collects values, and only the dialect decides their wire
//! encoding ([`crate::Dialect::encode`]), so the compiler can be tested on its output without
//! a database.
//!
//! # Conversion rules
//!
//! | Rust type | [`Value`] | SQLite stores | PostgreSQL type |
//! | --- | --- | --- | --- |
//! | `bool` | `Bool` | INTEGER 0 / 1 | `BOOLEAN` |
//! | `i16`, `i32`, `i64` | `I16`, `I32`, `I64` | INTEGER | `SMALLINT`, `INTEGER`, `BIGINT` |
//! | `f32`, `f64` | `F32`, `F64` | REAL | `REAL`, `DOUBLE PRECISION` |
//! | `String`, `&str` | `Text` | TEXT | `TEXT` / `VARCHAR` |
//! | `Vec<u8>`, `&[u8]` | `Bytes` | BLOB | `BYTEA` |
//! | `serde_json::Value` | `Json` | TEXT (serialized JSON) | `JSON` / `JSONB` |
//! | `uuid::Uuid` | `Uuid` | TEXT, hyphenated | `UUID` |
//! | `chrono::NaiveDate` | `Date` | TEXT `2024-01-02` | `DATE` |
//! | `chrono::NaiveTime` | `Time` | TEXT `13:14:15.000000` | `TIME` |
//! | `chrono::NaiveDateTime` | `DateTime` | TEXT `2024-01-02 03:04:05.000000` | `TIMESTAMP` |
//! | `chrono::DateTime<Utc>`, `DateTime<FixedOffset>` | `DateTimeTz` (in UTC) | TEXT `… +00:00` | `TIMESTAMPTZ` |
//! | `rust_decimal::Decimal` | `Decimal` | TEXT (exact digits) | `NUMERIC` |
//! | `bigdecimal::BigDecimal` (feature `bigdecimal`) | `Numeric` (plain text) | TEXT | `NUMERIC` |
//! | `time::Date`, `Time`, `PrimitiveDateTime`, `OffsetDateTime` (feature `time`) | `Date`, `Time`, `DateTime`, `DateTimeTz` | as chrono's | `DATE`, `TIME`, `TIMESTAMP`, `TIMESTAMPTZ` |
//! | `std::net::IpAddr` | `Inet` (full prefix) | TEXT `10.0.0.1` | `INET` |
//! | `ipnetwork::IpNetwork` (feature `ipnetwork`) | `Inet` | TEXT `10.0.0.0/8` | `INET` / `CIDR` |
//! | `Vec<T>` (`T` a scalar above, not `u8`) | `Array` | TEXT (a JSON array) | `T[]` |
//! | `Option<T>` | `T`'s value, or `Null` | NULL | NULL |
//!
//! A decimal is bound as its exact text on SQLite, but a column declared `NUMERIC` has
//! NUMERIC affinity: SQLite keeps 15 significant digits of it (it stores a REAL), so a
//! decimal it would round (more digits, unless an integer that fits 64 bits) stays a decimal
//! when encoded and the SQLite driver refuses it before anything is written; `BigDecimal`s
//! beyond that keep every digit on PostgreSQL only (and inside arrays, stored as JSON text).
//!
//! The SQLite timestamp text is SQLAlchemy's format and sorts chronologically, so ORDER BY
//! and comparisons work on it. A `DateTime<FixedOffset>` keeps the instant but not its
//! offset (it is converted to UTC), as PostgreSQL's `TIMESTAMPTZ` does.
//!
//! ```
//! use oxalchemy_core::{ToValue, Value};
//!
//! assert_eq!(5i32.to_value(), Value::I32(5));
//! assert_eq!(Value::from(Some("ann")), Value::Text("ann".into()));
//! assert_eq!(Value::from(None::<i64>), Value::Null);
//! ```

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

/// A value bound to a statement parameter (or, in DDL only, inlined as an escaped literal).
///
/// Build one with `From` (`Value::from(5i64)`, `"ann".into()`) or [`ToValue`]; every literal
/// in an expression becomes a [`Value`] in [`crate::Expr::Bind`]. The module documentation
/// lists how each variant is stored on each database.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// SQL `NULL`; what `None` becomes.
    Null,
    /// A boolean (`BOOLEAN`; 0 / 1 on SQLite).
    Bool(bool),
    /// A 16-bit integer (`SMALLINT`).
    I16(i16),
    /// A 32-bit integer (`INTEGER`).
    I32(i32),
    /// A 64-bit integer (`BIGINT`; SQLite's only integer width).
    I64(i64),
    /// A single-precision float (`REAL`).
    F32(f32),
    /// A double-precision float (`DOUBLE PRECISION`).
    F64(f64),
    /// Text (`TEXT` / `VARCHAR`).
    Text(String),
    /// Raw bytes (`BYTEA`; BLOB on SQLite).
    Bytes(Vec<u8>),
    /// A JSON document (`JSON` / `JSONB`; its serialized text on SQLite).
    Json(serde_json::Value),
    /// A UUID (`UUID`; hyphenated text on SQLite).
    Uuid(Uuid),
    /// A calendar date (`DATE`).
    Date(NaiveDate),
    /// A time of day (`TIME`).
    Time(NaiveTime),
    /// A timestamp without time zone (`TIMESTAMP`).
    DateTime(NaiveDateTime),
    /// A timestamp with time zone, normalised to UTC (`TIMESTAMPTZ`).
    DateTimeTz(DateTime<Utc>),
    /// An exact decimal (`NUMERIC`; its digits as text on SQLite, so none are lost).
    Decimal(Decimal),
    /// An exact decimal of any precision, as plain decimal text (`-12.3400`, no exponent):
    /// what `bigdecimal::BigDecimal` binds as (`NUMERIC`; text on SQLite).
    Numeric(String),
    /// An IP address with a network prefix length (`INET` / `CIDR`; text on SQLite, the
    /// prefix written only when shorter than the address): `std::net::IpAddr` binds with the
    /// full length (32 / 128), `ipnetwork::IpNetwork` with its own.
    Inet {
        /// The address (for a network, any address in it; CIDR needs the host bits zero).
        addr: std::net::IpAddr,
        /// The prefix length in bits.
        prefix: u8,
    },
    /// An array of one element type (`T[]` on PostgreSQL; a JSON array as text on SQLite).
    /// Elements are values of one variant, or `Null`.
    Array(Vec<Value>),
}

impl Value {
    /// Whether this is [`Value::Null`]. Comparing an expression with a null value compiles
    /// to `IS NULL`, because `= NULL` is never true.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }
}

/// Converts a Rust value into a bind [`Value`] by reference. Implemented for every type
/// oxalchemy can bind (see the module documentation), for references to them and for
/// `Option`s of them; the ORM calls it to read a model's fields without moving them.
///
/// Every `T: ToValue` that is `Sized` also has `From<T> for Value`, which takes the value by
/// move and avoids a clone.
pub trait ToValue {
    /// The bind value for `self`.
    fn to_value(&self) -> Value;
}

macro_rules! to_value {
    ($($t:ty => |$v:ident| $e:expr;)*) => {$(
        impl ToValue for $t {
            fn to_value(&self) -> Value { let $v = self; $e }
        }
        impl From<$t> for Value {
            fn from($v: $t) -> Value { let $v = &$v; $e }
        }
    )*};
}

to_value! {
    bool => |v| Value::Bool(*v);
    i16 => |v| Value::I16(*v);
    i32 => |v| Value::I32(*v);
    i64 => |v| Value::I64(*v);
    f32 => |v| Value::F32(*v);
    f64 => |v| Value::F64(*v);
    String => |v| Value::Text(v.clone());
    Vec<u8> => |v| Value::Bytes(v.clone());
    serde_json::Value => |v| Value::Json(v.clone());
    Uuid => |v| Value::Uuid(*v);
    NaiveDate => |v| Value::Date(*v);
    NaiveTime => |v| Value::Time(*v);
    NaiveDateTime => |v| Value::DateTime(*v);
    DateTime<Utc> => |v| Value::DateTimeTz(*v);
    DateTime<FixedOffset> => |v| Value::DateTimeTz(v.with_timezone(&Utc));
    Decimal => |v| Value::Decimal(*v);
}

impl ToValue for str {
    fn to_value(&self) -> Value {
        Value::Text(self.to_owned())
    }
}
impl ToValue for [u8] {
    fn to_value(&self) -> Value {
        Value::Bytes(self.to_vec())
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Value {
        Value::Text(v.to_owned())
    }
}
impl From<&String> for Value {
    fn from(v: &String) -> Value {
        Value::Text(v.clone())
    }
}
impl From<&[u8]> for Value {
    fn from(v: &[u8]) -> Value {
        Value::Bytes(v.to_vec())
    }
}
impl<T: ToValue + ?Sized> ToValue for &T {
    fn to_value(&self) -> Value {
        (**self).to_value()
    }
}
impl<T: ToValue> ToValue for Option<T> {
    fn to_value(&self) -> Value {
        match self {
            Some(v) => v.to_value(),
            None => Value::Null,
        }
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Value {
        match v {
            Some(v) => v.into(),
            None => Value::Null,
        }
    }
}
impl From<&Value> for Value {
    fn from(v: &Value) -> Value {
        v.clone()
    }
}

/// A column's SQL type, written per dialect in DDL and CAST ([`crate::Dialect::write_type`]).
///
/// The names are SQLAlchemy's generic types; each dialect picks its own spelling, e.g.
/// `SqlType::Double` is `DOUBLE PRECISION` on PostgreSQL and `DOUBLE` on SQLite.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SqlType {
    /// `SMALLINT`: a 16-bit integer.
    SmallInteger,
    /// `INTEGER`: a 32-bit integer.
    Integer,
    /// `BIGINT`: a 64-bit integer (the usual primary key type).
    BigInteger,
    /// `BOOLEAN` (SQLite stores 0 / 1).
    Boolean,
    /// `REAL`: a single-precision float.
    Float,
    /// `DOUBLE PRECISION`: a double-precision float.
    Double,
    /// `NUMERIC(precision, scale)`: an exact decimal; `None` leaves the database's default.
    Numeric(Option<(u32, u32)>),
    /// `VARCHAR(len)`; `None` is an unbounded VARCHAR (TEXT on SQLite).
    String(Option<u32>),
    /// `TEXT`: unbounded text.
    Text,
    /// `BYTEA` on PostgreSQL, `BLOB` on SQLite.
    Binary,
    /// `DATE`: a calendar date.
    Date,
    /// `TIME`: a time of day without time zone.
    Time,
    /// `TIMESTAMP`, with or without time zone.
    DateTime {
        /// `TIMESTAMP WITH TIME ZONE` (values are [`Value::DateTimeTz`]) rather than
        /// `WITHOUT TIME ZONE` ([`Value::DateTime`]).
        timezone: bool,
    },
    /// `UUID` on PostgreSQL, `CHAR(36)` on SQLite.
    Uuid,
    /// `CHAR(n)`: fixed-length text, blank-padded (values are [`Value::Text`]).
    Char(u32),
    /// `INTERVAL`: a span of time (PostgreSQL; declared `INTERVAL` and stored as text on
    /// SQLite). No [`Value`] variant reads it yet: for schemas (DDL, reflection, migrations).
    Interval,
    /// `TIME(p)`: a time of day with `p` fractional-second digits ([`SqlType::Time`] is the
    /// database's default, 6 on PostgreSQL).
    TimePrecision(u32),
    /// `TIMESTAMP(p)`: [`SqlType::DateTime`] with `p` fractional-second digits.
    DateTimePrecision {
        /// `WITH TIME ZONE`, as in [`SqlType::DateTime`].
        timezone: bool,
        /// Fractional-second digits (0–6).
        precision: u32,
    },
    /// `JSON`: a JSON document stored as text.
    Json,
    /// Binary JSON (`JSONB`) on PostgreSQL; plain JSON text elsewhere.
    JsonB,
    /// `INET`: an IP address, optionally with a netmask (`INET` text on SQLite).
    Inet,
    /// `CIDR`: an IP network, host bits zero (`CIDR` text on SQLite).
    Cidr,
    /// `elem[]`: a one-dimensional array (PostgreSQL); on SQLite the same declared type
    /// holding a JSON array as text.
    Array(Box<SqlType>),
    /// An enumerated text type. On PostgreSQL it is a `CREATE TYPE … AS ENUM` when `native`
    /// (the type must be created first); otherwise a VARCHAR with a CHECK of the allowed values.
    Enum {
        /// The type's name (`CREATE TYPE "name"`); a non-native enum uses it for nothing else.
        name: String,
        /// The allowed values, in declaration order.
        variants: Vec<String>,
        /// Whether the database's own enum type is used (PostgreSQL only); otherwise a
        /// VARCHAR as long as the longest variant with a CHECK constraint.
        native: bool,
    },
}

impl SqlType {
    /// Whether this is an integer type: only an integer primary key can autoincrement.
    pub fn is_integer(&self) -> bool {
        matches!(
            self,
            SqlType::SmallInteger | SqlType::Integer | SqlType::BigInteger
        )
    }
}
