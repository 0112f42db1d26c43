//! [`MetaData`]: the tables of one schema under one naming convention, and their creation
//! order.
//!
//! Foreign keys between tables may form a cycle (a user's favourite post, a post's
//! author). [`MetaData::creation_order`] then leaves out as few foreign keys as it can —
//! nullable ones first, each one on a cycle — so the tables can be created in order and
//! those keys added after with `ALTER TABLE` (SQLAlchemy's `use_alter`, which it also
//! applies by itself to cycles). [`MetaData::sorted_tables`] keeps refusing cycles: a
//! caller of it creates every foreign key inline.

use super::{Constraint, ForeignKey, NamingConvention, Table};

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
#[error("foreign keys form a cycle between tables {tables:?}; use `MetaData::creation_order` (as create_all, drop_all and autogenerate do), which adds the cycle's foreign keys after creation with ALTER TABLE")]
pub struct DependencyCycle {
    /// The tables that could not be ordered, in registration order: the tables of the cycle
    /// and the tables that depend on them.
    pub tables: Vec<String>,
}

/// The order to create a [`MetaData`]'s tables in when foreign keys may form cycles; made by
/// [`MetaData::creation_order`]. Create [`tables`](Self::tables) in order without the
/// [`deferred`](Self::deferred) foreign keys, then add those with `ALTER TABLE`; drop in
/// the reverse order after dropping them.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct CreationOrder<'a> {
    /// Every table, each after the tables it references through foreign keys that are not
    /// deferred. Ties keep registration order.
    pub tables: Vec<&'a Table>,
    /// The foreign keys left out to break cycles, with their tables, in the order they were
    /// chosen. Empty when there is no cycle.
    pub deferred: Vec<(&'a Table, &'a ForeignKey)>,
}

impl CreationOrder<'_> {
    /// Whether `fk` of `table` is one of the deferred foreign keys.
    pub fn is_deferred(&self, table: &Table, fk: &ForeignKey) -> bool {
        self.deferred
            .iter()
            .any(|(t, f)| std::ptr::eq(*t, table) && std::ptr::eq(*f, fk))
    }

    /// `table` without its deferred foreign keys: what to create before they are added.
    pub fn without_deferred(&self, table: &Table) -> Table {
        let mut t = table.clone();
        t.constraints = table
            .constraints
            .iter()
            .filter(|c| !matches!(c, Constraint::ForeignKey(fk) if self.is_deferred(table, fk)))
            .cloned()
            .collect();
        t
    }
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
    /// The creation order, breaking foreign-key cycles: when no table can come next, one
    /// foreign key on a cycle (a nullable one if the cycle has one; else the first in
    /// registration order) is deferred, and so on until every table is ordered. Never
    /// fails and never drops a foreign key: each one is either inline in its table or in
    /// [`CreationOrder::deferred`].
    ///
    /// ```
    /// use oxalchemy_core::{Column, MetaData, SqlType, Table};
    ///
    /// let mut md = MetaData::new();
    /// md.add(
    ///     Table::new("users")
    ///         .column(Column::new("id", SqlType::BigInteger).primary_key())
    ///         .column(Column::new("favorite_post_id", SqlType::BigInteger).references("posts", "id")),
    /// );
    /// md.add(
    ///     Table::new("posts")
    ///         .column(Column::new("id", SqlType::BigInteger).primary_key())
    ///         .column(Column::new("author_id", SqlType::BigInteger).not_null().references("users", "id")),
    /// );
    /// assert!(md.sorted_tables().is_err());
    /// let order = md.creation_order();
    /// let names: Vec<&str> = order.tables.iter().map(|t| t.name.as_str()).collect();
    /// assert_eq!(names, ["users", "posts"]);
    /// assert_eq!(order.deferred.len(), 1);
    /// assert_eq!(order.deferred[0].0.name.as_str(), "users"); // the nullable one
    /// ```
    pub fn creation_order(&self) -> CreationOrder<'_> {
        let n = self.tables.len();
        // edges[i]: (constraint index in table i, indexes of the tables it references).
        let edges: Vec<Vec<(usize, Vec<usize>)>> = self
            .tables
            .iter()
            .map(|t| {
                t.constraints
                    .iter()
                    .enumerate()
                    .filter_map(|(ci, c)| match c {
                        Constraint::ForeignKey(fk) if fk.ref_table != t.name => {
                            let targets: Vec<usize> = (0..n)
                                .filter(|&j| self.tables[j].name == fk.ref_table)
                                .collect();
                            Some((ci, targets))
                        }
                        _ => None,
                    })
                    .collect()
            })
            .collect();
        let mut cut: Vec<(usize, usize)> = Vec::new();
        let mut done = vec![false; n];
        let mut order = Vec::with_capacity(n);
        while order.len() < n {
            let next = (0..n).find(|&i| {
                !done[i]
                    && edges[i].iter().all(|(ci, targets)| {
                        cut.contains(&(i, *ci)) || targets.iter().all(|&j| done[j])
                    })
            });
            if let Some(i) = next {
                done[i] = true;
                order.push(i);
                continue;
            }
            // Every remaining table waits on another: defer one foreign key on a cycle.
            let live = |from: usize, ci: usize| !cut.contains(&(from, ci));
            let reaches = |start: usize, goal: usize| {
                let mut seen = vec![false; n];
                let mut stack = vec![start];
                while let Some(k) = stack.pop() {
                    if k == goal {
                        return true;
                    }
                    if std::mem::replace(&mut seen[k], true) {
                        continue;
                    }
                    for (ci, targets) in &edges[k] {
                        if live(k, *ci) {
                            stack.extend(targets.iter().copied().filter(|&j| !done[j]));
                        }
                    }
                }
                false
            };
            let mut candidates = Vec::new();
            for i in (0..n).filter(|&i| !done[i]) {
                for (ci, targets) in &edges[i] {
                    if live(i, *ci) && targets.iter().any(|&j| !done[j] && reaches(j, i)) {
                        candidates.push((i, *ci));
                    }
                }
            }
            let nullable = |&(i, ci): &(usize, usize)| {
                let t = &self.tables[i];
                match &t.constraints[ci] {
                    Constraint::ForeignKey(fk) => fk.columns.iter().all(|c| {
                        t.columns
                            .iter()
                            .any(|col| col.name == *c && col.nullable && !col.primary_key)
                    }),
                    _ => false,
                }
            };
            let chosen = candidates
                .iter()
                .find(|c| nullable(c))
                .or(candidates.first())
                .copied();
            match chosen {
                Some(c) => cut.push(c),
                // Not reachable (a stuck table always waits on a cycle), but never loop.
                None => {
                    order.extend((0..n).filter(|&i| !done[i]));
                    break;
                }
            }
        }
        CreationOrder {
            tables: order.into_iter().map(|i| &self.tables[i]).collect(),
            deferred: cut
                .into_iter()
                .filter_map(|(i, ci)| match &self.tables[i].constraints[ci] {
                    Constraint::ForeignKey(fk) => Some((&self.tables[i], fk)),
                    _ => None,
                })
                .collect(),
        }
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
