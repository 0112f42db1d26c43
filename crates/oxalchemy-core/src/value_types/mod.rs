//! Conversions of the optional and composite value types into [`crate::Value`]: IP
//! addresses and networks (`net`), arrays (`array`), and behind features `time`'s types
//! (`time`) and `bigdecimal::BigDecimal` (`bigdecimal`). The table in [`crate::value`]
//! lists how each is stored.

mod array;
#[cfg(feature = "bigdecimal")]
mod bigdecimal;
mod net;
#[cfg(feature = "time")]
mod time;

pub use array::array_json_text;
pub use net::inet_text;
#[cfg(feature = "time")]
pub use time::{
    chrono_date, chrono_datetime, chrono_time, chrono_utc, time_date, time_offset, time_primitive,
    time_time,
};
