//! Decoding for transparent wrappers (`#[derive(DbType)] struct Email(String)`): every
//! [`crate::FromSql`] method delegates to the wrapped type, so a newtype decodes exactly as
//! its inner type does on every driver.
//!
//! The driver methods exist only with their driver feature, which the user's crate cannot
//! test with `#[cfg]` (the feature is this crate's). So the impl is a `macro_rules!` of this
//! crate, and `__if_sqlite!` / `__if_postgres!` / `__if_mysql!` are defined here once per feature state.

/// Implements [`crate::FromSql`] for `$outer` by decoding `$inner` and wrapping it with
/// `$wrap`. Used by `#[derive(DbType)]`; not a stable API.
#[doc(hidden)]
#[macro_export]
macro_rules! __impl_transparent_from_sql {
    ($outer:ty, $inner:ty, $wrap:expr) => {
        impl $crate::FromSql for $outer {
            $crate::__if_sqlite! {
                #[inline]
                fn from_sqlite(
                    value: $crate::__driver::SqliteValueRef<'_>,
                ) -> ::core::result::Result<Self, $crate::DecodeError> {
                    <$inner as $crate::FromSql>::from_sqlite(value).map($wrap)
                }
            }
            $crate::__if_postgres! {
                #[inline]
                fn from_postgres(
                    ty: &$crate::__driver::PgType,
                    raw: ::core::option::Option<&[u8]>,
                ) -> ::core::result::Result<Self, $crate::DecodeError> {
                    <$inner as $crate::FromSql>::from_postgres(ty, raw).map($wrap)
                }
            }
            $crate::__if_mysql! {
                #[inline]
                fn from_mysql(
                    value: &$crate::__driver::MysqlValue,
                    column: &$crate::__driver::MysqlColumn,
                ) -> ::core::result::Result<Self, $crate::DecodeError> {
                    <$inner as $crate::FromSql>::from_mysql(value, column).map($wrap)
                }
            }
            fn from_text(
                text: ::std::string::String,
            ) -> ::core::result::Result<Self, $crate::DecodeError> {
                <$inner as $crate::FromSql>::from_text(text).map($wrap)
            }
        }
    };
}

/// Its input when the `sqlite` feature is on, nothing otherwise.
#[cfg(feature = "sqlite")]
#[doc(hidden)]
#[macro_export]
macro_rules! __if_sqlite {
    ($($item:tt)*) => { $($item)* };
}

/// Its input when the `sqlite` feature is on, nothing otherwise.
#[cfg(not(feature = "sqlite"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __if_sqlite {
    ($($item:tt)*) => {};
}

/// Its input when the `postgres` feature is on, nothing otherwise.
#[cfg(feature = "postgres")]
#[doc(hidden)]
#[macro_export]
macro_rules! __if_postgres {
    ($($item:tt)*) => { $($item)* };
}

/// Its input when the `postgres` feature is on, nothing otherwise.
#[cfg(not(feature = "postgres"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __if_postgres {
    ($($item:tt)*) => {};
}

/// Its input when the `mysql` feature is on, nothing otherwise.
#[cfg(feature = "mysql")]
#[doc(hidden)]
#[macro_export]
macro_rules! __if_mysql {
    ($($item:tt)*) => { $($item)* };
}

/// Its input when the `mysql` feature is on, nothing otherwise.
#[cfg(not(feature = "mysql"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __if_mysql {
    ($($item:tt)*) => {};
}
