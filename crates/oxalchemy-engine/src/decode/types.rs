//! [`FromSql`] for the composite and optional value types: arrays (`Vec<T>` of an
//! [`ArrayElement`]), IP addresses and networks, and behind features `time`'s types and
//! `bigdecimal::BigDecimal`. Each decodes what the dialects encode (see
//! `oxalchemy_core::value`): PostgreSQL's binary formats, SQLite's text.

use std::net::IpAddr;

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::{DecodeError, FromSql, D};

#[cfg(feature = "postgres")]
use super::unexpected_null;
#[cfg(feature = "postgres")]
use crate::postgres::wire;
#[cfg(feature = "postgres")]
use tokio_postgres::types::{Kind, Type};

/// A type that can be an element of an array column (`Vec<T>`): the scalar column types
/// and `Option`s of them (NULL elements). `Vec<u8>` is not an array: it is `BYTEA` / BLOB.
pub trait ArrayElement: FromSql {}

macro_rules! array_elements {
    ($($t:ty),*) => {$( impl ArrayElement for $t {} )*};
}
array_elements!(
    bool,
    i16,
    i32,
    i64,
    f32,
    f64,
    String,
    Uuid,
    Decimal,
    NaiveDate,
    NaiveTime,
    NaiveDateTime,
    DateTime<Utc>,
    serde_json::Value,
    IpAddr
);
impl<T: ArrayElement> ArrayElement for Option<T> {}
/// Dynamic rows: each element as its own [`oxalchemy_core::Value`] (NULL included).
impl ArrayElement for oxalchemy_core::Value {}

/// Arrays: PostgreSQL `T[]` element by element; on SQLite the JSON array the dialect wrote,
/// each element read as the SQLite value it was encoded from.
impl<T: ArrayElement> FromSql for Vec<T> {
    #[cfg(feature = "sqlite")]
    fn from_sqlite(v: rusqlite::types::ValueRef<'_>) -> D<Self> {
        let text = super::sqlite_text::text(&v)?;
        Self::from_text(text.to_owned())
    }
    #[cfg(feature = "postgres")]
    fn from_postgres(ty: &Type, raw: Option<&[u8]>) -> D<Self> {
        let Some(raw) = raw else {
            return unexpected_null();
        };
        let Kind::Array(member) = ty.kind() else {
            return Err(DecodeError::new(format!(
                "PostgreSQL type {ty} is not an array; a Vec<_> other than Vec<u8> reads arrays"
            )));
        };
        wire::array_elements(raw)?
            .into_iter()
            .map(|e| T::from_postgres(member, e))
            .collect()
    }
    /// A JSON array (what SQLite stores).
    fn from_text(text: String) -> D<Self> {
        let items: Vec<serde_json::Value> = serde_json::from_str(&text)
            .map_err(|e| DecodeError::new(format!("`{text}` is not a JSON array: {e}")))?;
        items.into_iter().map(json_element).collect()
    }
}

/// One element of a stored JSON array, decoded as the SQLite value it was encoded from
/// (numbers as INTEGER / REAL, strings as TEXT, nested JSON as its text).
fn json_element<T: FromSql>(item: serde_json::Value) -> D<T> {
    #[cfg(feature = "sqlite")]
    {
        use rusqlite::types::ValueRef;
        use serde_json::Value as J;
        let nested;
        let v = match &item {
            J::Null => ValueRef::Null,
            J::Bool(b) => ValueRef::Integer(i64::from(*b)),
            J::Number(n) => match n.as_i64() {
                Some(i) => ValueRef::Integer(i),
                None => ValueRef::Real(n.as_f64().unwrap_or(f64::NAN)),
            },
            J::String(s) => ValueRef::Text(s.as_bytes()),
            J::Array(_) | J::Object(_) => {
                nested = item.to_string();
                ValueRef::Text(nested.as_bytes())
            }
        };
        T::from_sqlite(v)
    }
    #[cfg(not(feature = "sqlite"))]
    {
        // Without SQLite only text-stored JSON arrays reach here (rare): read each element
        // through its text form.
        match item {
            serde_json::Value::String(s) => T::from_text(s),
            other => T::from_text(other.to_string()),
        }
    }
}

/// `10.0.0.1`, or `10.0.0.1/32` (a prefix covering the whole address).
fn parse_ip(text: &str) -> D<IpAddr> {
    let text = text.trim();
    let (addr, prefix) = match text.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (text, None),
    };
    let addr: IpAddr = addr
        .parse()
        .map_err(|e| DecodeError::new(format!("`{text}` is not an IP address: {e}")))?;
    match prefix {
        None => Ok(addr),
        Some(p) if p.parse::<u8>().ok() == Some(full_prefix(&addr)) => Ok(addr),
        Some(_) => Err(netmask_error(text)),
    }
}

fn full_prefix(addr: &IpAddr) -> u8 {
    if addr.is_ipv4() {
        32
    } else {
        128
    }
}

fn netmask_error(shown: &str) -> DecodeError {
    DecodeError::new(format!(
        "`{shown}` is a network (it has a netmask); an IpAddr holds one address: read it as \
         ipnetwork::IpNetwork (feature `ipnetwork`)"
    ))
}

/// `INET` / `CIDR` (one address: the prefix must cover all of it); text elsewhere.
impl FromSql for IpAddr {
    #[cfg(feature = "postgres")]
    fn from_postgres(ty: &Type, raw: Option<&[u8]>) -> D<Self> {
        match (ty, raw) {
            (_, None) => unexpected_null(),
            (&Type::INET | &Type::CIDR, Some(raw)) => {
                let (addr, prefix) = wire::inet_from_sql(raw)?;
                if prefix == full_prefix(&addr) {
                    Ok(addr)
                } else {
                    Err(netmask_error(&format!("{addr}/{prefix}")))
                }
            }
            _ => parse_ip(&String::from_postgres(ty, raw)?),
        }
    }
    fn from_text(text: String) -> D<Self> {
        parse_ip(&text)
    }
}

#[cfg(feature = "ipnetwork")]
mod ipnetwork_impl {
    use super::*;
    use ipnetwork::IpNetwork;

    impl FromSql for IpNetwork {
        #[cfg(feature = "postgres")]
        fn from_postgres(ty: &Type, raw: Option<&[u8]>) -> D<Self> {
            match (ty, raw) {
                (_, None) => unexpected_null(),
                (&Type::INET | &Type::CIDR, Some(raw)) => {
                    let (addr, prefix) = wire::inet_from_sql(raw)?;
                    Ok(IpNetwork::new(addr, prefix)?)
                }
                _ => Self::from_text(String::from_postgres(ty, raw)?),
            }
        }
        fn from_text(text: String) -> D<Self> {
            text.trim()
                .parse()
                .map_err(|e| DecodeError::new(format!("`{text}` is not an IP network: {e}")))
        }
    }
    impl ArrayElement for IpNetwork {}
}

#[cfg(feature = "bigdecimal")]
mod bigdecimal_impl {
    use super::*;
    use bigdecimal::BigDecimal;
    use std::str::FromStr;

    fn parse(text: &str) -> D<BigDecimal> {
        BigDecimal::from_str(text.trim())
            .map_err(|e| DecodeError::new(format!("`{text}` is not a decimal number: {e}")))
    }

    /// `NUMERIC` with every digit; integers; on SQLite the stored text (a NUMERIC column may
    /// have turned it into an INTEGER or, past 15 significant digits, a lossy REAL).
    impl FromSql for BigDecimal {
        #[cfg(feature = "mysql")]
        fn from_mysql(v: &mysql_async::Value, c: &mysql_async::Column) -> D<Self> {
            match v {
                mysql_async::Value::Int(i) => Ok(BigDecimal::from(*i)),
                v => parse(&String::from_mysql(v, c)?),
            }
        }
        #[cfg(feature = "sqlite")]
        fn from_sqlite(v: rusqlite::types::ValueRef<'_>) -> D<Self> {
            use rusqlite::types::ValueRef;
            match v {
                ValueRef::Integer(i) => Ok(BigDecimal::from(i)),
                ValueRef::Real(f) => parse(&f.to_string()),
                other => parse(super::super::sqlite_text::text(&other)?),
            }
        }
        #[cfg(feature = "postgres")]
        fn from_postgres(ty: &Type, raw: Option<&[u8]>) -> D<Self> {
            match (ty, raw) {
                (_, None) => unexpected_null(),
                (&Type::NUMERIC, Some(raw)) => parse(&wire::numeric_from_sql(raw)?),
                (&Type::INT2 | &Type::INT4 | &Type::INT8, _) => {
                    Ok(BigDecimal::from(i64::from_postgres(ty, raw)?))
                }
                (&Type::FLOAT4 | &Type::FLOAT8, _) => {
                    parse(&f64::from_postgres(ty, raw)?.to_string())
                }
                _ => parse(&String::from_postgres(ty, raw)?),
            }
        }
        fn from_text(text: String) -> D<Self> {
            parse(&text)
        }
    }
    impl ArrayElement for BigDecimal {}
}

#[cfg(feature = "time")]
mod time_impl {
    use super::*;
    use oxalchemy_core::value_types as vt;

    fn out_of_range<T>(shown: impl std::fmt::Display) -> D<T> {
        Err(DecodeError::new(format!(
            "{shown} is outside the `time` crate's range (years -9999 to 9999); read it as a \
             chrono type"
        )))
    }

    /// Decodes with chrono's impl (`$chrono`), then converts with `$to`.
    macro_rules! via_chrono {
        ($($t:ty => $chrono:ty, $to:path;)*) => {$(
            impl FromSql for $t {
                #[cfg(feature = "sqlite")]
                fn from_sqlite(v: rusqlite::types::ValueRef<'_>) -> D<Self> {
                    let c = <$chrono>::from_sqlite(v)?;
                    $to(c).map_or_else(|| out_of_range(c), Ok)
                }
                #[cfg(feature = "postgres")]
                fn from_postgres(ty: &Type, raw: Option<&[u8]>) -> D<Self> {
                    let c = <$chrono>::from_postgres(ty, raw)?;
                    $to(c).map_or_else(|| out_of_range(c), Ok)
                }
                #[cfg(feature = "mysql")]
                fn from_mysql(v: &mysql_async::Value, col: &mysql_async::Column) -> D<Self> {
                    let c = <$chrono>::from_mysql(v, col)?;
                    $to(c).map_or_else(|| out_of_range(c), Ok)
                }
                fn from_text(text: String) -> D<Self> {
                    let c = <$chrono>::from_text(text)?;
                    $to(c).map_or_else(|| out_of_range(c), Ok)
                }
            }
            impl ArrayElement for $t {}
        )*};
    }

    via_chrono! {
        time::Date => NaiveDate, vt::time_date;
        time::Time => NaiveTime, vt::time_time;
        time::PrimitiveDateTime => NaiveDateTime, vt::time_primitive;
        time::OffsetDateTime => DateTime<Utc>, vt::time_offset;
    }
}
