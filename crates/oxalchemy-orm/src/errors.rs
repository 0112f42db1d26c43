//! The ORM's mapping errors, built in one place so every message names the model, the
//! relationship or column involved and what to change. They are all
//! [`Error::Mapping`]: a mistake in the program (models, relationships, arguments), found
//! before anything is sent to the database.

use oxalchemy_engine::Error;

use crate::model::{Model, RelationshipDef};

/// A mapping error with this message.
pub(crate) fn mapping(message: impl Into<String>) -> Error {
    Error::Mapping {
        message: message.into(),
    }
}

/// A relationship constant that names no declared relationship of `M` (only possible with
/// a hand-made `Relationship`).
pub(crate) fn no_relationship<M: Model>(name: &str) -> Error {
    mapping(format!(
        "{} has no relationship `{name}`; use the constant #[derive(Model)] generates for a \
         #[relationship] field of {}",
        M::NAME,
        M::NAME
    ))
}

/// A relationship that cannot do what was asked of it; `what` says why and what to use.
pub(crate) fn unsupported(def: &RelationshipDef, what: &str) -> Error {
    mapping(format!("relationship `{}`: {what}", def.name))
}

/// A many-to-many relationship declared without its association table.
pub(crate) fn missing_secondary(def: &RelationshipDef) -> Error {
    unsupported(
        def,
        "a many-to-many relationship needs `secondary = \"<association table>\"`",
    )
}

/// Two new objects of one flush with the same primary key.
pub(crate) fn added_twice(model: &str, key: &str) -> Error {
    mapping(format!(
        "{model} {key} was added to the session twice (two objects with one primary key); \
         add it once and change that object through its handle. Nothing was written"
    ))
}

/// A new object whose primary key the session already holds (loaded or flushed).
pub(crate) fn already_held(model: &str, key: &str) -> Error {
    mapping(format!(
        "{model} {key} is already held by the session; change the held object through its \
         handle (`session.get`), use `merge` to copy a detached object onto it, or delete it \
         first to replace its row. Nothing was written"
    ))
}
