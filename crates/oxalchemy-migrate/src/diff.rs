//! Autogenerate: compare the models' metadata (target) with a database's schema (current,
//! from [`crate::reflect`]) and produce the upgrade operations and their exact downgrade.
//!
//! Renames are never guessed: a column dropped and another added in the same table is
//! reported as a possible rename, with the op to write instead.
//!
//! Tables match by schema and name; reflect with [`crate::reflect::reflect_for`] so the
//! schemas the models name are read. Server defaults compare as the database keeps them
//! ([`normalize_default`]); value defaults as the literal the DDL writes. A primary-key
//! change is a warning (written by hand), never a column type change.

use oxalchemy_core::dialect::{column_definition, CompileError, Dialect};
use oxalchemy_core::expr::{text, Ident, TextSql};
use oxalchemy_core::schema::{
    Column, Constraint, ForeignKey, Index, MetaData, ServerDefault, Table,
};

use crate::ops::{has_comments, ColumnChange, Op};

mod adapt;
mod include;
mod normalize;

use include::filtered;
pub use include::{Include, ObjectFilter, ObjectKind, ObjectRef, TableFilter};
pub use normalize::{loose, normalize_default};

use adapt::adapt_target;

/// The result of a comparison.
#[derive(Debug, Clone, Default)]
pub struct Diff {
    /// The operations that bring the database to the models.
    pub upgrade: Vec<Op>,
    /// The operations that undo `upgrade`.
    pub downgrade: Vec<Op>,
    /// Things a person must decide (possible renames, unsupported changes).
    pub warnings: Vec<String>,
}

impl Diff {
    /// Whether the models and the database agree (no upgrade operations).
    pub fn is_empty(&self) -> bool {
        self.upgrade.is_empty()
    }
}

/// Whether `c` is `table`'s lone integer key that the database makes its row identity: an
/// autoincrement key (SQLite rowid, PostgreSQL identity), or on SQLite any lone key declared
/// `INTEGER`, which aliases the rowid whatever `autoincrement` says.
fn is_row_identity(d: &dyn Dialect, c: &Column, table: &Table) -> bool {
    if !(c.primary_key && c.ty.is_integer() && table.primary_key().count() == 1) {
        return false;
    }
    c.autoincrement || (d.name() == "sqlite" && plain_type_sql(d, c) == "INTEGER")
}

fn plain_type_sql(d: &dyn Dialect, c: &Column) -> String {
    let mut s = String::new();
    d.write_type(&mut s, &c.ty);
    s.to_ascii_uppercase()
}

fn type_sql(d: &dyn Dialect, c: &Column, table: &Table) -> String {
    // A lone autoincrement integer key is INTEGER (rowid) on SQLite and an identity on
    // PostgreSQL, whatever integer width was declared: compare those as one kind.
    if is_row_identity(d, c, table) {
        return if d.name() == "sqlite" {
            "INTEGER PRIMARY KEY".into()
        } else {
            plain_type_sql(d, c) + " IDENTITY"
        };
    }
    plain_type_sql(d, c)
}

fn primary_key_names(t: &Table) -> Vec<String> {
    t.primary_key().map(|c| c.name.to_string()).collect()
}

/// Whether column `c` of `target` has another type than `cur` of `current`. When the
/// primary key itself changes (a warning: written by hand), a key column's row-identity kind
/// changes with it; an integer stays an integer, which is no type change.
fn type_changed(
    d: &dyn Dialect,
    c: &Column,
    target: &Table,
    cur: &Column,
    current: &Table,
) -> bool {
    if type_sql(d, c, target) == type_sql(d, cur, current) {
        return false;
    }
    let key_change = primary_key_names(target) != primary_key_names(current)
        && (is_row_identity(d, c, target) || is_row_identity(d, cur, current));
    !(key_change && c.ty.is_integer() && cur.ty.is_integer())
}

/// A column's server default as SQL text on `d`: a value default is the literal the DDL
/// writes for it, so it compares with what the database keeps and ALTERs to valid SQL.
fn default_text(d: &dyn Dialect, c: &Column) -> Result<Option<String>, CompileError> {
    match &c.server_default {
        None => Ok(None),
        Some(ServerDefault::Sql(s)) => Ok(Some(s.clone())),
        Some(ServerDefault::Value(v)) => {
            // DDL is the one place values are inlined as literals: borrow its writer through
            // a probe column, whose definition ends with ` DEFAULT <literal>`.
            let probe =
                Column::new("v", oxalchemy_core::SqlType::Text).server_default_value(v.clone());
            let def = column_definition(d, &probe)?;
            Ok(def.split_once(" DEFAULT ").map(|(_, lit)| lit.to_owned()))
        }
    }
}

fn constraint_key(c: &Constraint) -> Option<String> {
    match c {
        Constraint::Unique { name, .. } | Constraint::Check { name, .. } => {
            name.as_ref().map(Ident::to_string)
        }
        Constraint::ForeignKey(fk) => fk.name.as_ref().map(Ident::to_string),
    }
}

fn same_constraint(a: &Constraint, b: &Constraint) -> bool {
    match (a, b) {
        (Constraint::Unique { columns: x, .. }, Constraint::Unique { columns: y, .. }) => x == y,
        // The database rewrites CHECK expressions: same name, same kind is the same check.
        (Constraint::Check { .. }, Constraint::Check { .. }) => true,
        (Constraint::ForeignKey(x), Constraint::ForeignKey(y)) => {
            x.columns == y.columns
                && x.ref_table == y.ref_table
                && x.ref_schema == y.ref_schema
                && x.ref_columns == y.ref_columns
                && x.on_delete
                    .unwrap_or(oxalchemy_core::ReferentialAction::NoAction)
                    == y.on_delete
                        .unwrap_or(oxalchemy_core::ReferentialAction::NoAction)
                && x.on_update
                    .unwrap_or(oxalchemy_core::ReferentialAction::NoAction)
                    == y.on_update
                        .unwrap_or(oxalchemy_core::ReferentialAction::NoAction)
                && x.deferrable == y.deferrable
                && x.initially_deferred == y.initially_deferred
        }
        _ => false,
    }
}

fn same_index(a: &Index, b: &Index) -> bool {
    let exprs = |ix: &Index| ix.expressions.iter().map(|e| loose(e)).collect::<Vec<_>>();
    a.columns == b.columns
        && a.unique == b.unique
        && exprs(a) == exprs(b)
        && a.where_clause.as_deref().map(loose) == b.where_clause.as_deref().map(loose)
}

/// Compares `target` (the models) with `current` (the database) for `dialect`, the tables
/// `include` admits by name on both sides.
pub fn diff(
    dialect: &dyn Dialect,
    target: &MetaData,
    current: &MetaData,
    include: TableFilter<'_>,
) -> Diff {
    let object = |o: &ObjectRef<'_>| o.kind != ObjectKind::Table || include(o.name);
    diff_including(
        dialect,
        target,
        current,
        &Include {
            schemas: false,
            name: None,
            object: Some(&object),
        },
    )
}

/// Compares `target` (the models) with `current` (the database) for `dialect`, the objects
/// `include` admits (Alembic's `include_name` / `include_object`).
pub fn diff_including(
    dialect: &dyn Dialect,
    target: &MetaData,
    current: &MetaData,
    include: &Include<'_>,
) -> Diff {
    let (target, current) = filtered(target, current, include);
    compare(dialect, &target, &current)
}

/// The comparison itself, of everything in `target` and `current`.
fn compare(dialect: &dyn Dialect, target: &MetaData, current: &MetaData) -> Diff {
    let adapted = adapt_target(dialect, target);
    let target = &adapted;
    let mut out = Diff::default();
    let mut up_late: Vec<Op> = Vec::new();
    let mut down_early: Vec<Op> = Vec::new();
    // Foreign keys that close a cycle between tables are created after the tables with
    // ALTER TABLE (inline on SQLite, which has no such ALTER and does not check references
    // at CREATE), and dropped before them.
    let alter = dialect.alter_foreign_keys();
    let target_order = target.creation_order();
    let target_tables: Vec<&Table> = target_order.tables.clone();
    // New tables, referenced ones first.
    let mut added_late: Vec<(&Table, &ForeignKey)> = Vec::new();
    for t in &target_tables {
        if counterpart(current, t).is_none() {
            let deferred: Vec<&ForeignKey> = target_order
                .deferred
                .iter()
                .filter(|(dt, _)| alter && std::ptr::eq(*dt, *t))
                .map(|(_, fk)| *fk)
                .collect();
            if deferred.is_empty() {
                out.upgrade.push(Op::CreateTable((*t).clone()));
            } else {
                out.upgrade
                    .push(Op::CreateTable(target_order.without_deferred(t)));
                added_late.extend(deferred.into_iter().map(|fk| (*t, fk)));
            }
            down_early.push(Op::DropTable(op_table_name(t)));
        }
    }
    // SQLite keeps a cycle's foreign keys inline: its downgrade defers their checks to the
    // COMMIT, so dropping one table of the cycle while the other's rows reference it works.
    let defer = dialect
        .defer_foreign_keys_sql()
        .filter(|_| !alter)
        .map(|sql| Op::Execute(oxalchemy_core::text(sql)));
    let new_cycle = target_order
        .deferred
        .iter()
        .any(|(t, _)| counterpart(current, t).is_none());
    if let (Some(op), true) = (&defer, new_cycle) {
        // Pushed after the drops: the reversal below runs it before them.
        down_early.push(op.clone());
    }
    for (t, fk) in added_late {
        out.upgrade.push(Op::AddConstraint {
            table: op_table_name(t),
            constraint: Constraint::ForeignKey(fk.clone()),
        });
        if let Some(name) = &fk.name {
            // Pushed after the drops: the reversal below runs it before them.
            down_early.push(Op::DropConstraint {
                table: op_table_name(t),
                name: name.to_string(),
            });
        }
    }
    // Changed tables.
    for t in &target_tables {
        let Some(cur) = counterpart(current, t) else {
            continue;
        };
        table_diff(dialect, t, cur, &mut out);
    }
    // Dropped tables, dependents first.
    let current_order = current.creation_order();
    let current_tables: Vec<&Table> = current_order.tables.clone();
    let dropped = |t: &Table| counterpart(target, t).is_none();
    // A dropped cycle: its foreign keys go first, and come back last in the downgrade.
    for (t, fk) in current_order.deferred.iter().rev() {
        let (true, true, Some(name)) = (alter, dropped(t), &fk.name) else {
            continue;
        };
        up_late.push(Op::DropConstraint {
            table: op_table_name(t),
            name: name.to_string(),
        });
        out.downgrade.push(Op::AddConstraint {
            table: op_table_name(t),
            constraint: Constraint::ForeignKey((*fk).clone()),
        });
    }
    if let Some(op) = &defer {
        if current_order.deferred.iter().any(|(t, _)| dropped(t)) {
            up_late.push(op.clone());
        }
    }
    for t in current_tables.iter().rev() {
        let name = t.name.as_str();
        if !dropped(t) {
            continue;
        }
        up_late.push(Op::DropTable(op_table_name(t)));
        // Pushed dependents first like the drops, so the reversal below recreates the
        // referenced tables first.
        out.downgrade.push(Op::CreateTable(if alter {
            current_order.without_deferred(t)
        } else {
            (*t).clone()
        }));
        out.warnings.push(format!(
            "table `{name}` is in the database but not in the models: the migration drops it \
             (and its data); exclude it with the table filter if another application owns it"
        ));
    }
    out.upgrade.extend(up_late);
    // The downgrade undoes the upgrade in reverse order.
    let mut downgrade = std::mem::take(&mut out.downgrade);
    downgrade.reverse();
    down_early.reverse();
    let mut full = Vec::new();
    full.extend(downgrade);
    full.extend(down_early);
    out.downgrade = full;
    out
}

/// `t`'s table in `md`: same name, same schema (`None` is the default schema).
fn counterpart<'a>(md: &'a MetaData, t: &Table) -> Option<&'a Table> {
    md.table_in(t.schema.as_ref().map(|s| s.as_str()), t.name.as_str())
}

/// How operations name table `t`: `schema.name` for a table in a named schema (so one
/// name in two schemas stays two tables, see [`MetaData::table`]), else its name.
pub fn op_table_name(t: &Table) -> String {
    match &t.schema {
        Some(s) => format!("{s}.{}", t.name),
        None => t.name.to_string(),
    }
}

/// The placeholder the generated backfill UPDATE leaves for the value existing rows get
/// (see [`diff`]: a NOT NULL column without a server default added to an existing table).
pub const BACKFILL: &str = "backfill";

/// Whether adding `c` to a table that may hold rows needs the safe sequence: NOT NULL with
/// nothing the database could fill existing rows with.
fn needs_backfill(c: &Column) -> bool {
    !c.nullable && !c.primary_key && c.server_default.is_none() && c.computed.is_none()
}

/// `UPDATE t SET c = :backfill WHERE c IS NULL`, the value left for the migration's author
/// to bind: run unbound it stops with an error naming `.bind("backfill", value)`.
fn backfill(d: &dyn Dialect, t: &Table, column: &str) -> TextSql {
    let mut table = String::new();
    if let Some(s) = &t.schema {
        d.quote_ident(&mut table, s.as_str());
        table.push('.');
    }
    d.quote_ident(&mut table, t.name.as_str());
    let mut c = String::new();
    d.quote_ident(&mut c, column);
    text(format!(
        "UPDATE {table} SET {c} = :{BACKFILL} WHERE {c} IS NULL"
    ))
}

fn table_diff(d: &dyn Dialect, target: &Table, current: &Table, out: &mut Diff) {
    let table = op_table_name(target);
    let added: Vec<&Column> = target
        .columns
        .iter()
        .filter(|c| current.column_named(c.name.as_str()).is_none())
        .collect();
    let removed: Vec<&Column> = current
        .columns
        .iter()
        .filter(|c| target.column_named(c.name.as_str()).is_none())
        .collect();
    for c in &added {
        if needs_backfill(c) {
            // Rows already in the table would break ADD COLUMN … NOT NULL: the safe
            // sequence adds it nullable, fills it, then sets NOT NULL.
            let mut nullable = (*c).clone();
            nullable.nullable = true;
            out.upgrade.push(Op::AddColumn {
                table: table.clone(),
                column: nullable,
            });
            out.upgrade
                .push(Op::Execute(backfill(d, target, c.name.as_str())));
            out.upgrade.push(Op::AlterColumn {
                table: table.clone(),
                column: c.name.to_string(),
                change: ColumnChange {
                    nullable: Some(false),
                    ..ColumnChange::default()
                },
            });
            out.warnings.push(format!(
                "`{table}.{}` is NOT NULL without a server default: rows already in the table \
                 need a value, so the migration adds it nullable, fills it, then sets NOT \
                 NULL. Bind the value existing rows get to `:{BACKFILL}` in the UPDATE (or \
                 write its SQL); until then the migration stops there and names it",
                c.name
            ));
        } else {
            out.upgrade.push(Op::AddColumn {
                table: table.clone(),
                column: (*c).clone(),
            });
        }
        out.downgrade.push(Op::DropColumn {
            table: table.clone(),
            column: c.name.to_string(),
        });
    }
    if !added.is_empty() && !removed.is_empty() {
        out.warnings.push(format!(
            "`{table}`: columns {:?} removed and {:?} added — if this is a rename, write \
             `ops.rename_column(\"{table}\", old, new)` instead (renames are never guessed)",
            removed
                .iter()
                .map(|c| c.name.to_string())
                .collect::<Vec<_>>(),
            added.iter().map(|c| c.name.to_string()).collect::<Vec<_>>()
        ));
    }
    changed_columns(d, target, current, out);
    if has_comments(d) && target.comment != current.comment {
        out.upgrade.push(Op::SetTableComment {
            table: table.clone(),
            comment: target.comment.clone(),
        });
        out.downgrade.push(Op::SetTableComment {
            table: table.clone(),
            comment: current.comment.clone(),
        });
    }
    let (up_from, down_from) = (out.upgrade.len(), out.downgrade.len());
    constraints_diff(target, current, out);
    indexes_diff(target, current, out);
    // Every drop before every add, so a constraint can take the name of an index dropped
    // here (on MySQL a UNIQUE index becoming a constraint is one name for both).
    // (The downgrade is reversed at the end: its drops go last here.)
    out.upgrade[up_from..].sort_by_key(|op| !is_drop(op));
    out.downgrade[down_from..].sort_by_key(is_drop);
    // Dropped columns last (constraints on them are gone by now).
    for c in &removed {
        out.upgrade.push(Op::DropColumn {
            table: table.clone(),
            column: c.name.to_string(),
        });
        out.downgrade.push(Op::AddColumn {
            table: table.clone(),
            column: (*c).clone(),
        });
    }
    let pk = primary_key_names;
    if pk(target) != pk(current) {
        out.warnings.push(format!(
            "`{table}`: the primary key changed from {:?} to {:?}; write that migration by hand",
            pk(current),
            pk(target)
        ));
    }
}

/// Whether `op` drops a constraint or an index.
fn is_drop(op: &Op) -> bool {
    matches!(op, Op::DropConstraint { .. } | Op::DropIndex { .. })
}

/// Columns in both tables whose type, nullability or server default differ.
fn changed_columns(d: &dyn Dialect, target: &Table, current: &Table, out: &mut Diff) {
    let table = op_table_name(target);
    for c in &target.columns {
        let Some(cur) = current.column_named(c.name.as_str()) else {
            continue;
        };
        let mut up = ColumnChange::default();
        let mut down = ColumnChange::default();
        if type_changed(d, c, target, cur, current) {
            up.ty = Some(c.ty.clone());
            down.ty = Some(cur.ty.clone());
        }
        if c.nullable != cur.nullable && !c.primary_key {
            up.nullable = Some(c.nullable);
            down.nullable = Some(cur.nullable);
        }
        match (default_text(d, c), default_text(d, cur)) {
            (Ok(want), Ok(have)) => {
                let identity = c.primary_key && c.autoincrement;
                let norm = |s: &Option<String>| s.as_deref().map(normalize_default);
                if !identity && norm(&want) != norm(&have) {
                    up.server_default = Some(want);
                    down.server_default = Some(have);
                }
            }
            (Err(e), _) | (_, Err(e)) => out.warnings.push(format!(
                "`{table}.{}`: the server default cannot be written as SQL ({e}), so it was \
                 not compared; give it as SQL text with `server_default`",
                c.name
            )),
        }
        extras_changed(d, c, target, cur, current, (&mut up, &mut down), out);
        if up != ColumnChange::default() {
            out.upgrade.push(Op::AlterColumn {
                table: table.clone(),
                column: c.name.to_string(),
                change: up,
            });
            out.downgrade.push(Op::AlterColumn {
                table: table.clone(),
                column: c.name.to_string(),
                change: down,
            });
        }
    }
}

/// The comparisons beyond type, nullability and default: collation, comment (where the
/// database keeps comments), identity options (PostgreSQL), and the generated expression
/// (a warning: no database alters it in place, as in Alembic).
fn extras_changed(
    d: &dyn Dialect,
    c: &Column,
    target: &Table,
    cur: &Column,
    current: &Table,
    (up, down): (&mut ColumnChange, &mut ColumnChange),
    out: &mut Diff,
) {
    let collation = |c: &Column| {
        c.collation
            .as_deref()
            .map(str::to_ascii_lowercase)
            .filter(|n| n != "default")
    };
    if collation(c) != collation(cur) {
        up.collation = Some(c.collation.clone());
        down.collation = Some(cur.collation.clone());
    }
    if has_comments(d) && c.comment != cur.comment {
        up.comment = Some(c.comment.clone());
        down.comment = Some(cur.comment.clone());
    }
    let identity = |c: &Column| {
        let i = c.identity.unwrap_or_default();
        (i.always, i.start.unwrap_or(1), i.increment.unwrap_or(1))
    };
    if d.name() == "postgresql"
        && is_row_identity(d, c, target)
        && is_row_identity(d, cur, current)
        && identity(c) != identity(cur)
    {
        up.identity = Some(c.identity.unwrap_or_default());
        down.identity = Some(cur.identity.unwrap_or_default());
    }
    let computed = |c: &Column| c.computed.as_ref().map(|x| (loose(&x.sql), x.stored));
    if computed(c) != computed(cur) {
        out.warnings.push(format!(
            "`{}.{}`: the generated expression changed from {:?} to {:?}; the database cannot              alter it in place: drop and add the column by hand",
            target.name,
            c.name,
            cur.computed.as_ref().map(|x| &x.sql),
            c.computed.as_ref().map(|x| &x.sql)
        ));
    }
}

/// Named constraints, compared by name and content: dropped ones first, then added ones.
fn constraints_diff(target: &Table, current: &Table, out: &mut Diff) {
    let table = op_table_name(target);
    for con in &current.constraints {
        let Some(name) = constraint_key(con) else {
            continue;
        };
        let keep = target
            .constraints
            .iter()
            .any(|t| constraint_key(t).as_deref() == Some(&name) && same_constraint(t, con));
        if !keep {
            out.upgrade.push(Op::DropConstraint {
                table: table.clone(),
                name: name.clone(),
            });
            out.downgrade.push(Op::AddConstraint {
                table: table.clone(),
                constraint: con.clone(),
            });
        }
    }
    for con in &target.constraints {
        let Some(name) = constraint_key(con) else {
            continue;
        };
        let exists = current
            .constraints
            .iter()
            .any(|c| constraint_key(c).as_deref() == Some(&name) && same_constraint(c, con));
        if !exists {
            out.upgrade.push(Op::AddConstraint {
                table: table.clone(),
                constraint: con.clone(),
            });
            out.downgrade.push(Op::DropConstraint {
                table: table.clone(),
                name,
            });
        }
    }
}

/// Named indexes, compared by name and content: dropped ones first, then created ones.
fn indexes_diff(target: &Table, current: &Table, out: &mut Diff) {
    let table = op_table_name(target);
    let named =
        |ix: &Index, name: &str| ix.name.as_ref().map(Ident::to_string).as_deref() == Some(name);
    for ix in &current.indexes {
        let Some(name) = ix.name.as_ref().map(Ident::to_string) else {
            continue;
        };
        let keep = target
            .indexes
            .iter()
            .any(|t| named(t, &name) && same_index(t, ix));
        if !keep {
            out.upgrade.push(Op::DropIndex {
                table: table.clone(),
                name: name.clone(),
            });
            out.downgrade.push(Op::CreateIndex {
                table: table.clone(),
                index: ix.clone(),
            });
        }
    }
    for ix in &target.indexes {
        let Some(name) = ix.name.as_ref().map(Ident::to_string) else {
            continue;
        };
        let exists = current
            .indexes
            .iter()
            .any(|c| named(c, &name) && same_index(c, ix));
        if !exists {
            out.upgrade.push(Op::CreateIndex {
                table: table.clone(),
                index: ix.clone(),
            });
            out.downgrade.push(Op::DropIndex {
                table: table.clone(),
                name,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_normalise_like_the_database_stores_them() {
        assert_eq!(normalize_default("'active'::character varying"), "'active'");
        assert_eq!(normalize_default("('active')"), "'active'");
        assert_eq!(normalize_default("CURRENT_TIMESTAMP"), "now()");
        assert_eq!(normalize_default("now()"), "now()");
        assert_eq!(normalize_default("'{}'::jsonb"), "'{}'");
        assert_eq!(normalize_default("0"), "0");
        assert_eq!(normalize_default("'A::B'"), "'A::B'");
        assert_eq!(
            normalize_default("\"substring\"('name'::text, 1, 3)"),
            normalize_default("substring('name', 1, 3)")
        );
        assert_eq!(normalize_default("f( 'a  b' ,  1)"), "f('a  b',1)");
    }
}
