//! Reading MySQL / MariaDB cells. Statements run in the binary protocol, so integers arrive
//! as integers, floats as floats, DATE / DATETIME / TIME as date and time values, and text,
//! blobs, DECIMAL and JSON as bytes (told apart by the column's type and character set).

use std::any::type_name;

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use mysql_async::consts::ColumnType;
use mysql_async::{Column, Value as My};
use rust_decimal::Decimal;

use super::{unexpected_null, DecodeError, D};
use oxalchemy_core::Value;

/// The character set number of binary strings (BLOB, BINARY, VARBINARY).
const BINARY_CHARSET: u16 = 63;

fn describe(v: &My) -> &'static str {
    match v {
        My::NULL => "NULL",
        My::Bytes(_) => "text or bytes",
        My::Int(_) | My::UInt(_) => "integer",
        My::Float(_) | My::Double(_) => "float",
        My::Date(..) => "date or timestamp",
        My::Time(..) => "time",
    }
}

pub(super) fn wrong<T>(v: &My) -> D<T> {
    if matches!(v, My::NULL) {
        return unexpected_null();
    }
    Err(DecodeError::new(format!(
        "MySQL {} value cannot be read as {}",
        describe(v),
        type_name::<T>()
    )))
}

fn text(v: &My) -> D<&str> {
    match v {
        My::Bytes(b) => Ok(std::str::from_utf8(b)?),
        other => wrong(other),
    }
}

pub(super) fn int<T: TryFrom<i64>>(v: &My) -> D<T>
where
    T::Error: std::fmt::Display,
{
    let i = match v {
        My::Int(i) => *i,
        My::UInt(u) => i64::try_from(*u)?,
        My::Bytes(_) => text(v)?.trim().parse::<i64>()?,
        other => return wrong(other),
    };
    Ok(T::try_from(i)?)
}

pub(super) fn boolean(v: &My) -> D<bool> {
    int::<i64>(v).map(|i| i != 0)
}

pub(super) fn float(v: &My) -> D<f64> {
    match v {
        My::Double(f) => Ok(*f),
        My::Float(f) => Ok(f64::from(*f)),
        My::Int(i) => Ok(*i as f64),
        My::UInt(u) => Ok(*u as f64),
        // DECIMAL arrives as text.
        My::Bytes(_) => Ok(text(v)?.trim().parse()?),
        other => wrong(other),
    }
}

pub(super) fn string(v: &My) -> D<String> {
    match v {
        My::Bytes(b) => Ok(String::from_utf8(b.clone())?),
        My::Int(i) => Ok(i.to_string()),
        My::UInt(u) => Ok(u.to_string()),
        other => wrong(other),
    }
}

pub(super) fn bytes(v: &My) -> D<Vec<u8>> {
    match v {
        My::Bytes(b) => Ok(b.clone()),
        other => wrong(other),
    }
}

pub(super) fn json(v: &My) -> D<serde_json::Value> {
    match v {
        My::Bytes(b) => Ok(serde_json::from_slice(b)?),
        My::Int(i) => Ok((*i).into()),
        My::UInt(u) => Ok((*u).into()),
        My::Double(f) => Ok(serde_json::Number::from_f64(*f)
            .map(serde_json::Value::Number)
            .unwrap_or(serde_json::Value::Null)),
        other => wrong(other),
    }
}

pub(super) fn uuid(v: &My) -> D<uuid::Uuid> {
    match v {
        // BINARY(16), for tables made by other tools.
        My::Bytes(b) if b.len() == 16 => Ok(uuid::Uuid::from_slice(b)?),
        _ => Ok(uuid::Uuid::parse_str(text(v)?.trim())?),
    }
}

/// DECIMAL text. `DECIMAL(65, 20)` pads 20 fractional digits, more than rust_decimal's 28
/// significant digits allow with a large integer part: trailing zeros are dropped first.
pub(super) fn decimal(v: &My) -> D<Decimal> {
    use std::str::FromStr;
    match v {
        My::Int(i) => Ok(Decimal::from(*i)),
        My::UInt(u) => Ok(Decimal::from(*u)),
        My::Double(f) => Ok(Decimal::from_str(&f.to_string())?),
        My::Float(f) => Ok(Decimal::from_str(&f.to_string())?),
        _ => {
            let t = text(v)?.trim();
            let t = if t.contains('.') {
                t.trim_end_matches('0').trim_end_matches('.')
            } else {
                t
            };
            Ok(Decimal::from_str(t)?)
        }
    }
}

fn ymd(y: u16, m: u8, d: u8) -> D<NaiveDate> {
    NaiveDate::from_ymd_opt(i32::from(y), u32::from(m), u32::from(d))
        .ok_or_else(|| DecodeError::new(format!("{y:04}-{m:02}-{d:02} is not a date")))
}

fn hms(h: u8, mi: u8, s: u8, us: u32) -> D<NaiveTime> {
    NaiveTime::from_hms_micro_opt(u32::from(h), u32::from(mi), u32::from(s), us)
        .ok_or_else(|| DecodeError::new(format!("{h:02}:{mi:02}:{s:02}.{us:06} is not a time")))
}

pub(super) fn date(v: &My) -> D<NaiveDate> {
    match v {
        My::Date(y, m, d, ..) => ymd(*y, *m, *d),
        _ => super::time_text::date(text(v)?),
    }
}

pub(super) fn time(v: &My) -> D<NaiveTime> {
    match v {
        My::Time(false, 0, h, mi, s, us) => hms(*h, *mi, *s, *us),
        My::Time(..) => Err(DecodeError::new(
            "a TIME outside 00:00:00–23:59:59 (a duration) cannot be read as a time of day",
        )),
        _ => super::time_text::time(text(v)?.trim()),
    }
}

pub(super) fn datetime(v: &My) -> D<NaiveDateTime> {
    match v {
        My::Date(y, m, d, h, mi, s, us) => Ok(ymd(*y, *m, *d)?.and_time(hms(*h, *mi, *s, *us)?)),
        _ => {
            let s = text(v)?.trim();
            // The server's own form, read without chrono's format strings.
            if let Some(t) = oxalchemy_core::value_types::parse_datetime(s) {
                return Ok(t);
            }
            for fmt in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d"] {
                if let Ok(t) = NaiveDateTime::parse_from_str(s, fmt) {
                    return Ok(t);
                }
            }
            if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
                return Ok(d.and_time(NaiveTime::MIN));
            }
            Err(DecodeError::new(format!("`{s}` is not a timestamp")))
        }
    }
}

/// A cell as a dynamic [`Value`], by its protocol value and column type.
pub(super) fn value(v: &My, c: &Column) -> D<Value> {
    Ok(match v {
        My::NULL => Value::Null,
        My::Int(i) => Value::I64(*i),
        My::UInt(u) => match i64::try_from(*u) {
            Ok(i) => Value::I64(i),
            Err(_) => Value::Numeric(u.to_string()),
        },
        My::Float(f) => Value::F32(*f),
        My::Double(f) => Value::F64(*f),
        My::Date(..) if c.column_type() == ColumnType::MYSQL_TYPE_DATE => Value::Date(date(v)?),
        My::Date(..) => Value::DateTime(datetime(v)?),
        My::Time(..) => Value::Time(time(v)?),
        My::Bytes(b) => match c.column_type() {
            ColumnType::MYSQL_TYPE_NEWDECIMAL | ColumnType::MYSQL_TYPE_DECIMAL => {
                match decimal(v) {
                    Ok(d) => Value::Decimal(d),
                    Err(_) => Value::Numeric(text(v)?.to_owned()),
                }
            }
            ColumnType::MYSQL_TYPE_JSON => Value::Json(json(v)?),
            _ if c.character_set() == BINARY_CHARSET => Value::Bytes(b.clone()),
            _ => Value::Text(String::from_utf8(b.clone())?),
        },
    })
}
