//! Offline mode (`--sql`): the script that moving from some applied revisions to a target
//! would run, for a person or `psql` / `sqlite3` to run later. The one place values are
//! inlined as literals instead of bound: the script is for a client, not for a driver.
//!
//! Offline there is no database to read, so only tables the migrations created are known:
//! an operation on any other table fails with [`OpError::NoSuchTable`], whose message asks
//! for a baseline migration creating it.

use std::collections::HashSet;
use std::fmt::Write;

use oxalchemy_core::schema::MetaData;
use oxalchemy_core::{Dialect, Value};

use super::autocommit::concurrently;
use super::runner::{check_plan, concurrent_ops};
use super::version_table::{create_sql, record_sql};
use super::{Direction, MigrateError, Migration, Result, Runner};
use crate::ops::{OpError, Step};

impl Runner<'_> {
    /// The SQL that moving from `applied` to `target` would run (`--sql` offline mode), for
    /// `dialect`, as a script.
    pub fn offline_sql(
        &self,
        dialect: &dyn Dialect,
        applied: &HashSet<&'static str>,
        target: &str,
    ) -> Result<String> {
        let graph = self.graph();
        let plan = graph.plan(applied, target)?;
        check_plan(graph, &plan)?;
        let mut applied = applied.clone();
        let mut out = create_sql(dialect) + ";\n";
        for (rev, dir) in plan.steps {
            let Some(m) = graph.migration(rev) else {
                continue;
            };
            let state = graph.state_after(&applied)?;
            write_migration(&mut out, dialect, m, dir, state)?;
            match dir {
                Direction::Up => applied.insert(m.revision),
                Direction::Down => applied.remove(m.revision),
            };
        }
        Ok(out)
    }
}

/// One migration's part of the script: its statements in a transaction, and the version
/// table row.
fn write_migration(
    out: &mut String,
    dialect: &dyn Dialect,
    m: &Migration,
    dir: Direction,
    mut state: MetaData,
) -> Result<()> {
    let sqlite = dialect.name() == "sqlite";
    let verb = match dir {
        Direction::Up => "upgrade",
        Direction::Down => "downgrade",
    };
    let _ = writeln!(out, "\n-- {verb} {} — {}", m.revision, m.message);
    if sqlite {
        out.push_str("PRAGMA foreign_keys = OFF;\n");
    }
    out.push_str("BEGIN;\n");
    let ops = m.ops_for(dir);
    let concurrent = concurrent_ops(m, &ops)?;
    for (i, op) in ops.ops().iter().enumerate() {
        if let Some(table) = op.missing_table(&state) {
            // Offline there is no database to read a table no migration created from.
            return Err(OpError::NoSuchTable(table.to_owned()).into());
        }
        let outside = !sqlite && concurrent.contains(&i);
        for step in op.render(dialect, &state)? {
            match step {
                Step::Sql(c) if outside => {
                    // CREATE INDEX CONCURRENTLY cannot run in a transaction.
                    let c = concurrently(&c).ok_or_else(|| MigrateError::NotConcurrent {
                        revision: m.revision.to_owned(),
                        op: i,
                    })?;
                    out.push_str("COMMIT;\n");
                    out.push_str(&inline_binds(dialect, &c.sql, &c.binds));
                    out.push_str(";\nBEGIN;\n");
                }
                Step::Sql(c) => {
                    out.push_str(&inline_binds(dialect, &c.sql, &c.binds));
                    out.push_str(";\n");
                }
                Step::Run(label, _) => {
                    let _ = writeln!(
                        out,
                        "-- data migration `{label}` is Rust code: run it online"
                    );
                }
            }
        }
        op.apply_to(&mut state)?;
    }
    out.push_str(&record_sql(m, dir));
    out.push_str(";\nCOMMIT;\n");
    if sqlite {
        out.push_str("PRAGMA foreign_keys = ON;\n");
    }
    Ok(())
}

/// A value as a SQL literal.
fn literal(v: &Value) -> String {
    match v {
        Value::Null => "NULL".into(),
        Value::Bool(b) => if *b { "TRUE" } else { "FALSE" }.into(),
        Value::I16(n) => n.to_string(),
        Value::I32(n) => n.to_string(),
        Value::I64(n) => n.to_string(),
        Value::F32(n) => n.to_string(),
        Value::F64(n) => n.to_string(),
        Value::Decimal(d) => d.to_string(),
        other => {
            let text = match other {
                Value::Text(s) | Value::Numeric(s) => s.clone(),
                Value::Inet { addr, prefix } => {
                    oxalchemy_core::value_types::inet_text(addr, *prefix)
                }
                v => format!("{v:?}"),
            };
            let mut out = String::new();
            oxalchemy_core::dialect::quote_literal(&mut out, &text);
            out
        }
    }
}

/// Renders binds as literals in place of the dialect's placeholders (`?` on SQLite, `$n` on
/// PostgreSQL).
fn inline_binds(dialect: &dyn Dialect, sql: &str, binds: &[Value]) -> String {
    if binds.is_empty() {
        return sql.to_owned();
    }
    if dialect.name() == "sqlite" {
        let mut out = String::new();
        let mut it = binds.iter();
        for ch in sql.chars() {
            if ch == '?' {
                if let Some(v) = it.next() {
                    out.push_str(&literal(v));
                    continue;
                }
            }
            out.push(ch);
        }
        out
    } else {
        let mut out = sql.to_owned();
        for (i, v) in binds.iter().enumerate().rev() {
            out = out.replace(&format!("${}", i + 1), &literal(v));
        }
        out
    }
}
