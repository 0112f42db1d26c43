//! DDL statements built from metadata: CREATE / DROP TABLE, CREATE / DROP INDEX, and
//! PostgreSQL's CREATE / DROP TYPE for native enums. Compile them with [`crate::compile`].

use crate::expr::{Ident, TableRef};

use super::{Index, Table};

/// `CREATE TABLE` with inline PRIMARY KEY, UNIQUE, CHECK and FOREIGN KEY constraints; made
/// by [`Table::create`]. Constraints still unnamed get the default naming convention's names.
#[derive(Debug, Clone, PartialEq)]
pub struct CreateTable {
    /// The table to create.
    pub table: Table,
    /// `CREATE TABLE IF NOT EXISTS`
    pub if_not_exists: bool,
}

impl CreateTable {
    /// `CREATE TABLE IF NOT EXISTS`: no error when the table exists (it is not compared).
    pub fn if_not_exists(mut self) -> Self {
        self.if_not_exists = true;
        self
    }
}

/// `DROP TABLE [IF EXISTS] t`; made by [`Table::drop`].
#[derive(Debug, Clone, PartialEq)]
pub struct DropTable {
    /// The table to drop (an alias is ignored).
    pub table: TableRef,
    /// `DROP TABLE IF EXISTS`
    pub if_exists: bool,
}

impl DropTable {
    /// `DROP TABLE IF EXISTS`: no error when the table is missing.
    pub fn if_exists(mut self) -> Self {
        self.if_exists = true;
        self
    }
}

/// `CREATE [UNIQUE] INDEX name ON t (columns)`; made by [`Table::create_indexes`].
#[derive(Debug, Clone, PartialEq)]
pub struct CreateIndex {
    /// The indexed table (an alias is ignored).
    pub table: TableRef,
    /// The index; an unnamed one gets the default naming convention's name.
    pub index: Index,
    /// `CREATE INDEX IF NOT EXISTS`
    pub if_not_exists: bool,
}

impl CreateIndex {
    /// `CREATE INDEX IF NOT EXISTS`: no error when an index of that name exists.
    pub fn if_not_exists(mut self) -> Self {
        self.if_not_exists = true;
        self
    }
}

/// `DROP INDEX [IF EXISTS] ["schema".]name`
#[derive(Debug, Clone, PartialEq)]
pub struct DropIndex {
    /// The schema the index lives in (its table's).
    pub schema: Option<Ident>,
    /// The index's name.
    pub name: Ident,
    /// `DROP INDEX IF EXISTS`
    pub if_exists: bool,
}

impl DropIndex {
    /// Drops the index called `name` (in the search path's schema).
    pub fn new(name: impl Into<Ident>) -> Self {
        DropIndex {
            schema: None,
            name: name.into(),
            if_exists: false,
        }
    }

    /// `DROP INDEX IF EXISTS`: no error when the index is missing.
    pub fn if_exists(mut self) -> Self {
        self.if_exists = true;
        self
    }
}

/// `CREATE TYPE name AS ENUM (…)`: the PostgreSQL type behind a native
/// [`crate::SqlType::Enum`]; made by [`Table::native_enums`]. SQLite has no such type
/// (compiling it there is [`crate::CompileError::Unsupported`]).
#[derive(Debug, Clone, PartialEq)]
pub struct CreateEnumType {
    /// The type's name.
    pub name: Ident,
    /// The allowed values, in order (they sort in this order).
    pub variants: Vec<String>,
}

/// `DROP TYPE [IF EXISTS] name` (PostgreSQL).
#[derive(Debug, Clone, PartialEq)]
pub struct DropEnumType {
    /// The type's name.
    pub name: Ident,
    /// `DROP TYPE IF EXISTS`
    pub if_exists: bool,
}
