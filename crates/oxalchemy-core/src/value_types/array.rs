//! `Vec<T>` (and slices) of bindable values as [`Value::Array`]. `Vec<u8>` stays
//! [`Value::Bytes`]: `u8` is not a [`ToValue`] type, so the two impls cannot overlap.

use crate::value::{ToValue, Value};

impl<T: ToValue> ToValue for Vec<T> {
    fn to_value(&self) -> Value {
        self.as_slice().to_value()
    }
}

impl<T: ToValue> From<Vec<T>> for Value {
    fn from(v: Vec<T>) -> Value {
        v.as_slice().to_value()
    }
}

impl<T: ToValue> ToValue for [T] {
    fn to_value(&self) -> Value {
        Value::Array(self.iter().map(ToValue::to_value).collect())
    }
}

/// The JSON array SQLite stores for an array whose elements are already in SQLite's
/// encoding (integers, reals, text, NULL); `None` when an element has no JSON form (a
/// blob, NaN, a nested array), which the driver then refuses to store.
pub fn array_json_text(items: &[Value]) -> Option<String> {
    let mut out = Vec::with_capacity(items.len());
    for v in items {
        out.push(match v {
            Value::Null => serde_json::Value::Null,
            Value::I64(n) => (*n).into(),
            Value::F64(f) => serde_json::Number::from_f64(*f).map(serde_json::Value::Number)?,
            Value::Text(s) => serde_json::Value::String(s.clone()),
            _ => return None,
        });
    }
    Some(serde_json::Value::Array(out).to_string())
}
