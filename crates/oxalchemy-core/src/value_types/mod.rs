//! Conversions of the optional and composite value types into [`crate::Value`]: IP
//! addresses and networks (`net`), arrays (`array`), and behind features `time`'s types
//! (`time`) and `bigdecimal::BigDecimal` (`bigdecimal`). The table in [`crate::value`]
//! lists how each is stored. `iso_text` writes and reads the date and time text SQLite
//! columns hold.

mod array;
#[cfg(feature = "bigdecimal")]
mod bigdecimal;
mod iso_text;
mod net;
#[cfg(feature = "time")]
mod time;

pub use array::array_json_text;
pub use iso_text::{date_text, datetime_text, parse_date, parse_datetime, parse_time, time_text};
pub use net::inet_text;
#[cfg(feature = "time")]
pub use time::{
    chrono_date, chrono_datetime, chrono_time, chrono_utc, time_date, time_offset, time_primitive,
    time_time,
};
