//! Which columns a relationship goes through: the foreign key of a many-to-one or
//! one-to-many relationship (declared, on the `back_populates` partner, or the only one
//! there is) and the association-table columns of a many-to-many. Shared by the loaders,
//! the relationship comparators and the session's links.

use oxalchemy_core::schema::{Constraint, Table};
use oxalchemy_engine::Error;

use crate::errors::mapping;
use crate::model::{Model, RelationshipDef};

/// The single-column foreign key of `child` that references `parent_table`.
pub(crate) fn foreign_key_to(
    declared: Option<&'static str>,
    child: &Table,
    parent_table: &str,
) -> Result<String, Error> {
    if let Some(c) = declared {
        return Ok(c.to_owned());
    }
    let found: Vec<String> = child
        .constraints
        .iter()
        .filter_map(|c| match c {
            Constraint::ForeignKey(fk)
                if fk.ref_table.as_str() == parent_table && fk.columns.len() == 1 =>
            {
                Some(fk.columns[0].to_string())
            }
            _ => None,
        })
        .collect();
    match found.as_slice() {
        [one] => Ok(one.clone()),
        [] => Err(mapping(format!(
                "`{}` has no foreign key to `{parent_table}`; declare #[column(foreign_key = \"{parent_table}.id\")]",
                child.name
            ))),
        _ => Err(mapping(format!(
                "`{}` has several foreign keys to `{parent_table}`; name one with #[relationship(foreign_key = \"…\")]",
                child.name
            ))),
    }
}

/// The one-to-many foreign key on the child side: declared on the relationship, on its
/// `back_populates` partner, or the single FK from child to parent.
pub(crate) fn one_to_many_fk<M: Model, T: Model>(def: &RelationshipDef) -> Result<String, Error> {
    let declared = def.foreign_key.or_else(|| {
        def.back_populates.and_then(|back| {
            T::relationships()
                .iter()
                .find(|r| r.name == back)
                .and_then(|r| r.foreign_key)
        })
    });
    foreign_key_to(declared, &T::table(), M::TABLE)
}

/// `posts` → `post_id`, `categories` → `category_id`: the association-table column naming
/// the guide uses (`post_tags.post_id`, `post_tags.tag_id`).
pub(crate) fn association_column(table: &str) -> String {
    let singular = if let Some(stem) = table.strip_suffix("ies") {
        format!("{stem}y")
    } else if let Some(stem) = table.strip_suffix('s') {
        stem.to_owned()
    } else {
        table.to_owned()
    };
    format!("{singular}_id")
}
