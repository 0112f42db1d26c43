//! `explain()`: the database's plan for a statement, for debugging (the guide's §5): `EXPLAIN`
//! on PostgreSQL, `EXPLAIN QUERY PLAN` on SQLite, `EXPLAIN FORMAT=JSON` on MySQL, with the
//! statement's binds.

use oxalchemy_core::{Compiled, Statement};

use super::compiled::Access;
use super::Connection;
use crate::error::Result;

impl Connection {
    /// The plan the database would use for `stmt`, one line per plan node: PostgreSQL's
    /// `EXPLAIN` text, SQLite's `EXPLAIN QUERY PLAN` details indented by depth. Nothing of
    /// the statement runs (plain `EXPLAIN`, not `ANALYZE`).
    pub async fn explain(&mut self, stmt: impl Into<Statement>) -> Result<String> {
        let c = self.compile(&stmt.into())?;
        if self.dialect().name() == "sqlite" {
            let c = Compiled {
                sql: format!("EXPLAIN QUERY PLAN {}", c.sql),
                binds: c.binds,
            };
            let rows: Vec<(i64, i64, i64, String)> =
                self.run_query(&c.sql, &c.binds, Access::Read).await?;
            Ok(indent_sqlite_plan(&rows))
        } else if self.dialect().on_duplicate_key_update() {
            // MySQL / MariaDB: EXPLAIN is a table of columns; its JSON form is one text.
            let c = Compiled {
                sql: format!("EXPLAIN FORMAT=JSON {}", c.sql),
                binds: c.binds,
            };
            let rows: Vec<(String,)> = self.run_query(&c.sql, &c.binds, Access::Read).await?;
            Ok(rows
                .into_iter()
                .map(|(plan,)| plan)
                .collect::<Vec<_>>()
                .join("\n"))
        } else {
            let c = Compiled {
                sql: format!("EXPLAIN {}", c.sql),
                binds: c.binds,
            };
            let rows: Vec<(String,)> = self.run_query(&c.sql, &c.binds, Access::Read).await?;
            Ok(rows
                .into_iter()
                .map(|(line,)| line)
                .collect::<Vec<_>>()
                .join("\n"))
        }
    }
}

/// SQLite's plan rows are (id, parent id, unused, detail): indent each detail by its depth.
fn indent_sqlite_plan(rows: &[(i64, i64, i64, String)]) -> String {
    let mut depth: std::collections::HashMap<i64, usize> = std::collections::HashMap::new();
    let mut out = Vec::with_capacity(rows.len());
    for (id, parent, _, detail) in rows {
        let d = depth.get(parent).map_or(0, |d| d + 1);
        depth.insert(*id, d);
        out.push(format!("{}{detail}", "  ".repeat(d)));
    }
    out.join("\n")
}
