//! The `time` crate's types (feature `time`), bound as the chrono-based variants so every
//! driver path and the SQLite text format stay the same: `Date` → [`Value::Date`], `Time` →
//! [`Value::Time`], `PrimitiveDateTime` → [`Value::DateTime`], `OffsetDateTime` →
//! [`Value::DateTimeTz`] (in UTC). Nanoseconds are kept as far as the database keeps them
//! (PostgreSQL: microseconds). The conversion functions are public so the engine decodes
//! with the same ones.

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, NaiveTime, Timelike, Utc};

use crate::value::{ToValue, Value};

/// A `time::Date` as chrono's (always representable: chrono's range is wider).
pub fn chrono_date(d: time::Date) -> NaiveDate {
    NaiveDate::from_ymd_opt(d.year(), u32::from(u8::from(d.month())), u32::from(d.day()))
        .unwrap_or(NaiveDate::MIN)
}

/// A `time::Time` as chrono's.
pub fn chrono_time(t: time::Time) -> NaiveTime {
    NaiveTime::from_hms_nano_opt(
        u32::from(t.hour()),
        u32::from(t.minute()),
        u32::from(t.second()),
        t.nanosecond(),
    )
    .unwrap_or(NaiveTime::MIN)
}

/// A `time::PrimitiveDateTime` as chrono's.
pub fn chrono_datetime(t: time::PrimitiveDateTime) -> NaiveDateTime {
    chrono_date(t.date()).and_time(chrono_time(t.time()))
}

/// A `time::OffsetDateTime` as the same instant in UTC.
pub fn chrono_utc(t: time::OffsetDateTime) -> DateTime<Utc> {
    chrono_datetime({
        let utc = t.to_offset(time::UtcOffset::UTC);
        time::PrimitiveDateTime::new(utc.date(), utc.time())
    })
    .and_utc()
}

/// A chrono date as `time`'s; `None` outside `time`'s range (years ±9999).
pub fn time_date(d: NaiveDate) -> Option<time::Date> {
    let month = time::Month::try_from(u8::try_from(d.month()).ok()?).ok()?;
    time::Date::from_calendar_date(d.year(), month, u8::try_from(d.day()).ok()?).ok()
}

/// A chrono time of day as `time`'s (a leap second becomes the end of its minute).
pub fn time_time(t: NaiveTime) -> Option<time::Time> {
    time::Time::from_hms_nano(
        u8::try_from(t.hour()).ok()?,
        u8::try_from(t.minute()).ok()?,
        u8::try_from(t.second()).ok()?,
        t.nanosecond().min(999_999_999),
    )
    .ok()
}

/// A chrono timestamp as `time`'s; `None` outside `time`'s range.
pub fn time_primitive(t: NaiveDateTime) -> Option<time::PrimitiveDateTime> {
    Some(time::PrimitiveDateTime::new(
        time_date(t.date())?,
        time_time(t.time())?,
    ))
}

/// A UTC instant as a `time::OffsetDateTime` at offset zero; `None` outside `time`'s range.
pub fn time_offset(t: DateTime<Utc>) -> Option<time::OffsetDateTime> {
    Some(time_primitive(t.naive_utc())?.assume_utc())
}

macro_rules! to_value_via {
    ($($t:ty => |$v:ident| $e:expr;)*) => {$(
        impl ToValue for $t {
            fn to_value(&self) -> Value { let $v = *self; $e }
        }
        impl From<$t> for Value {
            fn from($v: $t) -> Value { $e }
        }
    )*};
}

to_value_via! {
    time::Date => |v| Value::Date(chrono_date(v));
    time::Time => |v| Value::Time(chrono_time(v));
    time::PrimitiveDateTime => |v| Value::DateTime(chrono_datetime(v));
    time::OffsetDateTime => |v| Value::DateTimeTz(chrono_utc(v));
}
