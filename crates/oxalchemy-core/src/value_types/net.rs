//! IP addresses (`std::net::IpAddr`, always) and networks (`ipnetwork::IpNetwork`, feature
//! `ipnetwork`) as [`Value::Inet`].

use std::net::IpAddr;

use crate::value::{ToValue, Value};

/// The text form PostgreSQL prints and SQLite stores: the address alone when the prefix
/// covers all of it (`10.0.0.1`, `::1`), `address/prefix` otherwise (`10.0.0.0/8`).
pub fn inet_text(addr: &IpAddr, prefix: u8) -> String {
    if prefix == full_prefix(addr) {
        addr.to_string()
    } else {
        format!("{addr}/{prefix}")
    }
}

/// 32 for IPv4, 128 for IPv6.
fn full_prefix(addr: &IpAddr) -> u8 {
    match addr {
        IpAddr::V4(_) => 32,
        IpAddr::V6(_) => 128,
    }
}

impl ToValue for IpAddr {
    fn to_value(&self) -> Value {
        Value::Inet {
            addr: *self,
            prefix: full_prefix(self),
        }
    }
}

impl From<IpAddr> for Value {
    fn from(v: IpAddr) -> Value {
        v.to_value()
    }
}

#[cfg(feature = "ipnetwork")]
impl ToValue for ipnetwork::IpNetwork {
    fn to_value(&self) -> Value {
        Value::Inet {
            addr: self.ip(),
            prefix: self.prefix(),
        }
    }
}

#[cfg(feature = "ipnetwork")]
impl From<ipnetwork::IpNetwork> for Value {
    fn from(v: ipnetwork::IpNetwork) -> Value {
        v.to_value()
    }
}
