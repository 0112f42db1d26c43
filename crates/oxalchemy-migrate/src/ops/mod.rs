//! Migration operations and their SQL per dialect.
//!
//! Every operation knows how to change a schema *state* ([`Op::apply_to`]) as well as how to
//! render SQL ([`Op::render`]). The state is what SQLite's table-rebuild "batch mode" needs
//! (the table as it was and as it will be), and it works offline (`--sql`) because it is
//! simulated from the migrations themselves, not read from a database.
//!
//! * `builder`: [`Ops`], the DSL migrations are written in.
//! * `state`: [`Op::apply_to`].
//! * `render`: [`Op::render`].
//! * `sqlite_batch`: SQLite's table rebuild.

mod builder;
pub(crate) mod mysql;
mod render;
mod sqlite_batch;
mod state;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use oxalchemy_core::dialect::quote_ident;
use oxalchemy_core::expr::TextSql;
use oxalchemy_core::schema::{Column, Constraint, Identity, Index, Table};
use oxalchemy_core::{CompileError, Compiled, SqlType};
use oxalchemy_engine::{Connection, Error as EngineError};

pub use builder::Ops;
pub(crate) use render::has_comments;

/// Why an operation cannot be planned or rendered.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OpError {
    /// The operation names a table the migrations before it never created (or dropped).
    ///
    /// Online, the runner first reads a table no migration created from the database, so
    /// there this means the database does not have it either. Offline (`--sql`) has only
    /// the migrations: a table made by `create_all` or another tool needs a baseline
    /// migration that creates it (applied with `stamp` where the table already exists).
    #[error(
        "table `{0}` does not exist in the schema at this point of the migration history; \
         check the table name and the order of the migrations. If the table exists in the \
         database but no migration created it (create_all, another tool): online runs read \
         it from the database, offline (--sql) needs a baseline migration that creates \
         `{0}` (then `stamp` it where the table exists)"
    )]
    NoSuchTable(String),
    /// The operation names a column its table does not have at that point.
    #[error(
        "column `{table}.{column}` does not exist at this point of the migration history; \
         check the column name and the order of the operations"
    )]
    NoSuchColumn {
        /// The table.
        table: String,
        /// The missing column.
        column: String,
    },
    /// A drop names a constraint or index the table does not have at that point.
    #[error(
        "constraint or index `{name}` does not exist on `{table}`; give the name it was \
         created with (`history` and the migration files show it)"
    )]
    NoSuchConstraint {
        /// The table.
        table: String,
        /// The missing constraint's or index's name.
        name: String,
    },
    /// The operation's DDL or SQL text cannot be compiled for the dialect.
    #[error(transparent)]
    Compile(#[from] CompileError),
}

/// A data migration written in Rust: runs with the migration's connection, inside its
/// transaction. It cannot be rendered as SQL (`--sql` prints a comment instead).
pub type DataMigration = Arc<
    dyn for<'c> Fn(
            &'c mut Connection,
        ) -> Pin<Box<dyn Future<Output = Result<(), EngineError>> + Send + 'c>>
        + Send
        + Sync,
>;

/// Changes to a column (`None`: unchanged).
#[derive(Clone, Default, PartialEq)]
pub struct ColumnChange {
    /// The new type.
    pub ty: Option<SqlType>,
    /// The new nullability.
    pub nullable: Option<bool>,
    /// The new server default (SQL text); `Some(None)` drops the default.
    pub server_default: Option<Option<String>>,
    /// The new name.
    pub rename_to: Option<String>,
    /// The new comment; `Some(None)` removes it (PostgreSQL; SQLite keeps no comments).
    pub comment: Option<Option<String>>,
    /// The new collation; `Some(None)` returns to the type's default collation.
    pub collation: Option<Option<String>>,
    /// New identity options of an identity column (PostgreSQL).
    pub identity: Option<Identity>,
}

// By hand, not derived: migration checksums of existing version tables were computed from
// the derived text, so the fields added since print only when set.
impl fmt::Debug for ColumnChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("ColumnChange");
        d.field("ty", &self.ty)
            .field("nullable", &self.nullable)
            .field("server_default", &self.server_default)
            .field("rename_to", &self.rename_to);
        if let Some(c) = &self.comment {
            d.field("comment", c);
        }
        if let Some(c) = &self.collation {
            d.field("collation", c);
        }
        if let Some(i) = &self.identity {
            d.field("identity", i);
        }
        d.finish()
    }
}

/// One migration operation.
#[derive(Clone)]
pub enum Op {
    /// Creates a table with its constraints and indexes.
    CreateTable(Table),
    /// Drops the named table.
    DropTable(String),
    /// Renames a table.
    RenameTable {
        /// The current name.
        from: String,
        /// The new name.
        to: String,
    },
    /// Adds a column.
    AddColumn {
        /// The table.
        table: String,
        /// The new column.
        column: Column,
    },
    /// Drops a column.
    DropColumn {
        /// The table.
        table: String,
        /// The column to drop.
        column: String,
    },
    /// Changes a column.
    AlterColumn {
        /// The table.
        table: String,
        /// The column, by its name before the change.
        column: String,
        /// What changes.
        change: ColumnChange,
    },
    /// Creates an index.
    CreateIndex {
        /// The table.
        table: String,
        /// The index.
        index: Index,
    },
    /// Drops an index.
    DropIndex {
        /// The table the index is on.
        table: String,
        /// The index's name.
        name: String,
    },
    /// Adds a UNIQUE, CHECK or FOREIGN KEY constraint.
    AddConstraint {
        /// The table.
        table: String,
        /// The constraint.
        constraint: Constraint,
    },
    /// Drops a constraint.
    DropConstraint {
        /// The table.
        table: String,
        /// The constraint's name.
        name: String,
    },
    /// Sets or removes a table's comment (PostgreSQL; nothing on SQLite, which keeps none).
    SetTableComment {
        /// The table.
        table: String,
        /// The new comment; `None` removes it.
        comment: Option<String>,
    },
    /// Raw SQL with bound parameters.
    Execute(TextSql),
    /// Rust code with the connection (data migration).
    Run {
        /// A name for the code, printed by `--sql` in its place.
        label: String,
        /// The code.
        f: DataMigration,
    },
}

impl fmt::Debug for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Op::CreateTable(t) => write!(f, "CreateTable({t:?})"),
            Op::DropTable(t) => write!(f, "DropTable({t})"),
            Op::RenameTable { from, to } => write!(f, "RenameTable({from} -> {to})"),
            Op::AddColumn { table, column } => write!(f, "AddColumn({table}, {column:?})"),
            Op::DropColumn { table, column } => write!(f, "DropColumn({table}.{column})"),
            Op::AlterColumn {
                table,
                column,
                change,
            } => write!(f, "AlterColumn({table}.{column}, {change:?})"),
            Op::CreateIndex { table, index } => write!(f, "CreateIndex({table}, {index:?})"),
            Op::DropIndex { table, name } => write!(f, "DropIndex({table}, {name})"),
            Op::AddConstraint { table, constraint } => {
                write!(f, "AddConstraint({table}, {constraint:?})")
            }
            Op::DropConstraint { table, name } => write!(f, "DropConstraint({table}, {name})"),
            Op::SetTableComment { table, comment } => {
                write!(f, "SetTableComment({table}, {comment:?})")
            }
            Op::Execute(t) => write!(f, "Execute({t:?})"),
            Op::Run { label, .. } => write!(f, "Run({label})"),
        }
    }
}

/// What one operation turns into on a dialect.
#[derive(Clone)]
pub enum Step {
    /// A statement to execute.
    Sql(Compiled),
    /// A data migration (Rust code), with its label.
    Run(String, DataMigration),
}

impl fmt::Debug for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::Sql(c) => write!(f, "Sql({:?})", c.sql),
            Step::Run(label, _) => write!(f, "Run({label})"),
        }
    }
}

/// A name quoted as an identifier.
fn quoted(name: &str) -> String {
    let mut out = String::new();
    quote_ident(&mut out, name);
    out
}

impl Op {
    /// The table an operation changes, if any.
    pub fn table(&self) -> Option<&str> {
        match self {
            Op::CreateTable(t) => Some(t.name.as_str()),
            Op::DropTable(t) => Some(t),
            Op::RenameTable { from, .. } => Some(from),
            Op::AddColumn { table, .. }
            | Op::DropColumn { table, .. }
            | Op::AlterColumn { table, .. }
            | Op::CreateIndex { table, .. }
            | Op::DropIndex { table, .. }
            | Op::AddConstraint { table, .. }
            | Op::DropConstraint { table, .. }
            | Op::SetTableComment { table, .. } => Some(table),
            Op::Execute(_) | Op::Run { .. } => None,
        }
    }
}
