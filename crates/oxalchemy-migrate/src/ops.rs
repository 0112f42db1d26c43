//! Migration operations and their SQL per dialect.
//!
//! Every operation knows how to change a schema *state* ([`Op::apply_to`]) as well as how to
//! render SQL ([`Op::render`]). The state is what SQLite's table-rebuild "batch mode" needs
//! (the table as it was and as it will be), and it works offline (`--sql`) because it is
//! simulated from the migrations themselves, not read from a database.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use oxalchemy_core::dialect::{column_definition, constraint_definition, quote_ident};
use oxalchemy_core::expr::{Ident, TextSql};
use oxalchemy_core::schema::{
    Column, Constraint, DropIndex, Index, MetaData, ServerDefault, Table,
};
use oxalchemy_core::{compile, CompileError, Compiled, Dialect, SqlType, Statement};
use oxalchemy_engine::{Connection, Error as EngineError};

/// Why an operation cannot be planned or rendered.
#[derive(Debug, thiserror::Error)]
pub enum OpError {
    #[error("table `{0}` does not exist in the schema at this point of the migration history")]
    NoSuchTable(String),
    #[error("column `{table}.{column}` does not exist at this point of the migration history")]
    NoSuchColumn { table: String, column: String },
    #[error("constraint or index `{name}` does not exist on `{table}`")]
    NoSuchConstraint { table: String, name: String },
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
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ColumnChange {
    pub ty: Option<SqlType>,
    pub nullable: Option<bool>,
    /// `Some(None)` drops the default.
    pub server_default: Option<Option<String>>,
    pub rename_to: Option<String>,
}

/// One migration operation.
#[derive(Clone)]
pub enum Op {
    CreateTable(Table),
    DropTable(String),
    RenameTable {
        from: String,
        to: String,
    },
    AddColumn {
        table: String,
        column: Column,
    },
    DropColumn {
        table: String,
        column: String,
    },
    AlterColumn {
        table: String,
        column: String,
        change: ColumnChange,
    },
    CreateIndex {
        table: String,
        index: Index,
    },
    DropIndex {
        table: String,
        name: String,
    },
    AddConstraint {
        table: String,
        constraint: Constraint,
    },
    DropConstraint {
        table: String,
        name: String,
    },
    /// Raw SQL with bound parameters.
    Execute(TextSql),
    /// Rust code with the connection (data migration).
    Run {
        label: String,
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
            Op::Execute(t) => write!(f, "Execute({t:?})"),
            Op::Run { label, .. } => write!(f, "Run({label})"),
        }
    }
}

/// What one operation turns into on a dialect.
#[derive(Clone)]
pub enum Step {
    Sql(Compiled),
    /// A data migration (Rust code).
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

fn sql(text: String) -> Step {
    Step::Sql(Compiled {
        sql: text,
        binds: Vec::new(),
    })
}

fn table_of(state: &MetaData, name: &str) -> Result<Table, OpError> {
    state
        .table(name)
        .cloned()
        .ok_or_else(|| OpError::NoSuchTable(name.to_owned()))
}

fn constraint_name(c: &Constraint) -> Option<&str> {
    match c {
        Constraint::Unique { name, .. } | Constraint::Check { name, .. } => {
            name.as_ref().map(Ident::as_str)
        }
        Constraint::ForeignKey(fk) => fk.name.as_ref().map(Ident::as_str),
    }
}

fn is_sqlite(d: &dyn Dialect) -> bool {
    d.name() == "sqlite"
}

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
            | Op::DropConstraint { table, .. } => Some(table),
            Op::Execute(_) | Op::Run { .. } => None,
        }
    }

    /// Applies the operation to a schema state.
    pub fn apply_to(&self, state: &mut MetaData) -> Result<(), OpError> {
        match self {
            Op::CreateTable(t) => {
                state.add(t.clone());
            }
            Op::DropTable(name) => {
                state
                    .remove(name)
                    .ok_or_else(|| OpError::NoSuchTable(name.clone()))?;
            }
            Op::RenameTable { from, to } => {
                let mut t = state
                    .remove(from)
                    .ok_or_else(|| OpError::NoSuchTable(from.clone()))?;
                t.name = Ident::from(to.clone());
                state.add(t);
            }
            Op::AddColumn { table, column } => {
                let mut t = table_of(state, table)?;
                t.columns.push(column.clone());
                state.add(t);
            }
            Op::DropColumn { table, column } => {
                let mut t = table_of(state, table)?;
                let before = t.columns.len();
                t.columns.retain(|c| c.name.as_str() != column);
                if t.columns.len() == before {
                    return Err(OpError::NoSuchColumn {
                        table: table.clone(),
                        column: column.clone(),
                    });
                }
                t.indexes
                    .retain(|ix| !ix.columns.iter().any(|c| c.as_str() == column));
                state.add(t);
            }
            Op::AlterColumn {
                table,
                column,
                change,
            } => {
                let mut t = table_of(state, table)?;
                let c = t
                    .columns
                    .iter_mut()
                    .find(|c| c.name.as_str() == column)
                    .ok_or_else(|| OpError::NoSuchColumn {
                        table: table.clone(),
                        column: column.clone(),
                    })?;
                if let Some(ty) = &change.ty {
                    c.ty = ty.clone();
                }
                if let Some(n) = change.nullable {
                    c.nullable = n;
                }
                if let Some(d) = &change.server_default {
                    c.server_default = d.clone().map(ServerDefault::Sql);
                }
                if let Some(new) = &change.rename_to {
                    c.name = Ident::from(new.clone());
                    let (old, new) = (column.as_str(), new.as_str());
                    let rename = |cols: &mut Vec<Ident>| {
                        for x in cols.iter_mut() {
                            if x.as_str() == old {
                                *x = Ident::from(new.to_owned());
                            }
                        }
                    };
                    for ix in &mut t.indexes {
                        rename(&mut ix.columns);
                    }
                    for con in &mut t.constraints {
                        match con {
                            Constraint::Unique { columns, .. } => rename(columns),
                            Constraint::ForeignKey(fk) => rename(&mut fk.columns),
                            Constraint::Check { .. } => {}
                        }
                    }
                }
                state.add(t);
            }
            Op::CreateIndex { table, index } => {
                let mut t = table_of(state, table)?;
                t.indexes.push(index.clone());
                state.add(t);
            }
            Op::DropIndex { table, name } => {
                let mut t = table_of(state, table)?;
                let before = t.indexes.len();
                t.indexes
                    .retain(|ix| ix.name.as_ref().map(Ident::as_str) != Some(name));
                if t.indexes.len() == before {
                    return Err(OpError::NoSuchConstraint {
                        table: table.clone(),
                        name: name.clone(),
                    });
                }
                state.add(t);
            }
            Op::AddConstraint { table, constraint } => {
                let mut t = table_of(state, table)?;
                t.constraints.push(constraint.clone());
                state.add(t);
            }
            Op::DropConstraint { table, name } => {
                let mut t = table_of(state, table)?;
                let before = t.constraints.len();
                t.constraints
                    .retain(|c| constraint_name(c) != Some(name.as_str()));
                if t.constraints.len() == before {
                    return Err(OpError::NoSuchConstraint {
                        table: table.clone(),
                        name: name.clone(),
                    });
                }
                state.add(t);
            }
            Op::Execute(_) | Op::Run { .. } => {}
        }
        Ok(())
    }

    /// The statements for this operation on `d`, given the schema state *before* it.
    /// SQLite operations it cannot ALTER become a table rebuild (batch mode).
    pub fn render(&self, d: &dyn Dialect, state: &MetaData) -> Result<Vec<Step>, OpError> {
        let sqlite = is_sqlite(d);
        Ok(match self {
            Op::CreateTable(t) => {
                let mut steps = vec![Step::Sql(compile(d, &t.create().into())?)];
                for ix in t.create_indexes() {
                    steps.push(Step::Sql(compile(d, &ix.into())?));
                }
                steps
            }
            Op::DropTable(name) => vec![sql(format!("DROP TABLE {}", quoted(name)))],
            Op::RenameTable { from, to } => vec![sql(format!(
                "ALTER TABLE {} RENAME TO {}",
                quoted(from),
                quoted(to)
            ))],
            Op::AddColumn { table, column } => vec![sql(format!(
                "ALTER TABLE {} ADD COLUMN {}",
                quoted(table),
                column_definition(d, column)?
            ))],
            Op::DropColumn { table, column } => {
                let t = table_of(state, table)?;
                let constrained = t.primary_key().any(|c| c.name.as_str() == column)
                    || t.constraints.iter().any(|c| match c {
                        Constraint::Unique { columns, .. } => {
                            columns.iter().any(|x| x.as_str() == column)
                        }
                        Constraint::ForeignKey(fk) => {
                            fk.columns.iter().any(|x| x.as_str() == column)
                        }
                        Constraint::Check { sql, .. } => sql.contains(column.as_str()),
                    })
                    || t.indexes
                        .iter()
                        .any(|ix| ix.columns.iter().any(|x| x.as_str() == column));
                if sqlite && constrained {
                    self.rebuild(d, state)?
                } else {
                    vec![sql(format!(
                        "ALTER TABLE {} DROP COLUMN {}",
                        quoted(table),
                        quoted(column)
                    ))]
                }
            }
            Op::AlterColumn {
                table,
                column,
                change,
            } => {
                let mut steps = Vec::new();
                let structural = change.ty.is_some()
                    || change.nullable.is_some()
                    || change.server_default.is_some();
                if structural {
                    if sqlite {
                        // Rebuild without the rename; a rename follows as its own ALTER.
                        let without_rename = Op::AlterColumn {
                            table: table.clone(),
                            column: column.clone(),
                            change: ColumnChange {
                                rename_to: None,
                                ..change.clone()
                            },
                        };
                        steps.extend(without_rename.rebuild(d, state)?);
                    } else {
                        let t = quoted(table);
                        let c = quoted(column);
                        if let Some(ty) = &change.ty {
                            let mut ty_sql = String::new();
                            d.write_type(&mut ty_sql, ty);
                            steps.push(sql(format!(
                                "ALTER TABLE {t} ALTER COLUMN {c} TYPE {ty_sql} USING {c}::{ty_sql}"
                            )));
                        }
                        match change.nullable {
                            Some(true) => steps.push(sql(format!(
                                "ALTER TABLE {t} ALTER COLUMN {c} DROP NOT NULL"
                            ))),
                            Some(false) => steps.push(sql(format!(
                                "ALTER TABLE {t} ALTER COLUMN {c} SET NOT NULL"
                            ))),
                            None => {}
                        }
                        match &change.server_default {
                            Some(Some(default)) => steps.push(sql(format!(
                                "ALTER TABLE {t} ALTER COLUMN {c} SET DEFAULT {default}"
                            ))),
                            Some(None) => steps.push(sql(format!(
                                "ALTER TABLE {t} ALTER COLUMN {c} DROP DEFAULT"
                            ))),
                            None => {}
                        }
                    }
                }
                if let Some(new) = &change.rename_to {
                    steps.push(sql(format!(
                        "ALTER TABLE {} RENAME COLUMN {} TO {}",
                        quoted(table),
                        quoted(column),
                        quoted(new)
                    )));
                }
                steps
            }
            Op::CreateIndex { table, index } => {
                let t = state
                    .table(table)
                    .map(Table::as_ref)
                    .unwrap_or_else(|| oxalchemy_core::table(Ident::from(table.clone())));
                vec![Step::Sql(compile(
                    d,
                    &Statement::CreateIndex(oxalchemy_core::schema::CreateIndex {
                        table: t,
                        index: index.clone(),
                        if_not_exists: false,
                    }),
                )?)]
            }
            Op::DropIndex { name, .. } => vec![Step::Sql(compile(
                d,
                &Statement::DropIndex(DropIndex::new(Ident::from(name.clone()))),
            )?)],
            Op::AddConstraint { table, constraint } => {
                if sqlite {
                    self.rebuild(d, state)?
                } else {
                    vec![sql(format!(
                        "ALTER TABLE {} ADD {}",
                        quoted(table),
                        constraint_definition(d, None, constraint)
                    ))]
                }
            }
            Op::DropConstraint { table, name } => {
                if sqlite {
                    self.rebuild(d, state)?
                } else {
                    vec![sql(format!(
                        "ALTER TABLE {} DROP CONSTRAINT {}",
                        quoted(table),
                        quoted(name)
                    ))]
                }
            }
            Op::Execute(t) => vec![Step::Sql(compile(d, &Statement::Text(t.clone()))?)],
            Op::Run { label, f } => vec![Step::Run(label.clone(), f.clone())],
        })
    }

    /// SQLite's 12-step table rebuild (https://sqlite.org/lang_altertable.html#otheralter):
    /// create the new table under a temporary name, copy the rows, drop the old table,
    /// rename the new one, recreate the indexes. Foreign keys must be off around it (the
    /// runner does that, then runs `PRAGMA foreign_key_check`).
    fn rebuild(&self, d: &dyn Dialect, state: &MetaData) -> Result<Vec<Step>, OpError> {
        let name = self.table().unwrap_or_default().to_owned();
        let old = state
            .table(&name)
            .cloned()
            .ok_or_else(|| OpError::NoSuchTable(name.clone()))?;
        let mut after = state.clone();
        self.apply_to(&mut after)?;
        let new = after
            .table(&name)
            .cloned()
            .ok_or_else(|| OpError::NoSuchTable(name.clone()))?;
        let temp = format!("_oxalchemy_new_{name}");
        let mut temp_table = new.clone();
        temp_table.name = Ident::from(temp.clone());
        temp_table.indexes.clear();
        let common: Vec<String> = new
            .columns
            .iter()
            .filter(|c| old.column_named(c.name.as_str()).is_some())
            .map(|c| quoted(c.name.as_str()))
            .collect();
        let mut steps = vec![Step::Sql(compile(d, &temp_table.create().into())?)];
        steps.push(sql(format!(
            "INSERT INTO {} ({cols}) SELECT {cols} FROM {}",
            quoted(&temp),
            quoted(&name),
            cols = common.join(", ")
        )));
        steps.push(sql(format!("DROP TABLE {}", quoted(&name))));
        steps.push(sql(format!(
            "ALTER TABLE {} RENAME TO {}",
            quoted(&temp),
            quoted(&name)
        )));
        for ix in new.create_indexes() {
            steps.push(Step::Sql(compile(d, &ix.into())?));
        }
        Ok(steps)
    }
}

/// The operations of one migration direction, built with the ops DSL:
/// `ops.add_column("users", Column::new("status", SqlType::String(Some(20))))`.
#[derive(Debug, Clone, Default)]
pub struct Ops {
    pub(crate) ops: Vec<Op>,
    /// (operation index, lint code) pairs the author accepted.
    allowed: Vec<(usize, &'static str)>,
}

impl Ops {
    pub fn new() -> Self {
        Ops::default()
    }
    pub fn ops(&self) -> &[Op] {
        &self.ops
    }
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
    pub fn create_table(&mut self, table: Table) -> &mut Self {
        self.push(Op::CreateTable(table))
    }
    pub fn drop_table(&mut self, name: &str) -> &mut Self {
        self.push(Op::DropTable(name.to_owned()))
    }
    pub fn rename_table(&mut self, from: &str, to: &str) -> &mut Self {
        self.push(Op::RenameTable {
            from: from.to_owned(),
            to: to.to_owned(),
        })
    }
    pub fn add_column(&mut self, table: &str, column: Column) -> &mut Self {
        self.push(Op::AddColumn {
            table: table.to_owned(),
            column,
        })
    }
    pub fn drop_column(&mut self, table: &str, column: &str) -> &mut Self {
        self.push(Op::DropColumn {
            table: table.to_owned(),
            column: column.to_owned(),
        })
    }
    pub fn alter_column(&mut self, table: &str, column: &str, change: ColumnChange) -> &mut Self {
        self.push(Op::AlterColumn {
            table: table.to_owned(),
            column: column.to_owned(),
            change,
        })
    }
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
    pub fn create_index(&mut self, table: &str, index: Index) -> &mut Self {
        self.push(Op::CreateIndex {
            table: table.to_owned(),
            index,
        })
    }
    pub fn drop_index(&mut self, table: &str, name: &str) -> &mut Self {
        self.push(Op::DropIndex {
            table: table.to_owned(),
            name: name.to_owned(),
        })
    }
    pub fn add_constraint(&mut self, table: &str, constraint: Constraint) -> &mut Self {
        self.push(Op::AddConstraint {
            table: table.to_owned(),
            constraint,
        })
    }
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
