//! The runner: moves a live database along the revision graph. Each migration runs in its
//! own transaction with the schema state simulated from the migrations before it (what
//! SQLite's batch mode needs), plus any table no migration created, read from the database
//! when an operation needs it (adoption of `create_all` tables). It is recorded in the
//! version table, and on SQLite followed by a foreign key check.
//!
//! On PostgreSQL a transaction-scoped advisory lock taken in each of those transactions
//! serialises concurrent deploys and cannot outlive a cancelled run, and `SET LOCAL`
//! `lock_timeout` / `statement_timeout` keep a migration from queueing the application's
//! queries behind a lock it waits for ([`Runner::table_lock_timeout`]).

use std::collections::HashSet;
use std::time::{Duration, Instant};

use oxalchemy_core::schema::MetaData;
use oxalchemy_core::text;
use oxalchemy_engine::{Connection, Database};

use super::version_table::{applied, record};
use super::{Direction, Graph, MigrateError, Migration, Plan, Result};
use crate::lint::Lint;
use crate::ops::{Op, Ops, Step};
use crate::reflect::reflect_table;

/// Runs migrations against a database.
#[derive(Debug, Clone, Copy)]
pub struct Runner<'g> {
    graph: &'g Graph,
    lock_timeout: Duration,
    table_lock_timeout: Duration,
    statement_timeout: Duration,
    deny: &'static [&'static str],
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
    for op in ops {
        execute_op(conn, op, state).await?;
    }
    Ok(())
}

/// Runs one operation on `conn`, advancing `state` (see [`execute_ops`]).
pub(super) async fn execute_op(conn: &mut Connection, op: &Op, state: &mut MetaData) -> Result<()> {
    adopt_table(conn, op, state).await?;
    for step in op.render(conn.dialect(), state)? {
        match step {
            Step::Sql(c) => {
                conn.execute_write(&c).await?;
            }
            Step::Run(_, f) => f(conn).await?,
        }
    }
    op.apply_to(state)?;
    Ok(())
}

/// Reads the table `op` needs from the database into `state` when no migration before it
/// created that table. A table the database does not have either is left out, and the
/// operation then fails with [`OpError::NoSuchTable`](crate::ops::OpError::NoSuchTable).
pub(super) async fn adopt_table(
    conn: &mut Connection,
    op: &Op,
    state: &mut MetaData,
) -> Result<()> {
    let Some(name) = op.missing_table(state) else {
        return Ok(());
    };
    let reflect_error = |source| MigrateError::Reflect {
        table: name.to_owned(),
        source: Box::new(source),
    };
    let mut table = reflect_table(conn, name).await.map_err(reflect_error)?;
    // `schema.name`: a table of another schema (how autogenerate names those).
    if let (None, Some((schema, bare))) = (&table, name.split_once('.')) {
        table = crate::reflect::reflect_table_in(conn, schema, bare)
            .await
            .map_err(reflect_error)?;
    }
    if let Some(table) = table {
        state.add(table);
    }
    Ok(())
}

/// The key of the PostgreSQL advisory lock held while migrating (the same key older versions
/// took as a session lock, so old and new runners still exclude each other).
pub(super) const ADVISORY_LOCK: i64 = 7_415_002_211;

/// How long [`Runner::run`] waits for another run's migration lock unless told otherwise.
const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(300);

/// PostgreSQL's `lock_timeout` in each migration's transaction unless told otherwise.
pub const DEFAULT_TABLE_LOCK_TIMEOUT: Duration = Duration::from_secs(5);

/// PostgreSQL's `statement_timeout` in each migration's transaction unless told otherwise:
/// zero, no limit (rewriting a large table legitimately takes long; lock waits, which block
/// other queries, are bounded by [`DEFAULT_TABLE_LOCK_TIMEOUT`] instead).
pub const DEFAULT_STATEMENT_TIMEOUT: Duration = Duration::ZERO;

impl<'g> Runner<'g> {
    /// A runner for the migrations of `graph`.
    pub fn new(graph: &'g Graph) -> Self {
        Runner {
            graph,
            lock_timeout: DEFAULT_LOCK_TIMEOUT,
            table_lock_timeout: DEFAULT_TABLE_LOCK_TIMEOUT,
            statement_timeout: DEFAULT_STATEMENT_TIMEOUT,
            deny: &[],
        }
    }

    /// Makes the lints with these codes errors ([`Level::Error`](crate::lint::Level)):
    /// [`run`](Runner::run) then refuses a plan with one that its migration does not allow
    /// (`ops.allow(code)`), before anything runs, with [`MigrateError::LintDenied`]. For
    /// example `["drop-table", "drop-column", "change-type"]` for a production database.
    /// `not-null-without-default` is always an error.
    pub fn deny(mut self, codes: &'static [&'static str]) -> Self {
        self.deny = codes;
        self
    }

    /// How long a migration's statement waits on PostgreSQL for a lock on a table (held by
    /// the application's transactions) before the migration fails with
    /// [`MigrateError::TableLocked`], which names the sessions holding it.
    ///
    /// A waiting `ALTER TABLE` blocks every query on the table queued behind it, so a
    /// short wait that fails (and is retried later) is safer than one that stalls the
    /// application. It is set with `SET LOCAL lock_timeout` in each migration's
    /// transaction. [`DEFAULT_TABLE_LOCK_TIMEOUT`] (five seconds) unless set;
    /// `Duration::ZERO` waits forever. SQLite has no table locks: ignored there.
    pub fn table_lock_timeout(mut self, wait: Duration) -> Self {
        self.table_lock_timeout = wait;
        self
    }

    /// The longest one statement of a migration may run on PostgreSQL before it is
    /// cancelled and the migration fails with [`MigrateError::StatementTimeout`]. Set with
    /// `SET LOCAL statement_timeout` in each migration's transaction, overriding the
    /// server's or role's setting. [`DEFAULT_STATEMENT_TIMEOUT`] (no limit) unless set;
    /// `Duration::ZERO` is no limit. Ignored on SQLite.
    pub fn statement_timeout(mut self, limit: Duration) -> Self {
        self.statement_timeout = limit;
        self
    }

    /// How long [`run`](Runner::run) waits on PostgreSQL for another run to release the
    /// migration lock before failing with [`MigrateError::MigrationLocked`] (which names
    /// the session holding it). Five minutes unless set.
    pub fn lock_timeout(mut self, wait: Duration) -> Self {
        self.lock_timeout = wait;
        self
    }

    /// How long to wait for another run's migration lock.
    pub(super) fn lock_timeout_value(&self) -> Duration {
        self.lock_timeout
    }

    /// The graph this runner moves databases along.
    pub(super) fn graph(&self) -> &'g Graph {
        self.graph
    }

    /// The applied revisions that are known, checking checksums.
    pub(super) async fn applied_set(&self, conn: &mut Connection) -> Result<HashSet<&'static str>> {
        let mut set = HashSet::new();
        for (rev, checksum) in applied(conn).await? {
            let m = self
                .graph
                .migration(&rev)
                .ok_or_else(|| MigrateError::UnknownApplied(rev.clone()))?;
            if m.checksum() != checksum {
                // A row from before the current checksum format: accepted when it matches
                // the legacy checksum, and rewritten once.
                if super::checksum::is_legacy(&checksum) && m.legacy_checksum() == checksum {
                    super::version_table::rewrite_checksum(conn, &rev, &checksum, &m.checksum())
                        .await?;
                } else {
                    return Err(MigrateError::Edited(rev));
                }
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
        self.unlock(conn).await?;
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
        check_plan(self.graph, &plan)?;
        if !self.deny.is_empty() {
            if let Some((revision, lint)) = self
                .lints(db, target)
                .await?
                .into_iter()
                .find(|(_, l)| l.level == crate::lint::Level::Error)
            {
                return Err(MigrateError::LintDenied {
                    revision: revision.to_owned(),
                    lint: Box::new(lint),
                });
            }
        }
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
    pub(super) async fn lock(&self, conn: &mut Connection) -> Result<()> {
        if is_mysql(conn) {
            // GET_LOCK is session-scoped: the caller releases it (`unlock`).
            return self.lock_mysql(conn).await;
        }
        self.lock_with(conn, "SELECT pg_try_advisory_xact_lock(:k)")
            .await
    }

    /// Polls `try_lock` (a `pg_try_advisory_…lock(:k)` query) until it returns true or
    /// [`lock_timeout`](Runner::lock_timeout) runs out.
    pub(super) async fn lock_with(&self, conn: &mut Connection, try_lock: &str) -> Result<()> {
        if is_sqlite(conn) {
            return Ok(());
        }
        let started = Instant::now();
        let mut pause = Duration::from_millis(10);
        loop {
            let got: bool = conn
                .query_scalar(text(try_lock).bind("k", ADVISORY_LOCK))
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
    /// was held, another runner had already done it. On PostgreSQL, a migration with a
    /// [`concurrently`](crate::ops::Ops::concurrently) index runs in several transactions
    /// around it (see `autocommit`).
    async fn run_one(&self, conn: &mut Connection, m: &Migration, dir: Direction) -> Result<bool> {
        if is_mysql(conn) {
            // DDL commits statement by statement there: progress is recorded per operation.
            return self.run_one_mysql(conn, m, dir).await;
        }
        let sqlite = is_sqlite(conn);
        let ops = m.ops_for(dir);
        let concurrent = concurrent_ops(m, &ops)?;
        if sqlite {
            // Table rebuilds must not fire ON DELETE actions: foreign keys off for the
            // migration (it cannot change inside a transaction), checked after.
            conn.execute(text("PRAGMA foreign_keys = OFF")).await?;
        }
        let outcome = if sqlite || concurrent.is_empty() {
            self.run_in_transaction(conn, m, dir, &ops).await
        } else {
            self.run_with_autocommit(conn, m, dir, &ops).await
        };
        let outcome = describe_lock_holders(conn, outcome).await;
        if sqlite {
            conn.execute(text("PRAGMA foreign_keys = ON")).await?;
        }
        outcome
    }

    /// The whole migration in one transaction.
    async fn run_in_transaction(
        &self,
        conn: &mut Connection,
        m: &Migration,
        dir: Direction,
        ops: &Ops,
    ) -> Result<bool> {
        let mut tx = conn.begin().await?;
        let Some(mut state) = self.begin_migration(&mut tx, m, dir).await? else {
            tx.commit().await?;
            return Ok(false);
        };
        self.execute_guarded(&mut tx, m, ops.ops(), &mut state)
            .await?;
        finish_migration(&mut tx, m, dir).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// In a migration's (first) transaction: takes the migration lock, sets the timeouts
    /// and re-reads the version table; the schema state before the migration, or `None`
    /// when another runner already did it.
    pub(super) async fn begin_migration(
        &self,
        tx: &mut Connection,
        m: &Migration,
        dir: Direction,
    ) -> Result<Option<MetaData>> {
        self.lock(tx).await?;
        self.set_timeouts(tx).await?;
        let applied = self.applied_set(tx).await?;
        if applied.contains(m.revision) == (dir == Direction::Up) {
            return Ok(None);
        }
        Ok(Some(self.graph.state_after(&applied)?))
    }

    /// `lock_timeout` and `statement_timeout` for the rest of the transaction (PostgreSQL),
    /// values bound through `set_config(…, true)`, the function form of `SET LOCAL`.
    pub(super) async fn set_timeouts(&self, tx: &mut Connection) -> Result<()> {
        if is_sqlite(tx) {
            return Ok(());
        }
        let ms = |d: Duration| format!("{}ms", d.as_millis());
        let _: String = tx
            .query_scalar(
                text(
                    "SELECT set_config('lock_timeout', :lock, true) \
                     || set_config('statement_timeout', :statement, true)",
                )
                .bind("lock", ms(self.table_lock_timeout))
                .bind("statement", ms(self.statement_timeout)),
            )
            .await?;
        Ok(())
    }

    /// Runs `ops`, turning a lock or statement timeout into the error that says which
    /// table and what to do.
    pub(super) async fn execute_guarded(
        &self,
        conn: &mut Connection,
        m: &Migration,
        ops: &[Op],
        state: &mut MetaData,
    ) -> Result<()> {
        for op in ops {
            execute_op(conn, op, state)
                .await
                .map_err(|e| self.timed_out(e, m, op))?;
        }
        Ok(())
    }

    /// `e` as [`MigrateError::TableLocked`] or [`MigrateError::StatementTimeout`] when it
    /// is one (the lock holders are filled in after the rollback).
    fn timed_out(&self, e: MigrateError, m: &Migration, op: &Op) -> MigrateError {
        let MigrateError::Engine(source) = e else {
            return e;
        };
        let table = op.table().map(str::to_owned);
        let revision = m.revision.to_owned();
        match source.sqlstate() {
            Some("55P03") => MigrateError::TableLocked {
                revision,
                table,
                waited: self.table_lock_timeout,
                holders: String::new(),
                source: Box::new(source),
            },
            Some("57014") if source.to_string().contains("statement timeout") => {
                MigrateError::StatementTimeout {
                    revision,
                    table,
                    limit: self.statement_timeout,
                    source: Box::new(source),
                }
            }
            _ => MigrateError::Engine(source),
        }
    }

    /// The lints of every migration `run(target)` would apply, in order, as
    /// (revision, lint). Tables no migration created are read from the database.
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
            let mut state = self.graph.state_after(&applied)?;
            let ops = m.ops_for(dir);
            // Tables no migration created, as the database has them now, so their lints
            // (an index on an existing table, a NOT NULL column) are found too.
            for op in ops.ops() {
                adopt_table(&mut conn, op, &mut state).await?;
            }
            out.extend(
                crate::lint::lint_denying(dialect, &ops, &state, self.deny)
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
        self.unlock(&mut conn).await?;
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

/// Records the migration and, on SQLite, checks foreign keys, in its last transaction.
pub(super) async fn finish_migration(
    tx: &mut Connection,
    m: &Migration,
    dir: Direction,
) -> Result<()> {
    record(tx, m, dir).await?;
    if is_sqlite(tx) {
        check_foreign_keys(tx, m).await?;
    }
    Ok(())
}

/// The operations marked [`Ops::concurrently`], each checked to be a `create_index`.
pub(super) fn concurrent_ops(m: &Migration, ops: &Ops) -> Result<Vec<usize>> {
    let marked: Vec<usize> = (0..ops.ops().len())
        .filter(|&i| ops.is_concurrent(i))
        .collect();
    if let Some(&op) = marked
        .iter()
        .find(|&&i| !matches!(ops.ops()[i], Op::CreateIndex { .. }))
    {
        return Err(MigrateError::NotConcurrent {
            revision: m.revision.to_owned(),
            op,
        });
    }
    Ok(marked)
}

/// Refuses a plan with a migration that adds a NOT NULL column without a server default
/// (see [`crate::lint::refused_not_null`]), before any of it runs.
pub(super) fn check_plan(graph: &Graph, plan: &Plan) -> Result<()> {
    for (rev, dir) in &plan.steps {
        let Some(m) = graph.migration(rev) else {
            continue;
        };
        let ops = m.ops_for(*dir);
        if let Some((_, table, column)) = crate::lint::refused_not_null(&ops) {
            return Err(MigrateError::NotNullWithoutDefault {
                revision: m.revision.to_owned(),
                table: table.to_owned(),
                column: column.to_owned(),
            });
        }
    }
    Ok(())
}

/// Fills in who holds locks on the table of a [`MigrateError::TableLocked`], read once the
/// failed transaction is gone (its lock request with it).
async fn describe_lock_holders(conn: &mut Connection, outcome: Result<bool>) -> Result<bool> {
    let Err(MigrateError::TableLocked {
        revision,
        table,
        waited,
        source,
        ..
    }) = outcome
    else {
        return outcome;
    };
    let holders = match &table {
        Some(t) => table_lock_holders(conn, t)
            .await
            .unwrap_or_else(|e| format!("sessions that could not be listed ({e})")),
        None => "another session".to_owned(),
    };
    Err(MigrateError::TableLocked {
        revision,
        table,
        waited,
        holders,
        source,
    })
}

/// The other sessions holding locks on `table`, from `pg_locks` and `pg_stat_activity`.
async fn table_lock_holders(conn: &mut Connection, table: &str) -> Result<String> {
    // pid, application_name, lock mode, state, transaction start, query.
    type HolderRow = (
        i64,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
    );
    let rows: Vec<HolderRow> = conn
        .query(
            text(
                "SELECT CAST(a.pid AS BIGINT), a.application_name, l.mode, a.state, \
                 CAST(COALESCE(a.xact_start, a.backend_start) AS TEXT), LEFT(a.query, 200) \
                 FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid \
                 WHERE l.locktype = 'relation' AND l.granted AND l.pid <> pg_backend_pid() \
                 AND l.relation = to_regclass(quote_ident(:t)) ORDER BY a.pid",
            )
            .bind("t", table),
        )
        .await?;
    if rows.is_empty() {
        return Ok("a session that released it just now".to_owned());
    }
    let described: Vec<String> = rows
        .into_iter()
        .map(|(pid, app, mode, state, since, query)| {
            format!(
                "pid {pid} ({}, application_name `{}`, {}, since {}, query `{}`)",
                mode.unwrap_or_default(),
                app.unwrap_or_default(),
                state.unwrap_or_default(),
                since.unwrap_or_else(|| "unknown".to_owned()),
                query.unwrap_or_default(),
            )
        })
        .collect();
    Ok(described.join("; "))
}

pub(super) fn is_sqlite(conn: &Connection) -> bool {
    conn.dialect().name() == "sqlite"
}

/// Whether `conn` is MySQL or MariaDB (DDL not transactional, a named lock).
pub(super) fn is_mysql(conn: &Connection) -> bool {
    crate::ops::mysql::is_mysql(conn.dialect())
}
