//! [`Op::apply_to`]: what each operation does to a schema *state* (a [`MetaData`]). The state
//! is simulated from the migrations themselves, so SQLite's batch mode and offline scripts
//! (`--sql`) know every table the migrations created as it is at each point of the history.
//!
//! A table no migration created (made by `create_all` or another tool) is outside the
//! simulation: [`Op::apply_to_simulated`] skips operations on it, and the online runner
//! reflects it from the database when an operation needs it ([`Op::missing_table`]).

use oxalchemy_core::expr::Ident;
use oxalchemy_core::schema::{Constraint, MetaData, ServerDefault, Table};

use super::{ColumnChange, Op, OpError};

impl Op {
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
                    return Err(no_such_column(table, column));
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
                alter_column(&mut t, column, change)?;
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
                    return Err(no_such_constraint(table, name));
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
                    return Err(no_such_constraint(table, name));
                }
                state.add(t);
            }
            Op::SetTableComment { table, comment } => {
                let mut t = table_of(state, table)?;
                t.comment = comment.clone();
                state.add(t);
            }
            Op::Execute(_) | Op::Run { .. } => {}
        }
        Ok(())
    }

    /// The table this operation works on that `state` does not know, if any: a table no
    /// migration before it created, which the online runner reads from the database
    /// before running the operation. `CreateTable`, `Execute` and `Run` need no table.
    pub fn missing_table(&self, state: &MetaData) -> Option<&str> {
        match self {
            Op::CreateTable(_) | Op::Execute(_) | Op::Run { .. } => None,
            _ => self.table().filter(|t| state.table(t).is_none()),
        }
    }

    /// [`Op::apply_to`] for simulating the history from the migrations alone: an operation
    /// on a table the simulation does not know is skipped (that table predates the
    /// migrations, and is read from the database when an operation needs it).
    pub fn apply_to_simulated(&self, state: &mut MetaData) -> Result<(), OpError> {
        if self.missing_table(state).is_some() {
            return Ok(());
        }
        self.apply_to(state)
    }
}

/// A copy of table `name` of the state, to change and add back.
pub(super) fn table_of(state: &MetaData, name: &str) -> Result<Table, OpError> {
    state
        .table(name)
        .cloned()
        .ok_or_else(|| OpError::NoSuchTable(name.to_owned()))
}

fn no_such_column(table: &str, column: &str) -> OpError {
    OpError::NoSuchColumn {
        table: table.to_owned(),
        column: column.to_owned(),
    }
}

fn no_such_constraint(table: &str, name: &str) -> OpError {
    OpError::NoSuchConstraint {
        table: table.to_owned(),
        name: name.to_owned(),
    }
}

fn constraint_name(c: &Constraint) -> Option<&str> {
    match c {
        Constraint::Unique { name, .. } | Constraint::Check { name, .. } => {
            name.as_ref().map(Ident::as_str)
        }
        Constraint::ForeignKey(fk) => fk.name.as_ref().map(Ident::as_str),
    }
}

/// Applies `change` to column `column` of `t`; a rename also renames the column in the
/// table's indexes, UNIQUE constraints and foreign keys.
fn alter_column(t: &mut Table, column: &str, change: &ColumnChange) -> Result<(), OpError> {
    let table = t.name.to_string();
    let c = t
        .columns
        .iter_mut()
        .find(|c| c.name.as_str() == column)
        .ok_or_else(|| no_such_column(&table, column))?;
    if let Some(ty) = &change.ty {
        c.ty = ty.clone();
    }
    if let Some(n) = change.nullable {
        c.nullable = n;
    }
    if let Some(d) = &change.server_default {
        c.server_default = d.clone().map(ServerDefault::Sql);
    }
    if let Some(comment) = &change.comment {
        c.comment = comment.clone();
    }
    if let Some(collation) = &change.collation {
        c.collation = collation.clone();
    }
    if let Some(identity) = change.identity {
        c.identity = Some(identity);
    }
    let Some(new) = &change.rename_to else {
        return Ok(());
    };
    c.name = Ident::from(new.clone());
    let rename = |cols: &mut Vec<Ident>| {
        for x in cols.iter_mut() {
            if x.as_str() == column {
                *x = Ident::from(new.clone());
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
    Ok(())
}
