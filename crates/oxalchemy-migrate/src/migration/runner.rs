//! The runner: moves a live database along the revision graph. Each migration runs in its
//! own transaction with the schema state simulated from the migrations before it (what
//! SQLite's batch mode needs), is recorded in the version table, and on SQLite is followed
//! by a foreign key check; on PostgreSQL an advisory lock serialises concurrent deploys.

use std::collections::HashSet;

use oxalchemy_core::schema::MetaData;
use oxalchemy_core::text;
use oxalchemy_engine::{Connection, Database};

use super::version_table::{applied, record};
use super::{Direction, Graph, MigrateError, Migration, Result};
use crate::lint::Lint;
use crate::ops::{Op, Step};

/// Runs migrations against a database.
#[derive(Debug, Clone, Copy)]
pub struct Runner<'g> {
    graph: &'g Graph,
}

/// What [`Runner::run`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// Revisions applied, in order.
    pub applied: Vec<String>,
    /// Revisions reverted, in order.
    pub reverted: Vec<String>,
}

/// Runs operations on `conn` (inside the caller's transaction), advancing `state`.
pub async fn execute_ops(conn: &mut Connection, ops: &[Op], state: &mut MetaData) -> Result<()> {
    let dialect = conn.dialect();
    for op in ops {
        for step in op.render(dialect, state)? {
            match step {
                Step::Sql(c) => {
                    conn.execute_write(&c).await?;
                }
                Step::Run(_, f) => f(conn).await?,
            }
        }
        op.apply_to(state)?;
    }
    Ok(())
}

/// The key of the PostgreSQL advisory lock held while migrating.
const ADVISORY_LOCK: i64 = 7_415_002_211;

impl<'g> Runner<'g> {
    /// A runner for the migrations of `graph`.
    pub fn new(graph: &'g Graph) -> Self {
        Runner { graph }
    }

    /// The graph this runner moves databases along.
    pub(super) fn graph(&self) -> &'g Graph {
        self.graph
    }

    /// The applied revisions that are known, checking checksums.
    async fn applied_set(&self, conn: &mut Connection) -> Result<HashSet<&'static str>> {
        let mut set = HashSet::new();
        for (rev, checksum) in applied(conn).await? {
            let m = self
                .graph
                .migration(&rev)
                .ok_or_else(|| MigrateError::UnknownApplied(rev.clone()))?;
            if m.checksum() != checksum {
                return Err(MigrateError::Edited(rev));
            }
            set.insert(m.revision);
        }
        Ok(set)
    }

    /// The current revision(s): applied revisions no other applied revision builds on.
    pub async fn current(&self, db: &Database) -> Result<Vec<&'static str>> {
        let mut conn = db.connection().await?;
        let applied = self.applied_set(&mut conn).await?;
        let parents: HashSet<&str> = applied
            .iter()
            .filter_map(|r| self.graph.migration(r))
            .flat_map(|m| m.down_revisions.iter().copied())
            .collect();
        let mut out: Vec<&'static str> = applied
            .into_iter()
            .filter(|r| !parents.contains(r))
            .collect();
        out.sort();
        Ok(out)
    }

    /// Moves the database to `target`. Each migration runs in its own transaction
    /// (DDL is transactional on SQLite and PostgreSQL); on PostgreSQL an advisory lock keeps
    /// two deploys from migrating at once.
    pub async fn run(&self, db: &Database, target: &str) -> Result<Report> {
        let mut conn = db.connection().await?;
        let sqlite = is_sqlite(&conn);
        if !sqlite {
            // Session-level lock, released at the end (or when the connection closes).
            conn.execute(text("SELECT pg_advisory_lock(:k)").bind("k", ADVISORY_LOCK))
                .await?;
        }
        let result = self.run_locked(&mut conn, target).await;
        if !sqlite {
            conn.execute(text("SELECT pg_advisory_unlock(:k)").bind("k", ADVISORY_LOCK))
                .await?;
        }
        result
    }

    async fn run_locked(&self, conn: &mut Connection, target: &str) -> Result<Report> {
        let mut applied = self.applied_set(conn).await?;
        let plan = self.graph.plan(&applied, target)?;
        let mut report = Report {
            applied: Vec::new(),
            reverted: Vec::new(),
        };
        for (rev, dir) in plan.steps {
            let m = *self
                .graph
                .migration(rev)
                .ok_or_else(|| MigrateError::UnknownRevision(rev.to_owned()))?;
            let state = self.graph.state_after(&applied)?;
            run_one(conn, &m, dir, state).await?;
            match dir {
                Direction::Up => {
                    applied.insert(m.revision);
                    report.applied.push(m.revision.to_owned());
                }
                Direction::Down => {
                    applied.remove(m.revision);
                    report.reverted.push(m.revision.to_owned());
                }
            }
        }
        Ok(report)
    }

    /// The lints of every migration `run(target)` would apply, in order, as
    /// (revision, lint).
    pub async fn lints(&self, db: &Database, target: &str) -> Result<Vec<(&'static str, Lint)>> {
        let mut conn = db.connection().await?;
        let dialect = conn.dialect();
        let mut applied = self.applied_set(&mut conn).await?;
        let plan = self.graph.plan(&applied, target)?;
        let mut out = Vec::new();
        for (rev, dir) in plan.steps {
            let Some(m) = self.graph.migration(rev) else {
                continue;
            };
            let state = self.graph.state_after(&applied)?;
            let ops = m.ops_for(dir);
            out.extend(
                crate::lint::lint(dialect, &ops, &state)
                    .into_iter()
                    .map(|l| (m.revision, l)),
            );
            match dir {
                Direction::Up => applied.insert(m.revision),
                Direction::Down => applied.remove(m.revision),
            };
        }
        Ok(out)
    }

    /// Records `target` as applied (with its ancestors) without running anything.
    pub async fn stamp(&self, db: &Database, target: &str) -> Result<()> {
        let mut conn = db.connection().await?;
        let applied = self.applied_set(&mut conn).await?;
        let plan = self.graph.plan(&applied, target)?;
        let mut tx = conn.begin().await?;
        for (rev, dir) in plan.steps {
            if let Some(m) = self.graph.migration(rev) {
                record(&mut tx, m, dir).await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }
}

/// Runs one migration in its own transaction, from schema `state`, and records it.
async fn run_one(
    conn: &mut Connection,
    m: &Migration,
    dir: Direction,
    mut state: MetaData,
) -> Result<()> {
    let sqlite = is_sqlite(conn);
    let ops = m.ops_for(dir);
    if sqlite {
        // Table rebuilds must not fire ON DELETE actions: foreign keys off for the
        // migration (it cannot change inside a transaction), checked after.
        conn.execute(text("PRAGMA foreign_keys = OFF")).await?;
    }
    let outcome = async {
        let mut tx = conn.begin().await?;
        execute_ops(&mut tx, ops.ops(), &mut state).await?;
        record(&mut tx, m, dir).await?;
        if sqlite {
            let problems: Vec<(String, Option<i64>, String, i64)> =
                tx.query(text("PRAGMA foreign_key_check")).await?;
            if !problems.is_empty() {
                return Err(MigrateError::ForeignKeyCheck {
                    revision: m.revision.to_owned(),
                    problems: format!("{problems:?}"),
                });
            }
        }
        tx.commit().await?;
        Ok::<(), MigrateError>(())
    }
    .await;
    if sqlite {
        conn.execute(text("PRAGMA foreign_keys = ON")).await?;
    }
    outcome
}

fn is_sqlite(conn: &Connection) -> bool {
    conn.dialect().name() == "sqlite"
}
