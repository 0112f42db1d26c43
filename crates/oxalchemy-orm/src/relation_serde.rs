//! serde for relationship fields: a loaded [`Many`] is its items, a loaded [`One`] its
//! object or `null` (a NULL foreign key), so a user with posts loaded serializes to nested
//! JSON and deserializes back equal.
//!
//! Serializing a relationship that was **not loaded is an error** (the [`NotLoaded`] message):
//! writing `[]` or `null` would say "no posts" / "no author" when nothing was read, the
//! silent wrong answer oxalchemy refuses elsewhere. To leave unloaded relationships out of
//! the JSON, skip them explicitly; a missing field then deserializes as not loaded:
//!
//! ```
//! # use oxalchemy_orm::{Many, One};
//! #[derive(serde::Serialize, serde::Deserialize)]
//! struct Author {
//!     name: String,
//!     #[serde(default, skip_serializing_if = "Many::is_not_loaded")]
//!     posts: Many<String>,
//!     #[serde(default, skip_serializing_if = "One::is_not_loaded")]
//!     mentor: One<String>,
//! }
//! let a = Author { name: "ann".into(), posts: Many::default(), mentor: One::loaded(None) };
//! assert_eq!(serde_json::to_string(&a).unwrap(), r#"{"name":"ann","mentor":null}"#);
//! let back: Author = serde_json::from_str(r#"{"name":"ann"}"#).unwrap();
//! assert!(!back.posts.is_loaded() && !back.mentor.is_loaded());
//! ```

use serde::de::{Deserialize, Deserializer};
use serde::ser::{Error as _, Serialize, Serializer};

use crate::relation::{Many, NotLoaded, One};

impl<T: Serialize> Serialize for Many<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.get() {
            Ok(items) => items.serialize(serializer),
            Err(e) => Err(S::Error::custom(not_loaded_message(&e))),
        }
    }
}

impl<'de, T: Deserialize<'de> + Send + Sync + 'static> Deserialize<'de> for Many<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Vec::<T>::deserialize(deserializer).map(Many::loaded)
    }
}

impl<T: Serialize> Serialize for One<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.get() {
            Ok(item) => item.serialize(serializer),
            Err(e) => Err(S::Error::custom(not_loaded_message(&e))),
        }
    }
}

/// `null` is a loaded reference to nothing (a NULL foreign key), as it serializes.
impl<'de, T: Deserialize<'de> + Send + Sync + 'static> Deserialize<'de> for One<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Option::<T>::deserialize(deserializer).map(One::loaded)
    }
}

fn not_loaded_message(e: &NotLoaded) -> String {
    format!(
        "cannot serialize: {e}; or leave it out with \
         #[serde(default, skip_serializing_if = \"Many::is_not_loaded\")] \
         (One::is_not_loaded for a reference)"
    )
}
