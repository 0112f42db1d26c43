//! Bind values in MySQL's binary protocol. The dialect has already turned UUIDs, addresses
//! and arrays into text and timestamps with time zone into UTC ([`oxalchemy_core::MySql`]);
//! here every [`Value`] becomes the protocol value of its MySQL type.

use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime, Timelike};
use mysql_async::{Params, Value as My};

use crate::error::{Error, Result};
use oxalchemy_core::Value;

/// The statement's parameters (none: `Params::Empty`).
pub(super) fn params(binds: &[Value]) -> Result<Params> {
    if binds.is_empty() {
        return Ok(Params::Empty);
    }
    binds
        .iter()
        .map(value)
        .collect::<Result<Vec<My>>>()
        .map(Params::Positional)
}

fn unstorable(v: &Value, reason: &'static str) -> Error {
    Error::UnstorableValue {
        database: "MySQL",
        value: format!("{v:?}"),
        reason,
    }
}

fn date(v: &Value, d: NaiveDate, t: NaiveTime) -> Result<My> {
    let year = u16::try_from(d.year())
        .ok()
        .filter(|y| *y <= 9999)
        .ok_or_else(|| unstorable(v, "MySQL dates span the years 0000 to 9999"))?;
    Ok(My::Date(
        year,
        d.month() as u8,
        d.day() as u8,
        t.hour() as u8,
        t.minute() as u8,
        t.second() as u8,
        // A leap second (nanosecond ≥ 1e9) is kept as the last microsecond.
        (t.nanosecond() / 1_000).min(999_999),
    ))
}

fn datetime(v: &Value, t: NaiveDateTime) -> Result<My> {
    date(v, t.date(), t.time())
}

fn value(v: &Value) -> Result<My> {
    Ok(match v {
        Value::Null => My::NULL,
        Value::Bool(b) => My::Int(i64::from(*b)),
        Value::I16(n) => My::Int(i64::from(*n)),
        Value::I32(n) => My::Int(i64::from(*n)),
        Value::I64(n) => My::Int(*n),
        Value::F32(f) if !f.is_finite() => {
            return Err(unstorable(v, "MySQL has no NaN or infinity"))
        }
        Value::F64(f) if !f.is_finite() => {
            return Err(unstorable(v, "MySQL has no NaN or infinity"))
        }
        Value::F32(f) => My::Float(*f),
        Value::F64(f) => My::Double(*f),
        Value::Text(s) => My::Bytes(s.as_bytes().to_vec()),
        Value::Bytes(b) => My::Bytes(b.clone()),
        Value::Json(j) => My::Bytes(j.to_string().into_bytes()),
        Value::Uuid(u) => My::Bytes(u.hyphenated().to_string().into_bytes()),
        Value::Date(d) => date(v, *d, NaiveTime::MIN)?,
        Value::Time(t) => My::Time(
            false,
            0,
            t.hour() as u8,
            t.minute() as u8,
            t.second() as u8,
            (t.nanosecond() / 1_000).min(999_999),
        ),
        Value::DateTime(t) => datetime(v, *t)?,
        Value::DateTimeTz(t) => datetime(v, t.naive_utc())?,
        Value::Decimal(d) => My::Bytes(d.to_string().into_bytes()),
        Value::Numeric(n) => My::Bytes(n.as_bytes().to_vec()),
        Value::Inet { addr, prefix } => {
            My::Bytes(oxalchemy_core::value_types::inet_text(addr, *prefix).into_bytes())
        }
        Value::Array(items) => match oxalchemy_core::value_types::array_json_text(items) {
            Some(text) => My::Bytes(text.into_bytes()),
            None => return Err(unstorable(v, "an array element has no JSON form")),
        },
    })
}
