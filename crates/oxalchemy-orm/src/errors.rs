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

/// A new row must be inserted before the new row it references (their foreign keys form a
/// cycle), but its foreign key cannot be NULL meanwhile.
pub(crate) fn insert_cycle_not_null(model: &str, column: &str, parent: &str) -> Error {
    mapping(format!(
        "foreign keys form a cycle between the new {model} and {parent} objects of this flush: \
         {model} must be inserted first with `{column}` NULL and updated once the {parent} \
         exists (post_update), but `{column}` is NOT NULL. Make it nullable (`Option<i64>`), \
         or flush the {parent} first. Nothing was written"
    ))
}

/// Two rows deleted in one flush reference each other, and the foreign key that would be
/// set to NULL first cannot be NULL.
pub(crate) fn delete_cycle_not_null(model: &str, key: &str, column: &str, parent: &str) -> Error {
    mapping(format!(
        "foreign keys form a cycle between {model} {key} and the {parent} it references \
         through `{column}`, both deleted in this flush: `{column}` would be set to NULL \
         before the DELETEs (post_update), but it is NOT NULL. Make it nullable, or delete \
         them in two flushes. Nothing was written"
    ))
}
