//! Safety lints on planned operations, before they run: what locks a busy table, loses
//! data, or breaks the running application. Each can be allowed per operation with
//! [`Ops::allow`](crate::ops::Ops::allow).

use oxalchemy_core::schema::{Constraint, MetaData};
use oxalchemy_core::{Dialect, SqlType};

use crate::ops::{Op, Ops};

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lint {
    /// Stable code, for `ops.allow(code)`.
    pub code: &'static str,
    /// Index of the operation in its migration.
    pub op: usize,
    /// What is dangerous and what to do instead.
    pub message: String,
}

impl std::fmt::Display for Lint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "[{}] op #{}: {} (allow with ops.allow(\"{}\"))",
            self.code, self.op, self.message, self.code
        )
    }
}

fn column_type_lints(d: &dyn Dialect, ty: &SqlType, what: &str, i: usize, out: &mut Vec<Lint>) {
    let pg = d.name() == "postgresql";
    if pg && matches!(ty, SqlType::String(Some(_))) {
        out.push(Lint {
            code: "varchar",
            op: i,
            message: format!("{what} is VARCHAR(n); on PostgreSQL prefer TEXT (with a CHECK on length if needed): changing n later rewrites the table"),
        });
    }
    if matches!(ty, SqlType::DateTime { timezone: false }) {
        out.push(Lint {
            code: "timestamp-without-time-zone",
            op: i,
            message: format!("{what} is a timestamp without time zone; store instants as TIMESTAMP WITH TIME ZONE"),
        });
    }
}

/// The lints of `ops` applied to the schema `state` (the schema before them).
pub fn lint(d: &dyn Dialect, ops: &Ops, state: &MetaData) -> Vec<Lint> {
    let pg = d.name() == "postgresql";
    let mut out = Vec::new();
    let mut state = state.clone();
    for (i, op) in ops.ops().iter().enumerate() {
        match op {
            Op::CreateTable(t) => {
                for c in &t.columns {
                    column_type_lints(d, &c.ty, &format!("`{}.{}`", t.name, c.name), i, &mut out);
                }
            }
            Op::AddColumn { table, column } => {
                let exists = state.table(table).is_some();
                if exists && !column.nullable && column.server_default.is_none() {
                    out.push(Lint {
                        code: "not-null-without-default",
                        op: i,
                        message: format!("adding NOT NULL `{table}.{}` without a server default fails on a table with rows; add a server_default or add it nullable, backfill, then set NOT NULL", column.name),
                    });
                }
                column_type_lints(
                    d,
                    &column.ty,
                    &format!("`{table}.{}`", column.name),
                    i,
                    &mut out,
                );
            }
            Op::DropColumn { table, column } => out.push(Lint {
                code: "drop-column",
                op: i,
                message: format!(
                    "dropping `{table}.{column}` loses its data, and code still reading it breaks"
                ),
            }),
            Op::DropTable(t) => out.push(Lint {
                code: "drop-table",
                op: i,
                message: format!("dropping table `{t}` loses its data"),
            }),
            Op::AlterColumn {
                table,
                column,
                change,
            } => {
                if let Some(ty) = &change.ty {
                    out.push(Lint {
                        code: "change-type",
                        op: i,
                        message: format!("changing the type of `{table}.{column}` rewrites the table under a lock and may fail on existing values"),
                    });
                    column_type_lints(d, ty, &format!("`{table}.{column}`"), i, &mut out);
                }
                if change.rename_to.is_some() {
                    out.push(Lint {
                        code: "rename",
                        op: i,
                        message: format!("renaming `{table}.{column}` breaks code that still uses the old name; deploy code that handles both first"),
                    });
                }
            }
            Op::RenameTable { from, .. } => out.push(Lint {
                code: "rename",
                op: i,
                message: format!(
                    "renaming table `{from}` breaks code that still uses the old name"
                ),
            }),
            Op::CreateIndex { table, index }
                if pg && state.table(table).is_some() && !ops.is_concurrent(i) =>
            {
                out.push(Lint {
                    code: "index-not-concurrent",
                    op: i,
                    message: format!("CREATE INDEX {} locks writes to `{table}` while it builds; on a large table build it without blocking writes: ops.create_index(..).concurrently()", index.name.as_ref().map(|n| n.to_string()).unwrap_or_default()),
                });
            }
            Op::AddConstraint { table, constraint } if pg => {
                let kind = match constraint {
                    Constraint::ForeignKey(_) => Some("foreign key"),
                    Constraint::Check { .. } => Some("check"),
                    Constraint::Unique { .. } => None,
                };
                if let Some(kind) = kind {
                    out.push(Lint {
                        code: "constraint-not-valid",
                        op: i,
                        message: format!("adding a {kind} constraint to `{table}` scans it under a lock; add it NOT VALID and VALIDATE CONSTRAINT separately (ops.execute)"),
                    });
                }
            }
            _ => {}
        }
        let _ = op.apply_to(&mut state);
    }
    out.retain(|l| !ops.is_allowed(l.op, l.code));
    out
}
