//! [`Ops`]: the DSL a migration's `upgrade` / `downgrade` functions fill, the lints its
//! author accepted for each operation, and which index builds run concurrently (outside the
//! migration's transaction on PostgreSQL).
//!
//! Both are kept beside the operations, not in them, so an operation's `Debug` (which the
//! migration checksum hashes) is the same with or without them.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use oxalchemy_core::expr::TextSql;
use oxalchemy_core::schema::{Column, Constraint, Index, Table};
use oxalchemy_engine::{Connection, Error as EngineError};

use super::{ColumnChange, Op};

/// The operations of one migration direction, built with the ops DSL:
/// `ops.add_column("users", Column::new("status", SqlType::String(Some(20))))`.
#[derive(Debug, Clone, Default)]
pub struct Ops {
    pub(crate) ops: Vec<Op>,
    /// (operation index, lint code) pairs the author accepted.
    allowed: Vec<(usize, &'static str)>,
    /// Indexes of the operations marked [`Ops::concurrently`].
    concurrent: Vec<usize>,
}

impl Ops {
    /// No operations yet.
    pub fn new() -> Self {
        Ops::default()
    }

    /// The operations, in the order they run.
    pub fn ops(&self) -> &[Op] {
        &self.ops
    }

    /// Adds an operation built by hand (the methods below build each kind).
    pub fn push(&mut self, op: Op) -> &mut Self {
        self.ops.push(op);
        self
    }

    /// Accepts a lint (see [`crate::lint`]) for the operation added last:
    /// `ops.drop_column("users", "legacy").allow("drop-column")`.
    pub fn allow(&mut self, code: &'static str) -> &mut Self {
        if let Some(last) = self.ops.len().checked_sub(1) {
            self.allowed.push((last, code));
        }
        self
    }

    /// Whether lint `code` was accepted for operation `op`.
    pub fn is_allowed(&self, op: usize, code: &str) -> bool {
        self.allowed.iter().any(|(i, c)| *i == op && *c == code)
    }

    /// Builds the index added last by [`Ops::create_index`] without blocking writes to its
    /// table: `ops.create_index("users", ix).concurrently()`.
    ///
    /// On PostgreSQL this is `CREATE INDEX CONCURRENTLY`, which cannot run in a
    /// transaction: the runner commits the operations before it, builds the index on its
    /// own (Alembic's `autocommit_block`), then runs the rest in a new transaction, holding
    /// the migration lock throughout. If the build fails, the operations before it stay
    /// applied and PostgreSQL leaves an invalid index to drop before retrying, so a
    /// concurrent index is best in a migration of its own. The build waits for every
    /// older transaction of the database to end (PostgreSQL's rule, without a timeout,
    /// since waiting does not block the application), and other runners wait for it. On
    /// SQLite it is a plain
    /// `CREATE INDEX` in the migration's transaction. The runner refuses it after any
    /// other operation. It is not part of the migration's checksum.
    pub fn concurrently(&mut self) -> &mut Self {
        if let Some(last) = self.ops.len().checked_sub(1) {
            self.concurrent.push(last);
        }
        self
    }

    /// Whether operation `op` was marked [`Ops::concurrently`].
    pub fn is_concurrent(&self, op: usize) -> bool {
        self.concurrent.contains(&op)
    }

    /// Creates a table with its constraints and indexes.
    pub fn create_table(&mut self, table: Table) -> &mut Self {
        self.push(Op::CreateTable(table))
    }

    /// Drops a table.
    pub fn drop_table(&mut self, name: &str) -> &mut Self {
        self.push(Op::DropTable(name.to_owned()))
    }

    /// Renames a table.
    pub fn rename_table(&mut self, from: &str, to: &str) -> &mut Self {
        self.push(Op::RenameTable {
            from: from.to_owned(),
            to: to.to_owned(),
        })
    }

    /// Adds a column to an existing table.
    pub fn add_column(&mut self, table: &str, column: Column) -> &mut Self {
        self.push(Op::AddColumn {
            table: table.to_owned(),
            column,
        })
    }

    /// Drops a column (a table rebuild on SQLite when a constraint or index uses it).
    pub fn drop_column(&mut self, table: &str, column: &str) -> &mut Self {
        self.push(Op::DropColumn {
            table: table.to_owned(),
            column: column.to_owned(),
        })
    }

    /// Changes a column's type, nullability, server default or name (a table rebuild on
    /// SQLite for all but the name).
    pub fn alter_column(&mut self, table: &str, column: &str, change: ColumnChange) -> &mut Self {
        self.push(Op::AlterColumn {
            table: table.to_owned(),
            column: column.to_owned(),
            change,
        })
    }

    /// Renames a column: [`Ops::alter_column`] with only `rename_to`.
    pub fn rename_column(&mut self, table: &str, from: &str, to: &str) -> &mut Self {
        self.alter_column(
            table,
            from,
            ColumnChange {
                rename_to: Some(to.to_owned()),
                ..ColumnChange::default()
            },
        )
    }

    /// Creates an index on an existing table.
    pub fn create_index(&mut self, table: &str, index: Index) -> &mut Self {
        self.push(Op::CreateIndex {
            table: table.to_owned(),
            index,
        })
    }

    /// Sets (`Some`) or removes (`None`) a table's comment (PostgreSQL; nothing on SQLite,
    /// which keeps no comments).
    pub fn set_table_comment(&mut self, table: &str, comment: Option<&str>) -> &mut Self {
        self.push(Op::SetTableComment {
            table: table.to_owned(),
            comment: comment.map(str::to_owned),
        })
    }

    /// Drops an index by name.
    pub fn drop_index(&mut self, table: &str, name: &str) -> &mut Self {
        self.push(Op::DropIndex {
            table: table.to_owned(),
            name: name.to_owned(),
        })
    }

    /// Adds a UNIQUE, CHECK or FOREIGN KEY constraint (a table rebuild on SQLite).
    pub fn add_constraint(&mut self, table: &str, constraint: Constraint) -> &mut Self {
        self.push(Op::AddConstraint {
            table: table.to_owned(),
            constraint,
        })
    }

    /// Drops a constraint by name (a table rebuild on SQLite).
    pub fn drop_constraint(&mut self, table: &str, name: &str) -> &mut Self {
        self.push(Op::DropConstraint {
            table: table.to_owned(),
            name: name.to_owned(),
        })
    }

    /// Raw SQL, values bound: `ops.execute(text("UPDATE users SET status = :s").bind("s", "active"))`.
    pub fn execute(&mut self, sql: TextSql) -> &mut Self {
        self.push(Op::Execute(sql))
    }

    /// A data migration in Rust, run with the migration's connection and transaction.
    pub fn run<F>(&mut self, label: &str, f: F) -> &mut Self
    where
        F: for<'c> Fn(
                &'c mut Connection,
            )
                -> Pin<Box<dyn Future<Output = Result<(), EngineError>> + Send + 'c>>
            + Send
            + Sync
            + 'static,
    {
        self.push(Op::Run {
            label: label.to_owned(),
            f: Arc::new(f),
        })
    }
}
