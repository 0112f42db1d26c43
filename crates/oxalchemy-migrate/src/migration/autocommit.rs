//! Concurrent index builds on PostgreSQL (Alembic's `autocommit_block`):
//! `CREATE INDEX CONCURRENTLY` cannot run inside a transaction, so a migration holding one
//! runs as transactions around it. A session-level advisory lock (the key of the migration
//! lock, which the per-transaction lock re-enters) keeps other runners out from the first
//! transaction to the last; the version table row is written in the last one.

use std::ops::Range;

use oxalchemy_core::schema::MetaData;
use oxalchemy_core::{text, Compiled};
use oxalchemy_engine::Connection;

use super::runner::{adopt_table, finish_migration, ADVISORY_LOCK};
use super::{Direction, MigrateError, Migration, Result, Runner};
use crate::ops::{Op, Ops, Step};

/// One part of a migration run with concurrent index builds.
enum Piece {
    /// These operations, in one transaction.
    Transaction(Range<usize>),
    /// This `create_index`, concurrently, outside any transaction.
    Concurrent(usize),
}

/// The transactions around each concurrent operation: always a transaction first (which
/// checks the version table) and last (which records the migration), maybe empty.
fn pieces(ops: &Ops) -> Vec<Piece> {
    let mut out = Vec::new();
    let mut start = 0;
    for i in 0..ops.ops().len() {
        if ops.is_concurrent(i) {
            out.push(Piece::Transaction(start..i));
            out.push(Piece::Concurrent(i));
            start = i + 1;
        }
    }
    out.push(Piece::Transaction(start..ops.ops().len()));
    out
}

impl Runner<'_> {
    /// Runs a migration with concurrent index builds (PostgreSQL) under the session-level
    /// migration lock, released afterwards whatever happened (and by the pool's reset if
    /// the run is cancelled).
    pub(super) async fn run_with_autocommit(
        &self,
        conn: &mut Connection,
        m: &Migration,
        dir: Direction,
        ops: &Ops,
    ) -> Result<bool> {
        self.lock_with(conn, "SELECT pg_try_advisory_lock(:k)")
            .await?;
        let outcome = self.run_pieces(conn, m, dir, ops).await;
        let unlocked = conn
            .query_scalar::<bool>(text("SELECT pg_advisory_unlock(:k)").bind("k", ADVISORY_LOCK))
            .await;
        let done = outcome?;
        unlocked?;
        Ok(done)
    }

    async fn run_pieces(
        &self,
        conn: &mut Connection,
        m: &Migration,
        dir: Direction,
        ops: &Ops,
    ) -> Result<bool> {
        let mut state: Option<MetaData> = None;
        let pieces = pieces(ops);
        let last = pieces.len() - 1;
        for (i, piece) in pieces.into_iter().enumerate() {
            match piece {
                Piece::Transaction(range) => {
                    let mut tx = conn.begin().await?;
                    let mut st = match state.take() {
                        Some(st) => {
                            self.lock(&mut tx).await?;
                            self.set_timeouts(&mut tx).await?;
                            st
                        }
                        None => match self.begin_migration(&mut tx, m, dir).await? {
                            Some(st) => st,
                            None => {
                                tx.commit().await?;
                                return Ok(false);
                            }
                        },
                    };
                    self.execute_guarded(&mut tx, m, &ops.ops()[range], &mut st)
                        .await?;
                    if i == last {
                        finish_migration(&mut tx, m, dir).await?;
                    }
                    tx.commit().await?;
                    state = Some(st);
                }
                Piece::Concurrent(op) => {
                    let st = state.as_mut().ok_or_else(|| MigrateError::NotConcurrent {
                        revision: m.revision.to_owned(),
                        op,
                    })?;
                    create_index_concurrently(conn, m, (op, &ops.ops()[op]), st).await?;
                }
            }
        }
        Ok(true)
    }
}

/// Builds a `create_index` (operation number `i` of its migration) with
/// `CREATE INDEX CONCURRENTLY` on `conn`, outside any transaction, advancing `state`.
async fn create_index_concurrently(
    conn: &mut Connection,
    m: &Migration,
    (i, op): (usize, &Op),
    state: &mut MetaData,
) -> Result<()> {
    adopt_table(conn, op, state).await?;
    let index = match op {
        Op::CreateIndex { index, .. } => index
            .name
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
        _ => String::new(),
    };
    for step in op.render(conn.dialect(), state)? {
        let Step::Sql(c) = step else { continue };
        let c = concurrently(&c).ok_or_else(|| MigrateError::NotConcurrent {
            revision: m.revision.to_owned(),
            op: i,
        })?;
        conn.execute_write(&c)
            .await
            .map_err(|source| MigrateError::ConcurrentIndex {
                revision: m.revision.to_owned(),
                index: index.clone(),
                source: Box::new(source),
            })?;
    }
    op.apply_to(state)?;
    Ok(())
}

/// `CREATE [UNIQUE] INDEX …` as `CREATE [UNIQUE] INDEX CONCURRENTLY …`; `None` for any
/// other statement.
pub(super) fn concurrently(c: &Compiled) -> Option<Compiled> {
    let sql = ["CREATE INDEX ", "CREATE UNIQUE INDEX "]
        .iter()
        .find(|p| c.sql.starts_with(*p))
        .map(|p| format!("{}CONCURRENTLY {}", p, &c.sql[p.len()..]))?;
    Some(Compiled {
        sql,
        binds: c.binds.clone(),
    })
}
