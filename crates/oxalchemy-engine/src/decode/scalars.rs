//! `FromSql` for the scalar types: integers, floats, `bool`, text, bytes, JSON, UUID,
//! decimals, dates and times, and the dynamic [`Value`]. Each impl has one arm per driver:
//! PostgreSQL cells by their column type, SQLite cells by storage class (text dates parsed by
//! [`super::sqlite_text`]), MySQL cells in `decode/mysql.rs`.

use super::*;
macro_rules! from_sql_int {
    ($($t:ty),*) => {$(
        impl FromSql for $t {
            #[cfg(feature = "sqlite")]
            #[inline]
            fn from_sqlite(v: rusqlite::types::ValueRef<'_>) -> D<Self> {
                sqlite_text::integer(v)
            }
            #[cfg(feature = "mysql")]
            fn from_mysql(v: &mysql_async::Value, _: &mysql_async::Column) -> D<Self> {
                mysql::int(v)
            }
            #[cfg(feature = "postgres")]
            #[inline]
            fn from_postgres(ty: &Type, raw: Option<&[u8]>) -> D<Self> {
                // The column's own width first, without `pg`'s second type check: it is
                // the common case and the per-cell hot path.
                if *ty == <$t as PgSql>::PG_TYPE {
                    return match raw {
                        Some(raw) => <$t as PgFromSql>::from_sql(ty, raw)
                            .map_err(|e| DecodeError(e.to_string())),
                        None => unexpected_null(),
                    };
                }
                // Accept any integer width that fits, as SQLAlchemy does.
                match *ty {
                    Type::INT2 => Ok(<$t>::try_from(pg::<i16>(ty, raw)?)?),
                    Type::INT4 => Ok(<$t>::try_from(pg::<i32>(ty, raw)?)?),
                    Type::INT8 => Ok(<$t>::try_from(pg::<i64>(ty, raw)?)?),
                    Type::OID => Ok(<$t>::try_from(pg::<u32>(ty, raw)?)?),
                    _ => pg::<$t>(ty, raw),
                }
            }
            fn from_text(text: String) -> D<Self> {
                Ok(text.trim().parse()?)
            }
        }
    )*};
}
from_sql_int!(i16, i32, i64);

/// The PostgreSQL type whose binary form is exactly this integer's.
#[cfg(feature = "postgres")]
trait PgSql {
    const PG_TYPE: Type;
}
#[cfg(feature = "postgres")]
impl PgSql for i16 {
    const PG_TYPE: Type = Type::INT2;
}
#[cfg(feature = "postgres")]
impl PgSql for i32 {
    const PG_TYPE: Type = Type::INT4;
}
#[cfg(feature = "postgres")]
impl PgSql for i64 {
    const PG_TYPE: Type = Type::INT8;
}

impl FromSql for bool {
    #[cfg(feature = "mysql")]
    fn from_mysql(v: &mysql_async::Value, c: &mysql_async::Column) -> D<Self> {
        let _ = c;
        mysql::boolean(v)
    }
    #[cfg(feature = "sqlite")]
    fn from_sqlite(v: rusqlite::types::ValueRef<'_>) -> D<Self> {
        match v {
            rusqlite::types::ValueRef::Integer(i) => Ok(i != 0),
            other => sqlite_text::wrong(&other),
        }
    }
    #[cfg(feature = "postgres")]
    fn from_postgres(ty: &Type, raw: Option<&[u8]>) -> D<Self> {
        pg(ty, raw)
    }
}

impl FromSql for f64 {
    #[cfg(feature = "mysql")]
    fn from_mysql(v: &mysql_async::Value, c: &mysql_async::Column) -> D<Self> {
        let _ = c;
        mysql::float(v)
    }
    #[cfg(feature = "sqlite")]
    fn from_sqlite(v: rusqlite::types::ValueRef<'_>) -> D<Self> {
        match v {
            rusqlite::types::ValueRef::Real(f) => Ok(f),
            rusqlite::types::ValueRef::Integer(i) => Ok(i as f64),
            other => sqlite_text::wrong(&other),
        }
    }
    #[cfg(feature = "postgres")]
    fn from_postgres(ty: &Type, raw: Option<&[u8]>) -> D<Self> {
        use rust_decimal::prelude::ToPrimitive;
        match *ty {
            Type::FLOAT4 => Ok(f64::from(pg::<f32>(ty, raw)?)),
            Type::NUMERIC => pg::<Decimal>(ty, raw)?
                .to_f64()
                .ok_or_else(|| DecodeError("NUMERIC out of f64 range".into())),
            Type::INT2 | Type::INT4 | Type::INT8 => Ok(i64::from_postgres(ty, raw)? as f64),
            _ => pg(ty, raw),
        }
    }
}

impl FromSql for f32 {
    #[cfg(feature = "mysql")]
    fn from_mysql(v: &mysql_async::Value, c: &mysql_async::Column) -> D<Self> {
        let _ = c;
        mysql::float(v).map(|f| f as f32)
    }
    #[cfg(feature = "sqlite")]
    fn from_sqlite(v: rusqlite::types::ValueRef<'_>) -> D<Self> {
        f64::from_sqlite(v).map(|f| f as f32)
    }
    #[cfg(feature = "postgres")]
    fn from_postgres(ty: &Type, raw: Option<&[u8]>) -> D<Self> {
        match *ty {
            Type::FLOAT4 => pg(ty, raw),
            _ => f64::from_postgres(ty, raw).map(|f| f as f32),
        }
    }
}

impl FromSql for String {
    #[cfg(feature = "mysql")]
    fn from_mysql(v: &mysql_async::Value, c: &mysql_async::Column) -> D<Self> {
        let _ = c;
        mysql::string(v)
    }
    #[cfg(feature = "sqlite")]
    #[inline]
    fn from_sqlite(v: rusqlite::types::ValueRef<'_>) -> D<Self> {
        sqlite_text::text(&v).map(str::to_owned)
    }
    fn from_text(text: String) -> D<Self> {
        Ok(text)
    }
    #[cfg(feature = "postgres")]
    #[inline]
    fn from_postgres(ty: &Type, raw: Option<&[u8]>) -> D<Self> {
        let Some(bytes) = raw else {
            return unexpected_null();
        };
        // TEXT and VARCHAR, the common cases, without `accepts`' list of names (which
        // compares strings for extension types such as citext).
        if *ty == Type::TEXT || *ty == Type::VARCHAR {
            return Ok(std::str::from_utf8(bytes)?.to_owned());
        }
        if <&str as PgFromSql>::accepts(ty) {
            return Ok(<&str as PgFromSql>::from_sql(ty, bytes)?.to_owned());
        }
        match *ty {
            Type::JSON | Type::JSONB => Ok(serde_json::Value::from_postgres(ty, raw)?.to_string()),
            Type::UUID => Ok(pg::<Uuid>(ty, raw)?.hyphenated().to_string()),
            // PostgreSQL enum values arrive as their text.
            _ if matches!(ty.kind(), tokio_postgres::types::Kind::Enum(_)) => {
                Ok(std::str::from_utf8(bytes)?.to_owned())
            }
            _ => Err(DecodeError(format!(
                "PostgreSQL type {ty} cannot be read as a String"
            ))),
        }
    }
}

impl FromSql for Vec<u8> {
    #[cfg(feature = "mysql")]
    fn from_mysql(v: &mysql_async::Value, c: &mysql_async::Column) -> D<Self> {
        let _ = c;
        mysql::bytes(v)
    }
    #[cfg(feature = "sqlite")]
    fn from_sqlite(v: rusqlite::types::ValueRef<'_>) -> D<Self> {
        match v {
            rusqlite::types::ValueRef::Blob(b) | rusqlite::types::ValueRef::Text(b) => {
                Ok(b.to_vec())
            }
            other => sqlite_text::wrong(&other),
        }
    }
    #[cfg(feature = "postgres")]
    fn from_postgres(ty: &Type, raw: Option<&[u8]>) -> D<Self> {
        pg::<&[u8]>(ty, raw).map(<[u8]>::to_vec)
    }
}

impl FromSql for serde_json::Value {
    #[cfg(feature = "mysql")]
    fn from_mysql(v: &mysql_async::Value, c: &mysql_async::Column) -> D<Self> {
        let _ = c;
        mysql::json(v)
    }
    #[cfg(feature = "sqlite")]
    fn from_sqlite(v: rusqlite::types::ValueRef<'_>) -> D<Self> {
        use rusqlite::types::ValueRef;
        match v {
            ValueRef::Text(t) => Ok(serde_json::from_slice(t)?),
            // A JSON column has NUMERIC affinity: SQLite stores `5` as an integer.
            ValueRef::Integer(i) => Ok(i.into()),
            ValueRef::Real(f) => Ok(serde_json::Number::from_f64(f)
                .map(serde_json::Value::Number)
                .unwrap_or(serde_json::Value::Null)),
            other => sqlite_text::wrong(&other),
        }
    }
    #[cfg(feature = "postgres")]
    fn from_postgres(ty: &Type, raw: Option<&[u8]>) -> D<Self> {
        match *ty {
            Type::JSON | Type::JSONB => pg::<serde_json::Value>(ty, raw),
            _ => Ok(serde_json::from_str(pg::<&str>(ty, raw)?)?),
        }
    }
}

impl FromSql for Uuid {
    #[cfg(feature = "mysql")]
    fn from_mysql(v: &mysql_async::Value, c: &mysql_async::Column) -> D<Self> {
        let _ = c;
        mysql::uuid(v)
    }
    #[cfg(feature = "sqlite")]
    fn from_sqlite(v: rusqlite::types::ValueRef<'_>) -> D<Self> {
        match v {
            rusqlite::types::ValueRef::Blob(b) => Ok(Uuid::from_slice(b)?),
            other => Ok(Uuid::parse_str(sqlite_text::text(&other)?)?),
        }
    }
    #[cfg(feature = "postgres")]
    fn from_postgres(ty: &Type, raw: Option<&[u8]>) -> D<Self> {
        match *ty {
            Type::UUID => pg(ty, raw),
            _ => Ok(Uuid::parse_str(pg::<&str>(ty, raw)?)?),
        }
    }
}

impl FromSql for Decimal {
    #[cfg(feature = "mysql")]
    fn from_mysql(v: &mysql_async::Value, c: &mysql_async::Column) -> D<Self> {
        let _ = c;
        mysql::decimal(v)
    }
    #[cfg(feature = "sqlite")]
    fn from_sqlite(v: rusqlite::types::ValueRef<'_>) -> D<Self> {
        use rusqlite::types::ValueRef;
        use std::str::FromStr;
        match v {
            ValueRef::Integer(i) => Ok(Decimal::from(i)),
            // NUMERIC affinity may have turned the stored text into a REAL.
            ValueRef::Real(f) => Ok(Decimal::from_str(&f.to_string())?),
            other => Ok(Decimal::from_str(sqlite_text::text(&other)?)?),
        }
    }
    #[cfg(feature = "postgres")]
    fn from_postgres(ty: &Type, raw: Option<&[u8]>) -> D<Self> {
        match *ty {
            Type::INT2 | Type::INT4 | Type::INT8 => Ok(Decimal::from(i64::from_postgres(ty, raw)?)),
            _ => pg(ty, raw),
        }
    }
}

impl FromSql for NaiveDate {
    #[cfg(feature = "mysql")]
    fn from_mysql(v: &mysql_async::Value, c: &mysql_async::Column) -> D<Self> {
        let _ = c;
        mysql::date(v)
    }
    #[cfg(feature = "sqlite")]
    fn from_sqlite(v: rusqlite::types::ValueRef<'_>) -> D<Self> {
        // The date part of a date or timestamp.
        time_text::date(sqlite_text::text(&v)?)
    }
    #[cfg(feature = "postgres")]
    fn from_postgres(ty: &Type, raw: Option<&[u8]>) -> D<Self> {
        pg(ty, raw)
    }
}

impl FromSql for NaiveTime {
    #[cfg(feature = "mysql")]
    fn from_mysql(v: &mysql_async::Value, c: &mysql_async::Column) -> D<Self> {
        let _ = c;
        mysql::time(v)
    }
    #[cfg(feature = "sqlite")]
    fn from_sqlite(v: rusqlite::types::ValueRef<'_>) -> D<Self> {
        time_text::time(sqlite_text::text(&v)?)
    }
    #[cfg(feature = "postgres")]
    fn from_postgres(ty: &Type, raw: Option<&[u8]>) -> D<Self> {
        pg(ty, raw)
    }
}

impl FromSql for NaiveDateTime {
    #[cfg(feature = "mysql")]
    fn from_mysql(v: &mysql_async::Value, c: &mysql_async::Column) -> D<Self> {
        let _ = c;
        mysql::datetime(v)
    }
    #[cfg(feature = "sqlite")]
    fn from_sqlite(v: rusqlite::types::ValueRef<'_>) -> D<Self> {
        match v {
            rusqlite::types::ValueRef::Integer(secs) => DateTime::from_timestamp(secs, 0)
                .map(|t| t.naive_utc())
                .ok_or_else(|| DecodeError(format!("{secs} is out of range as a unix timestamp"))),
            other => sqlite_text::datetime(sqlite_text::text(&other)?),
        }
    }
    #[cfg(feature = "postgres")]
    fn from_postgres(ty: &Type, raw: Option<&[u8]>) -> D<Self> {
        match *ty {
            Type::TIMESTAMPTZ => Ok(pg::<DateTime<Utc>>(ty, raw)?.naive_utc()),
            _ => pg(ty, raw),
        }
    }
}

impl FromSql for DateTime<Utc> {
    #[cfg(feature = "mysql")]
    fn from_mysql(v: &mysql_async::Value, c: &mysql_async::Column) -> D<Self> {
        let _ = c;
        mysql::datetime(v).map(|t| t.and_utc())
    }
    #[cfg(feature = "sqlite")]
    fn from_sqlite(v: rusqlite::types::ValueRef<'_>) -> D<Self> {
        if let rusqlite::types::ValueRef::Text(t) = v {
            let s = std::str::from_utf8(t)?;
            // What oxalchemy writes (`+00:00`), or the same without an offset (UTC), read
            // without chrono's format strings.
            let utc = s.strip_suffix("+00:00").unwrap_or(s);
            if let Some(t) = oxalchemy_core::value_types::parse_datetime(utc) {
                return Ok(t.and_utc());
            }
            // Any explicit offset is honoured; text without one is UTC.
            if let Ok(t) = DateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f%:z") {
                return Ok(t.with_timezone(&Utc));
            }
        }
        NaiveDateTime::from_sqlite(v).map(|t| t.and_utc())
    }
    #[cfg(feature = "postgres")]
    fn from_postgres(ty: &Type, raw: Option<&[u8]>) -> D<Self> {
        match *ty {
            Type::TIMESTAMP => Ok(pg::<NaiveDateTime>(ty, raw)?.and_utc()),
            _ => pg(ty, raw),
        }
    }
}

/// Dynamic decoding, for rows whose shape is not known at compile time.
impl FromSql for Value {
    #[cfg(feature = "mysql")]
    fn from_mysql(v: &mysql_async::Value, c: &mysql_async::Column) -> D<Self> {
        mysql::value(v, c)
    }
    #[cfg(feature = "sqlite")]
    fn from_sqlite(v: rusqlite::types::ValueRef<'_>) -> D<Self> {
        use rusqlite::types::ValueRef;
        Ok(match v {
            ValueRef::Null => Value::Null,
            ValueRef::Integer(i) => Value::I64(i),
            ValueRef::Real(f) => Value::F64(f),
            ValueRef::Text(t) => Value::Text(std::str::from_utf8(t)?.to_owned()),
            ValueRef::Blob(b) => Value::Bytes(b.to_vec()),
        })
    }
    #[cfg(feature = "postgres")]
    fn from_postgres(ty: &Type, raw: Option<&[u8]>) -> D<Self> {
        if raw.is_none() {
            return Ok(Value::Null);
        }
        Ok(match *ty {
            Type::BOOL => Value::Bool(pg(ty, raw)?),
            Type::INT2 => Value::I16(pg(ty, raw)?),
            Type::INT4 => Value::I32(pg(ty, raw)?),
            Type::INT8 => Value::I64(pg(ty, raw)?),
            Type::FLOAT4 => Value::F32(pg(ty, raw)?),
            Type::FLOAT8 => Value::F64(pg(ty, raw)?),
            // Beyond rust_decimal's 28 digits (or NaN / infinity): the exact text.
            Type::NUMERIC => match pg(ty, raw) {
                Ok(d) => Value::Decimal(d),
                Err(_) => Value::Numeric(crate::postgres::wire::numeric_from_sql(
                    raw.unwrap_or_default(),
                )?),
            },
            Type::INET | Type::CIDR => {
                let (addr, prefix) = crate::postgres::wire::inet_from_sql(raw.unwrap_or_default())?;
                Value::Inet { addr, prefix }
            }
            _ if matches!(ty.kind(), tokio_postgres::types::Kind::Array(_)) => {
                Value::Array(Vec::<Value>::from_postgres(ty, raw)?)
            }
            Type::BYTEA => Value::Bytes(Vec::<u8>::from_postgres(ty, raw)?),
            Type::JSON | Type::JSONB => Value::Json(pg(ty, raw)?),
            Type::UUID => Value::Uuid(pg(ty, raw)?),
            Type::DATE => Value::Date(pg(ty, raw)?),
            Type::TIME => Value::Time(pg(ty, raw)?),
            Type::TIMESTAMP => Value::DateTime(pg(ty, raw)?),
            Type::TIMESTAMPTZ => Value::DateTimeTz(pg(ty, raw)?),
            _ => Value::Text(String::from_postgres(ty, raw)?),
        })
    }
}
