//! Table-level constraints ([`Constraint`], [`ForeignKey`]) and indexes ([`Index`]).

use crate::expr::Ident;

use super::ReferentialAction;

/// A table constraint: UNIQUE, CHECK or FOREIGN KEY. (The primary key is declared on its
/// columns, and named by [`super::Table::primary_key_name`].)
///
/// An unnamed constraint gets its name from the naming convention when its table joins a
/// [`super::MetaData`] or is created.
#[derive(Debug, Clone, PartialEq)]
pub enum Constraint {
    /// `CONSTRAINT name UNIQUE (columns)`
    Unique {
        /// The constraint's name; `None` until the naming convention fills it.
        name: Option<Ident>,
        /// The columns whose combination must be unique.
        columns: Vec<Ident>,
    },
    /// A CHECK with SQL text written by the schema's author. `label` feeds the naming
    /// convention's `{constraint_name}` when `name` is not given.
    Check {
        /// The constraint's name; `None` until the naming convention fills it.
        name: Option<Ident>,
        /// A short label for the convention's `{constraint_name}` (`ck_{table}_{label}`).
        label: String,
        /// The condition, as SQL (inlined in DDL, never bound).
        sql: String,
    },
    /// `CONSTRAINT name FOREIGN KEY (columns) REFERENCES table (columns)`
    ForeignKey(ForeignKey),
}

/// A foreign key: `columns` of this table reference `ref_columns` of `ref_table`.
#[derive(Debug, Clone, PartialEq)]
pub struct ForeignKey {
    /// The constraint's name; `None` until the naming convention fills it.
    pub name: Option<Ident>,
    /// The referencing columns of this table.
    pub columns: Vec<Ident>,
    /// The referenced table (in the same schema).
    pub ref_table: Ident,
    /// The referenced columns, one per referencing column (usually the primary key).
    pub ref_columns: Vec<Ident>,
    /// What deleting a referenced row does; `None` is the database default (NO ACTION).
    pub on_delete: Option<ReferentialAction>,
    /// What changing a referenced key does; `None` is the database default (NO ACTION).
    pub on_update: Option<ReferentialAction>,
}

/// An index on a table's columns, created with `CREATE [UNIQUE] INDEX` after the table.
///
/// ```
/// use oxalchemy_core::{Index, MetaData, SqlType, Table, Column};
///
/// let mut md = MetaData::new();
/// let t = md.add(
///     Table::new("posts")
///         .column(Column::new("author_id", SqlType::BigInteger))
///         .column(Column::new("created", SqlType::DateTime { timezone: true }))
///         .index(Index::new(["author_id", "created"])),
/// );
/// assert_eq!(t.indexes[0].name.as_ref().unwrap().as_str(), "ix_posts_author_id_created");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Index {
    /// The index's name; `None` until the naming convention fills it.
    pub name: Option<Ident>,
    /// The indexed columns, in key order.
    pub columns: Vec<Ident>,
    /// A UNIQUE index.
    pub unique: bool,
}

impl Index {
    /// A non-unique index on `columns`, named by the naming convention.
    pub fn new<I>(columns: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<Ident>,
    {
        Index {
            name: None,
            columns: columns.into_iter().map(Into::into).collect(),
            unique: false,
        }
    }

    /// Gives the index exactly this name (the naming convention is not applied).
    pub fn named(mut self, name: impl Into<Ident>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// A UNIQUE index: also enforces that the columns' combination is unique.
    pub fn unique(mut self) -> Self {
        self.unique = true;
        self
    }
}
