//! The runner: moves a live database along the revision graph. Each migration runs in its
//! own transaction with the schema state simulated from the migrations before it (what
//! SQLite's batch mode needs), plus any table no migration created, read from the database
//! when an operation needs it (adoption of `create_all` tables), is recorded in the version table, and on SQLite is followed
//! by a foreign key check; on PostgreSQL a transaction-scoped advisory lock taken in each of
//! those transactions serialises concurrent deploys and cannot outlive a cancelled run.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use oxalchemy_core::schema::MetaData;
use oxalchemy_core::text;
use oxalchemy_engine::{Connection, Database};

use super::version_table::{applied, record};
use super::{Direction, Graph, MigrateError, Migration, Result};
use crate::lint::Lint;
use crate::ops::{Op, Step};
use crate::reflect::reflect_table;

/// Runs migrations against a database.
#[derive(Debug, Clone, Copy)]
pub struct Runner<'g> {
    graph: &'g Graph,
    lock_timeout: Duration,
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
///
/// An operation on a table `state` does not know (made by `create_all` or another tool,
/// not by a migration) first reads that table from the database into `state`, so it can
/// be altered like any other, SQLite's table rebuild included (Alembic's behaviour).
pub async fn execute_ops(conn: &mut Connection, ops: &[Op], state: &mut MetaData) -> Result<()> {
    let dialect = conn.dialect();
    for op in ops {
        adopt_table(conn, op, state).await?;
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

/// Reads the table `op` needs from the database into `state` when no migration before it
/// created that table. A table the database does not have either is left out, and the
/// operation then fails with [`OpError::NoSuchTable`](crate::ops::OpError::NoSuchTable).
async fn adopt_table(conn: &mut Connection, op: &Op, state: &mut MetaData) -> Result<()> {
    let Some(name) = op.missing_table(state) else {
        return Ok(());
    };
    let table = reflect_table(conn, name)
        .await
        .map_err(|source| MigrateError::Reflect {
            table: name.to_owned(),
            source: Box::new(source),
        })?;
    if let Some(table) = table {
        state.add(table);
    }
    Ok(())
}

/// The key of the PostgreSQL advisory lock held while migrating (the same key older versions
/// took as a session lock, so old and new runners still exclude each other).
const ADVISORY_LOCK: i64 = 7_415_002_211;

/// How long [`Runner::run`] waits for another run's migration lock unless told otherwise.
const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(300);

impl<'g> Runner<'g> {
    /// A runner for the migrations of `graph`.
    pub fn new(graph: &'g Graph) -> Self {
        Runner {
            graph,
            lock_timeout: DEFAULT_LOCK_TIMEOUT,
        }
    }

    /// How long [`run`](Runner::run) waits on PostgreSQL for another run to release the
    /// migration lock before failing with [`MigrateError::MigrationLocked`] (which names
    /// the session holding it). Five minutes unless set.
    pub fn lock_timeout(mut self, wait: Duration) -> Self {
        self.lock_timeout = wait;
        self
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

    /// The applied revisions, read in a transaction holding the migration lock: never half
    /// way through another runner's migration, and the version table is created (when it
    /// does not exist yet) by one runner at a time.
    async fn applied_locked(&self, conn: &mut Connection) -> Result<HashSet<&'static str>> {
        let mut tx = conn.begin().await?;
        self.lock(&mut tx).await?;
        let applied = self.applied_set(&mut tx).await?;
        tx.commit().await?;
        Ok(applied)
    }

    /// The current revision(s): applied revisions no other applied revision builds on.
    pub async fn current(&self, db: &Database) -> Result<Vec<&'static str>> {
        let mut conn = db.connection().await?;
        let applied = self.applied_locked(&mut conn).await?;
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
    /// (DDL is transactional on SQLite and PostgreSQL).
    ///
    /// On PostgreSQL every one of those transactions first takes a transaction-scoped
    /// advisory lock and then re-reads the version table, so one runner at a time applies
    /// migrations and a second one, started at the same time, waits and then finds the
    /// work done. The lock ends with its transaction: a run that is cancelled (its future
    /// dropped, say by a timeout) or fails cannot leave it held. A wait longer than
    /// [`lock_timeout`](Runner::lock_timeout) fails with [`MigrateError::MigrationLocked`].
    pub async fn run(&self, db: &Database, target: &str) -> Result<Report> {
        let mut conn = db.connection().await?;
        let plan = self
            .graph
            .plan(&self.applied_locked(&mut conn).await?, target)?;
        let mut report = Report {
            applied: Vec::new(),
            reverted: Vec::new(),
        };
        for (rev, dir) in plan.steps {
            let m = *self
                .graph
                .migration(rev)
                .ok_or_else(|| MigrateError::UnknownRevision(rev.to_owned()))?;
            if !self.run_one(&mut conn, &m, dir).await? {
                continue;
            }
            match dir {
                Direction::Up => report.applied.push(m.revision.to_owned()),
                Direction::Down => report.reverted.push(m.revision.to_owned()),
            }
        }
        if !report.applied.is_empty() || !report.reverted.is_empty() {
            // The migrations may have changed column types: statements other connections
            // prepared before would fail with "cached plan must not change result type".
            db.forget_prepared_statements();
        }
        Ok(report)
    }

    /// Takes the migration lock for the rest of `conn`'s transaction (PostgreSQL; SQLite's
    /// write transaction already excludes other writers).
    ///
    /// It polls `pg_try_advisory_xact_lock` instead of waiting in `pg_advisory_xact_lock`,
    /// so a cancelled run leaves no lock wait queued on the server.
    async fn lock(&self, conn: &mut Connection) -> Result<()> {
        if is_sqlite(conn) {
            return Ok(());
        }
        let started = Instant::now();
        let mut pause = Duration::from_millis(10);
        loop {
            let got: bool = conn
                .query_scalar(text("SELECT pg_try_advisory_xact_lock(:k)").bind("k", ADVISORY_LOCK))
                .await?;
            if got {
                return Ok(());
            }
            let waited = started.elapsed();
            if waited >= self.lock_timeout {
                return Err(MigrateError::MigrationLocked {
                    waited,
                    holders: lock_holders(conn).await?,
                });
            }
            tokio::time::sleep(pause.min(self.lock_timeout - waited)).await;
            pause = (pause * 2).min(Duration::from_millis(500));
        }
    }

    /// Runs one migration in its own transaction and records it; `false` if, once the lock
    /// was held, another runner had already done it.
    async fn run_one(&self, conn: &mut Connection, m: &Migration, dir: Direction) -> Result<bool> {
        let sqlite = is_sqlite(conn);
        if sqlite {
            // Table rebuilds must not fire ON DELETE actions: foreign keys off for the
            // migration (it cannot change inside a transaction), checked after.
            conn.execute(text("PRAGMA foreign_keys = OFF")).await?;
        }
        let outcome = async {
            let mut tx = conn.begin().await?;
            self.lock(&mut tx).await?;
            let applied = self.applied_set(&mut tx).await?;
            if applied.contains(m.revision) == (dir == Direction::Up) {
                tx.commit().await?;
                return Ok(false);
            }
            let mut state = self.graph.state_after(&applied)?;
            execute_ops(&mut tx, m.ops_for(dir).ops(), &mut state).await?;
            record(&mut tx, m, dir).await?;
            if sqlite {
                check_foreign_keys(&mut tx, m).await?;
            }
            tx.commit().await?;
            Ok::<bool, MigrateError>(true)
        }
        .await;
        if sqlite {
            conn.execute(text("PRAGMA foreign_keys = ON")).await?;
        }
        outcome
    }

    /// The lints of every migration `run(target)` would apply, in order, as
    /// (revision, lint).
    pub async fn lints(&self, db: &Database, target: &str) -> Result<Vec<(&'static str, Lint)>> {
        let mut conn = db.connection().await?;
        let dialect = conn.dialect();
        let mut applied = self.applied_locked(&mut conn).await?;
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

    /// Records `target` as applied (with its ancestors) without running anything, under the
    /// same lock as [`run`](Runner::run).
    pub async fn stamp(&self, db: &Database, target: &str) -> Result<()> {
        let mut conn = db.connection().await?;
        let mut tx = conn.begin().await?;
        self.lock(&mut tx).await?;
        let applied = self.applied_set(&mut tx).await?;
        let plan = self.graph.plan(&applied, target)?;
        for (rev, dir) in plan.steps {
            if let Some(m) = self.graph.migration(rev) {
                record(&mut tx, m, dir).await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }
}

/// SQLite's `PRAGMA foreign_key_check` after migration `m`: violations fail it (and roll it
/// back).
async fn check_foreign_keys(conn: &mut Connection, m: &Migration) -> Result<()> {
    let problems: Vec<(String, Option<i64>, String, i64)> =
        conn.query(text("PRAGMA foreign_key_check")).await?;
    if problems.is_empty() {
        return Ok(());
    }
    Err(MigrateError::ForeignKeyCheck {
        revision: m.revision.to_owned(),
        problems: format!("{problems:?}"),
    })
}

/// Who holds the migration lock, from `pg_locks` and `pg_stat_activity`: pid, application
/// name, client address and since when (the holder's transaction start), for the error
/// that says whom the runner waited for.
async fn lock_holders(conn: &mut Connection) -> Result<String> {
    // pid, application_name, client address, transaction start.
    type HolderRow = (i64, Option<String>, Option<String>, Option<String>);
    let rows: Vec<HolderRow> = conn
        .query(
            text(
                "SELECT CAST(a.pid AS BIGINT), a.application_name, CAST(a.client_addr AS TEXT), \
                 CAST(COALESCE(a.xact_start, a.backend_start) AS TEXT) \
                 FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid \
                 WHERE l.locktype = 'advisory' AND l.granted \
                 AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) \
                 AND CAST(l.classid AS BIGINT) * 4294967296 + CAST(l.objid AS BIGINT) = :k \
                 ORDER BY a.pid",
            )
            .bind("k", ADVISORY_LOCK),
        )
        .await?;
    if rows.is_empty() {
        return Ok("a session that released it just now".to_owned());
    }
    let described: Vec<String> = rows
        .into_iter()
        .map(|(pid, app, addr, since)| {
            format!(
                "pid {pid} (application_name `{}`, client {}, since {})",
                app.unwrap_or_default(),
                addr.unwrap_or_else(|| "local socket".to_owned()),
                since.unwrap_or_else(|| "unknown".to_owned()),
            )
        })
        .collect();
    Ok(described.join("; "))
}

fn is_sqlite(conn: &Connection) -> bool {
    conn.dialect().name() == "sqlite"
}
