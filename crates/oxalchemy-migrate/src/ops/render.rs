//! [`Op::render`]: the statements an operation becomes on a dialect. What SQLite cannot
//! ALTER (constraints, column changes, dropping a constrained column) is handed to
//! [`super::sqlite_batch`]; everything else is an `ALTER TABLE` or compiled DDL.

use oxalchemy_core::dialect::{column_definition, constraint_definition};
use oxalchemy_core::expr::Ident;
use oxalchemy_core::schema::{Constraint, DropEnumType, DropIndex, Index, MetaData, Table};
use oxalchemy_core::{compile, Compiled, Dialect, Statement};

use super::state::table_of;
use super::{quoted, ColumnChange, Op, OpError, Step};

impl Op {
    /// The statements for this operation on `d`, given the schema state *before* it.
    /// SQLite operations it cannot ALTER become a table rebuild (batch mode).
    pub fn render(&self, d: &dyn Dialect, state: &MetaData) -> Result<Vec<Step>, OpError> {
        if super::mysql::is_mysql(d) {
            return super::mysql::render(self, d, state);
        }
        let sqlite = d.name() == "sqlite";
        Ok(match self {
            Op::CreateTable(t) => {
                let mut steps = create_enum_types(d, state, t)?;
                steps.push(Step::Sql(compile(d, &t.create().into())?));
                for ix in t.create_indexes() {
                    steps.push(Step::Sql(compile(d, &ix.into())?));
                }
                steps
            }
            Op::DropTable(name) => {
                let mut steps = vec![sql(format!("DROP TABLE {}", table_sql(state, name)))];
                steps.extend(drop_enum_types(d, state, name)?);
                steps
            }
            Op::RenameTable { from, to } => vec![sql(format!(
                "ALTER TABLE {} RENAME TO {}",
                table_sql(state, from),
                quoted(to)
            ))],
            Op::AddColumn { table, column } => vec![sql(format!(
                "ALTER TABLE {} ADD COLUMN {}",
                table_sql(state, table),
                column_definition(d, column)?
            ))],
            Op::DropColumn { table, column } => {
                if sqlite && is_constrained(&table_of(state, table)?, column) {
                    self.rebuild(d, state)?
                } else {
                    vec![sql(format!(
                        "ALTER TABLE {} DROP COLUMN {}",
                        table_sql(state, table),
                        quoted(column)
                    ))]
                }
            }
            Op::AlterColumn {
                table,
                column,
                change,
            } => alter_column(d, state, table, column, change)?,
            Op::CreateIndex { table, index } => vec![create_index(d, state, table, index)?],
            Op::DropIndex { table, name } => {
                let mut drop = DropIndex::new(Ident::from(name.clone()));
                drop.schema = state.table(table).and_then(|t| t.schema.clone());
                vec![Step::Sql(compile(d, &Statement::DropIndex(drop))?)]
            }
            Op::AddConstraint { table, constraint } => {
                if sqlite {
                    self.rebuild(d, state)?
                } else {
                    vec![sql(format!(
                        "ALTER TABLE {} ADD {}",
                        table_sql(state, table),
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
                        table_sql(state, table),
                        quoted(name)
                    ))]
                }
            }
            Op::Execute(t) => vec![Step::Sql(compile(d, &Statement::Text(t.clone()))?)],
            Op::Run { label, f } => vec![Step::Run(label.clone(), f.clone())],
        })
    }
}

/// `CREATE TYPE` for the native enum types `t` uses that no table of the state uses yet
/// (PostgreSQL), as `create_all` and Alembic's `create_table` do.
fn create_enum_types(d: &dyn Dialect, state: &MetaData, t: &Table) -> Result<Vec<Step>, OpError> {
    if !d.native_enums() {
        return Ok(Vec::new());
    }
    let mut steps = Vec::new();
    let mut seen = Vec::new();
    for ty in t.native_enums() {
        if seen.contains(&ty.name) || enum_in_use(state, ty.name.as_str(), None) {
            continue;
        }
        seen.push(ty.name.clone());
        steps.push(Step::Sql(compile(d, &Statement::CreateEnumType(ty))?));
    }
    Ok(steps)
}

/// `DROP TYPE` for the native enum types table `name` uses that no other table of the state
/// uses (PostgreSQL), after the table is dropped.
fn drop_enum_types(d: &dyn Dialect, state: &MetaData, name: &str) -> Result<Vec<Step>, OpError> {
    let Some(t) = state.table(name).filter(|_| d.native_enums()) else {
        return Ok(Vec::new());
    };
    let mut steps = Vec::new();
    let mut seen = Vec::new();
    for ty in t.native_enums() {
        if seen.contains(&ty.name) || enum_in_use(state, ty.name.as_str(), Some(name)) {
            continue;
        }
        seen.push(ty.name.clone());
        let drop = DropEnumType {
            name: ty.name,
            if_exists: false,
        };
        steps.push(Step::Sql(compile(d, &Statement::DropEnumType(drop))?));
    }
    Ok(steps)
}

/// Whether a table of the state other than `except` has a column of native enum type `ty`.
fn enum_in_use(state: &MetaData, ty: &str, except: Option<&str>) -> bool {
    state
        .tables()
        .iter()
        .filter(|t| Some(t.name.as_str()) != except)
        .flat_map(Table::native_enums)
        .any(|e| e.name.as_str() == ty)
}

/// Table `table` as SQL: quoted, and qualified by its schema when the state has it in one.
fn table_sql(state: &MetaData, table: &str) -> String {
    match state.table(table).and_then(|t| t.schema.as_ref()) {
        Some(schema) => format!("{}.{}", quoted(schema.as_str()), quoted(table)),
        None => quoted(table),
    }
}

/// A statement with no binds.
pub(super) fn sql(text: String) -> Step {
    Step::Sql(Compiled {
        sql: text,
        binds: Vec::new(),
    })
}

/// Whether a key, constraint or index of `t` uses `column` (SQLite cannot then DROP it).
fn is_constrained(t: &Table, column: &str) -> bool {
    t.primary_key().any(|c| c.name.as_str() == column)
        || t.constraints.iter().any(|c| match c {
            Constraint::Unique { columns, .. } => columns.iter().any(|x| x.as_str() == column),
            Constraint::ForeignKey(fk) => fk.columns.iter().any(|x| x.as_str() == column),
            Constraint::Check { sql, .. } => sql.contains(column),
        })
        || t.indexes
            .iter()
            .any(|ix| ix.columns.iter().any(|x| x.as_str() == column))
}

/// `ALTER COLUMN`: on SQLite a rebuild for type, nullability and default; the rename (any
/// dialect) is its own `RENAME COLUMN`, last.
fn alter_column(
    d: &dyn Dialect,
    state: &MetaData,
    table: &str,
    column: &str,
    change: &ColumnChange,
) -> Result<Vec<Step>, OpError> {
    let mut steps = Vec::new();
    let structural =
        change.ty.is_some() || change.nullable.is_some() || change.server_default.is_some();
    if structural {
        if d.name() == "sqlite" {
            // Rebuild without the rename; a rename follows as its own ALTER.
            let without_rename = Op::AlterColumn {
                table: table.to_owned(),
                column: column.to_owned(),
                change: ColumnChange {
                    rename_to: None,
                    ..change.clone()
                },
            };
            steps.extend(without_rename.rebuild(d, state)?);
        } else {
            steps.extend(alter_column_in_place(
                d,
                &table_sql(state, table),
                column,
                change,
            ));
        }
    }
    if let Some(new) = &change.rename_to {
        steps.push(sql(format!(
            "ALTER TABLE {} RENAME COLUMN {} TO {}",
            table_sql(state, table),
            quoted(column),
            quoted(new)
        )));
    }
    Ok(steps)
}

/// PostgreSQL's `ALTER COLUMN … TYPE / SET|DROP NOT NULL / SET|DROP DEFAULT` on table `t`
/// (as SQL, see [`table_sql`]).
fn alter_column_in_place(
    d: &dyn Dialect,
    t: &str,
    column: &str,
    change: &ColumnChange,
) -> Vec<Step> {
    let mut steps = Vec::new();
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
    steps
}

/// `CREATE INDEX` on `table` as the state knows it (a bare name when it does not).
fn create_index(
    d: &dyn Dialect,
    state: &MetaData,
    table: &str,
    index: &Index,
) -> Result<Step, OpError> {
    let t = state
        .table(table)
        .map(Table::as_ref)
        .unwrap_or_else(|| oxalchemy_core::table(Ident::from(table.to_owned())));
    Ok(Step::Sql(compile(
        d,
        &Statement::CreateIndex(oxalchemy_core::schema::CreateIndex {
            table: t,
            index: index.clone(),
            if_not_exists: false,
        }),
    )?))
}
