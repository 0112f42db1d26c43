//! The explicit list of models that makes a `MetaData`.
//!
//! Explicit rather than link-time registration (inventory/linkme): a model in a module that
//! is not linked would silently vanish from `create_all` and autogenerate, and link-time
//! collection is unsupported on some targets. A list is visible, ordered and testable.

use oxalchemy_core::schema::{Constraint, MetaData, NamingConvention, Table};

use crate::model::{Model, RelationshipDef, RelationshipKind};

/// Builds the `MetaData` of an application: `Registry::new().model::<User>().model::<Post>()`.
#[derive(Debug, Default)]
pub struct Registry {
    metadata: MetaData,
    relationships: Vec<(&'static str, RelationshipDef)>,
}

/// A relationship that points at something not registered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{model}.{relationship}: {problem}")]
pub struct RegistryError {
    pub model: &'static str,
    pub relationship: &'static str,
    pub problem: String,
}

impl Registry {
    /// An empty registry with the default naming convention.
    pub fn new() -> Self {
        Registry::default()
    }
    /// An empty registry whose `MetaData` names unnamed constraints and indexes by
    /// `convention` (SQLAlchemy's `MetaData(naming_convention=…)`).
    pub fn with_naming_convention(convention: NamingConvention) -> Self {
        Registry {
            metadata: MetaData::with_naming_convention(convention),
            relationships: Vec::new(),
        }
    }
    /// Registers a model's table.
    pub fn model<M: Model>(mut self) -> Self {
        self.metadata.add(M::table());
        self.relationships
            .extend(M::relationships().iter().map(|r| (M::NAME, *r)));
        self
    }
    /// Registers a table without a struct, e.g. an association table (SQLAlchemy's `Table(…)`).
    pub fn table(mut self, table: Table) -> Self {
        self.metadata.add(table);
        self
    }
    /// Checks that every relationship's target, association table and back_populates exist,
    /// and that every index and constraint names columns its table has.
    pub fn check(&self) -> Result<(), RegistryError> {
        for t in self.metadata.tables() {
            let declared = t
                .indexes
                .iter()
                .map(|ix| (ix.name.as_ref(), &ix.columns))
                .chain(t.constraints.iter().filter_map(|c| match c {
                    Constraint::Unique { name, columns } => Some((name.as_ref(), columns)),
                    Constraint::ForeignKey(fk) => Some((fk.name.as_ref(), &fk.columns)),
                    Constraint::Check { .. } => None,
                }));
            for (name, columns) in declared {
                if let Some(missing) = columns
                    .iter()
                    .find(|c| t.column_named(c.as_str()).is_none())
                {
                    return Err(RegistryError {
                        model: "table",
                        relationship: "",
                        problem: format!(
                            "`{}`: {} names column `{missing}`, which the table does not have",
                            t.name,
                            name.map(|n| n.to_string())
                                .unwrap_or_else(|| "an index".into())
                        ),
                    });
                }
            }
        }
        for (model, r) in &self.relationships {
            let err = |problem: String| RegistryError {
                model,
                relationship: r.name,
                problem,
            };
            if self.metadata.table(r.target).is_none() {
                return Err(err(format!(
                    "target table `{}` is not registered; add .model::<…>() for it",
                    r.target
                )));
            }
            if let Some(sec) = r.secondary {
                if self.metadata.table(sec).is_none() {
                    return Err(err(format!(
                        "association table `{sec}` is not registered; add .table(…) for it"
                    )));
                }
            } else if r.kind == RelationshipKind::ManyToMany {
                return Err(err("a many-to-many relationship needs `secondary`".into()));
            }
            if let Some(back) = r.back_populates {
                let found = self
                    .relationships
                    .iter()
                    .any(|(_, other)| other.name == back && other.back_populates == Some(r.name));
                if !found {
                    return Err(err(format!(
                        "back_populates = \"{back}\" has no matching relationship pointing back"
                    )));
                }
            }
        }
        Ok(())
    }
    /// The finished `MetaData` (constraints and indexes named by the convention).
    pub fn metadata(self) -> MetaData {
        self.metadata
    }
}
