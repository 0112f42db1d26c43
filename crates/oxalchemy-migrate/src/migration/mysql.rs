//! Migrations on MySQL / MariaDB, where DDL is not transactional: every `ALTER` / `CREATE`
//! commits on its own, so a migration failing half way leaves its earlier operations
//! applied. Alembic only documents this; here the runner records each operation that ran in
//! `oxalchemy_migration_progress` (revision, direction, operation number, checksum) as soon
//! as it ran, and a failure is [`MigrateError::PartiallyApplied`], which lists the operations
//! that ran, the one that failed and those that did not run, and says how to resume (run
//! again: the recorded operations are skipped) or undo.
//!
//! Concurrent runners are kept apart by the named lock `GET_LOCK('oxalchemy_migrate', 0)`,
//! polled like PostgreSQL's advisory lock and held by the connection for the whole
//! migration (`GET_LOCK` is session-scoped and re-entrant; every take is released, and the
//! pool's reset runs `RELEASE_ALL_LOCKS()` after a cancelled run).

use std::time::{Duration, Instant};

use oxalchemy_core::schema::MetaData;
use oxalchemy_core::text;
use oxalchemy_engine::{Connection, Database};

use super::runner::{adopt_table, execute_op, is_mysql};
use super::version_table::record;
use super::{Direction, MigrateError, Migration, Result, Runner};
use crate::ops::Op;
use crate::reflect::mysql::PROGRESS_TABLE;

/// The name of the MySQL / MariaDB migration lock.
const LOCK_NAME: &str = "oxalchemy_migrate";

/// One operation in a few words, for errors: `add_column users.status`.
pub(super) fn describe(op: &Op) -> String {
    match op {
        Op::CreateTable(t) => format!("create_table {}", t.name),
        Op::DropTable(t) => format!("drop_table {t}"),
        Op::RenameTable { from, to } => format!("rename_table {from} -> {to}"),
        Op::AddColumn { table, column } => format!("add_column {table}.{}", column.name),
        Op::DropColumn { table, column } => format!("drop_column {table}.{column}"),
        Op::AlterColumn { table, column, .. } => format!("alter_column {table}.{column}"),
        Op::CreateIndex { table, index } => format!(
            "create_index {} on {table}",
            index
                .name
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default()
        ),
        Op::DropIndex { table, name } => format!("drop_index {name} on {table}"),
        Op::AddConstraint { table, .. } => format!("add_constraint on {table}"),
        Op::DropConstraint { table, name } => format!("drop_constraint {name} on {table}"),
        Op::SetTableComment { table, .. } => format!("set_table_comment {table}"),
        Op::Execute(_) => "execute".to_owned(),
        Op::Run { label, .. } => format!("run {label}"),
    }
}

/// `#i name` for each of `ops`, numbered from `first`.
fn numbered(ops: &[Op], first: usize) -> Vec<String> {
    ops.iter()
        .enumerate()
        .map(|(i, op)| format!("#{} {}", first + i, describe(op)))
        .collect()
}

fn dir_name(dir: Direction) -> &'static str {
    match dir {
        Direction::Up => "upgrade",
        Direction::Down => "downgrade",
    }
}

/// Creates the progress table if it does not exist.
async fn ensure_progress_table(conn: &mut Connection) -> Result<()> {
    conn.execute(text(format!(
        "CREATE TABLE IF NOT EXISTS {PROGRESS_TABLE} (\
         revision VARCHAR(64) NOT NULL, direction VARCHAR(10) NOT NULL, \
         op_index INT NOT NULL, checksum VARCHAR(32) NOT NULL, \
         operation VARCHAR(255) NOT NULL, \
         ran_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6), \
         PRIMARY KEY (revision, direction, op_index))"
    )))
    .await?;
    Ok(())
}

/// The recorded (direction, operation number, checksum) rows of `revision`.
async fn progress(conn: &mut Connection, revision: &str) -> Result<Vec<(String, i64, String)>> {
    Ok(conn
        .query(
            text(format!(
                "SELECT direction, CAST(op_index AS SIGNED), checksum FROM {PROGRESS_TABLE} \
                 WHERE revision = :r ORDER BY op_index"
            ))
            .bind("r", revision),
        )
        .await?)
}

impl Runner<'_> {
    /// Takes the named migration lock (re-entrant), polling until
    /// [`lock_timeout`](Runner::lock_timeout) runs out.
    pub(super) async fn lock_mysql(&self, conn: &mut Connection) -> Result<()> {
        let started = Instant::now();
        let mut pause = Duration::from_millis(10);
        loop {
            let got: i64 = conn
                .query_scalar(
                    text("SELECT CAST(COALESCE(GET_LOCK(:n, 0), 0) AS SIGNED)")
                        .bind("n", LOCK_NAME),
                )
                .await?;
            if got == 1 {
                return Ok(());
            }
            let waited = started.elapsed();
            if waited >= self.lock_timeout_value() {
                return Err(MigrateError::MigrationLocked {
                    waited,
                    holders: lock_holder(conn).await?,
                });
            }
            tokio::time::sleep(pause.min(self.lock_timeout_value() - waited)).await;
            pause = (pause * 2).min(Duration::from_millis(500));
        }
    }

    /// Releases one take of the named migration lock (nothing on other databases).
    pub(super) async fn unlock(&self, conn: &mut Connection) -> Result<()> {
        if is_mysql(conn) {
            let _: Option<i64> = conn
                .query_scalar(text("SELECT CAST(RELEASE_LOCK(:n) AS SIGNED)").bind("n", LOCK_NAME))
                .await?;
        }
        Ok(())
    }

    /// Runs one migration on MySQL / MariaDB under the named lock, recording each operation
    /// as it completes; `false` if another runner had already done it.
    pub(super) async fn run_one_mysql(
        &self,
        conn: &mut Connection,
        m: &Migration,
        dir: Direction,
    ) -> Result<bool> {
        self.lock_mysql(conn).await?;
        let outcome = self.run_locked_mysql(conn, m, dir).await;
        let unlocked = self.unlock(conn).await;
        let done = outcome?;
        unlocked?;
        Ok(done)
    }

    async fn run_locked_mysql(
        &self,
        conn: &mut Connection,
        m: &Migration,
        dir: Direction,
    ) -> Result<bool> {
        let applied = self.applied_set(conn).await?;
        if applied.contains(m.revision) == (dir == Direction::Up) {
            return Ok(false);
        }
        let mut state: MetaData = self.graph().state_after(&applied)?;
        ensure_progress_table(conn).await?;
        let ops = m.ops_for(dir);
        let ops = ops.ops();
        let checksum = m.checksum();
        // What an earlier, failed run of this migration left: resume after it when it is
        // the same migration in the same direction, else stop.
        let done = progress(conn, m.revision).await?;
        let same = done
            .iter()
            .all(|(d, _, c)| d == dir_name(dir) && *c == checksum);
        if !same {
            let (d, _, _) = &done[0];
            return Err(MigrateError::PartialProgress {
                revision: m.revision.to_owned(),
                recorded: format!(
                    "{} operation(s) of its {d} with checksum {}",
                    done.len(),
                    done[0].2
                ),
            });
        }
        let resume_at = done.len();
        for op in ops.iter().take(resume_at) {
            // Ran in an earlier run: only the simulated schema moves on.
            adopt_table(conn, op, &mut state).await?;
            op.apply_to(&mut state)?;
        }
        for (i, op) in ops.iter().enumerate().skip(resume_at) {
            if let Err(e) = execute_op(conn, op, &mut state).await {
                return Err(MigrateError::PartiallyApplied {
                    revision: m.revision.to_owned(),
                    direction: dir_name(dir),
                    ran: numbered(&ops[..i], 0),
                    failed: format!("#{i} {}", describe(op)),
                    not_run: numbered(&ops[i + 1..], i + 1),
                    source: Box::new(e),
                });
            }
            let index = i64::try_from(i).unwrap_or(i64::MAX);
            let mut what = describe(op);
            what.truncate(255);
            conn.execute(
                text(format!(
                    "INSERT INTO {PROGRESS_TABLE} \
                     (revision, direction, op_index, checksum, operation) \
                     VALUES (:r, :d, :i, :c, :o)"
                ))
                .bind("r", m.revision)
                .bind("d", dir_name(dir))
                .bind("i", index)
                .bind("c", checksum.clone())
                .bind("o", what),
            )
            .await?;
        }
        // The version row and the end of the progress rows commit together.
        let mut tx = conn.begin().await?;
        record(&mut tx, m, dir).await?;
        tx.execute(
            text(format!("DELETE FROM {PROGRESS_TABLE} WHERE revision = :r")).bind("r", m.revision),
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Forgets the recorded progress of a migration that failed half way on MySQL /
    /// MariaDB, after its applied operations were undone by hand, so the next run starts it
    /// from its first operation. Nothing happens on other databases or when nothing is
    /// recorded.
    pub async fn forget_progress(&self, db: &Database, revision: &str) -> Result<()> {
        let mut conn = db.connection().await?;
        if !is_mysql(&conn) {
            return Ok(());
        }
        self.lock_mysql(&mut conn).await?;
        let outcome = async {
            ensure_progress_table(&mut conn).await?;
            conn.execute(
                text(format!("DELETE FROM {PROGRESS_TABLE} WHERE revision = :r"))
                    .bind("r", revision),
            )
            .await?;
            Ok(())
        }
        .await;
        let unlocked = self.unlock(&mut conn).await;
        outcome.and(unlocked)
    }
}

/// Who holds the named lock: connection id, user, host and for how long, from
/// `IS_USED_LOCK` and the process list.
async fn lock_holder(conn: &mut Connection) -> Result<String> {
    type Row = (i64, Option<String>, Option<String>, Option<i64>);
    let rows: Vec<Row> = conn
        .query(
            text(
                "SELECT CAST(ID AS SIGNED), CAST(USER AS CHAR), CAST(HOST AS CHAR), \
                 CAST(TIME AS SIGNED) FROM information_schema.PROCESSLIST \
                 WHERE ID = IS_USED_LOCK(:n)",
            )
            .bind("n", LOCK_NAME),
        )
        .await?;
    Ok(match rows.into_iter().next() {
        None => "a session that released it just now".to_owned(),
        Some((id, user, host, time)) => format!(
            "connection {id} (user `{}`, host {}, in its current state for {}s)",
            user.unwrap_or_default(),
            host.unwrap_or_default(),
            time.unwrap_or_default()
        ),
    })
}
