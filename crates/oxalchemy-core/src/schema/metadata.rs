//! [`MetaData`]: the tables of one schema under one naming convention, and their creation
//! order.

use super::{NamingConvention, Table};

/// A collection of tables with one naming convention, like SQLAlchemy's `MetaData`: what
/// `create_all` creates and what autogenerate compares a database against.
///
/// ```
/// use oxalchemy_core::{Column, MetaData, SqlType, Table};
///
/// let mut md = MetaData::new();
/// md.add(
///     Table::new("posts")
///         .column(Column::new("id", SqlType::BigInteger).primary_key())
///         .column(Column::new("author_id", SqlType::BigInteger).references("users", "id")),
/// );
/// md.add(Table::new("users").column(Column::new("id", SqlType::BigInteger).primary_key()));
/// let order: Vec<&str> = md.sorted_tables().unwrap().iter().map(|t| t.name.as_str()).collect();
/// assert_eq!(order, ["users", "posts"]);
/// ```
#[derive(Debug, Clone, Default)]
pub struct MetaData {
    /// Names the constraints and indexes of tables added from now on.
    pub naming_convention: NamingConvention,
    tables: Vec<Table>,
}

/// Foreign keys between tables form a cycle, so no order creates every table after the
/// tables it references. Returned by [`MetaData::sorted_tables`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
#[error("foreign keys form a cycle between tables {tables:?}; break it with a nullable foreign key added after creation (ALTER TABLE)")]
pub struct DependencyCycle {
    /// The tables that could not be ordered, in registration order: the tables of the cycle
    /// and the tables that depend on them.
    pub tables: Vec<String>,
}

impl MetaData {
    /// Empty metadata with the default naming convention.
    pub fn new() -> Self {
        MetaData::default()
    }

    /// Empty metadata whose tables are named by `convention`.
    pub fn with_naming_convention(convention: NamingConvention) -> Self {
        MetaData {
            naming_convention: convention,
            tables: Vec::new(),
        }
    }

    /// Registers a table, naming its unnamed constraints and indexes. A table with the same
    /// schema and name replaces the earlier one (one name may be in several schemas).
    pub fn add(&mut self, mut table: Table) -> &Table {
        table.apply_naming(&self.naming_convention);
        let pos = match self
            .tables
            .iter()
            .position(|t| t.name == table.name && t.schema == table.schema)
        {
            Some(pos) => {
                self.tables[pos] = table;
                pos
            }
            None => {
                self.tables.push(table);
                self.tables.len() - 1
            }
        };
        &self.tables[pos]
    }
    /// Removes a table (found as [`MetaData::table`] finds it); returns it if it was
    /// registered.
    pub fn remove(&mut self, name: &str) -> Option<Table> {
        let pos = self.position(name)?;
        Some(self.tables.remove(pos))
    }
    /// The table called `name`, if registered: the one in the default schema when the name
    /// is in several; `"schema.name"` names the one in `schema` (when no table is called
    /// that literally).
    pub fn table(&self, name: &str) -> Option<&Table> {
        self.position(name).map(|i| &self.tables[i])
    }
    /// The table `name` of `schema` (`None`: the default schema).
    pub fn table_in(&self, schema: Option<&str>, name: &str) -> Option<&Table> {
        self.tables
            .iter()
            .find(|t| t.name.as_str() == name && t.schema.as_ref().map(|s| s.as_str()) == schema)
    }
    fn position(&self, name: &str) -> Option<usize> {
        let named = |t: &Table| t.name.as_str() == name;
        self.tables
            .iter()
            .position(|t| named(t) && t.schema.is_none())
            .or_else(|| self.tables.iter().position(named))
            .or_else(|| {
                let (schema, bare) = name.split_once('.')?;
                self.tables.iter().position(|t| {
                    t.name.as_str() == bare && t.schema.as_ref().map(|s| s.as_str()) == Some(schema)
                })
            })
    }
    /// Every table, in registration order.
    pub fn tables(&self) -> &[Table] {
        &self.tables
    }
    /// Tables ordered so each comes after the tables it references (creation order; drop in
    /// reverse). Ties keep registration order, so the result is deterministic.
    pub fn sorted_tables(&self) -> Result<Vec<&Table>, DependencyCycle> {
        let mut done = vec![false; self.tables.len()];
        let mut out = Vec::with_capacity(self.tables.len());
        while out.len() < self.tables.len() {
            let next = self.tables.iter().enumerate().position(|(i, t)| {
                !done[i]
                    && t.dependencies().all(|dep| {
                        self.tables
                            .iter()
                            .enumerate()
                            .all(|(j, other)| other.name != *dep || done[j])
                    })
            });
            match next {
                Some(i) => {
                    done[i] = true;
                    out.push(&self.tables[i]);
                }
                None => {
                    return Err(DependencyCycle {
                        tables: self
                            .tables
                            .iter()
                            .enumerate()
                            .filter(|(i, _)| !done[*i])
                            .map(|(_, t)| t.name.to_string())
                            .collect(),
                    })
                }
            }
        }
        Ok(out)
    }
}
