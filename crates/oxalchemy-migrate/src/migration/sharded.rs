//! Migrations on every shard of a [`ShardedDatabase`]: the same plan run on each, one report.

use oxalchemy_engine::ShardedDatabase;

use super::error::MigrateError;
use super::runner::{Report, Runner};

/// What [`Runner::run_sharded`] did on each shard, in shard order.
#[derive(Debug)]
pub struct ShardedReport {
    /// Each shard's name and what the runner did there (or why it failed).
    pub shards: Vec<(String, Result<Report, MigrateError>)>,
}

impl ShardedReport {
    /// Whether every shard reached the target.
    pub fn is_ok(&self) -> bool {
        self.shards.iter().all(|(_, r)| r.is_ok())
    }

    /// The shards that failed, with their errors.
    pub fn failures(&self) -> impl Iterator<Item = (&str, &MigrateError)> {
        self.shards
            .iter()
            .filter_map(|(n, r)| r.as_ref().err().map(|e| (n.as_str(), e)))
    }
}

impl Runner<'_> {
    /// Runs the plan to `target` (`head`, a revision, …) on every shard, one after another
    /// in shard order, each in its own transactions and under its own lock as
    /// [`Runner::run`]. A shard that fails does not stop the others (a shard is a database
    /// of its own, and the others' migrations are valid without it); the report says which
    /// failed, and running again finishes them (applied revisions are skipped).
    pub async fn run_sharded(&self, sharded: &ShardedDatabase, target: &str) -> ShardedReport {
        let mut shards = Vec::with_capacity(sharded.len());
        for (name, db) in sharded.iter() {
            shards.push((name.to_string(), self.run(db, target).await));
        }
        ShardedReport { shards }
    }
}
