//! Bind values and the SQL type enum.
//!
//! A [`Value`] is what travels from Rust to the database as a bound parameter. Each dialect
//! decides how a value is encoded on the wire ([`crate::dialect::Dialect::encode`]); the value
//! itself stays typed so the compiler can be tested on its output without a database.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

/// A value bound to a statement parameter.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    I16(i16),
    I32(i32),
    I64(i64),
    F32(f32),
    F64(f64),
    Text(String),
    Bytes(Vec<u8>),
    Json(serde_json::Value),
    Uuid(Uuid),
    Date(NaiveDate),
    Time(NaiveTime),
    /// A timestamp without time zone.
    DateTime(NaiveDateTime),
    /// A timestamp with time zone, normalised to UTC.
    DateTimeTz(DateTime<Utc>),
    Decimal(Decimal),
}

impl Value {
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }
}

/// Converts a Rust value into a bind [`Value`]. Implemented for every type oxalchemy can bind.
pub trait ToValue {
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

/// A column's SQL type, rendered per dialect in DDL and CAST.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SqlType {
    SmallInteger,
    Integer,
    BigInteger,
    Boolean,
    Float,
    Double,
    /// NUMERIC(precision, scale); `None` leaves the database's default.
    Numeric(Option<(u32, u32)>),
    /// VARCHAR(len); `None` renders an unbounded VARCHAR (TEXT on SQLite).
    String(Option<u32>),
    Text,
    Binary,
    Date,
    Time,
    DateTime {
        timezone: bool,
    },
    Uuid,
    Json,
    /// Binary JSON on PostgreSQL; plain JSON text elsewhere.
    JsonB,
    /// An enumerated text type. On PostgreSQL it is a `CREATE TYPE … AS ENUM` when `native`
    /// (the type must be created first); otherwise a VARCHAR with a CHECK of the allowed values.
    Enum {
        name: String,
        variants: Vec<String>,
        native: bool,
    },
}

impl SqlType {
    pub fn is_integer(&self) -> bool {
        matches!(
            self,
            SqlType::SmallInteger | SqlType::Integer | SqlType::BigInteger
        )
    }
}
