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
///
/// Built with [`ForeignKey::new`] and its builder methods; the fields are public to read.
/// It is `#[non_exhaustive]`, so options added later do not break code that builds one.
///
/// ```
/// use oxalchemy_core::{ForeignKey, ReferentialAction};
///
/// let fk = ForeignKey::new(["user_id"], "users", ["id"])
///     .named("fk_orders_user")
///     .on_delete(ReferentialAction::Cascade)
///     .initially_deferred();
/// assert!(fk.deferrable && fk.initially_deferred);
/// ```
#[derive(Clone, PartialEq)]
#[non_exhaustive]
pub struct ForeignKey {
    /// The constraint's name; `None` until the naming convention fills it.
    pub name: Option<Ident>,
    /// The referencing columns of this table.
    pub columns: Vec<Ident>,
    /// The referenced table.
    pub ref_table: Ident,
    /// The referenced table's schema; `None`: the referencing table's own schema.
    pub ref_schema: Option<Ident>,
    /// The referenced columns, one per referencing column (usually the primary key).
    pub ref_columns: Vec<Ident>,
    /// What deleting a referenced row does; `None` is the database default (NO ACTION).
    pub on_delete: Option<ReferentialAction>,
    /// What changing a referenced key does; `None` is the database default (NO ACTION).
    pub on_update: Option<ReferentialAction>,
    /// `DEFERRABLE`: the check may be deferred to the end of the transaction.
    pub deferrable: bool,
    /// `INITIALLY DEFERRED` (with `deferrable`): checked at commit unless told otherwise.
    pub initially_deferred: bool,
}

impl ForeignKey {
    /// `FOREIGN KEY (columns) REFERENCES ref_table (ref_columns)`, unnamed (the naming
    /// convention names it), with the databases' default actions.
    pub fn new<C, R>(columns: C, ref_table: impl Into<Ident>, ref_columns: R) -> Self
    where
        C: IntoIterator,
        C::Item: Into<Ident>,
        R: IntoIterator,
        R::Item: Into<Ident>,
    {
        ForeignKey {
            name: None,
            columns: columns.into_iter().map(Into::into).collect(),
            ref_table: ref_table.into(),
            ref_schema: None,
            ref_columns: ref_columns.into_iter().map(Into::into).collect(),
            on_delete: None,
            on_update: None,
            deferrable: false,
            initially_deferred: false,
        }
    }

    /// Gives the constraint exactly this name.
    pub fn named(mut self, name: impl Into<Ident>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// The referenced table is in `schema` (`REFERENCES "schema"."table"`), not in the
    /// referencing table's schema.
    pub fn ref_schema(mut self, schema: impl Into<Ident>) -> Self {
        self.ref_schema = Some(schema.into());
        self
    }

    /// `ON DELETE action`.
    pub fn on_delete(mut self, action: ReferentialAction) -> Self {
        self.on_delete = Some(action);
        self
    }

    /// `ON UPDATE action`.
    pub fn on_update(mut self, action: ReferentialAction) -> Self {
        self.on_update = Some(action);
        self
    }

    /// `DEFERRABLE` (`INITIALLY IMMEDIATE`): a transaction may defer the check to its end
    /// with `SET CONSTRAINTS … DEFERRED`.
    pub fn deferrable(mut self) -> Self {
        self.deferrable = true;
        self
    }

    /// `DEFERRABLE INITIALLY DEFERRED`: checked at commit unless a transaction says
    /// otherwise. Implies [`ForeignKey::deferrable`].
    pub fn initially_deferred(mut self) -> Self {
        self.deferrable = true;
        self.initially_deferred = true;
        self
    }
}

// By hand, not derived: the fields added since the first release print only when set, so
// migration checksums computed from this text stay what version tables recorded.
impl std::fmt::Debug for ForeignKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut d = f.debug_struct("ForeignKey");
        d.field("name", &self.name)
            .field("columns", &self.columns)
            .field("ref_table", &self.ref_table)
            .field("ref_columns", &self.ref_columns)
            .field("on_delete", &self.on_delete)
            .field("on_update", &self.on_update);
        if self.deferrable {
            d.field("deferrable", &self.deferrable);
        }
        if let Some(s) = &self.ref_schema {
            d.field("ref_schema", s);
        }
        if self.initially_deferred {
            d.field("initially_deferred", &self.initially_deferred);
        }
        d.finish()
    }
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
#[derive(Clone, PartialEq)]
pub struct Index {
    /// The index's name; `None` until the naming convention fills it.
    pub name: Option<Ident>,
    /// The indexed columns, in key order.
    pub columns: Vec<Ident>,
    /// A UNIQUE index.
    pub unique: bool,
    /// Key expressions after the columns, as SQL text (`lower(email)`): an expression index.
    pub expressions: Vec<String>,
    /// `WHERE …`: a partial index over the rows the condition holds for (SQL text).
    pub where_clause: Option<String>,
}

// By hand, not derived: see `ForeignKey`'s Debug.
impl std::fmt::Debug for Index {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut d = f.debug_struct("Index");
        d.field("name", &self.name)
            .field("columns", &self.columns)
            .field("unique", &self.unique);
        if !self.expressions.is_empty() {
            d.field("expressions", &self.expressions);
        }
        if let Some(w) = &self.where_clause {
            d.field("where_clause", w);
        }
        d.finish()
    }
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
            expressions: Vec::new(),
            where_clause: None,
        }
    }

    /// An index on SQL expressions (`lower(email)`), written after any columns; give it a
    /// name with [`Index::named`] (the naming convention sees only columns).
    ///
    /// ```
    /// use oxalchemy_core::Index;
    ///
    /// let ix = Index::on_expressions(["lower(email)"])
    ///     .named("ix_users_email_lower")
    ///     .unique()
    ///     .where_("deleted_at IS NULL");
    /// assert_eq!(ix.expressions, ["lower(email)"]);
    /// ```
    pub fn on_expressions<I>(expressions: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        let mut ix = Index::new(Vec::<Ident>::new());
        ix.expressions = expressions.into_iter().map(Into::into).collect();
        ix
    }

    /// Adds a key expression (SQL text) after the columns.
    pub fn expression(mut self, sql: impl Into<String>) -> Self {
        self.expressions.push(sql.into());
        self
    }

    /// A partial index: only rows where `sql` holds are indexed (`WHERE deleted_at IS NULL`).
    pub fn where_(mut self, sql: impl Into<String>) -> Self {
        self.where_clause = Some(sql.into());
        self
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
