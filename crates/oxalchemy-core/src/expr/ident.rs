//! Names: [`Ident`] for any SQL name, [`TableRef`] for a table named in a query.

use std::borrow::Cow;
use std::fmt;

use super::Expr;

/// A table, column, alias, schema or constraint name. Always written quoted (`"name"`, with
/// embedded quotes doubled), so any string is a safe name and case is kept.
///
/// A `&'static str` converts without allocating, which keeps the ORM's per-model column
/// names free.
///
/// ```
/// use oxalchemy_core::Ident;
///
/// let id = Ident::from("user id");
/// assert_eq!(id.as_str(), "user id");
/// assert_eq!(id.to_string(), "user id");
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ident(Cow<'static, str>);

impl Ident {
    /// A name known at compile time, usable in a `const` (the derive macros' column names).
    pub const fn new_static(name: &'static str) -> Self {
        Ident(Cow::Borrowed(name))
    }

    /// The name as written, without quotes.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The name, when it was given as a `&'static str` (the statement cache keys such
    /// names by address instead of copying them).
    pub(crate) fn as_static(&self) -> Option<&'static str> {
        match self.0 {
            Cow::Borrowed(s) => Some(s),
            Cow::Owned(_) => None,
        }
    }
}

impl fmt::Debug for Ident {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

impl fmt::Display for Ident {
    /// The bare name, unquoted (for messages; the compiler quotes it).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&'static str> for Ident {
    fn from(s: &'static str) -> Self {
        Ident(Cow::Borrowed(s))
    }
}

impl From<String> for Ident {
    fn from(s: String) -> Self {
        Ident(Cow::Owned(s))
    }
}

impl From<&Ident> for Ident {
    fn from(s: &Ident) -> Self {
        s.clone()
    }
}

/// A table (or CTE) named in FROM, JOIN, INSERT, UPDATE or DELETE: `"schema"."name" AS
/// "alias"`. Made by [`table`]; its [`TableRef::col`] gives qualified columns.
#[derive(Debug, Clone, PartialEq)]
pub struct TableRef {
    /// The schema the table lives in (`"schema"."name"`); `None` uses the search path.
    pub schema: Option<Ident>,
    /// The table's name.
    pub name: Ident,
    /// An alias (`AS "alias"`), needed to use one table twice in a query.
    pub alias: Option<Ident>,
}

/// Names a table for use in a query.
///
/// ```
/// use oxalchemy_core::{compile, select, table, Sqlite};
///
/// let users = table("users");
/// let stmt = select([users.col("id")]).from(users.clone()).into();
/// assert_eq!(compile(&Sqlite, &stmt).unwrap().sql, r#"SELECT "users"."id" FROM "users""#);
/// ```
pub fn table(name: impl Into<Ident>) -> TableRef {
    TableRef {
        schema: None,
        name: name.into(),
        alias: None,
    }
}

impl TableRef {
    /// The table in `schema`: `"schema"."name"`.
    pub fn schema(mut self, schema: impl Into<Ident>) -> Self {
        self.schema = Some(schema.into());
        self
    }

    /// The table under an alias (`"name" AS "alias"`); its columns are then qualified by the
    /// alias. Use it for self-joins.
    pub fn alias(mut self, alias: impl Into<Ident>) -> Self {
        self.alias = Some(alias.into());
        self
    }

    /// The name columns of this table are qualified with: the alias if any, else the name.
    pub fn qualifier(&self) -> &Ident {
        self.alias.as_ref().unwrap_or(&self.name)
    }

    /// A column of this table, qualified by the table's alias or name: `"users"."id"`.
    pub fn col(&self, name: impl Into<Ident>) -> Expr {
        Expr::Column {
            table: Some(self.qualifier().clone()),
            name: name.into(),
        }
    }

    /// Every column of this table: `"users".*`.
    pub fn star(&self) -> Expr {
        Expr::Star(Some(self.qualifier().clone()))
    }
}
