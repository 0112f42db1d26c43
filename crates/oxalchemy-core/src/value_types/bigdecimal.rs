//! `bigdecimal::BigDecimal` (feature `bigdecimal`) as [`Value::Numeric`]: its plain decimal
//! text, so no digit is lost on the way (PostgreSQL `NUMERIC` keeps up to 131072 digits
//! before the point and 16383 after).

use bigdecimal::BigDecimal;

use crate::value::{ToValue, Value};

impl ToValue for BigDecimal {
    fn to_value(&self) -> Value {
        Value::Numeric(self.to_plain_string())
    }
}

impl From<BigDecimal> for Value {
    fn from(v: BigDecimal) -> Value {
        Value::Numeric(v.to_plain_string())
    }
}
