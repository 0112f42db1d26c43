//! Column types beyond the scalars in `model.rs`: arrays (`Vec<T>`), IP addresses and
//! networks, and behind features `time`'s types and `bigdecimal::BigDecimal`. Each is a
//! [`SqlField`] (its column type) and an [`Operand`] of itself (typed comparisons).

use std::net::IpAddr;

use oxalchemy_core::{Expr, SqlType, ToValue};
use oxalchemy_engine::ArrayElement;

use crate::column::Operand;
use crate::model::SqlField;

/// `T[]` on PostgreSQL (a JSON array as text on SQLite, declared with the same name).
/// Elements may be `Option`s (NULL elements); `Vec<u8>` stays a binary column (`u8` is
/// not a `SqlField`, which is what keeps these impls apart from `Vec<u8>`'s).
impl<T: SqlField + ArrayElement> SqlField for Vec<T> {
    fn sql_type(_length: Option<u32>) -> SqlType {
        SqlType::Array(Box::new(T::sql_type(None)))
    }
}

impl<T: SqlField + ArrayElement> Operand<Vec<T>> for Vec<T> {
    fn into_operand(self) -> Expr {
        Expr::Bind(self.to_value())
    }
}
impl<T: SqlField + ArrayElement> Operand<Option<Vec<T>>> for Vec<T> {
    fn into_operand(self) -> Expr {
        Expr::Bind(self.to_value())
    }
}
impl<T: SqlField + ArrayElement> Operand<Option<Vec<T>>> for Option<Vec<T>> {
    fn into_operand(self) -> Expr {
        Expr::Bind(self.to_value())
    }
}

/// Value types whose operand impls are the plain "bind the value" ones.
macro_rules! field_types {
    ($($t:ty => $sql:expr;)*) => {$(
        impl SqlField for $t {
            fn sql_type(_length: Option<u32>) -> SqlType {
                $sql
            }
        }
        impl Operand<$t> for $t {
            fn into_operand(self) -> Expr { Expr::Bind(self.to_value()) }
        }
        impl Operand<Option<$t>> for $t {
            fn into_operand(self) -> Expr { Expr::Bind(self.to_value()) }
        }
        impl Operand<Option<$t>> for Option<$t> {
            fn into_operand(self) -> Expr { Expr::Bind(self.to_value()) }
        }
    )*};
}

field_types! {
    IpAddr => SqlType::Inet;
}

#[cfg(feature = "ipnetwork")]
field_types! {
    ipnetwork::IpNetwork => SqlType::Inet;
}

#[cfg(feature = "bigdecimal")]
field_types! {
    bigdecimal::BigDecimal => SqlType::Numeric(None);
}

#[cfg(feature = "time")]
field_types! {
    time::Date => SqlType::Date;
    time::Time => SqlType::Time;
    time::PrimitiveDateTime => SqlType::DateTime { timezone: false };
    time::OffsetDateTime => SqlType::DateTime { timezone: true };
}

/// An IP network stored as `CIDR` (host bits must be zero; PostgreSQL refuses others),
/// where an `ipnetwork::IpNetwork` field is `INET`. Feature `ipnetwork`.
#[cfg(feature = "ipnetwork")]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cidr(pub ipnetwork::IpNetwork);

#[cfg(feature = "ipnetwork")]
mod cidr_impls {
    use super::*;
    use oxalchemy_core::Value;

    impl Default for Cidr {
        /// `0.0.0.0/0`, so a model with a `Cidr` field can derive `Default`.
        fn default() -> Self {
            Cidr(ipnetwork::IpNetwork::V4(ipnetwork::Ipv4Network::from(
                std::net::Ipv4Addr::UNSPECIFIED,
            )))
        }
    }
    impl ToValue for Cidr {
        fn to_value(&self) -> Value {
            self.0.to_value()
        }
    }
    impl From<Cidr> for Value {
        fn from(v: Cidr) -> Value {
            v.0.to_value()
        }
    }
    oxalchemy_engine::__impl_transparent_from_sql!(Cidr, ipnetwork::IpNetwork, Cidr);
    impl ArrayElement for Cidr {}
    field_types! {
        Cidr => SqlType::Cidr;
    }
}
