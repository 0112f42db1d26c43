//! [`Op::render`]: the statements an operation becomes on a dialect. What SQLite cannot
//! ALTER (constraints, column changes, dropping a constrained column) is handed to
//! [`super::sqlite_batch`]; everything else is an `ALTER TABLE` or compiled DDL.

use oxalchemy_core::dialect::{
    column_definition, comment_on as comment_sql, comment_statements, constraint_definition,
};
use oxalchemy_core::expr::Ident;
use oxalchemy_core::schema::{
    Column, Constraint, DropEnumType, DropIndex, Identity, Index, MetaData, Table,
};
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
                steps.extend(comment_statements(d, t).into_iter().map(sql));
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
            Op::AddColumn { table, column } => add_column(self, d, state, table, column)?,
            Op::DropColumn { table, column } => {
                let t = table_of(state, table)?;
                // SQLite cannot DROP a column something refers to, nor a generated one.
                let generated = t.column_named(column).is_some_and(|c| c.computed.is_some());
                let mut steps = if sqlite && (generated || is_constrained(&t, column)) {
                    self.rebuild(d, state)?
                } else {
                    vec![sql(format!(
                        "ALTER TABLE {} DROP COLUMN {}",
                        table_sql(state, table),
                        quoted(column)
                    ))]
                };
                // A native enum type only this column used goes with it, so adding the
                // column again (a downgrade, then an upgrade) can create it again.
                let mut after = state.clone();
                self.apply_to(&mut after)?;
                if let Some(c) = t.column_named(column) {
                    steps.extend(unused_enum_types(d, &after, c)?);
                }
                steps
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
            Op::SetTableComment { table, comment } => {
                if has_comments(d) {
                    vec![comment_on(
                        "TABLE",
                        &table_sql(state, table),
                        comment.as_deref(),
                    )]
                } else {
                    Vec::new()
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
        if seen.contains(&ty.name) || enum_in_use(state, ty.name.as_str(), Some(t)) {
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

/// `ALTER TABLE … ADD COLUMN`, after `CREATE TYPE` for a native enum type no table uses yet;
/// on SQLite a rebuild for a STORED generated column (which it cannot add in place).
fn add_column(
    op: &Op,
    d: &dyn Dialect,
    state: &MetaData,
    table: &str,
    column: &Column,
) -> Result<Vec<Step>, OpError> {
    // SQLite's ADD COLUMN refuses a STORED generated column and a non-constant default
    // (CURRENT_TIMESTAMP, an expression in parentheses): those are a rebuild.
    let non_constant = match &column.server_default {
        Some(oxalchemy_core::schema::ServerDefault::Sql(s)) => {
            let s = s.trim().to_ascii_uppercase();
            s.contains('(') || s.starts_with("CURRENT_")
        }
        _ => false,
    };
    if d.name() == "sqlite" && (non_constant || column.computed.as_ref().is_some_and(|c| c.stored))
    {
        return op.rebuild(d, state);
    }
    let mut steps = Vec::new();
    if d.native_enums() {
        let probe = Table::new("_probe").column(column.clone());
        for ty in probe.native_enums() {
            if !enum_in_use(state, ty.name.as_str(), None) {
                steps.push(Step::Sql(compile(d, &Statement::CreateEnumType(ty))?));
            }
        }
    }
    steps.push(sql(format!(
        "ALTER TABLE {} ADD COLUMN {}",
        table_sql(state, table),
        column_definition(d, column)?
    )));
    if let (true, Some(c)) = (has_comments(d), &column.comment) {
        let target = format!(
            "{}.{}",
            table_sql(state, table),
            quoted(column.name.as_str())
        );
        steps.push(comment_on("COLUMN", &target, Some(c)));
    }
    Ok(steps)
}

/// `DROP TYPE` for the native enum types of `column` that no table of `after` uses.
fn unused_enum_types(
    d: &dyn Dialect,
    after: &MetaData,
    column: &Column,
) -> Result<Vec<Step>, OpError> {
    if !d.native_enums() {
        return Ok(Vec::new());
    }
    let probe = Table::new("_probe").column(column.clone());
    let mut steps = Vec::new();
    for ty in probe.native_enums() {
        if !enum_in_use(after, ty.name.as_str(), None) {
            let drop = DropEnumType {
                name: ty.name,
                if_exists: false,
            };
            steps.push(Step::Sql(compile(d, &Statement::DropEnumType(drop))?));
        }
    }
    Ok(steps)
}

/// Whether the dialect keeps comments set with `COMMENT ON` (PostgreSQL); SQLite keeps
/// none, so comments are neither written nor compared there.
pub(crate) fn has_comments(d: &dyn Dialect) -> bool {
    d.comment_on() || d.inline_comments()
}

/// `COMMENT ON {kind} {target} IS 'text' | NULL` as a step.
fn comment_on(kind: &str, target: &str, comment: Option<&str>) -> Step {
    sql(comment_sql(kind, target, comment))
}

/// Whether a table of the state other than `except` has a column of native enum type `ty`.
fn enum_in_use(state: &MetaData, ty: &str, except: Option<&Table>) -> bool {
    state
        .tables()
        .iter()
        .filter(|t| !except.is_some_and(|e| std::ptr::eq(*t, e)))
        .flat_map(Table::native_enums)
        .any(|e| e.name.as_str() == ty)
}

/// Table `table` as SQL: quoted, and qualified by its schema when the state has it in one.
fn table_sql(state: &MetaData, table: &str) -> String {
    match state.table(table) {
        Some(t) => match &t.schema {
            Some(schema) => format!("{}.{}", quoted(schema.as_str()), quoted(t.name.as_str())),
            None => quoted(t.name.as_str()),
        },
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
        || t.indexes.iter().any(|ix| {
            ix.columns.iter().any(|x| x.as_str() == column)
                || ix.expressions.iter().any(|e| e.contains(column))
                || ix.where_clause.as_ref().is_some_and(|w| w.contains(column))
        })
        || t.columns
            .iter()
            .filter_map(|c| c.computed.as_ref())
            .any(|c| c.sql.contains(column))
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
    let structural = change.ty.is_some()
        || change.nullable.is_some()
        || change.server_default.is_some()
        || change.collation.is_some();
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
            let current = table_of(state, table)?
                .column_named(column)
                .map(|c| c.ty.clone());
            steps.extend(alter_column_in_place(
                d,
                &table_sql(state, table),
                column,
                change,
                current.as_ref(),
            ));
        }
    }
    if let Some(identity) = &change.identity {
        if d.name() == "postgresql" {
            steps.push(sql(alter_identity(
                &table_sql(state, table),
                column,
                identity,
            )));
        }
    }
    if let (true, Some(comment)) = (has_comments(d), &change.comment) {
        let target = format!("{}.{}", table_sql(state, table), quoted(column));
        steps.push(comment_on("COLUMN", &target, comment.as_deref()));
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
    current_ty: Option<&oxalchemy_core::SqlType>,
) -> Vec<Step> {
    let mut steps = Vec::new();
    let c = quoted(column);
    // A collation changes with `TYPE … COLLATE`, so it needs the type even when that stays.
    if let Some(ty) = change
        .ty
        .as_ref()
        .or(change.collation.as_ref().and(current_ty))
    {
        let mut ty_sql = String::new();
        d.write_type(&mut ty_sql, ty);
        let collate = match &change.collation {
            Some(Some(name)) => format!(" COLLATE {}", quoted(name)),
            Some(None) => " COLLATE \"default\"".to_owned(),
            None => String::new(),
        };
        steps.push(sql(format!(
            "ALTER TABLE {t} ALTER COLUMN {c} TYPE {ty_sql}{collate} USING {c}::{ty_sql}"
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

/// PostgreSQL's `ALTER COLUMN … SET GENERATED … SET START WITH … SET INCREMENT BY …`.
fn alter_identity(t: &str, column: &str, identity: &Identity) -> String {
    format!(
        "ALTER TABLE {t} ALTER COLUMN {} SET GENERATED {} SET START WITH {} SET INCREMENT BY {}",
        quoted(column),
        if identity.always {
            "ALWAYS"
        } else {
            "BY DEFAULT"
        },
        identity.start.unwrap_or(1),
        identity.increment.unwrap_or(1)
    )
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
