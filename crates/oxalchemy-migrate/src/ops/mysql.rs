//! [`Op::render`] on MySQL / MariaDB: backtick-quoted names through the dialect, and the
//! statements these databases spell their own way:
//!
//! * a type or nullability change is `ALTER TABLE … MODIFY COLUMN` with the whole new
//!   definition (MySQL has no `ALTER COLUMN … TYPE`), built from the column as the schema
//!   state has it, so its default and `AUTO_INCREMENT` are kept; a default alone is
//!   `ALTER COLUMN … SET / DROP DEFAULT`; a rename `RENAME COLUMN` (MySQL 8, MariaDB 10.5);
//! * `DROP INDEX … ON t`; a UNIQUE constraint is an index (`DROP INDEX`); a foreign key is
//!   `DROP FOREIGN KEY`, then on MariaDB `DROP INDEX IF EXISTS` of the index InnoDB made
//!   for it under its name, so dropping a foreign key leaves no index behind (MySQL has no
//!   `IF EXISTS` there: the index stays); a CHECK is `DROP CONSTRAINT` (MariaDB) or
//!   `DROP CHECK` (MySQL);
//! * `RENAME TABLE a TO b`.
//!
//! Every statement is one DDL statement, and each commits on its own: the runner records
//! which operations ran (`migration::mysql`).

use oxalchemy_core::dialect::{column_definition, constraint_definition, key_sized};
use oxalchemy_core::schema::{Constraint, Index, MetaData, NamingConvention, ServerDefault, Table};
use oxalchemy_core::{compile, CompileError, Compiled, Dialect, Statement};

use super::state::table_of;
use super::{ColumnChange, Op, OpError, Step};

/// Whether `d` is MySQL or MariaDB.
pub(crate) fn is_mysql(d: &dyn Dialect) -> bool {
    matches!(d.name(), "mysql" | "mariadb")
}

fn q(d: &dyn Dialect, name: &str) -> String {
    let mut out = String::new();
    d.quote_ident(&mut out, name);
    out
}

fn sql(text: String) -> Step {
    Step::Sql(Compiled {
        sql: text,
        binds: Vec::new(),
    })
}

/// The statements for `op` on MySQL / MariaDB, given the schema state before it.
pub(super) fn render(op: &Op, d: &dyn Dialect, state: &MetaData) -> Result<Vec<Step>, OpError> {
    let t = |name: &str| q(d, name);
    Ok(match op {
        Op::CreateTable(table) => {
            let mut steps = vec![Step::Sql(compile(d, &table.create().into())?)];
            // The dialect declares indexes inside CREATE TABLE (with prefixes on TEXT
            // columns); only a dialect that does not needs them as statements of their own.
            if !d.indexes_in_create_table() {
                for ix in table.create_indexes() {
                    steps.push(Step::Sql(compile(d, &ix.into())?));
                }
            }
            steps
        }
        // MySQL has no "no comment": an empty one is none.
        Op::SetTableComment { table, comment } => {
            let mut s = format!("ALTER TABLE {} COMMENT = ", t(table));
            oxalchemy_core::dialect::quote_literal(&mut s, comment.as_deref().unwrap_or(""));
            vec![sql(s)]
        }
        Op::DropTable(name) => vec![sql(format!("DROP TABLE {}", t(name)))],
        Op::RenameTable { from, to } => {
            vec![sql(format!("RENAME TABLE {} TO {}", t(from), t(to)))]
        }
        Op::AddColumn { table, column } => vec![sql(format!(
            "ALTER TABLE {} ADD COLUMN {}",
            t(table),
            column_definition(d, column)?
        ))],
        Op::DropColumn { table, column } => vec![sql(format!(
            "ALTER TABLE {} DROP COLUMN {}",
            t(table),
            t(column)
        ))],
        Op::AlterColumn {
            table,
            column,
            change,
        } => alter_column(d, state, table, column, change)?,
        Op::CreateIndex { table, index } => {
            if index.where_clause.is_some() {
                return Err(OpError::Compile(CompileError::Unsupported(
                    "partial indexes (CREATE INDEX … WHERE): MySQL / MariaDB index every row; \
                     drop the WHERE or index a generated column instead",
                    d.name(),
                )));
            }
            if index.expressions.is_empty() {
                return Ok(vec![sql(create_index(d, state, table, index))]);
            }
            let target = state
                .table(table)
                .map(Table::as_ref)
                .unwrap_or_else(|| oxalchemy_core::table(table.clone()));
            vec![Step::Sql(compile(
                d,
                &Statement::CreateIndex(oxalchemy_core::schema::CreateIndex {
                    table: target,
                    index: index.clone(),
                    if_not_exists: false,
                }),
            )?)]
        }
        Op::DropIndex { table, name } => {
            vec![sql(format!("DROP INDEX {} ON {}", t(name), t(table)))]
        }
        Op::AddConstraint { table, constraint } => vec![sql(format!(
            "ALTER TABLE {} ADD {}",
            t(table),
            constraint_definition(d, None, constraint)
        ))],
        Op::DropConstraint { table, name } => drop_constraint(d, state, table, name)?,
        Op::Execute(text) => vec![Step::Sql(compile(d, &Statement::Text(text.clone()))?)],
        Op::Run { label, f } => vec![Step::Run(label.clone(), f.clone())],
    })
}

/// `CREATE [UNIQUE] INDEX ix ON t (a, b(255))`: a TEXT / BLOB / JSON column (as the state
/// has it) is indexed on its first 255 characters ([`Dialect::index_prefix_length`]), since
/// MySQL cannot index one whole; a UNIQUE index then compares only that prefix.
fn create_index(d: &dyn Dialect, state: &MetaData, table: &str, index: &Index) -> String {
    let name = index.name.as_ref().map_or_else(
        || {
            let cols: Vec<&str> = index.columns.iter().map(|c| c.as_str()).collect();
            let conv = NamingConvention::default();
            conv.render(&conv.index, table, &cols, "", "").to_string()
        },
        ToString::to_string,
    );
    let current = state.table(table);
    let mut s = format!(
        "CREATE {}INDEX {} ON {} (",
        if index.unique { "UNIQUE " } else { "" },
        q(d, &name),
        q(d, table)
    );
    for (i, c) in index.columns.iter().enumerate() {
        if i > 0 {
            s.push_str(", ");
        }
        s.push_str(&q(d, c.as_str()));
        let ty = current
            .and_then(|t| t.column_named(c.as_str()))
            .map(|c| &c.ty);
        if let Some(n) = ty.and_then(|ty| d.index_prefix_length(ty)) {
            s.push_str(&format!("({n})"));
        }
    }
    s.push(')');
    s
}

/// What kind of constraint `name` is decides the statement: MySQL has no kind-blind drop
/// for UNIQUE (an index) and foreign keys.
fn drop_constraint(
    d: &dyn Dialect,
    state: &MetaData,
    table: &str,
    name: &str,
) -> Result<Vec<Step>, OpError> {
    let t = q(d, table);
    let n = q(d, name);
    let found = table_of(state, table)?
        .constraints
        .iter()
        .find(|c| constraint_name(c).as_deref() == Some(name))
        .cloned();
    Ok(match found {
        Some(Constraint::Unique { .. }) => vec![sql(format!("ALTER TABLE {t} DROP INDEX {n}"))],
        Some(Constraint::ForeignKey(_)) => {
            let mut steps = vec![sql(format!("ALTER TABLE {t} DROP FOREIGN KEY {n}"))];
            let has_own_index = table_of(state, table)?
                .indexes
                .iter()
                .any(|ix| ix.name.as_ref().is_some_and(|i| i.as_str() == name));
            if d.name() == "mariadb" && !has_own_index {
                steps.push(sql(format!("ALTER TABLE {t} DROP INDEX IF EXISTS {n}")));
            }
            steps
        }
        Some(Constraint::Check { .. }) if d.name() == "mysql" => {
            vec![sql(format!("ALTER TABLE {t} DROP CHECK {n}"))]
        }
        // A CHECK on MariaDB, or a name the state does not know (MySQL 8.0.19+ and MariaDB
        // accept DROP CONSTRAINT for any kind).
        _ => vec![sql(format!("ALTER TABLE {t} DROP CONSTRAINT {n}"))],
    })
}

fn constraint_name(c: &Constraint) -> Option<String> {
    match c {
        Constraint::Unique { name, .. } | Constraint::Check { name, .. } => {
            name.as_ref().map(ToString::to_string)
        }
        Constraint::ForeignKey(fk) => fk.name.as_ref().map(ToString::to_string),
    }
}

/// `MODIFY COLUMN` with the whole new definition for a type, nullability, comment or
/// collation change; a default alone is `ALTER COLUMN … SET / DROP DEFAULT`; the rename
/// comes last.
fn alter_column(
    d: &dyn Dialect,
    state: &MetaData,
    table: &str,
    column: &str,
    change: &ColumnChange,
) -> Result<Vec<Step>, OpError> {
    let t = q(d, table);
    let c = q(d, column);
    let mut steps = Vec::new();
    if change.ty.is_some()
        || change.nullable.is_some()
        || change.comment.is_some()
        || change.collation.is_some()
    {
        let current = table_of(state, table)?;
        let mut new =
            current
                .column_named(column)
                .cloned()
                .ok_or_else(|| OpError::NoSuchColumn {
                    table: table.to_owned(),
                    column: column.to_owned(),
                })?;
        if let Some(ty) = &change.ty {
            new.ty = ty.clone();
        }
        if let Some(nullable) = change.nullable {
            new.nullable = nullable;
        }
        if let Some(default) = &change.server_default {
            new.server_default = default.clone().map(ServerDefault::Sql);
        }
        if let Some(comment) = &change.comment {
            new.comment.clone_from(comment);
        }
        if let Some(collation) = &change.collation {
            new.collation.clone_from(collation);
        }
        // A key column keeps a type MySQL can key (an unbounded string: VARCHAR(255)).
        let mut keyed = current.clone();
        if let Some(slot) = keyed.columns.iter_mut().find(|c| c.name == new.name) {
            *slot = new.clone();
        }
        if let Some(sized) = key_sized(d, &keyed).column_named(column) {
            new.ty = sized.ty.clone();
        }
        let mut def = column_definition(d, &new)?;
        if new.autoincrement && new.primary_key && new.ty.is_integer() {
            def.push_str(" AUTO_INCREMENT");
        }
        steps.push(sql(format!("ALTER TABLE {t} MODIFY COLUMN {def}")));
    } else if let Some(default) = &change.server_default {
        steps.push(sql(match default {
            // MySQL takes an expression default only in parentheses.
            Some(x) if x.contains('(') && !x.starts_with('(') => {
                format!("ALTER TABLE {t} ALTER COLUMN {c} SET DEFAULT ({x})")
            }
            Some(x) => format!("ALTER TABLE {t} ALTER COLUMN {c} SET DEFAULT {x}"),
            None => format!("ALTER TABLE {t} ALTER COLUMN {c} DROP DEFAULT"),
        }));
    }
    if let Some(new) = &change.rename_to {
        steps.push(sql(format!(
            "ALTER TABLE {t} RENAME COLUMN {c} TO {}",
            q(d, new)
        )));
    }
    Ok(steps)
}

#[cfg(test)]
mod tests {
    use oxalchemy_core::dialect::MySql;
    use oxalchemy_core::schema::{Column, ForeignKey, Index};
    use oxalchemy_core::SqlType;

    use super::*;

    fn state() -> MetaData {
        let mut md = MetaData::new();
        md.add(
            Table::new("users")
                .column(Column::new("id", SqlType::BigInteger).primary_key())
                .column(
                    Column::new("name", SqlType::String(Some(50)))
                        .not_null()
                        .server_default("'x'"),
                )
                .column(Column::new("team_id", SqlType::BigInteger))
                .unique_named("uq_users_name", ["name"])
                .check_named("ck_users_name", "name <> ''")
                .foreign_key(ForeignKey::new(["team_id"], "users", ["id"]).named("fk_users_team"))
                .index(Index::new(["name"]).named("ix_users_name")),
        );
        md
    }

    fn sqls(op: Op, d: &MySql) -> Vec<String> {
        render(&op, d, &state())
            .unwrap()
            .into_iter()
            .map(|s| match s {
                Step::Sql(c) => c.sql,
                Step::Run(l, _) => l,
            })
            .collect()
    }

    #[test]
    fn renders_mysql_ddl() {
        let m = &MySql::MARIADB;
        assert_eq!(
            sqls(
                Op::AlterColumn {
                    table: "users".into(),
                    column: "name".into(),
                    change: ColumnChange {
                        ty: Some(SqlType::Text),
                        rename_to: Some("title".into()),
                        ..Default::default()
                    },
                },
                m
            ),
            [
                // `name` is UNIQUE and indexed: MySQL keys no whole TEXT, so VARCHAR(255).
                "ALTER TABLE `users` MODIFY COLUMN `name` VARCHAR(255) NOT NULL DEFAULT 'x'",
                "ALTER TABLE `users` RENAME COLUMN `name` TO `title`"
            ]
        );
        assert_eq!(
            sqls(
                Op::DropConstraint {
                    table: "users".into(),
                    name: "fk_users_team".into()
                },
                m
            ),
            [
                "ALTER TABLE `users` DROP FOREIGN KEY `fk_users_team`",
                "ALTER TABLE `users` DROP INDEX IF EXISTS `fk_users_team`"
            ]
        );
        assert_eq!(
            sqls(
                Op::DropConstraint {
                    table: "users".into(),
                    name: "uq_users_name".into()
                },
                m
            ),
            ["ALTER TABLE `users` DROP INDEX `uq_users_name`"]
        );
        assert_eq!(
            sqls(
                Op::DropConstraint {
                    table: "users".into(),
                    name: "ck_users_name".into()
                },
                &MySql::MYSQL
            ),
            ["ALTER TABLE `users` DROP CHECK `ck_users_name`"]
        );
        assert_eq!(
            sqls(
                Op::DropIndex {
                    table: "users".into(),
                    name: "ix_users_name".into()
                },
                m
            ),
            ["DROP INDEX `ix_users_name` ON `users`"]
        );
        assert_eq!(
            sqls(
                Op::AlterColumn {
                    table: "users".into(),
                    column: "name".into(),
                    change: ColumnChange {
                        server_default: Some(None),
                        ..Default::default()
                    },
                },
                m
            ),
            ["ALTER TABLE `users` ALTER COLUMN `name` DROP DEFAULT"]
        );
        assert_eq!(
            sqls(
                Op::RenameTable {
                    from: "users".into(),
                    to: "people".into()
                },
                m
            ),
            ["RENAME TABLE `users` TO `people`"]
        );
        assert_eq!(
            sqls(
                Op::SetTableComment {
                    table: "users".into(),
                    comment: Some("it's".into())
                },
                m
            ),
            ["ALTER TABLE `users` COMMENT = 'it''s'"]
        );
    }

    #[test]
    fn an_index_on_text_gets_a_prefix_and_a_partial_one_an_error() {
        let mut md = state();
        md.add(
            Table::new("docs")
                .column(Column::new("id", SqlType::BigInteger).primary_key())
                .column(Column::new("body", SqlType::Text))
                .column(Column::new("code", SqlType::String(Some(8)))),
        );
        let render_ix = |index: Index| {
            render(
                &Op::CreateIndex {
                    table: "docs".into(),
                    index,
                },
                &MySql::MARIADB,
                &md,
            )
        };
        let steps = render_ix(Index::new(["body", "code"]).named("ix_docs_body").unique()).unwrap();
        let Step::Sql(c) = &steps[0] else {
            panic!("a statement")
        };
        assert_eq!(
            c.sql,
            "CREATE UNIQUE INDEX `ix_docs_body` ON `docs` (`body`(255), `code`)"
        );
        let err = render_ix(Index::new(["code"]).named("ix_p").where_("id > 0")).unwrap_err();
        assert!(err.to_string().contains("partial indexes"), "{err}");
    }
}
