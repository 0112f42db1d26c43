//! Decoding: rows straight from the driver's row into Rust values, with no intermediate
//! per-cell allocation. [`FromSql`] decodes one column; [`FromRow`] a whole row (tuples,
//! and later the models `#[derive(Model)]` generates).

#[cfg(feature = "mysql")]
mod mysql;
mod scalars;
mod types;

pub use types::ArrayElement;

use std::any::type_name;

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::error::{Error, Result};
use oxalchemy_core::Value;

#[cfg(feature = "postgres")]
use tokio_postgres::types::{FromSql as PgFromSql, Type};

/// Why a cell could not be decoded; [`Row::get`] turns it into [`Error::Decode`], adding the
/// column name and the Rust type.
///
/// Any error that implements `Display` converts into it with `?`, so a [`FromSql`] impl can
/// use `?` on parse errors directly. Build one with [`DecodeError::new`].
#[derive(Debug, Clone)]
pub struct DecodeError(String);

impl DecodeError {
    /// A decode failure explained by `message` (say what the value was and what was expected).
    pub fn new(message: impl Into<String>) -> Self {
        DecodeError(message.into())
    }

    /// The explanation.
    pub fn message(&self) -> &str {
        &self.0
    }

    /// The explanation, owned.
    pub fn into_message(self) -> String {
        self.0
    }
}

impl<E: std::fmt::Display> From<E> for DecodeError {
    fn from(e: E) -> Self {
        DecodeError(e.to_string())
    }
}

type D<T> = std::result::Result<T, DecodeError>;

#[cold]
fn unexpected_null<T>() -> D<T> {
    Err(DecodeError(
        "unexpected NULL; decode into Option<_> if the column is nullable".to_owned(),
    ))
}

/// A Rust type that can be read from one column, on every enabled driver.
///
/// A type stored as text (an enum, a newtype) only implements [`FromSql::from_text`]; the
/// driver methods default to reading a string and handing it over.
pub trait FromSql: Sized {
    /// Decodes a SQLite value (the default reads text and calls [`FromSql::from_text`]).
    #[cfg(feature = "sqlite")]
    fn from_sqlite(value: rusqlite::types::ValueRef<'_>) -> D<Self> {
        Self::from_text(String::from_sqlite(value)?)
    }
    /// Decodes a PostgreSQL value of type `ty`; `raw` is the binary wire value, `None` for
    /// NULL (the default reads text and calls [`FromSql::from_text`]).
    #[cfg(feature = "postgres")]
    fn from_postgres(ty: &Type, raw: Option<&[u8]>) -> D<Self> {
        Self::from_text(String::from_postgres(ty, raw)?)
    }
    /// Decodes a MySQL / MariaDB cell of `column` (the default reads text and calls
    /// [`FromSql::from_text`]).
    #[cfg(feature = "mysql")]
    fn from_mysql(value: &mysql_async::Value, column: &mysql_async::Column) -> D<Self> {
        Self::from_text(String::from_mysql(value, column)?)
    }
    /// Decodes a value stored as text.
    fn from_text(_text: String) -> D<Self> {
        Err(DecodeError(format!(
            "{} implements neither FromSql::from_text nor the driver methods",
            type_name::<Self>()
        )))
    }
}

/// A Rust type built from a whole row.
pub trait FromRow: Sized {
    /// Builds the value from `row`, decoding each column it needs with [`Row::get`].
    fn from_row(row: &Row<'_>) -> Result<Self>;
}

/// One row of a result, borrowed from the driver.
pub struct Row<'a> {
    inner: RowInner<'a>,
}

enum RowInner<'a> {
    #[cfg(feature = "sqlite")]
    Sqlite(&'a rusqlite::Row<'a>),
    #[cfg(feature = "postgres")]
    Postgres(&'a tokio_postgres::Row),
    /// A row of a binary `COPY … TO STDOUT`, with the result's columns (the row itself
    /// carries only the types).
    #[cfg(feature = "postgres")]
    PgCopy(
        &'a tokio_postgres::binary_copy::BinaryCopyOutRow,
        &'a [tokio_postgres::Column],
    ),
    #[cfg(feature = "mysql")]
    Mysql(&'a mysql_async::Row),
}

/// Decodes a PostgreSQL cell with [`FromSql`] inside tokio-postgres' own lookup, so each
/// cell costs one index check and the column type comes for free.
#[cfg(feature = "postgres")]
struct PgCell<T>(D<T>);

#[cfg(feature = "postgres")]
impl<'r, T: FromSql> PgFromSql<'r> for PgCell<T> {
    #[inline]
    fn from_sql(
        ty: &Type,
        raw: &'r [u8],
    ) -> std::result::Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(PgCell(T::from_postgres(ty, Some(raw))))
    }
    fn from_sql_null(
        ty: &Type,
    ) -> std::result::Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(PgCell(T::from_postgres(ty, None)))
    }
    fn accepts(_: &Type) -> bool {
        true
    }
}

/// Whether a PostgreSQL cell is NULL, read without decoding it.
#[cfg(feature = "postgres")]
struct PgNull(bool);

#[cfg(feature = "postgres")]
impl<'r> PgFromSql<'r> for PgNull {
    fn from_sql(
        _: &Type,
        _: &'r [u8],
    ) -> std::result::Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(PgNull(false))
    }
    fn from_sql_null(
        _: &Type,
    ) -> std::result::Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(PgNull(true))
    }
    fn accepts(_: &Type) -> bool {
        true
    }
}

impl<'a> Row<'a> {
    #[cfg(feature = "sqlite")]
    pub(crate) fn sqlite(row: &'a rusqlite::Row<'a>) -> Self {
        Row {
            inner: RowInner::Sqlite(row),
        }
    }
    #[cfg(feature = "postgres")]
    pub(crate) fn postgres(row: &'a tokio_postgres::Row) -> Self {
        Row {
            inner: RowInner::Postgres(row),
        }
    }

    #[cfg(feature = "postgres")]
    pub(crate) fn postgres_copy(
        row: &'a tokio_postgres::binary_copy::BinaryCopyOutRow,
        columns: &'a [tokio_postgres::Column],
    ) -> Self {
        Row {
            inner: RowInner::PgCopy(row, columns),
        }
    }

    #[cfg(feature = "mysql")]
    pub(crate) fn mysql(row: &'a mysql_async::Row) -> Self {
        Row {
            inner: RowInner::Mysql(row),
        }
    }

    /// Number of columns.
    pub fn len(&self) -> usize {
        match &self.inner {
            #[cfg(feature = "sqlite")]
            RowInner::Sqlite(r) => r.as_ref().column_count(),
            #[cfg(feature = "postgres")]
            RowInner::Postgres(r) => r.len(),
            #[cfg(feature = "postgres")]
            RowInner::PgCopy(_, columns) => columns.len(),
            #[cfg(feature = "mysql")]
            RowInner::Mysql(r) => r.len(),
        }
    }

    /// Whether the row has no columns.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The name of column `idx` (its label, for expressions).
    pub fn column_name(&self, idx: usize) -> String {
        match &self.inner {
            #[cfg(feature = "sqlite")]
            RowInner::Sqlite(r) => r
                .as_ref()
                .column_name(idx)
                .map(str::to_owned)
                .unwrap_or_else(|_| format!("#{idx}")),
            #[cfg(feature = "postgres")]
            RowInner::Postgres(r) => r
                .columns()
                .get(idx)
                .map(|c| c.name().to_owned())
                .unwrap_or_else(|| format!("#{idx}")),
            #[cfg(feature = "postgres")]
            RowInner::PgCopy(_, columns) => columns
                .get(idx)
                .map(|c| c.name().to_owned())
                .unwrap_or_else(|| format!("#{idx}")),
            #[cfg(feature = "mysql")]
            RowInner::Mysql(r) => r
                .columns_ref()
                .get(idx)
                .map(|c| c.name_str().into_owned())
                .unwrap_or_else(|| format!("#{idx}")),
        }
    }

    /// Index of the column named `name` (the first, if several have it).
    pub fn index_of(&self, name: &str) -> Option<usize> {
        (0..self.len()).find(|&i| self.name_ref(i) == Some(name))
    }

    /// The name of column `idx`, borrowed (no allocation, for lookups by name).
    fn name_ref(&self, idx: usize) -> Option<&str> {
        match &self.inner {
            #[cfg(feature = "sqlite")]
            RowInner::Sqlite(r) => r.as_ref().column_name(idx).ok(),
            #[cfg(feature = "postgres")]
            RowInner::Postgres(r) => r.columns().get(idx).map(|c| c.name()),
            #[cfg(feature = "postgres")]
            RowInner::PgCopy(_, columns) => columns.get(idx).map(|c| c.name()),
            #[cfg(feature = "mysql")]
            RowInner::Mysql(r) => r
                .columns_ref()
                .get(idx)
                .and_then(|c| std::str::from_utf8(c.name_ref()).ok()),
        }
    }

    /// The result's column names, comma-separated, for "no such column" messages.
    fn column_list(&self) -> String {
        let names: Vec<String> = (0..self.len()).map(|i| self.column_name(i)).collect();
        names.join(", ")
    }

    /// Whether column `idx` is NULL, without decoding it: how an outer-joined model's key is
    /// tested on every row (`Option<Post>` is `None` when the key is NULL).
    #[inline]
    pub fn is_null(&self, idx: usize) -> Result<bool> {
        let null = match &self.inner {
            #[cfg(feature = "sqlite")]
            RowInner::Sqlite(r) => r
                .get_ref(idx)
                .map(|v| v == rusqlite::types::ValueRef::Null)
                .map_err(|e| DecodeError(e.to_string())),
            #[cfg(feature = "postgres")]
            RowInner::Postgres(r) => r
                .try_get::<_, PgNull>(idx)
                .map(|n| n.0)
                .map_err(|e| DecodeError(e.to_string())),
            #[cfg(feature = "postgres")]
            RowInner::PgCopy(r, _) => r
                .try_get::<PgNull>(idx)
                .map(|n| n.0)
                .map_err(|e| DecodeError(e.to_string())),
            #[cfg(feature = "mysql")]
            RowInner::Mysql(r) => r
                .as_ref(idx)
                .map(|v| *v == mysql_async::Value::NULL)
                .ok_or_else(|| {
                    DecodeError(format!("no column {idx} in a row of {} columns", r.len()))
                }),
        };
        null.map_err(|e| self.decode_error::<Option<()>>(idx, e))
    }

    /// Decodes column `idx` as `T`.
    #[inline]
    pub fn get<T: FromSql>(&self, idx: usize) -> Result<T> {
        match self.decode::<T>(idx) {
            Ok(v) => Ok(v),
            Err(e) => Err(self.decode_error::<T>(idx, e)),
        }
    }

    /// Decodes column `idx` with a small error type; the hot path of generated row decoders,
    /// which turn a failure into [`Error::Decode`] with [`Row::decode_error`] once.
    #[doc(hidden)]
    #[inline(always)]
    pub fn decode<T: FromSql>(&self, idx: usize) -> D<T> {
        match &self.inner {
            #[cfg(feature = "sqlite")]
            RowInner::Sqlite(r) => match r.get_ref(idx) {
                Ok(v) => T::from_sqlite(v),
                Err(e) => Err(DecodeError(e.to_string())),
            },
            #[cfg(feature = "postgres")]
            RowInner::Postgres(r) => match r.try_get::<_, PgCell<T>>(idx) {
                Ok(cell) => cell.0,
                Err(e) => Err(DecodeError(e.to_string())),
            },
            // The same `FromSql::from_postgres` as a query's rows: COPY's binary format
            // carries each value exactly as the binary result protocol does.
            #[cfg(feature = "postgres")]
            RowInner::PgCopy(r, _) => match r.try_get::<PgCell<T>>(idx) {
                Ok(cell) => cell.0,
                Err(e) => Err(DecodeError(e.to_string())),
            },
            #[cfg(feature = "mysql")]
            RowInner::Mysql(r) => match (r.as_ref(idx), r.columns_ref().get(idx)) {
                (Some(v), Some(c)) => T::from_mysql(v, c),
                _ => Err(DecodeError(format!(
                    "no column {idx} in a row of {} columns",
                    r.len()
                ))),
            },
        }
    }

    #[doc(hidden)]
    #[cold]
    pub fn decode_error<T>(&self, idx: usize, e: DecodeError) -> Error {
        Error::Decode {
            column: self.column_name(idx),
            rust_type: type_name::<T>(),
            reason: e.0,
        }
    }

    /// Decodes the column named `name` as `T`.
    pub fn get_named<T: FromSql>(&self, name: &str) -> Result<T> {
        match self.index_of(name) {
            Some(i) => self.get(i),
            None => Err(Error::Decode {
                column: name.to_owned(),
                rust_type: type_name::<T>(),
                reason: format!(
                    "no column with this name in the result (its columns: {}); select it, \
                     or label the expression with `.label(\"{name}\")`",
                    self.column_list()
                ),
            }),
        }
    }
}

impl<T: FromSql> FromSql for Option<T> {
    #[cfg(feature = "mysql")]
    fn from_mysql(v: &mysql_async::Value, c: &mysql_async::Column) -> D<Self> {
        match v {
            mysql_async::Value::NULL => Ok(None),
            v => T::from_mysql(v, c).map(Some),
        }
    }
    #[cfg(feature = "sqlite")]
    #[inline]
    fn from_sqlite(value: rusqlite::types::ValueRef<'_>) -> D<Self> {
        match value {
            rusqlite::types::ValueRef::Null => Ok(None),
            v => T::from_sqlite(v).map(Some),
        }
    }
    #[cfg(feature = "postgres")]
    #[inline]
    fn from_postgres(ty: &Type, raw: Option<&[u8]>) -> D<Self> {
        match raw {
            None => Ok(None),
            raw => T::from_postgres(ty, raw).map(Some),
        }
    }
    fn from_text(text: String) -> D<Self> {
        T::from_text(text).map(Some)
    }
}

#[cfg(feature = "postgres")]
fn pg<'a, T: PgFromSql<'a>>(ty: &Type, raw: Option<&'a [u8]>) -> D<T> {
    match raw {
        None => unexpected_null(),
        Some(raw) => {
            if !T::accepts(ty) {
                return Err(DecodeError(format!(
                    "PostgreSQL type {ty} cannot be read as {}",
                    type_name::<T>()
                )));
            }
            T::from_sql(ty, raw).map_err(|e| DecodeError(e.to_string()))
        }
    }
}

/// Dates and times sent as text (how SQLite stores them, how MySQL's text protocol sends
/// them): the fixed ISO forms read without chrono's format strings
/// (`oxalchemy_core::value_types`), anything else by chrono.
#[cfg(any(feature = "sqlite", feature = "mysql"))]
mod time_text {
    use super::D;
    use chrono::{NaiveDate, NaiveTime};

    /// The date part of a date or timestamp (what comes before a space or `T`). Longer
    /// than 10 characters for a signed year (`+10000-01-02`), which earlier versions wrote
    /// on SQLite: chrono reads it.
    pub(super) fn date(s: &str) -> D<NaiveDate> {
        let s = s.trim();
        let date = s.split([' ', 'T']).next().unwrap_or(s);
        if let Some(d) = oxalchemy_core::value_types::parse_date(date) {
            return Ok(d);
        }
        Ok(NaiveDate::parse_from_str(date, "%Y-%m-%d")?)
    }

    /// A time of day, `HH:MM:SS` with an optional fraction.
    pub(super) fn time(s: &str) -> D<NaiveTime> {
        if let Some(t) = oxalchemy_core::value_types::parse_time(s) {
            return Ok(t);
        }
        Ok(NaiveTime::parse_from_str(s, "%H:%M:%S%.f")?)
    }
}

#[cfg(feature = "sqlite")]
mod sqlite_text {
    use super::*;
    use rusqlite::types::ValueRef;

    pub(super) fn describe(v: &ValueRef<'_>) -> &'static str {
        match v {
            ValueRef::Null => "NULL",
            ValueRef::Integer(_) => "INTEGER",
            ValueRef::Real(_) => "REAL",
            ValueRef::Text(_) => "TEXT",
            ValueRef::Blob(_) => "BLOB",
        }
    }

    #[cold]
    pub(super) fn wrong<T>(v: &ValueRef<'_>) -> D<T> {
        if matches!(v, ValueRef::Null) {
            return unexpected_null();
        }
        Err(DecodeError(format!(
            "SQLite {} value cannot be read as {}",
            describe(v),
            type_name::<T>()
        )))
    }

    // Inlined into each decoder: these are the per-cell hot path of every SQLite row, and
    // without the hint a call crosses the crate boundary for each cell.
    #[inline]
    pub(super) fn text<'a>(v: &ValueRef<'a>) -> D<&'a str> {
        match v {
            ValueRef::Text(t) => Ok(std::str::from_utf8(t)?),
            other => wrong(other),
        }
    }

    #[inline]
    pub(super) fn integer<T: TryFrom<i64>>(v: ValueRef<'_>) -> D<T>
    where
        T::Error: std::fmt::Display,
    {
        match v {
            ValueRef::Integer(i) => Ok(T::try_from(i)?),
            other => wrong(&other),
        }
    }

    pub(super) fn datetime(s: &str) -> D<NaiveDateTime> {
        // Accepts what oxalchemy writes ("2024-01-02 03:04:05.000006"), SQLite's
        // CURRENT_TIMESTAMP ("2024-01-02 03:04:05") and ISO 8601 with a `T`.
        let s = s.trim();
        let body = s
            .strip_suffix("+00:00")
            .or_else(|| s.strip_suffix('Z'))
            .unwrap_or(s);
        // The forms oxalchemy and CURRENT_TIMESTAMP write, read without chrono's format
        // strings (what the first two below accept, at a tenth of the cost).
        if let Some(t) = oxalchemy_core::value_types::parse_datetime(body) {
            return Ok(t);
        }
        for fmt in [
            "%Y-%m-%d %H:%M:%S%.f",
            "%Y-%m-%dT%H:%M:%S%.f",
            "%Y-%m-%d %H:%M",
        ] {
            if let Ok(t) = NaiveDateTime::parse_from_str(body, fmt) {
                return Ok(t);
            }
        }
        if let Ok(t) = DateTime::parse_from_rfc3339(s) {
            return Ok(t.naive_utc());
        }
        if let Ok(d) = NaiveDate::parse_from_str(body, "%Y-%m-%d") {
            return Ok(d.and_time(NaiveTime::MIN));
        }
        Err(DecodeError(format!("`{s}` is not a timestamp")))
    }
}

macro_rules! tuple_from_row {
    ($($n:tt $t:ident),+) => {
        impl<$($t: FromSql),+> FromRow for ($($t,)+) {
            #[inline]
            fn from_row(row: &Row<'_>) -> Result<Self> {
                Ok(($(
                    match row.decode::<$t>($n) {
                        Ok(v) => v,
                        Err(e) => return Err(row.decode_error::<$t>($n, e)),
                    },
                )+))
            }
        }
    };
}
tuple_from_row!(0 A);
tuple_from_row!(0 A, 1 B);
tuple_from_row!(0 A, 1 B, 2 C);
tuple_from_row!(0 A, 1 B, 2 C, 3 E);
tuple_from_row!(0 A, 1 B, 2 C, 3 E, 4 F);
tuple_from_row!(0 A, 1 B, 2 C, 3 E, 4 F, 5 G);
tuple_from_row!(0 A, 1 B, 2 C, 3 E, 4 F, 5 G, 6 H);
tuple_from_row!(0 A, 1 B, 2 C, 3 E, 4 F, 5 G, 6 H, 7 I);
tuple_from_row!(0 A, 1 B, 2 C, 3 E, 4 F, 5 G, 6 H, 7 I, 8 J);
tuple_from_row!(0 A, 1 B, 2 C, 3 E, 4 F, 5 G, 6 H, 7 I, 8 J, 9 K);
tuple_from_row!(0 A, 1 B, 2 C, 3 E, 4 F, 5 G, 6 H, 7 I, 8 J, 9 K, 10 L);
tuple_from_row!(0 A, 1 B, 2 C, 3 E, 4 F, 5 G, 6 H, 7 I, 8 J, 9 K, 10 L, 11 M);

/// Every column as a dynamic [`Value`].
impl FromRow for Vec<Value> {
    fn from_row(row: &Row<'_>) -> Result<Self> {
        (0..row.len()).map(|i| row.get::<Value>(i)).collect()
    }
}
